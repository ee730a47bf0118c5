use crate::ids::{AvvTextId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// One version of an organisation's AVV text in one language; written
/// once, never updated.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "avv_texts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: AvvTextId,
    pub org_id: OrgId,
    /// `de` or `en`.
    pub locale: String,
    pub version: i32,
    pub title: String,
    /// The text (Markdown).
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// SHA-256 of title and body, hex.
    pub sha256: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
