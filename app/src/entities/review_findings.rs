use crate::ids::{OrgId, UserId};
use sea_orm::entity::prelude::*;

use crate::domain::FindingStatus;

use crate::ids::MeasureId;

/// A finding of an assessment and its corrective action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_findings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub cycle_id: i32,
    pub item_id: i32,
    pub measure_id: MeasureId,
    pub description: String,
    pub action: String,
    pub owner_id: Option<UserId>,
    pub due_date: Date,
    pub status: FindingStatus,
    pub closing_note: String,
    pub closing_evidence_id: Option<i32>,
    pub closed_by: Option<UserId>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_by: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
