//! Reading: overviews, a cycle and an assessment as pages show them, what
//! is due, the dashboard and the figures the annex and the digest use.

use super::*;
use crate::ids::{CategoryId, MeasureId, UserId};
use crate::ids::{CycleId, EvidenceId, OrgId, ReviewItemId};

/// Each measure's last approved assessment (date and result).
pub async fn last_reviews<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<HashMap<MeasureId, (NaiveDate, Option<ReviewResult>)>> {
    Ok(last_of(
        &review_items::Entity::find()
            .filter(review_items::Column::OrgId.eq(org_id))
            .filter(review_items::Column::State.eq(ItemState::Approved.as_str()))
            .all(db)
            .await?,
    ))
}

/// [`last_reviews`] among `items` (only the approved ones count).
fn last_of(items: &[review_items::Model]) -> HashMap<MeasureId, (NaiveDate, Option<ReviewResult>)> {
    let mut out: HashMap<MeasureId, (DateTime<Utc>, Option<ReviewResult>)> = HashMap::new();
    for i in items.iter().filter(|i| i.state == ItemState::Approved) {
        let Some(at) = i.decided_at else { continue };
        let entry = out.entry(i.measure_id).or_insert((at, result_of(i)));
        if at >= entry.0 {
            *entry = (at, result_of(i));
        }
    }
    out.into_iter()
        .map(|(k, (at, r))| (k, (today(at), r)))
        .collect()
}

/// What the review figures are computed from, read once for a page (four
/// statements): the catalogue and the organisation's submitted and
/// approved assessments of every cycle.
pub struct Basis {
    pub catalogue: crate::toms::service::Catalogue,
    assessed: Vec<review_items::Model>,
}

impl Basis {
    pub async fn load<C: ConnectionTrait>(db: &C, org_id: OrgId) -> AppResult<Self> {
        Ok(Self {
            catalogue: crate::toms::service::Catalogue::load(db, org_id).await?,
            assessed: assessed(db, org_id).await?,
        })
    }

    /// Each measure's last approved assessment (see [`last_reviews`]).
    pub fn last_reviews(&self) -> HashMap<MeasureId, (NaiveDate, Option<ReviewResult>)> {
        last_of(&self.assessed)
    }
}

/// Submitted and approved assessments of every cycle.
async fn assessed<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<review_items::Model>> {
    Ok(review_items::Entity::find()
        .filter(review_items::Column::OrgId.eq(org_id))
        .filter(
            review_items::Column::State
                .is_in([ItemState::Submitted.as_str(), ItemState::Approved.as_str()]),
        )
        .all(db)
        .await?)
}

/// When a measure's next effectiveness review is due: its interval after
/// the last approved assessment. A measure never reviewed has been due
/// since the day it entered the catalogue: Art. 32(1)(d) asks for its
/// effectiveness to be tested, and nobody has yet.
///
/// This and [`is_due`] are the one computation behind every figure of
/// due reviews: `/pruefungen`, the measure page, the catalogue's column
/// and filter, the start page and the daily digest.
pub fn next_due(m: &measures::Model, last: Option<NaiveDate>) -> NaiveDate {
    match last {
        Some(from) => from
            .checked_add_months(Months::new(m.review_months.max(1) as u32))
            .unwrap_or(from),
        None => today(m.created_at),
    }
}

/// Whether a review due on `next` is due on `day`: on its day and after.
pub fn is_due(status: MeasureStatus, next: NaiveDate, day: NaiveDate) -> bool {
    status == MeasureStatus::Implemented && next <= day
}

/// Implemented measures whose review is overdue (or, with `within_days`,
/// due within that many days), oldest first; with `owner`, only theirs.
pub async fn reviews_due<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    owner: Option<UserId>,
    now: DateTime<Utc>,
    within_days: i64,
) -> AppResult<Vec<ReviewDue>> {
    let last = last_reviews(db, org_id).await?;
    let cats = category_titles(db, org_id).await?;
    let mine: Option<HashSet<MeasureId>> = match owner {
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
    let implemented = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org_id))
        .filter(measures::Column::Status.eq(MeasureStatus::Implemented))
        .order_by_asc(measures::Column::CategoryId)
        .order_by_asc(measures::Column::Position)
        .all(db)
        .await?;
    Ok(due_among(
        &implemented,
        &last,
        &cats,
        mine.as_ref(),
        now,
        within_days,
    ))
}

