use crate::ids::{EvidenceId, OrgId, ReviewItemId};
use sea_orm::entity::prelude::*;

/// Evidence an assessment relies on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_item_evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: ReviewItemId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub evidence_id: EvidenceId,
    pub org_id: OrgId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
