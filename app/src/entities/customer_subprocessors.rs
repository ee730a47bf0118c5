use crate::ids::{CustomerId, OrgId, SubprocessorId};
use sea_orm::entity::prelude::*;

/// A customer's services use this subprocessor (its AVV's Anlage 2 names it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_subprocessors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub subprocessor_id: SubprocessorId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
