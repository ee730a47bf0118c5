use crate::ids::{EvidenceId, EvidenceVersionId, OrgId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: EvidenceVersionId,
    pub org_id: OrgId,
    pub evidence_id: EvidenceId,
    pub version: i32,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub file_name: String,
    pub uploaded_by: Option<UserId>,
    pub uploaded_by_label: String,
    pub uploaded_at: DateTimeUtc,
    pub purged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
