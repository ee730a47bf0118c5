use crate::ids::{OfferId, OrgId};
use sea_orm::entity::prelude::*;

/// The one reminder of an offer still not accepted after 14 days.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contract_reminders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub offer_id: OfferId,
    pub org_id: OrgId,
    pub queued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
