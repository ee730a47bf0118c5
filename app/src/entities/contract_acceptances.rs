use crate::ids::{CustomerId, OfferId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A customer's acceptance of one offer, with the concluded contract sealed
/// again. Written once, never updated; at most one per offer.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contract_acceptances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub offer_id: OfferId,
    pub user_id: UserId,
    pub typed_name: String,
    pub function: String,
    /// `password` or `sso`.
    pub method: String,
    #[sea_orm(column_type = "Text")]
    pub identity: String,
    pub client_ip: String,
    #[sea_orm(column_type = "Text")]
    pub user_agent: String,
    pub accepted_at: DateTimeUtc,
    pub pdf: Vec<u8>,
    pub sha256: String,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("contract_acceptances::Model")
            .field("offer_id", &self.offer_id)
            .field("user_id", &self.user_id)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
