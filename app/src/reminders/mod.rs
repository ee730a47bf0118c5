//! What needs attention: evidence that expires or has expired, measures
//! without an owner, implemented measures without current evidence. The
//! start page shows it; a daily digest mails it to admins and owners.

pub use crate::subprocessors::ExpiringAttestation;
pub use crate::toms::MeasureRef;
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Validity;
use crate::error::AppError;
use crate::ids::{EvidenceId, MeasureId};

/// The daily digest mail.
#[cfg(feature = "ssr")]
pub mod digest;
#[cfg(feature = "ssr")]
pub mod service;

/// Evidence whose validity ends soon or ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiringEvidence {
    pub evidence_id: EvidenceId,
    pub title: String,
    pub measure_id: Option<MeasureId>,
    pub measure: String,
    pub valid_until: Option<NaiveDate>,
    pub validity: Validity,
}

/// A training someone has to do soon or should have done (admins' lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingDueRef {
    pub name: String,
    pub course: String,
    pub due: NaiveDate,
    pub overdue: bool,
}

/// The lists of the dashboard and the digest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attention {
    pub evidence_expiring: Vec<ExpiringEvidence>,
    /// Admins only (owners' digests leave it empty).
    pub attestations_expiring: Vec<ExpiringAttestation>,
    pub measures_without_owner: Vec<MeasureRef>,
    pub implemented_without_evidence: Vec<MeasureRef>,
    /// Admins only: trainings overdue or due within two weeks.
    pub trainings_due: Vec<TrainingDueRef>,
    /// Implemented measures whose effectiveness review is overdue.
    pub reviews_due: Vec<crate::reviews::ReviewDue>,
    /// Open corrective actions that are overdue or due within two weeks.
    pub actions_due: Vec<crate::reviews::FindingView>,
    /// Measures judged not (fully) effective with an action still open.
    pub not_effective: Vec<MeasureRef>,
    /// Owners: their assessments in the open cycle once it is due within two
    /// weeks; admins: assessments waiting for their decision.
    pub assessments_waiting: Vec<crate::reviews::ItemRow>,
    /// Admins only: customers without a concluded AVV, or with an outdated one.
    #[serde(default)]
    pub contracts_open: Vec<crate::contract::ContractDue>,
}

impl Attention {
    pub fn is_empty(&self) -> bool {
        self.evidence_expiring.is_empty()
            && self.attestations_expiring.is_empty()
            && self.measures_without_owner.is_empty()
            && self.implemented_without_evidence.is_empty()
            && self.trainings_due.is_empty()
            && self.reviews_due.is_empty()
            && self.actions_due.is_empty()
            && self.not_effective.is_empty()
            && self.assessments_waiting.is_empty()
            && self.contracts_open.is_empty()
    }
}

/// How many entries each list of the start page shows; the rest are counted
/// and linked, so the page stays the same size with 5 or 5,000 people.
pub const PREVIEW: usize = 10;

/// How many entries each list had before [`Attention::preview`] cut it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AttentionTotals {
    pub evidence_expiring: usize,
    pub attestations_expiring: usize,
    pub measures_without_owner: usize,
    pub implemented_without_evidence: usize,
    pub trainings_due: usize,
    pub reviews_due: usize,
    pub actions_due: usize,
    pub not_effective: usize,
    pub assessments_waiting: usize,
    #[serde(default)]
    pub contracts_open: usize,
}

impl AttentionTotals {
    pub fn sum(&self) -> usize {
        self.evidence_expiring
            + self.attestations_expiring
            + self.measures_without_owner
            + self.implemented_without_evidence
            + self.trainings_due
            + self.reviews_due
            + self.actions_due
            + self.not_effective
            + self.assessments_waiting
            + self.contracts_open
    }
}

/// The start page's panel: the first entries of each list and every list's size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttentionPreview {
    pub shown: Attention,
    pub totals: AttentionTotals,
}

impl Attention {
    /// Cuts every list to its first `n` entries, keeping the counts.
    pub fn preview(mut self, n: usize) -> AttentionPreview {
        fn cut<T>(list: &mut Vec<T>, n: usize) -> usize {
            let total = list.len();
            list.truncate(n);
            total
        }
        let totals = AttentionTotals {
            evidence_expiring: cut(&mut self.evidence_expiring, n),
            attestations_expiring: cut(&mut self.attestations_expiring, n),
            measures_without_owner: cut(&mut self.measures_without_owner, n),
            implemented_without_evidence: cut(&mut self.implemented_without_evidence, n),
            trainings_due: cut(&mut self.trainings_due, n),
            reviews_due: cut(&mut self.reviews_due, n),
            actions_due: cut(&mut self.actions_due, n),
            not_effective: cut(&mut self.not_effective, n),
            assessments_waiting: cut(&mut self.assessments_waiting, n),
            contracts_open: cut(&mut self.contracts_open, n),
        };
        AttentionPreview {
            shown: self,
            totals,
        }
    }
}

/// The dashboard lists of the current organisation (admins, owners, auditors).
#[server(endpoint = "reminders/dashboard")]
pub async fn get_attention() -> Result<Attention, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    if !actor.role.reads_evidence() {
        return Err(AppError::Forbidden);
    }
    let mut attention = service::attention(&state.db, actor.org_id, None, state.now()).await?;
    // Customers' contracts are for those who read them (not owners).
    if !actor.role.reads_contracts() {
        attention.contracts_open.clear();
    }
    Ok(attention)
}
