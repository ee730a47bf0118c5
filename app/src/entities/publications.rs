use crate::ids::{OrgId, UserId};
use sea_orm::entity::prelude::*;

/// One published annex version; written once, never updated.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "publications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub version: i32,
    pub stand: Date,
    pub published_at: DateTimeUtc,
    pub published_by: Option<UserId>,
    pub published_by_label: String,
    /// JSON of `annex::publish::Snapshot`.
    pub snapshot: String,
    pub pdf: Vec<u8>,
    pub sha256: String,
    pub signer_subject: String,
    pub signer_cert_der: Vec<u8>,
    pub self_signed: bool,
    pub pdfa: bool,
    /// The audit chain's head when this version was signed (also printed in it).
    pub audit_seq: Option<i64>,
    pub audit_hash: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("publications::Model")
            .field("org_id", &self.org_id)
            .field("version", &self.version)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
