use crate::ids::{MeasureId, OrgId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "measure_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub measure_id: MeasureId,
    pub version: i32,
    pub actor_id: Option<UserId>,
    pub change: String,
    pub snapshot: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
