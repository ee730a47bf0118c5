//! Assessing: drafts and submissions, the DPO's decision, findings and
//! their corrective actions, closing and amending a cycle, the cadence.

use super::*;
use crate::entities::BeginWrite;
use crate::ids::{CycleId, EvidenceId, FindingId, OrgId, ReviewItemId};
use crate::ids::{MeasureId, UserId};

#[derive(Debug, Clone)]
pub struct FindingInput {
    pub description: String,
    pub action: String,
    pub due_date: NaiveDate,
    pub owner_id: Option<UserId>,
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
    pub evidence: Vec<EvidenceId>,
    pub finding: Option<FindingInput>,
    pub submit: bool,
}

/// Checks a finding's owner (an admin or owner of the organisation).
pub(super) async fn check_owner<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    owner: Option<UserId>,
) -> AppResult<()> {
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

pub(super) async fn insert_finding<C: ConnectionTrait>(
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
        status: Set(FindingStatus::Open),
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
        AuditEvent::new(
            &actor.audit(),
            "review_finding",
            row.id.to_string(),
            "create",
        )
        .in_org(it.org_id)
        .after(json!({
            "item": it.id, "measure": it.measure_id, "description": row.description,
            "action": row.action, "owner": row.owner_id, "due_date": iso(row.due_date),
        })),
    )
    .await?;
    Ok(row)
}

