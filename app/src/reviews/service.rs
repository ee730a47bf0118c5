//! Review cycles, assessments, findings and actions, the signed report, and
//! the figures for the dashboard, the digest and the command line.
//!
//! Every write checks the cycle's state inside its transaction and moves an
//! assessment only with an update that names the state and version it read:
//! two people deciding at once, or a decision racing the cycle's closing,
//! leave one winner and a clear refusal for the other.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    CycleSummary, CycleView, EventView, EvidenceChoice, FindingView, ItemRow, ItemState, ItemView,
    MeasureChoice, MeasureReview, ReviewDashboard, ReviewDue, ReviewResult, ReviewsOverview, Step,
    next_state,
};
use crate::annex::render::{Template, typeset};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::{MeasureStatus, Role};
use crate::entities::{
    evidence, measure_owners, measures, memberships, organisations, review_cycles, review_events,
    review_findings, review_item_evidence, review_items, users,
};
use crate::error::{AppError, AppResult};
use crate::evidence::service::today;
use crate::reminders::MeasureRef;
use crate::state::AppState;
use crate::toms::PersonRef;
use crate::ui::format_datetime;

pub const SIGNATURE_REASON: &str = "Bericht über die Wirksamkeitsprüfung der TOM";
const MAX_TEXT: usize = 10_000;

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/review-report.typ", include_str!("report.typ")))
}

/// Admins, owners and auditors read reviews; staff and customers do not.
fn can_read(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Owner | Role::Auditor)
}

fn german(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_date(field: &str, s: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            field,
            "Bitte geben Sie ein Datum an (TT.MM.JJJJ bzw. JJJJ-MM-TT).",
        )
    })
}

fn text_field(field: &str, label: &str, s: &str, required: bool) -> AppResult<String> {
    let s = s.replace("\r\n", "\n").trim().to_owned();
    if required && s.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("Bitte füllen Sie „{label}“ aus."),
        ));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("„{label}“ ist zu lang (höchstens {MAX_TEXT} Zeichen)."),
        ));
    }
    Ok(s)
}

fn closed_refusal() -> AppError {
    AppError::Refused(
        "Der Prüfzyklus ist abgeschlossen und gesperrt. Korrekturen sind nur als dokumentierte Ergänzung oder in einem neuen Prüfzyklus möglich."
            .into(),
    )
}

