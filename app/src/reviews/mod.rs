//! Annual effectiveness reviews of the measures (Art. 32 Abs. 1 lit. d
//! DSGVO: "ein Verfahren zur regelmäßigen Überprüfung, Bewertung und
//! Evaluierung der Wirksamkeit").
//!
//! The DPO opens a review cycle over the implemented measures (or a chosen
//! subset); each measure's owners assess it (result, what was tested and
//! how, rationale, state of the art, evidence, findings with corrective
//! actions); the DPO approves or returns each assessment and closes the
//! cycle, which locks it and issues the signed review report. Corrections to
//! a closed cycle are recorded amendments.

mod page;
pub use page::{CyclePage, ItemPage, MeasureReviewData, MeasureReviewInfo, MyReviews, ReviewsPage};

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::format::LocalTime;
use crate::ids::{CycleId, EvidenceId, FindingId, MeasureId, ReviewItemId};
use crate::toms::PersonRef;

/// Reviews' plain routes (form posts, the report).
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;

pub use crate::domain::{CycleStatus, FindingStatus, ItemState};

/// What someone does to an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// The assessor keeps a draft.
    Save,
    /// The assessor hands it to the DPO.
    Submit,
    /// The DPO accepts it.
    Approve,
    /// The DPO sends it back with a comment.
    Return,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Save, Step::Submit, Step::Approve, Step::Return];
}

/// The state machine of an assessment: the state after `step`, or why the
/// step is not allowed. Nothing changes in a closed cycle.
pub fn next_state(state: ItemState, step: Step, cycle_closed: bool) -> Result<ItemState, String> {
    use ItemState::*;
    if cycle_closed {
        return Err(
            "Der Prüfzyklus ist abgeschlossen und gesperrt. Korrekturen sind nur als dokumentierte Ergänzung oder in einem neuen Prüfzyklus möglich."
                .into(),
        );
    }
    match (state, step) {
        (Pending | Returned, Step::Save) => Ok(state),
        (Pending | Returned, Step::Submit) => Ok(Submitted),
        (Submitted, Step::Approve) => Ok(Approved),
        (Submitted, Step::Return) => Ok(Returned),
        (Submitted, Step::Save | Step::Submit) => Err(
            "Die Bewertung liegt den Datenschutzbeauftragten zur Freigabe vor und kann nicht mehr geändert werden, es sei denn, sie wird zurückgegeben."
                .into(),
        ),
        (Approved, _) => Err("Die Bewertung ist freigegeben und kann nicht mehr geändert werden.".into()),
        (Pending | Returned, Step::Approve | Step::Return) => Err(
            "Nur eingereichte Bewertungen können freigegeben oder zurückgegeben werden.".into(),
        ),
    }
}

/// The result of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewResult {
    Effective,
    PartiallyEffective,
    NotEffective,
    NotApplicable,
}

impl ReviewResult {
    pub const ALL: [ReviewResult; 4] = [
        ReviewResult::Effective,
        ReviewResult::PartiallyEffective,
        ReviewResult::NotEffective,
        ReviewResult::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewResult::Effective => "effective",
            ReviewResult::PartiallyEffective => "partially_effective",
            ReviewResult::NotEffective => "not_effective",
            ReviewResult::NotApplicable => "not_applicable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewResult::Effective => "wirksam",
            ReviewResult::PartiallyEffective => "teilweise wirksam",
            ReviewResult::NotEffective => "nicht wirksam",
            ReviewResult::NotApplicable => "nicht anwendbar",
        }
    }

    /// Partially or not effective: needs a corrective action.
    pub fn needs_action(self) -> bool {
        matches!(
            self,
            ReviewResult::PartiallyEffective | ReviewResult::NotEffective
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
}

/// A cycle in lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleSummary {
    pub id: CycleId,
    pub title: String,
    pub due_date: NaiveDate,
    pub status: CycleStatus,
    pub total: usize,
    pub approved: usize,
    pub submitted: usize,
    /// Pending or returned: still with the assessors.
    pub open: usize,
    /// The due date has passed and the cycle is still open.
    pub overdue: bool,
    pub opened_at: LocalTime,
    pub closed_at: Option<LocalTime>,
}

/// A measure to choose when opening a cycle over a subset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureChoice {
    pub id: MeasureId,
    pub label: String,
    pub category: String,
    pub implemented: bool,
}

/// An implemented measure whose review is due (`overdue`: since before today).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDue {
    pub measure_id: MeasureId,
    pub label: String,
    pub category: String,
    /// The day of the last approved assessment, if any.
    pub last_reviewed: Option<NaiveDate>,
    pub next_due: NaiveDate,
    pub overdue: bool,
}

