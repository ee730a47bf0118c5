use crate::ids::{AttestationId, EvidenceId, OrgId, SubprocessorId};
use sea_orm::entity::prelude::*;

use crate::domain::AttestationKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attestations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: AttestationId,
    pub org_id: OrgId,
    pub subprocessor_id: SubprocessorId,
    pub kind: AttestationKind,
    pub issuer: String,
    pub scope: String,
    pub valid_until: Option<Date>,
    pub evidence_id: Option<EvidenceId>,
    pub created_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
