use crate::ids::{OrgId, UserId};
use sea_orm::entity::prelude::*;

/// One published version of Anlage 2 (the subprocessors); written once,
/// never updated.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subprocessor_lists")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub version: i32,
    pub published_at: DateTimeUtc,
    pub published_by: Option<UserId>,
    pub published_by_label: String,
    /// JSON of `subprocessors::anlage2::Snapshot`.
    #[sea_orm(column_type = "Text")]
    pub snapshot: String,
    pub pdf: Vec<u8>,
    pub sha256: String,
    #[sea_orm(column_type = "Text")]
    pub signer_subject: String,
    pub self_signed: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("subprocessor_lists::Model")
            .field("org_id", &self.org_id)
            .field("version", &self.version)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
