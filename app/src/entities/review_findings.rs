use crate::ids::{CycleId, EvidenceId, FindingId, MeasureId, OrgId, ReviewItemId, UserId};
use sea_orm::entity::prelude::*;

use crate::domain::FindingStatus;

/// A finding of an assessment and its corrective action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_findings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: FindingId,
    pub org_id: OrgId,
    pub cycle_id: CycleId,
    pub item_id: ReviewItemId,
    pub measure_id: MeasureId,
    pub description: String,
    pub action: String,
    pub owner_id: Option<UserId>,
    pub due_date: Date,
    pub status: FindingStatus,
    pub closing_note: String,
    pub closing_evidence_id: Option<EvidenceId>,
    pub closed_by: Option<UserId>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_by: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
