use crate::ids::{MeasureId, OrgId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "measure_owners")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub measure_id: MeasureId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    pub org_id: OrgId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
