use crate::ids::{OrgId, SubprocessorId};
use sea_orm::entity::prelude::*;

use crate::domain::{Safeguard, SubStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subprocessors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: SubprocessorId,
    pub org_id: OrgId,
    pub name: String,
    pub address: String,
    pub service: String,
    pub locations: String,
    pub safeguard: Safeguard,
    pub contact: String,
    pub status: SubStatus,
    pub since: Option<Date>,
    pub until: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
