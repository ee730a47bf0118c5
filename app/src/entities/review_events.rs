use crate::ids::{CycleId, OrgId, ReviewItemId, UserId};
use sea_orm::entity::prelude::*;

/// What happened to a cycle or an assessment, in order: opened, submitted,
/// returned (with the comment), approved, closed, amended.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub cycle_id: CycleId,
    pub item_id: Option<ReviewItemId>,
    pub kind: String,
    pub actor_id: Option<UserId>,
    pub actor_label: String,
    pub comment: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