/// Saves or submits an assessment (the measure's owners, or admins).
pub async fn assess(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    item_id: ReviewItemId,
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
    let to =
        next_state(it.state, step, cyc.status != CycleStatus::Open).map_err(AppError::Refused)?;
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
    let allowed: HashSet<EvidenceId> = evidence::Entity::find()
        .filter(evidence::Column::OrgId.eq(actor.org_id))
        .filter(evidence::Column::MeasureId.eq(it.measure_id))
        .filter(evidence::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mut linked: Vec<EvidenceId> = input.evidence.clone();
    linked.sort_unstable();
    linked.dedup();
    if linked.iter().any(|id| !allowed.contains(id)) {
        return Err(AppError::invalid(
            "evidence",
            "Ein gewählter Nachweis gehört nicht zu dieser Maßnahme.",
        ));
    }

    let txn = db.begin_write().await?;
    let existing_open = review_findings::Entity::find()
        .filter(review_findings::Column::ItemId.eq(it.id))
        .filter(review_findings::Column::Status.eq(FindingStatus::Open))
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
        .col_expr(review_items::Column::State, Expr::value(to))
        .col_expr(review_items::Column::Version, Expr::value(it.version + 1))
        .filter(review_items::Column::Id.eq(it.id))
        .filter(review_items::Column::Version.eq(it.version))
        .filter(review_items::Column::State.eq(it.state))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::Conflict);
    }
    let still_open = review_cycles::Entity::find_by_id(cyc.id)
        .filter(review_cycles::Column::Status.eq(CycleStatus::Open))
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
        AuditEvent::new(
            &actor.audit(),
            "review_item",
            it.id.to_string(),
            if input.submit { "submit" } else { "save" },
        )
        .in_org(actor.org_id)
        .before(json!({ "state": it.state, "result": it.result }))
        .after(json!({
            "state": to.as_str(), "result": result.map(|r| r.as_str()),
            "state_of_art": state_of_art, "evidence": linked,
        })),
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
    item_id: ReviewItemId,
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
    let to =
        next_state(it.state, step, cyc.status != CycleStatus::Open).map_err(AppError::Refused)?;
    if version != it.version {
        return Err(AppError::Conflict);
    }
    let comment = text_field("comment", "Kommentar", comment, step == Step::Return)?;
    let txn = db.begin_write().await?;
    let updated = review_items::Entity::update_many()
        .col_expr(review_items::Column::State, Expr::value(to))
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
        .filter(review_cycles::Column::Status.eq(CycleStatus::Open))
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
        AuditEvent::new(&actor.audit(), "review_item", it.id.to_string(), kind)
            .in_org(actor.org_id)
            .before(json!({ "state": it.state }))
            .after(json!({ "state": to.as_str(), "comment": comment })),
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
    item_id: ReviewItemId,
    input: FindingInput,
) -> AppResult<FindingId> {
    let it = item(db, actor.org_id, item_id).await?;
    if !may_assess(db, actor, it.measure_id).await? {
        return Err(AppError::Forbidden);
    }
    let cyc = cycle(db, actor.org_id, it.cycle_id).await?;
    if cyc.status != CycleStatus::Open {
        return Err(closed_refusal());
    }
    match it.state {
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
    let txn = db.begin_write().await?;
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
    finding_id: FindingId,
    note: &str,
    evidence_id: Option<EvidenceId>,
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
    if f.status != FindingStatus::Open {
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
    let txn = db.begin_write().await?;
    let updated = review_findings::Entity::update_many()
        .col_expr(
            review_findings::Column::Status,
            Expr::value(FindingStatus::Closed),
        )
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
        .filter(review_findings::Column::Status.eq(FindingStatus::Open))
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
        AuditEvent::new(&actor.audit(), "review_finding", f.id.to_string(), "close")
            .in_org(actor.org_id)
            .before(json!({ "status": "open" }))
            .after(json!({ "status": "closed", "note": note, "evidence": evidence_id })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Closes a cycle whose assessments are all approved, and stores the signed report.
pub async fn close(
    state: &AppState,
    actor: &Actor,
    cycle_id: CycleId,
    comment: &str,
) -> AppResult<()> {
    let db = &state.db;
    let now = state.now();
    let cyc = cycle(db, actor.org_id, cycle_id).await?;
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    if cyc.status != CycleStatus::Open {
        return Err(AppError::Refused(
            "Der Prüfzyklus ist bereits abgeschlossen.".into(),
        ));
    }
    let comment = text_field("comment", "Abschlussvermerk", comment, false)?;
    let items = items_of(db, cyc.id).await?;
    let waiting = items
        .iter()
        .filter(|i| i.state != ItemState::Approved)
        .count();
    if waiting > 0 {
        return Err(AppError::Refused(format!(
            "{waiting} von {} Bewertungen sind noch nicht freigegeben. Ein Prüfzyklus wird erst abgeschlossen, wenn jede Bewertung freigegeben ist.",
            items.len()
        )));
    }
    let mut closed = cyc.clone();
    closed.status = CycleStatus::Closed;
    closed.closed_by = Some(actor.user_id);
    closed.closed_at = Some(now);
    closed.close_comment = comment.clone();
    closed.report_version = 1;
    let anchor = crate::audit::service::head(db).await?;
    let pdf = report(db, &state.signing, &closed, now, Some(&anchor)).await?;
    let sha = hex::encode(Sha256::digest(&pdf));
    let txn = db.begin_write().await?;
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
        .filter(review_cycles::Column::Status.eq(CycleStatus::Open))
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
    if now_items.iter().any(|i| i.state != ItemState::Approved) || now_items.len() != items.len() {
        return Err(AppError::Conflict);
    }
    event(&txn, now, actor, &cyc, None, "close", &comment).await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "review_cycle", cyc.id.to_string(), "close")
            .in_org(actor.org_id)
            .before(json!({ "status": "open" }))
            .after(json!({ "status": "closed", "report_sha256": sha, "assessments": items.len() })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Records an amendment to an assessment of a closed cycle (admins) and
/// issues the report again with it; the audit log keeps both hashes.
pub async fn amend(
    state: &AppState,
    actor: &Actor,
    item_id: ReviewItemId,
    text: &str,
) -> AppResult<()> {
    let db = &state.db;
    let now = state.now();
    let it = item(db, actor.org_id, item_id).await?;
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let cyc = cycle(db, actor.org_id, it.cycle_id).await?;
    if cyc.status != CycleStatus::Closed {
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
    let txn = db.begin_write().await?;
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
        AuditEvent::new(&actor.audit(), "review_item", it.id.to_string(), "amend").in_org(actor.org_id).before(json!({ "report_sha256": cyc.report_sha256, "report_version": cyc.report_version })).after(json!({ "text": text, "report_sha256": sha, "report_version": next.report_version })),
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
    measure_id: MeasureId,
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
    let txn = db.begin_write().await?;
    measures::Entity::update_many()
        .col_expr(measures::Column::ReviewMonths, Expr::value(months))
        .filter(measures::Column::Id.eq(m.id))
        .exec(&txn)
        .await?;
    record(
        &txn,
        now,
        AuditEvent::new(
            &actor.audit(),
            "measure",
            m.id.to_string(),
            "review_cadence",
        )
        .in_org(actor.org_id)
        .before(json!({ "review_months": m.review_months }))
        .after(json!({ "review_months": months })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