/// [`reviews_due`] from what a page has read already.
pub fn reviews_due_in(
    basis: &Basis,
    owner: Option<UserId>,
    now: DateTime<Utc>,
    within_days: i64,
) -> Vec<ReviewDue> {
    let mine = owner.map(|u| basis.catalogue.owned_by(u));
    due_among(
        &basis.catalogue.measures,
        &basis.last_reviews(),
        &basis.catalogue.numbered_titles(),
        mine.as_ref(),
        now,
        within_days,
    )
}

/// The due reviews among `measures` (in catalogue order; only implemented
/// ones count), oldest due first.
fn due_among(
    measures: &[measures::Model],
    last: &HashMap<MeasureId, (NaiveDate, Option<ReviewResult>)>,
    cats: &HashMap<CategoryId, String>,
    mine: Option<&HashSet<MeasureId>>,
    now: DateTime<Utc>,
    within_days: i64,
) -> Vec<ReviewDue> {
    let day = today(now);
    let mut out: Vec<ReviewDue> = measures
        .iter()
        .filter(|m| m.status == MeasureStatus::Implemented)
        .filter(|m| mine.is_none_or(|s| s.contains(&m.id)))
        .filter_map(|m| {
            let l = last.get(&m.id).map(|(d, _)| *d);
            let due = next_due(m, l);
            is_due(m.status, due, day + chrono::Duration::days(within_days)).then(|| ReviewDue {
                measure_id: m.id,
                label: crate::toms::label(&m.title, &m.body),
                category: cats.get(&m.category_id).cloned().unwrap_or_default(),
                last_reviewed: l,
                next_due: due,
                overdue: due < day,
            })
        })
        .collect();
    out.sort_by_key(|d| d.next_due);
    out
}

/// Measures whose latest assessment says "not" or "partially effective"
/// and whose corrective actions are not all closed.
pub async fn not_effective<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<MeasureRef>> {
    let assessed = assessed(db, org_id).await?;
    let flagged = flagged_of(&assessed);
    if flagged.is_empty() {
        return Ok(Vec::new());
    }
    let cats = category_titles(db, org_id).await?;
    let measures: Vec<measures::Model> = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    not_effective_among(db, org_id, flagged, &measures, &cats).await
}

/// [`not_effective`] from what a page has read already (the findings are
/// read only when an assessment asks for action).
pub async fn not_effective_in<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    basis: &Basis,
) -> AppResult<Vec<MeasureRef>> {
    let flagged = flagged_of(&basis.assessed);
    if flagged.is_empty() {
        return Ok(Vec::new());
    }
    not_effective_among(
        db,
        org_id,
        flagged,
        &basis.catalogue.measures,
        &basis.catalogue.numbered_titles(),
    )
    .await
}

/// Each measure's latest assessment (submitted or approved), where it says
/// "not" or "partially effective".
fn flagged_of(assessed: &[review_items::Model]) -> Vec<&review_items::Model> {
    let mut latest: HashMap<MeasureId, &review_items::Model> = HashMap::new();
    for i in assessed {
        match latest.get(&i.measure_id) {
            Some(prev) if prev.assessed_at >= i.assessed_at => {}
            _ => {
                latest.insert(i.measure_id, i);
            }
        }
    }
    latest
        .into_values()
        .filter(|i| result_of(i).is_some_and(ReviewResult::needs_action))
        .collect()
}

