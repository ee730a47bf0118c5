use crate::ids::{OrgId, PledgeTextId, UserId};
use sea_orm::entity::prelude::*;

/// One version of an organisation's pledge text; written once, never updated.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pledge_texts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: PledgeTextId,
    pub org_id: OrgId,
    pub version: i32,
    pub title: String,
    /// What the DPO wrote (Markdown), without the optional clauses.
    #[sea_orm(column_type = "Text")]
    pub base: String,
    /// The complete text (Markdown), optional clauses included.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Keys of the optional clauses it contains, comma-separated.
    pub clauses: String,
    /// SHA-256 of title and body, hex.
    pub sha256: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
