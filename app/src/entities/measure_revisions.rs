use crate::ids::OrgId;
use sea_orm::entity::prelude::*;

use crate::ids::MeasureId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "measure_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub measure_id: MeasureId,
    pub version: i32,
    pub actor_id: Option<i32>,
    pub change: String,
    pub snapshot: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
