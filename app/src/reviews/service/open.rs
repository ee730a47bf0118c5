//! Opening a cycle: the measures in scope, one assessment each, and the
//! mails that ask their owners.

use super::*;
use crate::entities::BeginWrite;
use crate::ids::{CycleId, OrgId, UserId};

#[derive(Debug, Clone)]
pub struct OpenInput {
    pub title: String,
    pub due_date: String,
    pub method: String,
    /// `None`: every implemented measure.
    pub measures: Option<Vec<MeasureId>>,
}

/// Opens a cycle (admins). Only one cycle is open at a time. Each owner of a
/// covered measure gets a mail (through the outbox, in the same transaction).
pub async fn open_cycle(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    input: OpenInput,
    public_url: &str,
) -> AppResult<CycleId> {
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

    let txn = db.begin_write().await?;
    if let Some(open) = review_cycles::Entity::find()
        .filter(review_cycles::Column::OrgId.eq(actor.org_id))
        .filter(review_cycles::Column::Status.eq(CycleStatus::Open))
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
            .filter(|m| m.status == MeasureStatus::Implemented)
            .collect(),
        Some(ids) => {
            let ids: HashSet<MeasureId> = ids.iter().copied().collect();
            let known: HashSet<MeasureId> = all.iter().map(|m| m.id).collect();
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
    let cycle = review_cycles::ActiveModel {
        org_id: Set(actor.org_id),
        title: Set(title.clone()),
        due_date: Set(due),
        status: Set(CycleStatus::Open),
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
    insert_items(&txn, actor, cycle.id, &chosen).await?;
    event(&txn, now, actor, &cycle, None, "open", "").await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "review_cycle", cycle.id.to_string(), "open").in_org(actor.org_id).after(json!({ "title": title, "due_date": iso(due), "measures": chosen.len(), "scope": cycle.scope })),
    )
    .await?;

    ask_owners(&txn, now, actor, &cycle, &chosen, public_url).await?;
    txn.commit().await?;
    tracing::info!(
        org = %actor.org_id,
        cycle = %cycle.id,
        measures = chosen.len(),
        "review cycle opened"
    );
    Ok(cycle.id)
}

/// One pending assessment per chosen measure, with the measure's label,
/// category and version as they are now.
async fn insert_items<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    cycle_id: CycleId,
    chosen: &[&measures::Model],
) -> AppResult<()> {
    let org_id = actor.org_id;
    let cats = category_titles(txn, org_id).await?;
    // Many measures: insert in batches (PostgreSQL allows 65,535 parameters per statement).
    let rows: Vec<review_items::ActiveModel> = chosen
        .iter()
        .map(|m| review_items::ActiveModel {
            org_id: Set(org_id),
            cycle_id: Set(cycle_id),
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
            state: Set(ItemState::Pending),
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
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Asks every owner of a covered measure, once, with their count (a mail
/// through the outbox, in the caller's transaction).
async fn ask_owners<C: ConnectionTrait>(
    txn: &C,
    now: DateTime<Utc>,
    actor: &Actor,
    cycle: &review_cycles::Model,
    chosen: &[&measures::Model],
    public_url: &str,
) -> AppResult<()> {
    let ids: Vec<MeasureId> = chosen.iter().map(|m| m.id).collect();
    let mut per_owner: BTreeMap<UserId, usize> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        for o in measure_owners::Entity::find()
            .filter(measure_owners::Column::OrgId.eq(actor.org_id))
            .filter(measure_owners::Column::MeasureId.is_in(chunk.to_vec()))
            .all(txn)
            .await?
        {
            *per_owner.entry(o.user_id).or_default() += 1;
        }
    }
    let org = organisations::Entity::find_by_id(actor.org_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let people = users::Entity::find()
        .filter(users::Column::Id.is_in(per_owner.keys().copied().collect::<Vec<_>>()))
        .all(txn)
        .await?;
    for u in people.iter().filter(|u| !u.locked) {
        let mail = request_mail(
            crate::mail::Locale::parse_lenient(&u.locale),
            &org.legal_name,
            &u.display_name,
            &cycle.title,
            per_owner.get(&u.id).copied().unwrap_or_default(),
            cycle.due_date,
            &format!("{public_url}/pruefungen/{}", cycle.id),
        );
        crate::mail::service::enqueue(txn, now, Some(org.id), "review-request", &u.email, &mail)
            .await?;
    }
    Ok(())
}

pub fn default_method() -> String {
    "Jede Maßnahme wird von ihren Verantwortlichen anhand der vorliegenden Nachweise, von Stichproben und, wo möglich, von Tests (z. B. Wiederherstellung aus der Datensicherung, Prüfung von Berechtigungen, Begehung) auf ihre Wirksamkeit geprüft und mit „wirksam“, „teilweise wirksam“, „nicht wirksam“ oder „nicht anwendbar“ bewertet. Dabei wird auch beurteilt, ob sie dem Stand der Technik entspricht. Abweichungen werden als Feststellungen mit Korrekturmaßnahme, Verantwortlichen und Frist festgehalten. Die oder der Datenschutzbeauftragte prüft jede Bewertung und gibt sie frei oder gibt sie zur Überarbeitung zurück.".to_owned()
}

pub(super) fn request_mail(
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

pub(super) fn returned_mail(
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
pub(super) async fn category_titles<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<HashMap<CategoryId, String>> {
    Ok(crate::toms::service::ordered_categories(db, org_id)
        .await?
        .into_iter()
        .map(|(number, c)| (c.id, format!("{number} {}", c.title)))
        .collect())
}

/// Measures in document order: by the category's place, then position.
pub(super) async fn in_document_order<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    mut list: Vec<measures::Model>,
) -> AppResult<Vec<measures::Model>> {
    let order: HashMap<CategoryId, usize> = crate::toms::service::ordered_categories(db, org_id)
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
