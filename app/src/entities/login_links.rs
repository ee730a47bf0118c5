use crate::ids::{ContactId, CustomerId, OrgId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub contact_id: ContactId,
    pub email: String,
    /// SHA-256 (hex) of the token in the mailed link; the token itself is not kept.
    #[sea_orm(unique)]
    pub token_sha256: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