/// Display names by user id. Takes a collected list: an iterator of
/// closures held across the await would make the future not `Send`.
async fn names<C: ConnectionTrait>(db: &C, ids: Vec<i32>) -> AppResult<HashMap<i32, String>> {
    let ids: Vec<i32> = ids
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

async fn cycle<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
    id: i32,
) -> AppResult<review_cycles::Model> {
    review_cycles::Entity::find_by_id(id)
        .filter(review_cycles::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Prüfzyklus".into()))
}

async fn item<C: ConnectionTrait>(db: &C, org_id: i32, id: i32) -> AppResult<review_items::Model> {
    review_items::Entity::find_by_id(id)
        .filter(review_items::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Bewertung".into()))
}

async fn items_of<C: ConnectionTrait>(
    db: &C,
    cycle_id: i32,
) -> AppResult<Vec<review_items::Model>> {
    Ok(review_items::Entity::find()
        .filter(review_items::Column::CycleId.eq(cycle_id))
        .order_by_asc(review_items::Column::Id)
        .all(db)
        .await?)
}

/// Whether `user` owns the measure.
async fn owns<C: ConnectionTrait>(db: &C, measure_id: i32, user_id: i32) -> AppResult<bool> {
    Ok(measure_owners::Entity::find()
        .filter(measure_owners::Column::MeasureId.eq(measure_id))
        .filter(measure_owners::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

/// Admins assess every measure; owners only their own.
async fn may_assess<C: ConnectionTrait>(db: &C, actor: &Actor, measure_id: i32) -> AppResult<bool> {
    Ok(match actor.role {
        Role::Admin => true,
        Role::Owner => owns(db, measure_id, actor.user_id).await?,
        _ => false,
    })
}

fn state_of(i: &review_items::Model) -> ItemState {
    ItemState::parse(&i.state).unwrap_or(ItemState::Pending)
}

fn result_of(i: &review_items::Model) -> Option<ReviewResult> {
    i.result.as_deref().and_then(ReviewResult::parse)
}

fn summary(
    c: &review_cycles::Model,
    items: &[review_items::Model],
    today: NaiveDate,
) -> CycleSummary {
    let count = |s: ItemState| items.iter().filter(|i| state_of(i) == s).count();
    CycleSummary {
        id: c.id,
        title: c.title.clone(),
        due_date: iso(c.due_date),
        status: c.status.clone(),
        total: items.len(),
        approved: count(ItemState::Approved),
        submitted: count(ItemState::Submitted),
        open: count(ItemState::Pending) + count(ItemState::Returned),
        overdue: c.status == "open" && c.due_date < today,
        opened_at: format_datetime(c.opened_at),
        closed_at: c.closed_at.map(format_datetime),
    }
}

async fn event<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &Actor,
    cycle: &review_cycles::Model,
    item_id: Option<i32>,
    kind: &str,
    comment: &str,
) -> AppResult<()> {
    review_events::ActiveModel {
        org_id: Set(cycle.org_id),
        cycle_id: Set(cycle.id),
        item_id: Set(item_id),
        kind: Set(kind.to_owned()),
        actor_id: Set(Some(actor.user_id)),
        actor_label: Set(actor.display_name.chars().take(300).collect()),
        comment: Set(comment.to_owned()),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn event_label(kind: &str) -> &'static str {
    match kind {
        "open" => "Prüfzyklus eröffnet",
        "submit" => "Bewertung eingereicht",
        "return" => "Zurückgegeben",
        "approve" => "Freigegeben",
        "close" => "Prüfzyklus abgeschlossen",
        "amend" => "Ergänzung nach Abschluss",
        _ => "Änderung",
    }
}

fn event_views(events: &[review_events::Model], labels: &HashMap<i32, String>) -> Vec<EventView> {
    events
        .iter()
        .map(|e| EventView {
            kind: e.kind.clone(),
            label: event_label(&e.kind).to_owned(),
            actor: e.actor_label.clone(),
            at: format_datetime(e.at),
            comment: e.comment.clone(),
            item_id: e.item_id,
            measure: e.item_id.and_then(|i| labels.get(&i).cloned()),
        })
        .collect()
}

// ---------------------------------------------------------------- opening

#[derive(Debug, Clone)]
pub struct OpenInput {
    pub title: String,
    pub due_date: String,
    pub method: String,
    /// `None`: every implemented measure.
    pub measures: Option<Vec<i32>>,
}

/// Opens a cycle (admins). Only one cycle is open at a time. Each owner of a
/// covered measure gets a mail (through the outbox, in the same transaction).
pub async fn open_cycle(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    input: OpenInput,
    public_url: &str,
) -> AppResult<i32> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let title = input.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "title",
            "Bitte geben Sie einen Titel an (eine Zeile, höchstens 200 Zeichen), z. B. „Wirksamkeitsprüfung 2026“.",
        ));
    }
    let due = parse_date("due_date", &input.due_date)?;
    if due < today(now) {
        return Err(AppError::invalid(
            "due_date",
            "Das Fälligkeitsdatum liegt in der Vergangenheit.",
        ));
    }
    let method = text_field("method", "Methode", &input.method, false)?;
    let method = if method.is_empty() {
        default_method()
    } else {
        method
    };

    let txn = db.begin().await?;
    if let Some(open) = review_cycles::Entity::find()
        .filter(review_cycles::Column::OrgId.eq(actor.org_id))
        .filter(review_cycles::Column::Status.eq("open"))
        .one(&txn)
        .await?
    {
        return Err(AppError::Refused(format!(
            "Der Prüfzyklus „{}“ ist noch offen. Schließen Sie ihn ab, bevor Sie einen neuen eröffnen.",
            open.title
        )));
    }
    let all = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .filter(measures::Column::Status.ne(MeasureStatus::Retired.as_str()))
        .all(&txn)
        .await?;
    let all = in_document_order(&txn, actor.org_id, all).await?;
    let chosen: Vec<&measures::Model> = match &input.measures {
        None => all
            .iter()
            .filter(|m| m.status == MeasureStatus::Implemented.as_str())
            .collect(),
        Some(ids) => {
            let ids: HashSet<i32> = ids.iter().copied().collect();
            let known: HashSet<i32> = all.iter().map(|m| m.id).collect();
            if ids.iter().any(|id| !known.contains(id)) {
                // Another organisation's or a retired measure: as if it did not exist.
                return Err(AppError::NotFound("Die Maßnahme".into()));
            }
            all.iter().filter(|m| ids.contains(&m.id)).collect()
        }
    };
    if chosen.is_empty() {
        return Err(AppError::invalid(
            "measures",
            "Der Prüfzyklus umfasst keine Maßnahme. Wählen Sie Maßnahmen aus oder setzen Sie Maßnahmen auf „umgesetzt“.",
        ));
    }
    let cats = category_titles(&txn, actor.org_id).await?;
    let cycle = review_cycles::ActiveModel {
        org_id: Set(actor.org_id),
        title: Set(title.clone()),
        due_date: Set(due),
        status: Set("open".into()),
        scope: Set(if input.measures.is_some() {
            "subset"
        } else {
            "all"
        }
        .into()),
        method: Set(method),
        opened_by: Set(Some(actor.user_id)),
        opened_at: Set(now),
        closed_by: Set(None),
        closed_at: Set(None),
        close_comment: Set(String::new()),
        report_pdf: Set(None),
        report_sha256: Set(None),
        report_version: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        // Another admin opened one in the same instant (the index holds).
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Refused(
            "Gerade wurde ein anderer Prüfzyklus eröffnet. Schließen Sie ihn ab, bevor Sie einen neuen eröffnen.".into(),
        ),
        _ => e.into(),
    })?;
    // Many measures: insert in batches (PostgreSQL allows 65,535 parameters per statement).
    let rows: Vec<review_items::ActiveModel> = chosen
        .iter()
        .map(|m| review_items::ActiveModel {
            org_id: Set(actor.org_id),
            cycle_id: Set(cycle.id),
            measure_id: Set(m.id),
            measure_label: Set(crate::toms::label(&m.title, &m.body)),
            category: Set(cats
                .get(&m.category_id)
                .cloned()
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect()),
            measure_version: Set(m.version),
            state: Set(ItemState::Pending.as_str().into()),
            result: Set(None),
            tested: Set(String::new()),
            rationale: Set(String::new()),
            state_of_art: Set(None),
            assessed_by: Set(None),
            assessed_at: Set(None),
            decided_by: Set(None),
            decided_at: Set(None),
            decision_comment: Set(String::new()),
            version: Set(1),
            ..Default::default()
        })
        .collect();
    for batch in rows.chunks(500) {
        review_items::Entity::insert_many(batch.to_vec())
            .exec(&txn)
            .await?;
    }
    event(&txn, now, actor, &cycle, None, "open", "").await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "review_cycle",
            entity_id: cycle.id.to_string(),
            action: "open",
            before: None,
            after: Some(json!({ "title": title, "due_date": iso(due), "measures": chosen.len(), "scope": cycle.scope })),
        },
    )
    .await?;

    // Ask every owner of a covered measure, once, with their count.
    let ids: Vec<i32> = chosen.iter().map(|m| m.id).collect();
    let mut per_owner: BTreeMap<i32, usize> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        for o in measure_owners::Entity::find()
            .filter(measure_owners::Column::OrgId.eq(actor.org_id))
            .filter(measure_owners::Column::MeasureId.is_in(chunk.to_vec()))
            .all(&txn)
            .await?
        {
            *per_owner.entry(o.user_id).or_default() += 1;
        }
    }
    let org = organisations::Entity::find_by_id(actor.org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let people = users::Entity::find()
        .filter(users::Column::Id.is_in(per_owner.keys().copied().collect::<Vec<_>>()))
        .all(&txn)
        .await?;
    for u in people.iter().filter(|u| !u.locked) {
        let mail = request_mail(
            crate::mail::Locale::parse_lenient(&u.locale),
            &org.legal_name,
            &u.display_name,
            &title,
            per_owner.get(&u.id).copied().unwrap_or_default(),
            due,
            &format!("{public_url}/pruefungen/{}", cycle.id),
        );
        crate::mail::service::enqueue(&txn, now, Some(org.id), "review-request", &u.email, &mail)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(
        org = actor.org_id,
        cycle = cycle.id,
        measures = chosen.len(),
        "review cycle opened"
    );
    Ok(cycle.id)
}

pub fn default_method() -> String {
    "Jede Maßnahme wird von ihren Verantwortlichen anhand der vorliegenden Nachweise, von Stichproben und, wo möglich, von Tests (z. B. Wiederherstellung aus der Datensicherung, Prüfung von Berechtigungen, Begehung) auf ihre Wirksamkeit geprüft und mit „wirksam“, „teilweise wirksam“, „nicht wirksam“ oder „nicht anwendbar“ bewertet. Dabei wird auch beurteilt, ob sie dem Stand der Technik entspricht. Abweichungen werden als Feststellungen mit Korrekturmaßnahme, Verantwortlichen und Frist festgehalten. Die oder der Datenschutzbeauftragte prüft jede Bewertung und gibt sie frei oder gibt sie zur Überarbeitung zurück.".to_owned()
}

fn request_mail(
    locale: crate::mail::Locale,
    org_name: &str,
    name: &str,
    title: &str,
    count: usize,
    due: NaiveDate,
    link: &str,
) -> crate::mail::Mail {
    let due = german(due);
    let (subject, body) = match locale {
        crate::mail::Locale::De => (
            format!("{title}: bitte prüfen Sie Ihre Maßnahmen bis {due}"),
            format!(
                "Guten Tag {name},\n\nbei {org_name} hat die Wirksamkeitsprüfung „{title}“ begonnen. Bitte bewerten Sie bis zum {due} die Wirksamkeit {} (Art. 32 Abs. 1 lit. d DSGVO): was Sie geprüft haben und wie, das Ergebnis, ob die Maßnahme dem Stand der Technik entspricht, und Nachweise.",
                if count == 1 {
                    "Ihrer Maßnahme".to_owned()
                } else {
                    format!("Ihrer {count} Maßnahmen")
                }
            ),
        ),
        crate::mail::Locale::En => (
            format!("{title}: please review your measures by {due}"),
            format!(
                "Hello {name},\n\nthe effectiveness review \"{title}\" has started at {org_name}. Please assess the effectiveness of your {count} measure(s) by {due} (Art. 32(1)(d) GDPR): what you tested and how, the result, whether the measure is state of the art, and evidence."
            ),
        ),
    };
    crate::mail::templates::simple(locale, subject, &body, link)
}

fn returned_mail(
    locale: crate::mail::Locale,
    name: &str,
    measure: &str,
    comment: &str,
    link: &str,
) -> crate::mail::Mail {
    let (subject, body) = match locale {
        crate::mail::Locale::De => (
            format!("Bewertung zurückgegeben: {measure}"),
            format!(
                "Guten Tag {name},\n\nIhre Bewertung der Maßnahme „{measure}“ wurde zur Überarbeitung zurückgegeben:\n\n{comment}"
            ),
        ),
        crate::mail::Locale::En => (
            format!("Assessment returned: {measure}"),
            format!(
                "Hello {name},\n\nyour assessment of the measure \"{measure}\" was returned for revision:\n\n{comment}"
            ),
        ),
    };
    crate::mail::templates::simple(locale, subject, &body, link)
}

/// Category labels ("3.1 Zutrittskontrolle") by id.
async fn category_titles<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
) -> AppResult<HashMap<i32, String>> {
    Ok(crate::toms::service::ordered_categories(db, org_id)
        .await?
        .into_iter()
        .map(|(number, c)| (c.id, format!("{number} {}", c.title)))
        .collect())
}

/// Measures in document order: by the category's place, then position.
async fn in_document_order<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
    mut list: Vec<measures::Model>,
) -> AppResult<Vec<measures::Model>> {
    let order: HashMap<i32, usize> = crate::toms::service::ordered_categories(db, org_id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, (_, c))| (c.id, i))
        .collect();
    list.sort_by_key(|m| {
        (
            order.get(&m.category_id).copied().unwrap_or(usize::MAX),
            m.position,
            m.id,
        )
    });
    Ok(list)
}

// ---------------------------------------------------------------- assessing

#[derive(Debug, Clone)]
pub struct FindingInput {
    pub description: String,
    pub action: String,
    pub due_date: NaiveDate,
    pub owner_id: Option<i32>,
}

impl FindingInput {
    pub fn parse(
        description: &str,
        action: &str,
        due_date: &str,
        owner_id: &str,
    ) -> AppResult<Self> {
        Ok(Self {
            description: text_field("description", "Feststellung", description, true)?,
            action: text_field("action", "Korrekturmaßnahme", action, true)?,
            due_date: parse_date("due_date", due_date)?,
            owner_id: match owner_id.trim() {
                "" => None,
                s => Some(
                    s.parse()
                        .map_err(|_| AppError::invalid("owner_id", "Unbekannte Person."))?,
                ),
            },
        })
    }

    /// A finding given in the assessment form: all empty means none.
    pub fn optional(
        description: &str,
        action: &str,
        due_date: &str,
        owner_id: &str,
    ) -> AppResult<Option<Self>> {
        if description.trim().is_empty() && action.trim().is_empty() && due_date.trim().is_empty() {
            return Ok(None);
        }
        Self::parse(description, action, due_date, owner_id).map(Some)
    }
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub version: i32,
    pub result: String,
    pub tested: String,
    pub rationale: String,
    pub state_of_art: String,
    pub evidence: Vec<i32>,
    pub finding: Option<FindingInput>,
    pub submit: bool,
}

