use crate::ids::OrgId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: OrgId,
    #[sea_orm(unique)]
    pub short_name: String,
    pub legal_name: String,
    pub display_short: String,
    pub address: String,
    pub dpo_contact: String,
    pub intro_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Whether the annex states per section when it was last reviewed.
    pub annex_review_dates: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