/// The flagged measures whose corrective actions are not all closed.
async fn not_effective_among<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    flagged_items: Vec<&review_items::Model>,
    measures: &[measures::Model],
    cats: &HashMap<CategoryId, String>,
) -> AppResult<Vec<MeasureRef>> {
    let findings = review_findings::Entity::find()
        .filter(review_findings::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    let measures: HashMap<MeasureId, &measures::Model> =
        measures.iter().map(|m| (m.id, m)).collect();
    let mut out: Vec<MeasureRef> = flagged_items
        .into_iter()
        .filter(|i| {
            let own: Vec<_> = findings.iter().filter(|f| f.item_id == i.id).collect();
            own.is_empty() || own.iter().any(|f| f.status == FindingStatus::Open)
        })
        .filter_map(|i| {
            let m = measures.get(&i.measure_id)?;
            (m.status != MeasureStatus::Retired).then(|| MeasureRef {
                id: m.id,
                label: crate::toms::label(&m.title, &m.body),
                category: cats.get(&m.category_id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.category.cmp(&b.category).then(a.label.cmp(&b.label)));
    Ok(out)
}

pub(super) fn finding_view(
    f: &review_findings::Model,
    labels: &HashMap<ReviewItemId, String>,
    people: &HashMap<UserId, String>,
    evidence_titles: &HashMap<EvidenceId, String>,
    actor: &Actor,
    owned: &HashSet<MeasureId>,
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
        due_date: f.due_date,
        status: f.status,
        overdue: f.status == FindingStatus::Open && f.due_date < day,
        closing_note: f.closing_note.clone(),
        closing_evidence: f
            .closing_evidence_id
            .and_then(|e| evidence_titles.get(&e).cloned()),
        closed_at: f.closed_at.map(LocalTime::of),
        can_close: f.status == FindingStatus::Open
            && match actor.role {
                Role::Admin => true,
                Role::Owner => f.owner_id == Some(actor.user_id) || owned.contains(&f.measure_id),
                _ => false,
            },
    }
}

pub(super) async fn owned_by<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    user_id: UserId,
) -> AppResult<HashSet<MeasureId>> {
    Ok(measure_owners::Entity::find()
        .filter(measure_owners::Column::OrgId.eq(org_id))
        .filter(measure_owners::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.measure_id)
        .collect())
}

pub(super) async fn finding_views<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    findings: &[review_findings::Model],
    now: DateTime<Utc>,
) -> AppResult<Vec<FindingView>> {
    let owned = owned_by(db, actor.org_id, actor.user_id).await?;
    let found = Lookups::load(db, findings, &[], &[], &HashMap::new()).await?;
    Ok(found.views(actor, findings, now, &owned))
}

/// What findings and a cycle's rows name, read in one go: the assessed
/// measures' labels, the names of findings' owners and of those who
/// assessed, the titles of closing evidence.
struct Lookups {
    labels: HashMap<ReviewItemId, String>,
    people: HashMap<UserId, String>,
    evidence_titles: HashMap<EvidenceId, String>,
}

impl Lookups {
    /// For `findings` and the `items` already read (their labels are not
    /// read again), with the names of `assessors` and of the people `known`.
    async fn load<C: ConnectionTrait>(
        db: &C,
        findings: &[review_findings::Model],
        items: &[review_items::Model],
        assessors: &[UserId],
        known: &HashMap<UserId, String>,
    ) -> AppResult<Lookups> {
        let mut labels: HashMap<ReviewItemId, String> = HashMap::new();
        let have: HashMap<ReviewItemId, &str> = items
            .iter()
            .map(|i| (i.id, i.measure_label.as_str()))
            .collect();
        let mut item_ids = Vec::new();
        for id in findings.iter().map(|f| f.item_id).collect::<HashSet<_>>() {
            match have.get(&id) {
                Some(label) => {
                    labels.insert(id, (*label).to_owned());
                }
                None => item_ids.push(id),
            }
        }
        for chunk in item_ids.chunks(500) {
            for i in review_items::Entity::find()
                .filter(review_items::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?
            {
                labels.insert(i.id, i.measure_label);
            }
        }
        // Names of people `known` are not read again.
        let mut people = names(
            db,
            findings
                .iter()
                .filter_map(|f| f.owner_id)
                .chain(assessors.iter().copied())
                .filter(|u| !known.contains_key(u))
                .collect::<Vec<_>>(),
        )
        .await?;
        people.extend(known.iter().map(|(u, n)| (*u, n.clone())));
        let ev_ids: Vec<EvidenceId> = findings
            .iter()
            .filter_map(|f| f.closing_evidence_id)
            .collect();
        let evidence_titles: HashMap<EvidenceId, String> = if ev_ids.is_empty() {
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
        Ok(Lookups {
            labels,
            people,
            evidence_titles,
        })
    }

    fn views(
        &self,
        actor: &Actor,
        findings: &[review_findings::Model],
        now: DateTime<Utc>,
        owned: &HashSet<MeasureId>,
    ) -> Vec<FindingView> {
        let day = today(now);
        findings
            .iter()
            .map(|f| {
                finding_view(
                    f,
                    &self.labels,
                    &self.people,
                    &self.evidence_titles,
                    actor,
                    owned,
                    day,
                )
            })
            .collect()
    }
}

/// Open actions (with `owner`: those they own or on their measures), due first.
pub async fn open_actions<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> AppResult<Vec<FindingView>> {
    let mut rows = open_findings(db, actor.org_id).await?;
    if let Some(u) = owner {
        let owned = owned_by(db, actor.org_id, u).await?;
        rows.retain(|f| f.owner_id == Some(u) || owned.contains(&f.measure_id));
    }
    finding_views(db, actor, &rows, now).await
}

async fn open_findings<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<review_findings::Model>> {
    Ok(review_findings::Entity::find()
        .filter(review_findings::Column::OrgId.eq(org_id))
        .filter(review_findings::Column::Status.eq(FindingStatus::Open))
        .order_by_asc(review_findings::Column::DueDate)
        .order_by_asc(review_findings::Column::Id)
        .all(db)
        .await?)
}

pub(super) fn rows_for(
    items: &[review_items::Model],
    people: &HashMap<UserId, String>,
    owners: &HashMap<MeasureId, Vec<UserId>>,
    actor: &Actor,
    cycle_open: bool,
) -> Vec<ItemRow> {
    items
        .iter()
        .map(|i| {
            let own = owners.get(&i.measure_id).cloned().unwrap_or_default();
            let state = i.state;
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

pub(super) async fn owners_of<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<HashMap<MeasureId, Vec<UserId>>> {
    let mut out: HashMap<MeasureId, Vec<UserId>> = HashMap::new();
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
                implemented: m.status == MeasureStatus::Implemented,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ReviewsOverview {
        cycles: summaries,
        actions: open_actions(db, actor, None, now).await?,
        due_reviews: reviews_due(db, actor.org_id, None, now, 0).await?,
        not_effective: not_effective(db, actor.org_id).await?,
        measures,
        can_manage: actor.role.is_admin(),
        suggested_title: format!("Wirksamkeitsprüfung {}", day.year()),
        suggested_due: day + chrono::Duration::days(30),
    })
}

pub async fn cycle_view(
    db: &DatabaseConnection,
    actor: &Actor,
    id: CycleId,
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
    let open = c.status == CycleStatus::Open;
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
    let labels: HashMap<ReviewItemId, String> = items
        .iter()
        .map(|i| (i.id, i.measure_label.clone()))
        .collect();
    let day = today(now);
    Ok(CycleView {
        summary: summary(&c, &items, day),
        complete: !items.is_empty() && items.iter().all(|i| i.state == ItemState::Approved),
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
    id: ReviewItemId,
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
    let open = c.status == CycleStatus::Open;
    let row = rows_for(std::slice::from_ref(&it), &people, &owners, actor, open).remove(0);
    let linked: HashSet<EvidenceId> = review_item_evidence::Entity::find()
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
            valid_until: e.valid_until,
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
        let ids: Vec<UserId> = ms
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
        assessed_at: it.assessed_at.map(LocalTime::of),
        decided_by: it.decided_by.and_then(|u| people.get(&u).cloned()),
        decided_at: it.decided_at.map(LocalTime::of),
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
    org_id: OrgId,
) -> AppResult<Option<review_cycles::Model>> {
    Ok(review_cycles::Entity::find()
        .filter(review_cycles::Column::OrgId.eq(org_id))
        .filter(review_cycles::Column::Status.eq(CycleStatus::Open))
        .one(db)
        .await?)
}

/// Assessments waiting for `user` (pending or returned, on their measures)
/// in the open cycle; for admins also those awaiting their decision.
pub async fn waiting_for<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Vec<ItemRow>> {
    let Some(c) = current_cycle(db, actor.org_id).await? else {
        return Ok(Vec::new());
    };
    let owners = owners_of(db, actor.org_id).await?;
    let items = items_of(db, c.id).await?;
    waiting_in(db, actor, &items, &owners, &HashMap::new()).await
}

/// [`waiting_for`] among the open cycle's `items`, with the measures'
/// owners already read and the names of people `known` (usually those who
/// assessed are owners: only the others are read).
async fn waiting_in<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    items: &[review_items::Model],
    owners: &HashMap<MeasureId, Vec<UserId>>,
    known: &HashMap<UserId, String>,
) -> AppResult<Vec<ItemRow>> {
    let found = Lookups::load(db, &[], items, &assessors_of(items), known).await?;
    Ok(waiting_among(items, &found.people, owners, actor))
}

/// Everyone who assessed one of `items`.
fn assessors_of(items: &[review_items::Model]) -> Vec<UserId> {
    items
        .iter()
        .filter_map(|i| i.assessed_by)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

/// The rows of `items` waiting for `actor`, given the names of `people`
/// (a superset of those who assessed).
fn waiting_among(
    items: &[review_items::Model],
    people: &HashMap<UserId, String>,
    owners: &HashMap<MeasureId, Vec<UserId>>,
    actor: &Actor,
) -> Vec<ItemRow> {
    // The names of those who assessed, and only theirs: a row names the
    // measure's owners who are among them.
    let assessors: HashSet<UserId> = items.iter().filter_map(|i| i.assessed_by).collect();
    let people: HashMap<UserId, String> = people
        .iter()
        .filter(|(u, _)| assessors.contains(u))
        .map(|(u, n)| (*u, n.clone()))
        .collect();
    rows_for(items, &people, owners, actor, true)
        .into_iter()
        .filter(|r| match actor.role {
            Role::Admin => r.state == ItemState::Submitted,
            Role::Owner => r.can_assess,
            _ => false,
        })
        .collect()
}

/// The review figures as `actor` sees them (with `owner`: that person's
/// measures and actions), read once per request: the start page's
/// dashboard and its attention lists are both cut from one of these.
pub struct ReviewState {
    cycle: Option<review_cycles::Model>,
    cycle_items: Vec<review_items::Model>,
    /// Implemented measures with their next review, oldest due first.
    pub due: Vec<ReviewDue>,
    /// Open actions, due first.
    pub actions: Vec<FindingView>,
    pub not_effective: Vec<MeasureRef>,
    /// Assessments in the open cycle waiting for `actor` (see [`waiting_for`]).
    pub waiting: Vec<ItemRow>,
}

pub async fn review_state(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> AppResult<ReviewState> {
    review_state_in(db, actor, owner, now, &Basis::load(db, actor.org_id).await?).await
}

/// [`review_state`] from what a page has read already.
pub async fn review_state_in<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    owner: Option<UserId>,
    now: DateTime<Utc>,
    basis: &Basis,
) -> AppResult<ReviewState> {
    Ok(ReviewRead::load(db, actor.org_id, basis)
        .await?
        .state(actor, owner, now, basis))
}

/// What every view of the review figures is cut from, read once per
/// request: the open cycle and its assessments, the open actions, the
/// measures not (fully) effective, and what their rows name. A page that
/// shows the figures twice (an owner's start page: the organisation's
/// lists and the owner's dashboard) reads them once.
pub struct ReviewRead {
    cycle: Option<review_cycles::Model>,
    cycle_items: Vec<review_items::Model>,
    /// Open actions, due first.
    open: Vec<review_findings::Model>,
    found: Lookups,
    not_effective: Vec<MeasureRef>,
}

impl ReviewRead {
    pub async fn load<C: ConnectionTrait>(
        db: &C,
        org_id: OrgId,
        basis: &Basis,
    ) -> AppResult<ReviewRead> {
        let cycle = current_cycle(db, org_id).await?;
        let cycle_items = match &cycle {
            Some(c) => items_of(db, c.id).await?,
            None => Vec::new(),
        };
        let open = open_findings(db, org_id).await?;
        let found = Lookups::load(
            db,
            &open,
            &cycle_items,
            &assessors_of(&cycle_items),
            &basis.catalogue.names_of_owners(),
        )
        .await?;
        Ok(ReviewRead {
            not_effective: not_effective_in(db, org_id, basis).await?,
            cycle,
            cycle_items,
            open,
            found,
        })
    }

    /// The figures as `actor` sees them (with `owner`: that person's
    /// measures and actions).
    pub fn state(
        &self,
        actor: &Actor,
        owner: Option<UserId>,
        now: DateTime<Utc>,
        basis: &Basis,
    ) -> ReviewState {
        let open: Vec<review_findings::Model> = match owner {
            Some(u) => {
                let owned = basis.catalogue.owned_by(u);
                self.open
                    .iter()
                    .filter(|f| f.owner_id == Some(u) || owned.contains(&f.measure_id))
                    .cloned()
                    .collect()
            }
            None => self.open.clone(),
        };
        let waiting = match self.cycle {
            Some(_) => waiting_among(
                &self.cycle_items,
                &self.found.people,
                &basis.catalogue.owners_by_measure(),
                actor,
            ),
            None => Vec::new(),
        };
        ReviewState {
            due: reviews_due_in(basis, owner, now, 0),
            actions: self
                .found
                .views(actor, &open, now, &basis.catalogue.owned_by(actor.user_id)),
            not_effective: self.not_effective.clone(),
            waiting,
            cycle: self.cycle.clone(),
            cycle_items: self.cycle_items.clone(),
        }
    }
}

impl ReviewState {
    /// Whether an open cycle is due by `day`.
    pub fn cycle_due_by(&self, day: NaiveDate) -> bool {
        self.cycle.as_ref().is_some_and(|c| c.due_date <= day)
    }

    /// The dashboard for someone in `role`; only admins and owners have
    /// assessments of their own to do.
    pub fn dashboard(&self, role: Role, now: DateTime<Utc>) -> ReviewDashboard {
        ReviewDashboard {
            cycle: self
                .cycle
                .as_ref()
                .map(|c| summary(c, &self.cycle_items, today(now))),
            due_reviews: self.due.len(),
            open_actions: self.actions.len(),
            overdue_actions: self.actions.iter().filter(|a| a.overdue).count(),
            not_effective: self.not_effective.len(),
            mine: match role {
                Role::Admin | Role::Owner => self.waiting.clone(),
                _ => Vec::new(),
            },
        }
    }
}

/// The review dashboard of `actor`: owners see their own measures' figures.
pub async fn dashboard(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<ReviewDashboard> {
    if !can_read(actor.role) {
        return Ok(ReviewDashboard::default());
    }
    let owner = (actor.role == Role::Owner).then_some(actor.user_id);
    Ok(review_state(db, actor, owner, now)
        .await?
        .dashboard(actor.role, now))
}

pub async fn measure_review(
    db: &DatabaseConnection,
    actor: &Actor,
    measure_id: MeasureId,
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
        last_reviewed: last.map(|(d, _)| d),
        last_result: last.and_then(|(_, r)| r),
        next_due: due,
        due: is_due(m.status, due, today(now)),
        flagged,
        can_edit: actor.role.is_admin(),
    })
}

/// Per annex section (category id): the oldest "last reviewed" date of its
/// measures, if every one of them has an approved review.
pub async fn section_review_dates<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    measure_ids: &[(CategoryId, MeasureId)],
) -> AppResult<HashMap<CategoryId, NaiveDate>> {
    let last = last_reviews(db, org_id).await?;
    let mut out: HashMap<CategoryId, Option<NaiveDate>> = HashMap::new();
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
    org_id: OrgId,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let reader = Actor {
        user_id: UserId(0),
        org_id,
        role: Role::Auditor,
        display_name: "cli".into(),
        email: "cli".into(),
        single_org: true,
        customer_id: None,
        joined: None,
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
            for i in items.iter().filter(|i| i.state != ItemState::Approved) {
                out.push_str(&format!(
                    "  [{}] {}: {}\n",
                    i.state.label(),
                    i.category,
                    i.measure_label
                ));
            }
        }
        None => out.push_str("No review cycle is open.\n"),
    }
    let due: Vec<ReviewDue> = reviews_due(db, org_id, None, now, 0).await?;
    out.push_str(&format!("Reviews due: {}\n", due.len()));
    for d in &due {
        out.push_str(&format!(
            "  {} {}: {} (last reviewed {}, due {})\n",
            d.category,
            d.measure_id,
            d.label,
            d.last_reviewed
                .map_or_else(|| "never".to_owned(), |day| day.to_string()),
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
