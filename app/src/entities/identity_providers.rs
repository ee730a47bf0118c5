use crate::ids::{CustomerId, OrgId, ProviderId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ProviderId,
    pub org_id: OrgId,
    /// `None`: the organisation's own staff sign in with this provider.
    pub customer_id: Option<CustomerId>,
    pub name: String,
    pub issuer_url: String,
    pub client_id: String,
    /// Nonce and ciphertext under the instance secret; never leaves the server.
    pub client_secret_enc: Option<Vec<u8>>,
    pub scopes: String,
    pub allowed_domains: String,
    pub required_claim: String,
    pub default_role: String,
    pub role_mapping: String,
    pub enabled: bool,
    pub source: String,
    /// Set by the operator (configuration file) for providers that send no
    /// `email_verified` claim, such as Microsoft Entra ID.
    pub email_verified_optional: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