impl ReviewDue {
    /// Since when it is due, and when it was last reviewed, if ever: the
    /// words the pages and the digest use.
    pub fn describe(&self, de: bool) -> String {
        let due = crate::format::german_date(self.next_due);
        match (self.last_reviewed.map(crate::format::german_date), de) {
            (Some(last), true) => format!("fällig seit {due}, zuletzt geprüft {last}"),
            (Some(last), false) => format!("due since {due}, last reviewed {last}"),
            (None, true) => format!("noch nie geprüft, fällig seit {due}"),
            (None, false) => format!("never reviewed, due since {due}"),
        }
    }
}

/// `/pruefungen`: the cycles, the open actions and what is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewsOverview {
    pub cycles: Vec<CycleSummary>,
    pub actions: Vec<FindingView>,
    pub due_reviews: Vec<ReviewDue>,
    pub not_effective: Vec<crate::toms::MeasureRef>,
    /// Implemented measures (admins choose a subset from them).
    pub measures: Vec<MeasureChoice>,
    pub can_manage: bool,
    /// Suggested title and due date for the next cycle.
    pub suggested_title: String,
    pub suggested_due: NaiveDate,
}

/// One assessment in a cycle's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRow {
    pub id: ReviewItemId,
    pub cycle_id: CycleId,
    pub measure_id: MeasureId,
    pub label: String,
    pub category: String,
    pub state: ItemState,
    pub result: Option<ReviewResult>,
    pub assessed_by: Option<String>,
    pub owners: Vec<String>,
    pub can_assess: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub kind: String,
    pub label: String,
    pub actor: String,
    pub at: LocalTime,
    pub comment: String,
    pub item_id: Option<ReviewItemId>,
    pub measure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingView {
    pub id: FindingId,
    pub cycle_id: CycleId,
    pub item_id: ReviewItemId,
    pub measure_id: MeasureId,
    pub measure: String,
    pub description: String,
    pub action: String,
    pub owner: Option<String>,
    pub due_date: NaiveDate,
    pub status: FindingStatus,
    pub overdue: bool,
    pub closing_note: String,
    pub closing_evidence: Option<String>,
    pub closed_at: Option<LocalTime>,
    pub can_close: bool,
}

/// `/pruefungen/:id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleView {
    pub summary: CycleSummary,
    pub method: String,
    pub close_comment: String,
    pub items: Vec<ItemRow>,
    pub findings: Vec<FindingView>,
    pub events: Vec<EventView>,
    pub report_sha256: Option<String>,
    pub can_manage: bool,
    /// Whether every assessment is approved (the cycle can be closed).
    pub complete: bool,
    pub can_download: bool,
}

/// Evidence of the measure, and whether the assessment relies on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceChoice {
    pub id: EvidenceId,
    pub title: String,
    pub valid_until: Option<NaiveDate>,
    pub linked: bool,
}

/// `/pruefungen/bewertung/:id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemView {
    pub row: ItemRow,
    pub cycle_title: String,
    pub cycle_closed: bool,
    pub measure_body: String,
    pub tested: String,
    pub rationale: String,
    /// `yes`, `no` or empty.
    pub state_of_art: String,
    pub assessed_at: Option<LocalTime>,
    pub decided_by: Option<String>,
    pub decided_at: Option<LocalTime>,
    pub decision_comment: String,
    pub version: i32,
    pub evidence: Vec<EvidenceChoice>,
    pub findings: Vec<FindingView>,
    pub events: Vec<EventView>,
    pub can_decide: bool,
    pub can_amend: bool,
    /// Who may own a corrective action.
    pub members: Vec<PersonRef>,
}

/// The dashboard's review figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewDashboard {
    pub cycle: Option<CycleSummary>,
    pub due_reviews: usize,
    pub open_actions: usize,
    pub overdue_actions: usize,
    pub not_effective: usize,
    /// The signed-in person's assessments still to do.
    pub mine: Vec<ItemRow>,
}

/// A measure's review cadence and dates (on the measure page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureReview {
    pub months: i32,
    pub last_reviewed: Option<NaiveDate>,
    pub last_result: Option<ReviewResult>,
    pub next_due: NaiveDate,
    /// Implemented and due (see `service::is_due`).
    pub due: bool,
    pub flagged: bool,
    pub can_edit: bool,
}

#[server(endpoint = "reviews/overview")]
pub async fn get_reviews() -> Result<ReviewsOverview, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::overview(&state.db, &actor, state.now()).await
}

#[server(endpoint = "reviews/cycle")]
pub async fn get_cycle(id: CycleId) -> Result<CycleView, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::cycle_view(&state.db, &actor, id, state.now()).await
}

