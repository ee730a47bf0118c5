use crate::ids::{NoticeId, OrgId, SubprocessorId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subprocessor_notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: NoticeId,
    pub org_id: OrgId,
    /// The subprocessor to be added.
    pub subprocessor_id: SubprocessorId,
    /// The subprocessor it replaces, if any.
    pub replaces_id: Option<SubprocessorId>,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// Last day on which customers can object.
    pub deadline: Date,
    pub issued_by: UserId,
    pub issued_at: DateTimeUtc,
    /// Contacts the notice was mailed to.
    pub recipients: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