/// Checks a finding's owner (an admin or owner of the organisation).
async fn check_owner<C: ConnectionTrait>(db: &C, org_id: i32, owner: Option<i32>) -> AppResult<()> {
    if let Some(user) = owner {
        let m = memberships::Entity::find()
            .filter(memberships::Column::OrgId.eq(org_id))
            .filter(memberships::Column::UserId.eq(user))
            .one(db)
            .await?;
        if !m.is_some_and(|m| matches!(m.role.parse::<Role>(), Ok(Role::Admin | Role::Owner))) {
            return Err(AppError::invalid(
                "owner_id",
                "Verantwortlich für eine Korrekturmaßnahme können Datenschutzbeauftragte und Verantwortliche für Maßnahmen sein.",
            ));
        }
    }
    Ok(())
}

async fn insert_finding<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &Actor,
    it: &review_items::Model,
    f: &FindingInput,
) -> AppResult<review_findings::Model> {
    check_owner(db, it.org_id, f.owner_id).await?;
    let row = review_findings::ActiveModel {
        org_id: Set(it.org_id),
        cycle_id: Set(it.cycle_id),
        item_id: Set(it.id),
        measure_id: Set(it.measure_id),
        description: Set(f.description.clone()),
        action: Set(f.action.clone()),
        owner_id: Set(f.owner_id),
        due_date: Set(f.due_date),
        status: Set("open".into()),
        closing_note: Set(String::new()),
        closing_evidence_id: Set(None),
        closed_by: Set(None),
        closed_at: Set(None),
        created_by: Set(Some(actor.user_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    record(
        db,
        now,
        AuditEvent {
            org_id: Some(it.org_id),
            actor: &actor.audit(),
            entity: "review_finding",
            entity_id: row.id.to_string(),
            action: "create",
            before: None,
            after: Some(json!({
                "item": it.id, "measure": it.measure_id, "description": row.description,
                "action": row.action, "owner": row.owner_id, "due_date": iso(row.due_date),
            })),
        },
    )
    .await?;
    Ok(row)
}

/// Saves or submits an assessment (the measure's owners, or admins).
pub async fn assess(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    item_id: i32,
    input: Assessment,
) -> AppResult<ItemState> {
    let it = item(db, actor.org_id, item_id).await?;
    if !can_read(actor.role) {
        return Err(AppError::NotFound("Die Bewertung".into()));
    }
    if !may_assess(db, actor, it.measure_id).await? {
        return Err(AppError::Forbidden);
    }
    let cyc = cycle(db, actor.org_id, it.cycle_id).await?;
    let step = if input.submit {
        Step::Submit
    } else {
        Step::Save
    };
    let to = next_state(state_of(&it), step, cyc.status != "open").map_err(AppError::Refused)?;
    if input.version != it.version {
        return Err(AppError::Conflict);
    }
    let result = match input.result.trim() {
        "" => None,
        s => Some(
            ReviewResult::parse(s)
                .ok_or_else(|| AppError::invalid("result", "Bitte wählen Sie ein Ergebnis."))?,
        ),
    };
    let tested = text_field(
        "tested",
        "Was wurde wie geprüft?",
        &input.tested,
        input.submit,
    )?;
    let rationale = text_field("rationale", "Begründung", &input.rationale, input.submit)?;
    let state_of_art = match input.state_of_art.trim() {
        "" => None,
        "yes" | "no" => Some(input.state_of_art.trim().to_owned()),
        _ => {
            return Err(AppError::invalid(
                "state_of_art",
                "Bitte beantworten Sie die Frage nach dem Stand der Technik mit Ja oder Nein.",
            ));
        }
    };
    if input.submit {
        let Some(r) = result else {
            return Err(AppError::invalid(
                "result",
                "Bitte wählen Sie ein Ergebnis.",
            ));
        };
        if r != ReviewResult::NotApplicable && state_of_art.is_none() {
            return Err(AppError::invalid(
                "state_of_art",
                "Bitte beantworten Sie, ob die Maßnahme dem Stand der Technik entspricht.",
            ));
        }
    }
    // Evidence must be this measure's, current (not hidden).
    let allowed: HashSet<i32> = evidence::Entity::find()
        .filter(evidence::Column::OrgId.eq(actor.org_id))
        .filter(evidence::Column::MeasureId.eq(it.measure_id))
        .filter(evidence::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut linked: Vec<i32> = input.evidence.clone();
    linked.sort_unstable();
    linked.dedup();
    if linked.iter().any(|id| !allowed.contains(id)) {
        return Err(AppError::invalid(
            "evidence",
            "Ein gewählter Nachweis gehört nicht zu dieser Maßnahme.",
        ));
    }

    let txn = db.begin().await?;
    let existing_open = review_findings::Entity::find()
        .filter(review_findings::Column::ItemId.eq(it.id))
        .filter(review_findings::Column::Status.eq("open"))
        .all(&txn)
        .await?
        .len();
    if input.submit
        && result.is_some_and(ReviewResult::needs_action)
        && existing_open == 0
        && input.finding.is_none()
    {
        return Err(AppError::invalid(
            "finding_description",
            "Eine nicht oder nur teilweise wirksame Maßnahme braucht eine Feststellung mit Korrekturmaßnahme, Verantwortlichen und Frist.",
        ));
    }
    // The state and version read above are the condition: a concurrent
    // decision, submission or closing makes this update find no row.
    let updated = review_items::Entity::update_many()
        .col_expr(
            review_items::Column::Result,
            Expr::value(result.map(|r| r.as_str().to_owned())),
        )
        .col_expr(review_items::Column::Tested, Expr::value(tested.clone()))
        .col_expr(
            review_items::Column::Rationale,
            Expr::value(rationale.clone()),
        )
        .col_expr(
            review_items::Column::StateOfArt,
            Expr::value(state_of_art.clone()),
        )
        .col_expr(
            review_items::Column::AssessedBy,
            Expr::value(Some(actor.user_id)),
        )
        .col_expr(review_items::Column::AssessedAt, Expr::value(Some(now)))
        .col_expr(review_items::Column::State, Expr::value(to.as_str()))
        .col_expr(review_items::Column::Version, Expr::value(it.version + 1))
        .filter(review_items::Column::Id.eq(it.id))
        .filter(review_items::Column::Version.eq(it.version))
        .filter(review_items::Column::State.eq(it.state.clone()))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Conflict);
    }
    let still_open = review_cycles::Entity::find_by_id(cyc.id)
        .filter(review_cycles::Column::Status.eq("open"))
        .one(&txn)
        .await?;
    if still_open.is_none() {
        return Err(closed_refusal());
    }
    review_item_evidence::Entity::delete_many()
        .filter(review_item_evidence::Column::ItemId.eq(it.id))
        .exec(&txn)
        .await?;
    for id in &linked {
        review_item_evidence::ActiveModel {
            item_id: Set(it.id),
            evidence_id: Set(*id),
            org_id: Set(actor.org_id),
        }
        .insert(&txn)
        .await?;
    }
    if let Some(f) = &input.finding {
        insert_finding(&txn, now, actor, &it, f).await?;
    }
    if input.submit {
        event(&txn, now, actor, &cyc, Some(it.id), "submit", "").await?;
    }
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "review_item",
            entity_id: it.id.to_string(),
            action: if input.submit { "submit" } else { "save" },
            before: Some(json!({ "state": it.state, "result": it.result })),
            after: Some(json!({
                "state": to.as_str(), "result": result.map(|r| r.as_str()),
                "state_of_art": state_of_art, "evidence": linked,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to)
}

/// The DPO approves or returns a submitted assessment.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    item_id: i32,
    version: i32,
    step: Step,
    comment: &str,
    public_url: &str,
) -> AppResult<()> {
    let it = item(db, actor.org_id, item_id).await?;
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let cyc = cycle(db, actor.org_id, it.cycle_id).await?;
    let to = next_state(state_of(&it), step, cyc.status != "open").map_err(AppError::Refused)?;
    if version != it.version {
        return Err(AppError::Conflict);
    }
    let comment = text_field("comment", "Kommentar", comment, step == Step::Return)?;
    let txn = db.begin().await?;
    let updated = review_items::Entity::update_many()
        .col_expr(review_items::Column::State, Expr::value(to.as_str()))
        .col_expr(
            review_items::Column::DecidedBy,
            Expr::value(Some(actor.user_id)),
        )
        .col_expr(review_items::Column::DecidedAt, Expr::value(Some(now)))
        .col_expr(
            review_items::Column::DecisionComment,
            Expr::value(comment.clone()),
        )
        .col_expr(review_items::Column::Version, Expr::value(it.version + 1))
        .filter(review_items::Column::Id.eq(it.id))
        .filter(review_items::Column::Version.eq(it.version))
        .filter(review_items::Column::State.eq(ItemState::Submitted.as_str()))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Conflict);
    }
    if review_cycles::Entity::find_by_id(cyc.id)
        .filter(review_cycles::Column::Status.eq("open"))
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(closed_refusal());
    }
    let kind = if step == Step::Approve {
        "approve"
    } else {
        "return"
    };
    event(&txn, now, actor, &cyc, Some(it.id), kind, &comment).await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "review_item",
            entity_id: it.id.to_string(),
            action: kind,
            before: Some(json!({ "state": it.state })),
            after: Some(json!({ "state": to.as_str(), "comment": comment })),
        },
    )
    .await?;
    if step == Step::Return
        && let Some(assessor) = it.assessed_by
        && let Some(u) = users::Entity::find_by_id(assessor).one(&txn).await?
        && !u.locked
    {
        let mail = returned_mail(
            crate::mail::Locale::parse_lenient(&u.locale),
            &u.display_name,
            &it.measure_label,
            &comment,
            &format!("{public_url}/pruefungen/bewertung/{}", it.id),
        );
        crate::mail::service::enqueue(
            &txn,
            now,
            Some(actor.org_id),
            "review-returned",
            &u.email,
            &mail,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Adds a finding to an assessment that is still with its assessor (or, for
/// admins, awaiting the decision).
pub async fn add_finding(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    item_id: i32,
    input: FindingInput,
) -> AppResult<i32> {
    let it = item(db, actor.org_id, item_id).await?;
    if !may_assess(db, actor, it.measure_id).await? {
        return Err(AppError::Forbidden);
    }
    let cyc = cycle(db, actor.org_id, it.cycle_id).await?;
    if cyc.status != "open" {
        return Err(closed_refusal());
    }
    match state_of(&it) {
        ItemState::Approved => {
            return Err(AppError::Refused(
                "Die Bewertung ist freigegeben und kann nicht mehr geändert werden.".into(),
            ));
        }
        ItemState::Submitted if !actor.role.is_admin() => {
            return Err(AppError::Refused(
                "Die Bewertung liegt den Datenschutzbeauftragten zur Freigabe vor und kann nicht mehr geändert werden, es sei denn, sie wird zurückgegeben.".into(),
            ));
        }
        _ => {}
    }
    let txn = db.begin().await?;
    let row = insert_finding(&txn, now, actor, &it, &input).await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Closes a corrective action: its owner, an owner of the measure, or an
/// admin. Actions outlive their cycle, so this works after it closed too;
/// the closing is its own record and changes no assessment.
pub async fn close_finding(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    finding_id: i32,
    note: &str,
    evidence_id: Option<i32>,
) -> AppResult<()> {
    let f = review_findings::Entity::find_by_id(finding_id)
        .filter(review_findings::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Korrekturmaßnahme".into()))?;
    let allowed = match actor.role {
        Role::Admin => true,
        Role::Owner => {
            f.owner_id == Some(actor.user_id) || owns(db, f.measure_id, actor.user_id).await?
        }
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    if f.status != "open" {
        return Err(AppError::Refused(
            "Die Korrekturmaßnahme ist bereits abgeschlossen.".into(),
        ));
    }
    let note = text_field("note", "Abschlussvermerk", note, true)?;
    if let Some(e) = evidence_id {
        evidence::Entity::find_by_id(e)
            .filter(evidence::Column::OrgId.eq(actor.org_id))
            .filter(evidence::Column::MeasureId.eq(f.measure_id))
            .filter(evidence::Column::DeletedAt.is_null())
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "evidence_id",
                    "Der Nachweis gehört nicht zu dieser Maßnahme.",
                )
            })?;
    }
    let txn = db.begin().await?;
    let updated = review_findings::Entity::update_many()
        .col_expr(review_findings::Column::Status, Expr::value("closed"))
        .col_expr(
            review_findings::Column::ClosingNote,
            Expr::value(note.clone()),
        )
        .col_expr(
            review_findings::Column::ClosingEvidenceId,
            Expr::value(evidence_id),
        )
        .col_expr(
            review_findings::Column::ClosedBy,
            Expr::value(Some(actor.user_id)),
        )
        .col_expr(review_findings::Column::ClosedAt, Expr::value(Some(now)))
        .filter(review_findings::Column::Id.eq(f.id))
        .filter(review_findings::Column::Status.eq("open"))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Refused(
            "Die Korrekturmaßnahme ist bereits abgeschlossen.".into(),
        ));
    }
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "review_finding",
            entity_id: f.id.to_string(),
            action: "close",
            before: Some(json!({ "status": "open" })),
            after: Some(json!({ "status": "closed", "note": note, "evidence": evidence_id })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Closes a cycle whose assessments are all approved, and stores the signed report.
pub async fn close(state: &AppState, actor: &Actor, cycle_id: i32, comment: &str) -> AppResult<()> {
    let db = &state.db;
    let now = state.now();
    let cyc = cycle(db, actor.org_id, cycle_id).await?;
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    if cyc.status != "open" {
        return Err(AppError::Refused(
            "Der Prüfzyklus ist bereits abgeschlossen.".into(),
        ));
    }
    let comment = text_field("comment", "Abschlussvermerk", comment, false)?;
    let items = items_of(db, cyc.id).await?;
    let waiting = items
        .iter()
        .filter(|i| state_of(i) != ItemState::Approved)
        .count();
    if waiting > 0 {
        return Err(AppError::Refused(format!(
            "{waiting} von {} Bewertungen sind noch nicht freigegeben. Ein Prüfzyklus wird erst abgeschlossen, wenn jede Bewertung freigegeben ist.",
            items.len()
        )));
    }
    let mut closed = cyc.clone();
    closed.status = "closed".into();
    closed.closed_by = Some(actor.user_id);
    closed.closed_at = Some(now);
    closed.close_comment = comment.clone();
    closed.report_version = 1;
    let anchor = crate::audit::service::head(db).await?;
    let pdf = report(db, &state.signing, &closed, now, Some(&anchor)).await?;
    let sha = hex::encode(Sha256::digest(&pdf));
    let txn = db.begin().await?;
    let updated = review_cycles::Entity::update_many()
        .col_expr(review_cycles::Column::Status, Expr::value("closed"))
        .col_expr(
            review_cycles::Column::ClosedBy,
            Expr::value(Some(actor.user_id)),
        )
        .col_expr(review_cycles::Column::ClosedAt, Expr::value(Some(now)))
        .col_expr(
            review_cycles::Column::CloseComment,
            Expr::value(comment.clone()),
        )
        .col_expr(review_cycles::Column::ReportPdf, Expr::value(Some(pdf)))
        .col_expr(
            review_cycles::Column::ReportSha256,
            Expr::value(Some(sha.clone())),
        )
        .col_expr(review_cycles::Column::ReportVersion, Expr::value(1))
        .col_expr(
            review_cycles::Column::AuditSeq,
            Expr::value(Some(anchor.seq)),
        )
        .col_expr(
            review_cycles::Column::AuditHash,
            Expr::value(Some(anchor.hash.clone())),
        )
        .filter(review_cycles::Column::Id.eq(cyc.id))
        .filter(review_cycles::Column::Status.eq("open"))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Refused(
            "Der Prüfzyklus ist bereits abgeschlossen.".into(),
        ));
    }
    // Re-check inside the transaction: nothing may have left "approved"
    // between reading and closing (a decision cannot, the state is final;
    // this guards against a future path that could).
    let now_items = items_of(&txn, cyc.id).await?;
    if now_items.iter().any(|i| state_of(i) != ItemState::Approved)
        || now_items.len() != items.len()
    {
        return Err(AppError::Conflict);
    }
    event(&txn, now, actor, &cyc, None, "close", &comment).await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "review_cycle",
            entity_id: cyc.id.to_string(),
            action: "close",
            before: Some(json!({ "status": "open" })),
            after: Some(
                json!({ "status": "closed", "report_sha256": sha, "assessments": items.len() }),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Records an amendment to an assessment of a closed cycle (admins) and
/// issues the report again with it; the audit log keeps both hashes.
pub async fn amend(state: &AppState, actor: &Actor, item_id: i32, text: &str) -> AppResult<()> {
    let db = &state.db;
    let now = state.now();
    let it = item(db, actor.org_id, item_id).await?;
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let cyc = cycle(db, actor.org_id, it.cycle_id).await?;
    if cyc.status != "closed" {
        return Err(AppError::Refused(
            "Solange der Prüfzyklus offen ist, wird die Bewertung selbst geändert; Ergänzungen gibt es nur für abgeschlossene Prüfzyklen.".into(),
        ));
    }
    let text = text_field("text", "Ergänzung", text, true)?;
    // Resolve the signing identity before the transaction: on SQLite the
    // pool's connection is held by it, and reading the key would wait forever.
    let org = organisations::Entity::find_by_id(actor.org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let identity = state.signing.identity(db, &org, now).await?;
    let txn = db.begin().await?;
    event(&txn, now, actor, &cyc, Some(it.id), "amend", &text).await?;
    let mut next = cyc.clone();
    next.report_version = cyc.report_version + 1;
    // Rendered from inside the transaction so the new event is part of it.
    let mut data = report_data(&txn, &next, now).await?;
    let anchor = crate::audit::service::head(&txn).await?;
    data.audit_anchor = Some(anchor.label());
    let pdf = sign_report(identity, &org, &next, data, now).await?;
    let sha = hex::encode(Sha256::digest(&pdf));
    let updated = review_cycles::Entity::update_many()
        .col_expr(review_cycles::Column::ReportPdf, Expr::value(Some(pdf)))
        .col_expr(
            review_cycles::Column::ReportSha256,
            Expr::value(Some(sha.clone())),
        )
        .col_expr(
            review_cycles::Column::ReportVersion,
            Expr::value(next.report_version),
        )
        .col_expr(
            review_cycles::Column::AuditSeq,
            Expr::value(Some(anchor.seq)),
        )
        .col_expr(
            review_cycles::Column::AuditHash,
            Expr::value(Some(anchor.hash.clone())),
        )
        .filter(review_cycles::Column::Id.eq(cyc.id))
        .filter(review_cycles::Column::ReportVersion.eq(cyc.report_version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Conflict);
    }
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "review_item",
            entity_id: it.id.to_string(),
            action: "amend",
            before: Some(json!({ "report_sha256": cyc.report_sha256, "report_version": cyc.report_version })),
            after: Some(json!({ "text": text, "report_sha256": sha, "report_version": next.report_version })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a measure's review cadence in months (1 to 60).
pub async fn set_cadence(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    measure_id: i32,
    months: i32,
) -> AppResult<()> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    if !(1..=60).contains(&months) {
        return Err(AppError::invalid(
            "months",
            "Bitte geben Sie 1 bis 60 Monate an.",
        ));
    }
    let m = measures::Entity::find_by_id(measure_id)
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Maßnahme".into()))?;
    let txn = db.begin().await?;
    measures::Entity::update_many()
        .col_expr(measures::Column::ReviewMonths, Expr::value(months))
        .filter(measures::Column::Id.eq(m.id))
        .exec(&txn)
        .await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "measure",
            entity_id: m.id.to_string(),
            action: "review_cadence",
            before: Some(json!({ "review_months": m.review_months })),
            after: Some(json!({ "review_months": months })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- report

#[derive(Debug, Serialize)]
struct ReportCount {
    label: String,
    count: usize,
}

#[derive(Debug, Serialize)]
struct ReportItem {
    label: String,
    result: String,
    tested: String,
    rationale: String,
    state_of_art: String,
    evidence: Vec<String>,
    assessed: String,
    decided: String,
}

#[derive(Debug, Serialize)]
struct ReportSection {
    title: String,
    items: Vec<ReportItem>,
}

#[derive(Debug, Serialize)]
struct ReportFinding {
    measure: String,
    description: String,
    action: String,
    owner: String,
    due: String,
    state: String,
}

#[derive(Debug, Serialize)]
struct ReportAmendment {
    measure: String,
    text: String,
    by: String,
    at: String,
}

/// The data of `report.typ`.
#[derive(Debug, Serialize)]
pub struct ReportData {
    org_name: String,
    title: String,
    draft: bool,
    status: String,
    opened_at: String,
    opened_by: String,
    due_date: String,
    closed: String,
    closed_at: String,
    closed_by: String,
    close_comment: String,
    generated_at: String,
    scope: String,
    method: Vec<String>,
    report_version: i32,
    counts: Vec<ReportCount>,
    sections: Vec<ReportSection>,
    findings: Vec<ReportFinding>,
    amendments: Vec<ReportAmendment>,
    /// The audit chain's head at signing; drafts (not kept) have none.
    audit_anchor: Option<String>,
}

/// Everything the report says about `cyc` (as given: a cycle about to
/// close is passed already marked closed).
pub async fn report_data<C: ConnectionTrait>(
    db: &C,
    cyc: &review_cycles::Model,
    now: DateTime<Utc>,
) -> AppResult<ReportData> {
    let org = organisations::Entity::find_by_id(cyc.org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let items = items_of(db, cyc.id).await?;
    let findings = review_findings::Entity::find()
        .filter(review_findings::Column::CycleId.eq(cyc.id))
        .order_by_asc(review_findings::Column::Id)
        .all(db)
        .await?;
    let events = review_events::Entity::find()
        .filter(review_events::Column::CycleId.eq(cyc.id))
        .filter(review_events::Column::Kind.eq("amend"))
        .order_by_asc(review_events::Column::Id)
        .all(db)
        .await?;
    let mut links: HashMap<i32, Vec<i32>> = HashMap::new();
    let mut evidence_ids = Vec::new();
    for chunk in items.iter().map(|i| i.id).collect::<Vec<_>>().chunks(500) {
        for l in review_item_evidence::Entity::find()
            .filter(review_item_evidence::Column::ItemId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            links.entry(l.item_id).or_default().push(l.evidence_id);
            evidence_ids.push(l.evidence_id);
        }
    }
    let mut evidence_titles: HashMap<i32, String> = HashMap::new();
    for chunk in evidence_ids.chunks(500) {
        for e in evidence::Entity::find()
            .filter(evidence::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let until = e
                .valid_until
                .map(|d| format!(", gültig bis {}", german(d)))
                .unwrap_or_default();
            evidence_titles.insert(e.id, format!("{}{until}", e.title));
        }
    }
    let people = names(
        db,
        items
            .iter()
            .flat_map(|i| [i.assessed_by, i.decided_by])
            .chain(findings.iter().map(|f| f.owner_id))
            .chain([cyc.opened_by, cyc.closed_by])
            .flatten()
            .collect::<Vec<_>>(),
    )
    .await?;
    let name = |id: Option<i32>| {
        id.and_then(|i| people.get(&i).cloned())
            .unwrap_or_else(|| "–".into())
    };

    let mut counts: Vec<ReportCount> = ReviewResult::ALL
        .iter()
        .map(|r| ReportCount {
            label: r.label().to_owned(),
            count: items.iter().filter(|i| result_of(i) == Some(*r)).count(),
        })
        .collect();
    let unassessed = items.iter().filter(|i| i.result.is_none()).count();
    if unassessed > 0 {
        counts.push(ReportCount {
            label: "noch nicht bewertet".into(),
            count: unassessed,
        });
    }
    let mut sections: Vec<ReportSection> = Vec::new();
    for i in &items {
        let entry = ReportItem {
            label: i.measure_label.clone(),
            result: match (result_of(i), state_of(i)) {
                (Some(r), ItemState::Approved) => r.label().to_owned(),
                (Some(r), s) => format!("{} ({})", r.label(), s.label()),
                (None, s) => format!("noch nicht bewertet ({})", s.label()),
            },
            tested: if i.tested.is_empty() {
                "–".into()
            } else {
                i.tested.clone()
            },
            rationale: if i.rationale.is_empty() {
                "–".into()
            } else {
                i.rationale.clone()
            },
            state_of_art: match i.state_of_art.as_deref() {
                Some("yes") => "entspricht dem Stand der Technik".into(),
                Some("no") => "entspricht nicht dem Stand der Technik".into(),
                _ => "–".into(),
            },
            evidence: links
                .get(&i.id)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|e| evidence_titles.get(e).cloned())
                        .collect()
                })
                .unwrap_or_default(),
            assessed: match i.assessed_at {
                Some(at) => format!("{}, {}", name(i.assessed_by), format_datetime(at)),
                None => "–".into(),
            },
            decided: match (state_of(i), i.decided_at) {
                (ItemState::Approved, Some(at)) => format!(
                    "freigegeben von {}, {}",
                    name(i.decided_by),
                    format_datetime(at)
                ),
                (s, _) => s.label().to_owned(),
            },
        };
        match sections.last_mut() {
            Some(s) if s.title == i.category => s.items.push(entry),
            _ => sections.push(ReportSection {
                title: i.category.clone(),
                items: vec![entry],
            }),
        }
    }
    let labels: HashMap<i32, String> = items
        .iter()
        .map(|i| (i.id, i.measure_label.clone()))
        .collect();
    let closed = cyc.status == "closed";
    Ok(ReportData {
        org_name: org.legal_name,
        title: cyc.title.clone(),
        draft: !closed,
        status: if closed {
            "abgeschlossen und gesperrt".into()
        } else {
            format!(
                "Entwurf – Prüfzyklus offen (Stand {})",
                format_datetime(now)
            )
        },
        opened_at: format_datetime(cyc.opened_at),
        opened_by: name(cyc.opened_by),
        due_date: german(cyc.due_date),
        closed: match cyc.closed_at {
            Some(at) => format!("{} von {}", format_datetime(at), name(cyc.closed_by)),
            None => "–".into(),
        },
        closed_at: cyc.closed_at.map(format_datetime).unwrap_or_default(),
        closed_by: name(cyc.closed_by),
        close_comment: cyc.close_comment.clone(),
        generated_at: format_datetime(now),
        scope: format!(
            "{} ({} Maßnahmen)",
            if cyc.scope == "all" {
                "alle umgesetzten Maßnahmen"
            } else {
                "ausgewählte Maßnahmen"
            },
            items.len()
        ),
        method: cyc
            .method
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        report_version: cyc.report_version.max(1),
        counts,
        sections,
        findings: findings
            .iter()
            .map(|f| ReportFinding {
                measure: labels.get(&f.item_id).cloned().unwrap_or_default(),
                description: f.description.clone(),
                action: f.action.clone(),
                owner: f
                    .owner_id
                    .and_then(|o| people.get(&o).cloned())
                    .unwrap_or_default(),
                due: german(f.due_date),
                state: match f.closed_at {
                    Some(at) if f.status == "closed" => {
                        format!("erledigt am {}: {}", german(today(at)), f.closing_note)
                    }
                    _ => "offen".into(),
                },
            })
            .collect(),
        amendments: events
            .iter()
            .map(|e| ReportAmendment {
                measure: e
                    .item_id
                    .and_then(|i| labels.get(&i).cloned())
                    .unwrap_or_default(),
                text: e.comment.clone(),
                by: e.actor_label.clone(),
                at: format_datetime(e.at),
            })
            .collect(),
        audit_anchor: None,
    })
}

/// Renders and signs the report with the organisation's certificate.
/// `identity` is resolved by the caller before any transaction: on SQLite
/// the pool's connection may be the one holding the write lock.
async fn sign_report(
    identity: crate::annex::keys::OrgIdentity,
    org: &organisations::Model,
    cyc: &review_cycles::Model,
    data: ReportData,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    let details = crate::annex::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: SIGNATURE_REASON.to_owned(),
        location: crate::annex::publish::location(org),
        time: now,
    };
    let day = today(now);
    let ident = format!(
        "nachweis-pruefbericht/{}/{}/{}",
        org.id, cyc.id, cyc.report_version
    );
    tokio::task::spawn_blocking(move || {
        let bytes = serde_json::to_vec(&data).map_err(AppError::internal)?;
        let rendered = typeset(
            template(),
            bytes,
            Some((day.year(), day.month() as u8, day.day() as u8)),
            ident,
        )
        .map_err(AppError::internal)?;
        crate::annex::sign::sign_pdf(&rendered.pdf, &identity.identity, &details)
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

/// The signed report of `cyc` as it stands at `now`; a report that is
/// kept prints the audit chain's `anchor`.
pub async fn report(
    db: &DatabaseConnection,
    setup: &crate::annex::keys::SigningSetup,
    cyc: &review_cycles::Model,
    now: DateTime<Utc>,
    anchor: Option<&crate::audit::service::Anchor>,
) -> AppResult<Vec<u8>> {
    let mut data = report_data(db, cyc, now).await?;
    data.audit_anchor = anchor.map(|a| a.label());
    let org = organisations::Entity::find_by_id(cyc.org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let identity = setup.identity(db, &org, now).await?;
    sign_report(identity, &org, cyc, data, now).await
}

/// The report for download (admins and auditors): the stored one of a
/// closed cycle, a freshly rendered draft of an open one.
pub async fn report_for(
    state: &AppState,
    actor: &Actor,
    cycle_id: i32,
) -> AppResult<(Vec<u8>, String)> {
    let cyc = cycle(&state.db, actor.org_id, cycle_id).await?;
    if !matches!(actor.role, Role::Admin | Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    report_of(&state.db, &state.signing, cyc, state.now()).await
}

/// A cycle's report by id (the command line reads as the organisation).
pub async fn report_by_id(
    db: &DatabaseConnection,
    setup: &crate::annex::keys::SigningSetup,
    org_id: i32,
    cycle_id: i32,
    now: DateTime<Utc>,
) -> AppResult<(Vec<u8>, String)> {
    let cyc = cycle(db, org_id, cycle_id).await?;
    report_of(db, setup, cyc, now).await
}

async fn report_of(
    db: &DatabaseConnection,
    setup: &crate::annex::keys::SigningSetup,
    cyc: review_cycles::Model,
    now: DateTime<Utc>,
) -> AppResult<(Vec<u8>, String)> {
    let name = format!(
        "Pruefbericht-{}-{}.pdf",
        cyc.id,
        if cyc.status == "closed" {
            "final"
        } else {
            "entwurf"
        }
    );
    match (&cyc.status[..], &cyc.report_pdf) {
        ("closed", Some(pdf)) => Ok((pdf.clone(), name)),
        _ => Ok((report(db, setup, &cyc, now, None).await?, name)),
    }
}

// ---------------------------------------------------------------- reading

/// Each measure's last approved assessment (date and result).
async fn last_reviews<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
) -> AppResult<HashMap<i32, (NaiveDate, Option<ReviewResult>)>> {
    let mut out: HashMap<i32, (DateTime<Utc>, Option<ReviewResult>)> = HashMap::new();
    for i in review_items::Entity::find()
        .filter(review_items::Column::OrgId.eq(org_id))
        .filter(review_items::Column::State.eq(ItemState::Approved.as_str()))
        .all(db)
        .await?
    {
        let Some(at) = i.decided_at else { continue };
        let entry = out.entry(i.measure_id).or_insert((at, result_of(&i)));
        if at >= entry.0 {
            *entry = (at, result_of(&i));
        }
    }
    Ok(out
        .into_iter()
        .map(|(k, (at, r))| (k, (today(at), r)))
        .collect())
}

fn next_due(m: &measures::Model, last: Option<NaiveDate>) -> NaiveDate {
    let from = last.unwrap_or_else(|| today(m.created_at));
    from.checked_add_months(Months::new(m.review_months.max(1) as u32))
        .unwrap_or(from)
}

/// Implemented measures whose review is overdue (or, with `within_days`,
/// due within that many days), oldest first; with `owner`, only theirs.
pub async fn reviews_due<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
    owner: Option<i32>,
    now: DateTime<Utc>,
    within_days: i64,
) -> AppResult<Vec<ReviewDue>> {
    let day = today(now);
    let last = last_reviews(db, org_id).await?;
    let cats = category_titles(db, org_id).await?;
    let mine: Option<HashSet<i32>> = match owner {
        Some(u) => Some(
            measure_owners::Entity::find()
                .filter(measure_owners::Column::OrgId.eq(org_id))
                .filter(measure_owners::Column::UserId.eq(u))
                .all(db)
                .await?
                .into_iter()
                .map(|o| o.measure_id)
                .collect(),
        ),
        None => None,
    };
    let mut out: Vec<ReviewDue> = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org_id))
        .filter(measures::Column::Status.eq(MeasureStatus::Implemented.as_str()))
        .order_by_asc(measures::Column::CategoryId)
        .order_by_asc(measures::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| mine.as_ref().is_none_or(|s| s.contains(&m.id)))
        .filter_map(|m| {
            let l = last.get(&m.id).map(|(d, _)| *d);
            let due = next_due(&m, l);
            (due <= day + chrono::Duration::days(within_days)).then(|| ReviewDue {
                measure_id: m.id,
                label: crate::toms::label(&m.title, &m.body),
                category: cats.get(&m.category_id).cloned().unwrap_or_default(),
                last_reviewed: l.map(iso),
                next_due: iso(due),
                overdue: due < day,
            })
        })
        .collect();
    out.sort_by(|a, b| a.next_due.cmp(&b.next_due));
    Ok(out)
}

/// Measures whose latest assessment says "not" or "partially effective"
/// and whose corrective actions are not all closed.
pub async fn not_effective<C: ConnectionTrait>(db: &C, org_id: i32) -> AppResult<Vec<MeasureRef>> {
    let mut latest: HashMap<i32, review_items::Model> = HashMap::new();
    for i in review_items::Entity::find()
        .filter(review_items::Column::OrgId.eq(org_id))
        .filter(
            review_items::Column::State
                .is_in([ItemState::Submitted.as_str(), ItemState::Approved.as_str()]),
        )
        .all(db)
        .await?
    {
        match latest.get(&i.measure_id) {
            Some(prev) if prev.assessed_at >= i.assessed_at => {}
            _ => {
                latest.insert(i.measure_id, i);
            }
        }
    }
    let flagged_items: Vec<&review_items::Model> = latest
        .values()
        .filter(|i| result_of(i).is_some_and(ReviewResult::needs_action))
        .collect();
    if flagged_items.is_empty() {
        return Ok(Vec::new());
    }
    let findings = review_findings::Entity::find()
        .filter(review_findings::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    let cats = category_titles(db, org_id).await?;
    let measures: HashMap<i32, measures::Model> = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut out: Vec<MeasureRef> = flagged_items
        .into_iter()
        .filter(|i| {
            let own: Vec<_> = findings.iter().filter(|f| f.item_id == i.id).collect();
            own.is_empty() || own.iter().any(|f| f.status == "open")
        })
        .filter_map(|i| {
            let m = measures.get(&i.measure_id)?;
            (m.status != MeasureStatus::Retired.as_str()).then(|| MeasureRef {
                id: m.id,
                label: crate::toms::label(&m.title, &m.body),
                category: cats.get(&m.category_id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.category.cmp(&b.category).then(a.label.cmp(&b.label)));
    Ok(out)
}

fn finding_view(
    f: &review_findings::Model,
    labels: &HashMap<i32, String>,
    people: &HashMap<i32, String>,
    evidence_titles: &HashMap<i32, String>,
    actor: &Actor,
    owned: &HashSet<i32>,
    day: NaiveDate,
) -> FindingView {
    FindingView {
        id: f.id,
        cycle_id: f.cycle_id,
        item_id: f.item_id,
        measure_id: f.measure_id,
        measure: labels.get(&f.item_id).cloned().unwrap_or_default(),
        description: f.description.clone(),
        action: f.action.clone(),
        owner: f.owner_id.and_then(|o| people.get(&o).cloned()),
        due_date: iso(f.due_date),
        status: f.status.clone(),
        overdue: f.status == "open" && f.due_date < day,
        closing_note: f.closing_note.clone(),
        closing_evidence: f
            .closing_evidence_id
            .and_then(|e| evidence_titles.get(&e).cloned()),
        closed_at: f.closed_at.map(format_datetime),
        can_close: f.status == "open"
            && match actor.role {
                Role::Admin => true,
                Role::Owner => f.owner_id == Some(actor.user_id) || owned.contains(&f.measure_id),
                _ => false,
            },
    }
}

async fn owned_by<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
    user_id: i32,
) -> AppResult<HashSet<i32>> {
    Ok(measure_owners::Entity::find()
        .filter(measure_owners::Column::OrgId.eq(org_id))
        .filter(measure_owners::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.measure_id)
        .collect())
}

async fn finding_views<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    findings: &[review_findings::Model],
    now: DateTime<Utc>,
) -> AppResult<Vec<FindingView>> {
    let item_ids: Vec<i32> = findings
        .iter()
        .map(|f| f.item_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut labels = HashMap::new();
    for chunk in item_ids.chunks(500) {
        for i in review_items::Entity::find()
            .filter(review_items::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            labels.insert(i.id, i.measure_label);
        }
    }
    let people = names(
        db,
        findings
            .iter()
            .filter_map(|f| f.owner_id)
            .collect::<Vec<_>>(),
    )
    .await?;
    let ev_ids: Vec<i32> = findings
        .iter()
        .filter_map(|f| f.closing_evidence_id)
        .collect();
    let evidence_titles: HashMap<i32, String> = if ev_ids.is_empty() {
        HashMap::new()
    } else {
        evidence::Entity::find()
            .filter(evidence::Column::Id.is_in(ev_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e.title))
            .collect()
    };
    let owned = owned_by(db, actor.org_id, actor.user_id).await?;
    let day = today(now);
    Ok(findings
        .iter()
        .map(|f| finding_view(f, &labels, &people, &evidence_titles, actor, &owned, day))
        .collect())
}

/// Open actions (with `owner`: those they own or on their measures), due first.
pub async fn open_actions<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    owner: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<Vec<FindingView>> {
    let mut rows = review_findings::Entity::find()
        .filter(review_findings::Column::OrgId.eq(actor.org_id))
        .filter(review_findings::Column::Status.eq("open"))
        .order_by_asc(review_findings::Column::DueDate)
        .order_by_asc(review_findings::Column::Id)
        .all(db)
        .await?;
    if let Some(u) = owner {
        let owned = owned_by(db, actor.org_id, u).await?;
        rows.retain(|f| f.owner_id == Some(u) || owned.contains(&f.measure_id));
    }
    finding_views(db, actor, &rows, now).await
}

fn rows_for(
    items: &[review_items::Model],
    people: &HashMap<i32, String>,
    owners: &HashMap<i32, Vec<i32>>,
    actor: &Actor,
    cycle_open: bool,
) -> Vec<ItemRow> {
    items
        .iter()
        .map(|i| {
            let own = owners.get(&i.measure_id).cloned().unwrap_or_default();
            let state = state_of(i);
            ItemRow {
                id: i.id,
                cycle_id: i.cycle_id,
                measure_id: i.measure_id,
                label: i.measure_label.clone(),
                category: i.category.clone(),
                state,
                result: result_of(i),
                assessed_by: i.assessed_by.and_then(|u| people.get(&u).cloned()),
                owners: own.iter().filter_map(|u| people.get(u).cloned()).collect(),
                can_assess: cycle_open
                    && matches!(state, ItemState::Pending | ItemState::Returned)
                    && (actor.role.is_admin()
                        || (actor.role == Role::Owner && own.contains(&actor.user_id))),
            }
        })
        .collect()
}

async fn owners_of<C: ConnectionTrait>(db: &C, org_id: i32) -> AppResult<HashMap<i32, Vec<i32>>> {
    let mut out: HashMap<i32, Vec<i32>> = HashMap::new();
    for o in measure_owners::Entity::find()
        .filter(measure_owners::Column::OrgId.eq(org_id))
        .all(db)
        .await?
    {
        out.entry(o.measure_id).or_default().push(o.user_id);
    }
    Ok(out)
}

pub async fn overview(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<ReviewsOverview> {
    if !can_read(actor.role) {
        return Err(AppError::Forbidden);
    }
    let day = today(now);
    let cycles = review_cycles::Entity::find()
        .filter(review_cycles::Column::OrgId.eq(actor.org_id))
        .order_by_desc(review_cycles::Column::OpenedAt)
        .all(db)
        .await?;
    let mut summaries = Vec::new();
    for c in &cycles {
        summaries.push(summary(c, &items_of(db, c.id).await?, day));
    }
    let cats = category_titles(db, actor.org_id).await?;
    let measures = if actor.role.is_admin() {
        let list = measures::Entity::find()
            .filter(measures::Column::OrgId.eq(actor.org_id))
            .filter(measures::Column::Status.ne(MeasureStatus::Retired.as_str()))
            .all(db)
            .await?;
        in_document_order(db, actor.org_id, list)
            .await?
            .into_iter()
            .map(|m| MeasureChoice {
                id: m.id,
                label: crate::toms::label(&m.title, &m.body),
                category: cats.get(&m.category_id).cloned().unwrap_or_default(),
                implemented: m.status == MeasureStatus::Implemented.as_str(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ReviewsOverview {
        cycles: summaries,
        actions: open_actions(db, actor, None, now).await?,
        overdue_reviews: reviews_due(db, actor.org_id, None, now, 0)
            .await?
            .into_iter()
            .filter(|d| d.overdue)
            .collect(),
        not_effective: not_effective(db, actor.org_id).await?,
        measures,
        can_manage: actor.role.is_admin(),
        suggested_title: format!("Wirksamkeitsprüfung {}", day.year()),
        suggested_due: iso(day + chrono::Duration::days(30)),
    })
}

pub async fn cycle_view(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    now: DateTime<Utc>,
) -> AppResult<CycleView> {
    let c = cycle(db, actor.org_id, id).await?;
    if !can_read(actor.role) {
        return Err(AppError::Forbidden);
    }
    let items = items_of(db, c.id).await?;
    let owners = owners_of(db, actor.org_id).await?;
    let people = names(
        db,
        items
            .iter()
            .filter_map(|i| i.assessed_by)
            .chain(
                items
                    .iter()
                    .flat_map(|i| owners.get(&i.measure_id).cloned().unwrap_or_default()),
            )
            .collect::<Vec<_>>(),
    )
    .await?;
    let open = c.status == "open";
    let findings = review_findings::Entity::find()
        .filter(review_findings::Column::CycleId.eq(c.id))
        .order_by_asc(review_findings::Column::Id)
        .all(db)
        .await?;
    let events = review_events::Entity::find()
        .filter(review_events::Column::CycleId.eq(c.id))
        .order_by_desc(review_events::Column::Id)
        .all(db)
        .await?;
    let labels: HashMap<i32, String> = items
        .iter()
        .map(|i| (i.id, i.measure_label.clone()))
        .collect();
    let day = today(now);
    Ok(CycleView {
        summary: summary(&c, &items, day),
        complete: !items.is_empty() && items.iter().all(|i| state_of(i) == ItemState::Approved),
        items: rows_for(&items, &people, &owners, actor, open),
        findings: finding_views(db, actor, &findings, now).await?,
        events: event_views(&events, &labels),
        method: c.method,
        close_comment: c.close_comment,
        report_sha256: c.report_sha256,
        can_manage: actor.role.is_admin(),
        can_download: matches!(actor.role, Role::Admin | Role::Auditor),
    })
}

pub async fn item_view(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    now: DateTime<Utc>,
) -> AppResult<ItemView> {
    let it = item(db, actor.org_id, id).await?;
    if !can_read(actor.role) {
        return Err(AppError::Forbidden);
    }
    let c = cycle(db, actor.org_id, it.cycle_id).await?;
    let owners = owners_of(db, actor.org_id).await?;
    let people = names(
        db,
        [it.assessed_by, it.decided_by]
            .into_iter()
            .flatten()
            .chain(owners.get(&it.measure_id).cloned().unwrap_or_default())
            .collect::<Vec<_>>(),
    )
    .await?;
    let open = c.status == "open";
    let row = rows_for(std::slice::from_ref(&it), &people, &owners, actor, open).remove(0);
    let linked: HashSet<i32> = review_item_evidence::Entity::find()
        .filter(review_item_evidence::Column::ItemId.eq(it.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.evidence_id)
        .collect();
    let evidence = evidence::Entity::find()
        .filter(evidence::Column::OrgId.eq(actor.org_id))
        .filter(evidence::Column::MeasureId.eq(it.measure_id))
        .order_by_asc(evidence::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|e| e.deleted_at.is_none() || linked.contains(&e.id))
        .map(|e| EvidenceChoice {
            id: e.id,
            linked: linked.contains(&e.id),
            title: e.title,
            valid_until: e.valid_until.map(iso).unwrap_or_default(),
        })
        .collect();
    let findings = review_findings::Entity::find()
        .filter(review_findings::Column::ItemId.eq(it.id))
        .order_by_asc(review_findings::Column::Id)
        .all(db)
        .await?;
    let events = review_events::Entity::find()
        .filter(review_events::Column::ItemId.eq(it.id))
        .order_by_desc(review_events::Column::Id)
        .all(db)
        .await?;
    let labels = HashMap::from([(it.id, it.measure_label.clone())]);
    let body = measures::Entity::find_by_id(it.measure_id)
        .one(db)
        .await?
        .map(|m| m.body)
        .unwrap_or_default();
    let mut members = Vec::new();
    if row.can_assess || actor.role.is_admin() {
        let ms = memberships::Entity::find()
            .filter(memberships::Column::OrgId.eq(actor.org_id))
            .all(db)
            .await?;
        let ids: Vec<i32> = ms
            .iter()
            .filter(|m| matches!(m.role.parse::<Role>(), Ok(Role::Admin | Role::Owner)))
            .map(|m| m.user_id)
            .collect();
        members = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .order_by_asc(users::Column::DisplayName)
            .all(db)
            .await?
            .into_iter()
            .map(|u| PersonRef {
                user_id: u.id,
                display_name: u.display_name,
            })
            .collect();
    }
    Ok(ItemView {
        can_decide: open && actor.role.is_admin() && row.state == ItemState::Submitted,
        can_amend: !open && actor.role.is_admin(),
        row,
        cycle_title: c.title,
        cycle_closed: !open,
        measure_body: body,
        tested: it.tested,
        rationale: it.rationale,
        state_of_art: it.state_of_art.unwrap_or_default(),
        assessed_at: it.assessed_at.map(format_datetime),
        decided_by: it.decided_by.and_then(|u| people.get(&u).cloned()),
        decided_at: it.decided_at.map(format_datetime),
        decision_comment: it.decision_comment,
        version: it.version,
        evidence,
        findings: finding_views(db, actor, &findings, now).await?,
        events: event_views(&events, &labels),
        members,
    })
}

/// The open cycle of an organisation, if any.
pub async fn current_cycle<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
) -> AppResult<Option<review_cycles::Model>> {
    Ok(review_cycles::Entity::find()
        .filter(review_cycles::Column::OrgId.eq(org_id))
        .filter(review_cycles::Column::Status.eq("open"))
        .one(db)
        .await?)
}

/// Assessments waiting for `user` (pending or returned, on their measures)
/// in the open cycle; for admins also those awaiting their decision.
pub async fn waiting_for<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Vec<ItemRow>> {
    let Some(c) = current_cycle(db, actor.org_id).await? else {
        return Ok(Vec::new());
    };
    let items = items_of(db, c.id).await?;
    let owners = owners_of(db, actor.org_id).await?;
    let people = names(
        db,
        items
            .iter()
            .filter_map(|i| i.assessed_by)
            .collect::<Vec<_>>(),
    )
    .await?;
    let rows = rows_for(&items, &people, &owners, actor, true);
    Ok(rows
        .into_iter()
        .filter(|r| match actor.role {
            Role::Admin => r.state == ItemState::Submitted,
            Role::Owner => r.can_assess,
            _ => false,
        })
        .collect())
}

pub async fn dashboard(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<ReviewDashboard> {
    if !can_read(actor.role) {
        return Ok(ReviewDashboard::default());
    }
    let day = today(now);
    let cycle = match current_cycle(db, actor.org_id).await? {
        Some(c) => Some(summary(&c, &items_of(db, c.id).await?, day)),
        None => None,
    };
    let owner = (actor.role == Role::Owner).then_some(actor.user_id);
    let actions = open_actions(db, actor, owner, now).await?;
    Ok(ReviewDashboard {
        cycle,
        overdue_reviews: reviews_due(db, actor.org_id, owner, now, 0)
            .await?
            .iter()
            .filter(|d| d.overdue)
            .count(),
        open_actions: actions.len(),
        overdue_actions: actions.iter().filter(|a| a.overdue).count(),
        not_effective: not_effective(db, actor.org_id).await?.len(),
        mine: waiting_for(db, actor).await?,
    })
}

pub async fn measure_review(
    db: &DatabaseConnection,
    actor: &Actor,
    measure_id: i32,
    now: DateTime<Utc>,
) -> AppResult<MeasureReview> {
    let m = measures::Entity::find_by_id(measure_id)
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Maßnahme".into()))?;
    if !can_read(actor.role) {
        return Err(AppError::Forbidden);
    }
    let last = last_reviews(db, actor.org_id).await?.get(&m.id).copied();
    let due = next_due(&m, last.map(|(d, _)| d));
    let flagged = not_effective(db, actor.org_id)
        .await?
        .iter()
        .any(|r| r.id == m.id);
    Ok(MeasureReview {
        months: m.review_months,
        last_reviewed: last.map(|(d, _)| iso(d)),
        last_result: last.and_then(|(_, r)| r),
        next_due: iso(due),
        overdue: m.status == MeasureStatus::Implemented.as_str() && due < today(now),
        flagged,
        can_edit: actor.role.is_admin(),
    })
}

/// Per annex section (category id): the oldest "last reviewed" date of its
/// measures, if every one of them has an approved review.
pub async fn section_review_dates<C: ConnectionTrait>(
    db: &C,
    org_id: i32,
    measure_ids: &[(i32, i32)],
) -> AppResult<HashMap<i32, NaiveDate>> {
    let last = last_reviews(db, org_id).await?;
    let mut out: HashMap<i32, Option<NaiveDate>> = HashMap::new();
    for (category, measure) in measure_ids {
        let d = last.get(measure).map(|(d, _)| *d);
        let entry = out.entry(*category).or_insert(d);
        *entry = match (*entry, d) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
    }
    Ok(out
        .into_iter()
        .filter_map(|(k, v)| v.map(|d| (k, d)))
        .collect())
}

/// `nachweis review status`: coverage of the open cycle and what is overdue.
pub async fn status_text(
    db: &DatabaseConnection,
    org_id: i32,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let reader = Actor {
        user_id: 0,
        org_id,
        role: Role::Auditor,
        display_name: "cli".into(),
        email: "cli".into(),
        single_org: true,
    };
    let day = today(now);
    let mut out = String::new();
    match current_cycle(db, org_id).await? {
        Some(c) => {
            let items = items_of(db, c.id).await?;
            let s = summary(&c, &items, day);
            let pct = if s.total == 0 {
                0.0
            } else {
                s.approved as f64 * 100.0 / s.total as f64
            };
            out.push_str(&format!(
                "Open cycle #{} \"{}\", due {}{}: {} of {} assessments approved ({pct:.0} %), {} awaiting decision, {} with the assessors.\n",
                c.id,
                c.title,
                iso(c.due_date),
                if s.overdue { " (OVERDUE)" } else { "" },
                s.approved,
                s.total,
                s.submitted,
                s.open
            ));
            for i in items.iter().filter(|i| state_of(i) != ItemState::Approved) {
                out.push_str(&format!(
                    "  [{}] {}: {}\n",
                    state_of(i).label(),
                    i.category,
                    i.measure_label
                ));
            }
        }
        None => out.push_str("No review cycle is open.\n"),
    }
    let overdue: Vec<ReviewDue> = reviews_due(db, org_id, None, now, 0)
        .await?
        .into_iter()
        .filter(|d| d.overdue)
        .collect();
    out.push_str(&format!("Overdue reviews: {}\n", overdue.len()));
    for d in &overdue {
        out.push_str(&format!(
            "  {} {}: {} (last reviewed {}, due {})\n",
            d.category,
            d.measure_id,
            d.label,
            d.last_reviewed.as_deref().unwrap_or("never"),
            d.next_due
        ));
    }
    let actions = open_actions(db, &reader, None, now).await?;
    out.push_str(&format!(
        "Open corrective actions: {} ({} overdue)\n",
        actions.len(),
        actions.iter().filter(|a| a.overdue).count()
    ));
    for a in &actions {
        out.push_str(&format!(
            "  {}due {}: {} – {}\n",
            if a.overdue { "OVERDUE " } else { "" },
            a.due_date,
            a.measure,
            a.action
        ));
    }
    let flagged = not_effective(db, org_id).await?;
    out.push_str(&format!(
        "Measures judged not effective: {}\n",
        flagged.len()
    ));
    for m in &flagged {
        out.push_str(&format!("  {}: {}\n", m.category, m.label));
    }
    Ok(out)
}