#[server(endpoint = "reviews/item")]
pub async fn get_review_item(id: ReviewItemId) -> Result<ItemView, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::item_view(&state.db, &actor, id, state.now()).await
}

#[server(endpoint = "reviews/dashboard")]
pub async fn get_review_dashboard() -> Result<ReviewDashboard, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::dashboard(&state.db, &actor, state.now()).await
}

#[server(endpoint = "reviews/measure")]
pub async fn get_measure_review(measure_id: MeasureId) -> Result<MeasureReview, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::measure_review(&state.db, &actor, measure_id, state.now()).await
}

/// The DPO's decision on a submitted assessment: `decision` is `approve` or
/// `return` (a comment is required then).
#[server(endpoint = "reviews/decide")]
pub async fn decide_review(
    item_id: ReviewItemId,
    version: i32,
    decision: String,
    #[server(default)] comment: String,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let step = match decision.as_str() {
        "approve" => Step::Approve,
        "return" => Step::Return,
        _ => return Err(AppError::invalid("decision", "Unbekannte Entscheidung.")),
    };
    service::decide(
        &state.db,
        state.now(),
        &actor,
        item_id,
        version,
        step,
        &comment,
        &state.public_url,
    )
    .await
}

/// Closes the cycle (every assessment approved), locks it and issues the
/// signed report.
#[server(endpoint = "reviews/close")]
pub async fn close_cycle(
    cycle_id: CycleId,
    #[server(default)] comment: String,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::close(&state, &actor, cycle_id, &comment).await
}

/// Adds a finding with its corrective action to an assessment that is not
/// yet approved.
#[server(endpoint = "reviews/finding/add")]
pub async fn add_finding(
    item_id: ReviewItemId,
    description: String,
    action: String,
    due_date: String,
    #[server(default)] owner_id: String,
) -> Result<FindingId, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let input = service::FindingInput::parse(&description, &action, &due_date, &owner_id)?;
    service::add_finding(&state.db, state.now(), &actor, item_id, input).await
}

/// Closes a corrective action with a note and, optionally, evidence of the
/// measure that shows it is done.
#[server(endpoint = "reviews/finding/close")]
pub async fn close_finding(
    finding_id: FindingId,
    note: String,
    #[server(default)] evidence_id: String,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let evidence = match evidence_id.trim() {
        "" => None,
        s => Some(
            s.parse::<EvidenceId>()
                .map_err(|_| AppError::invalid("evidence_id", "Unbekannter Nachweis."))?,
        ),
    };
    service::close_finding(&state.db, state.now(), &actor, finding_id, &note, evidence).await
}

/// Records an amendment to an assessment of a closed cycle; the report is
/// issued again with it.
#[server(endpoint = "reviews/amend")]
pub async fn amend_review(item_id: ReviewItemId, text: String) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::amend(&state, &actor, item_id, &text).await
}

/// Sets how often a measure is reviewed (admins).
#[server(endpoint = "reviews/cadence")]
pub async fn set_review_cadence(measure_id: MeasureId, months: i32) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::set_cadence(&state.db, state.now(), &actor, measure_id, months).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_legal_transitions_exist() {
        use ItemState::*;
        let legal = [
            (Pending, Step::Save, Pending),
            (Pending, Step::Submit, Submitted),
            (Returned, Step::Save, Returned),
            (Returned, Step::Submit, Submitted),
            (Submitted, Step::Approve, Approved),
            (Submitted, Step::Return, Returned),
        ];
        for &state in ItemState::ALL {
            for step in Step::ALL {
                let want = legal
                    .iter()
                    .find(|(s, st, _)| *s == state && *st == step)
                    .map(|(_, _, to)| *to);
                match (next_state(state, step, false), want) {
                    (Ok(got), Some(to)) => assert_eq!(got, to, "{state:?} --{step:?}->"),
                    (Err(_), None) => {}
                    (got, want) => panic!("{state:?} --{step:?}-> {got:?}, expected {want:?}"),
                }
                assert!(
                    next_state(state, step, true).is_err(),
                    "closed cycle: {state:?} --{step:?}"
                );
            }
        }
    }

    #[test]
    fn results_parse_and_say_when_an_action_is_needed() {
        for r in ReviewResult::ALL {
            assert_eq!(ReviewResult::parse(r.as_str()), Some(r));
        }
        assert!(ReviewResult::NotEffective.needs_action());
        assert!(ReviewResult::PartiallyEffective.needs_action());
        assert!(!ReviewResult::Effective.needs_action());
        assert!(!ReviewResult::NotApplicable.needs_action());
        assert_eq!(ReviewResult::parse("wirksam"), None);
    }
}
