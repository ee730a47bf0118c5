use crate::ids::{CustomerId, OfferId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// The AVV offered to one customer: the sealed contract document with the
/// versions it was made of. Written once, never updated.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contract_offers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: OfferId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub number: i32,
    pub text_version: i32,
    pub text_sha256: String,
    pub anlage1_version: i32,
    pub anlage1_sha256: String,
    pub anlage2_version: i32,
    pub anlage2_sha256: String,
    pub particulars_sha256: String,
    pub offered_at: DateTimeUtc,
    pub offered_by: Option<UserId>,
    pub offered_by_label: String,
    /// JSON of `contract::service::Document` as offered.
    #[sea_orm(column_type = "Text")]
    pub document: String,
    pub pdf: Vec<u8>,
    pub sha256: String,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("contract_offers::Model")
            .field("id", &self.id)
            .field("customer_id", &self.customer_id)
            .field("number", &self.number)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
