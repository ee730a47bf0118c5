use crate::ids::{MeasureId, OrgId, SubprocessorId};
use sea_orm::entity::prelude::*;

/// A measure relies on a subprocessor's own measures.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "measure_subprocessors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub measure_id: MeasureId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub subprocessor_id: SubprocessorId,
    pub org_id: OrgId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
