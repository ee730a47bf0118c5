use crate::ids::{CycleId, MeasureId, OrgId, ReviewItemId, UserId};
use sea_orm::entity::prelude::*;

use crate::domain::ItemState;

/// One measure's assessment within a cycle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ReviewItemId,
    pub org_id: OrgId,
    pub cycle_id: CycleId,
    pub measure_id: MeasureId,
    pub measure_label: String,
    pub category: String,
    pub measure_version: i32,
    pub state: ItemState,
    pub result: Option<String>,
    pub tested: String,
    pub rationale: String,
    /// `yes` or `no`.
    pub state_of_art: Option<String>,
    pub assessed_by: Option<UserId>,
    pub assessed_at: Option<DateTimeUtc>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_comment: String,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
