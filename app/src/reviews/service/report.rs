//! The signed report of a cycle: its data, the render and the signature.

use super::*;
use crate::ids::{CycleId, EvidenceId, OrgId, ReviewItemId, UserId};

#[derive(Debug, Serialize)]
pub(super) struct ReportCount {
    label: String,
    count: usize,
}

#[derive(Debug, Serialize)]
pub(super) struct ReportItem {
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
pub(super) struct ReportSection {
    title: String,
    items: Vec<ReportItem>,
}

#[derive(Debug, Serialize)]
pub(super) struct ReportFinding {
    measure: String,
    description: String,
    action: String,
    owner: String,
    due: String,
    state: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ReportAmendment {
    measure: String,
    text: String,
    by: String,
    at: String,
}

/// The data of `report.typ`.
#[derive(Debug, Serialize)]
pub struct ReportData {
    pub(super) org_name: String,
    pub(super) title: String,
    pub(super) draft: bool,
    pub(super) status: String,
    pub(super) opened_at: String,
    pub(super) opened_by: String,
    pub(super) due_date: String,
    pub(super) closed: String,
    pub(super) closed_at: String,
    pub(super) closed_by: String,
    pub(super) close_comment: String,
    pub(super) generated_at: String,
    pub(super) scope: String,
    pub(super) method: Vec<String>,
    pub(super) report_version: i32,
    pub(super) counts: Vec<ReportCount>,
    pub(super) sections: Vec<ReportSection>,
    pub(super) findings: Vec<ReportFinding>,
    pub(super) amendments: Vec<ReportAmendment>,
    /// The audit chain's head at signing; drafts (not kept) have none.
    pub(super) audit_anchor: Option<String>,
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
    let evidence = evidence_by_item(db, &items).await?;
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
    let name = |id: Option<UserId>| {
        id.and_then(|i| people.get(&i).cloned())
            .unwrap_or_else(|| "–".into())
    };

    let counts = result_counts(&items);
    let mut sections: Vec<ReportSection> = Vec::new();
    for i in &items {
        let entry = report_item(i, evidence.get(&i.id).cloned().unwrap_or_default(), &name);
        match sections.last_mut() {
            Some(s) if s.title == i.category => s.items.push(entry),
            _ => sections.push(ReportSection {
                title: i.category.clone(),
                items: vec![entry],
            }),
        }
    }
    let labels: HashMap<ReviewItemId, String> = items
        .iter()
        .map(|i| (i.id, i.measure_label.clone()))
        .collect();
    let closed = cyc.status == CycleStatus::Closed;
    Ok(ReportData {
        org_name: org.legal_name,
        title: cyc.title.clone(),
        draft: !closed,
        status: if closed {
            "abgeschlossen und gesperrt".into()
        } else {
            format!(
                "Entwurf – Prüfzyklus offen (Stand {})",
                german_datetime(now)
            )
        },
        opened_at: german_datetime(cyc.opened_at),
        opened_by: name(cyc.opened_by),
        due_date: german(cyc.due_date),
        closed: match cyc.closed_at {
            Some(at) => format!("{} von {}", german_datetime(at), name(cyc.closed_by)),
            None => "–".into(),
        },
        closed_at: cyc.closed_at.map(german_datetime).unwrap_or_default(),
        closed_by: name(cyc.closed_by),
        close_comment: cyc.close_comment.clone(),
        generated_at: german_datetime(now),
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
                    Some(at) if f.status == FindingStatus::Closed => {
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
                at: german_datetime(e.at),
            })
            .collect(),
        audit_anchor: None,
    })
}

/// The titles (with validity) of the evidence each assessment relies on.
async fn evidence_by_item<C: ConnectionTrait>(
    db: &C,
    items: &[review_items::Model],
) -> AppResult<HashMap<ReviewItemId, Vec<String>>> {
    let mut links: HashMap<ReviewItemId, Vec<EvidenceId>> = HashMap::new();
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
    let mut evidence_titles: HashMap<EvidenceId, String> = HashMap::new();
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
    Ok(links
        .into_iter()
        .map(|(item, ids)| {
            let titles = ids
                .iter()
                .filter_map(|e| evidence_titles.get(e).cloned())
                .collect();
            (item, titles)
        })
        .collect())
}

/// How many assessments have each result, and how many none yet.
fn result_counts(items: &[review_items::Model]) -> Vec<ReportCount> {
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
    counts
}

/// One assessment as the report states it.
fn report_item(
    i: &review_items::Model,
    evidence: Vec<String>,
    name: &dyn Fn(Option<UserId>) -> String,
) -> ReportItem {
    ReportItem {
        label: i.measure_label.clone(),
        result: match (result_of(i), i.state) {
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
        evidence,
        assessed: match i.assessed_at {
            Some(at) => format!("{}, {}", name(i.assessed_by), german_datetime(at)),
            None => "–".into(),
        },
        decided: match (i.state, i.decided_at) {
            (ItemState::Approved, Some(at)) => format!(
                "freigegeben von {}, {}",
                name(i.decided_by),
                german_datetime(at)
            ),
            (s, _) => s.label().to_owned(),
        },
    }
}

/// Renders and signs the report with the organisation's certificate.
/// `identity` is resolved by the caller before any transaction: on SQLite
/// the pool's connection may be the one holding the write lock.
pub(super) async fn sign_report(
    identity: crate::pdf::keys::OrgIdentity,
    org: &organisations::Model,
    cyc: &review_cycles::Model,
    data: ReportData,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    let details = crate::pdf::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: SIGNATURE_REASON.to_owned(),
        location: crate::pdf::sign::location(org),
        time: now,
    };
    let day = today(now);
    let ident = format!(
        "nachweis-pruefbericht/{}/{}/{}",
        org.id, cyc.id, cyc.report_version
    );
    crate::pdf::typeset_signed(template(), &data, day, ident, identity, details).await
}

/// The signed report of `cyc` as it stands at `now`; a report that is
/// kept prints the audit chain's `anchor`.
pub async fn report(
    db: &DatabaseConnection,
    setup: &crate::pdf::keys::SigningSetup,
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
    cycle_id: CycleId,
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
    setup: &crate::pdf::keys::SigningSetup,
    org_id: OrgId,
    cycle_id: CycleId,
    now: DateTime<Utc>,
) -> AppResult<(Vec<u8>, String)> {
    let cyc = cycle(db, org_id, cycle_id).await?;
    report_of(db, setup, cyc, now).await
}

pub(super) async fn report_of(
    db: &DatabaseConnection,
    setup: &crate::pdf::keys::SigningSetup,
    cyc: review_cycles::Model,
    now: DateTime<Utc>,
) -> AppResult<(Vec<u8>, String)> {
    let name = format!(
        "Pruefbericht-{}-{}.pdf",
        cyc.id,
        if cyc.status == CycleStatus::Closed {
            "final"
        } else {
            "entwurf"
        }
    );
    match (cyc.status, &cyc.report_pdf) {
        (CycleStatus::Closed, Some(pdf)) => Ok((pdf.clone(), name)),
        _ => Ok((report(db, setup, &cyc, now, None).await?, name)),
    }
}
