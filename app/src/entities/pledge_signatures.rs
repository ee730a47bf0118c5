use crate::ids::{OrgId, PledgeTextId, SignatureId, UserId};
use sea_orm::entity::prelude::*;

/// A signed pledge: written once, never updated.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pledge_signatures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: SignatureId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub pledge_text_id: PledgeTextId,
    pub version: i32,
    /// The text's hash at signing (equal to the text row's).
    pub text_sha256: String,
    /// The full name the person typed.
    pub typed_name: String,
    /// How the person confirmed: `password`.
    pub method: String,
    pub client_ip: String,
    pub user_agent: String,
    pub signed_at: DateTimeUtc,
    /// The PDF copy with the signature block, as handed to the signer.
    pub pdf: Vec<u8>,
    pub pdf_sha256: String,
    /// The audit chain's head when the PDF was signed (printed in it).
    pub audit_seq: Option<i64>,
    pub audit_hash: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("pledge_signatures::Model")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("version", &self.version)
            .field("pdf_sha256", &self.pdf_sha256)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
