use crate::ids::{CategoryId, MeasureId, OrgId};
use sea_orm::entity::prelude::*;

use crate::domain::MeasureStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "measures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: MeasureId,
    pub org_id: OrgId,
    pub category_id: CategoryId,
    pub title: String,
    pub body: String,
    pub status: MeasureStatus,
    pub position: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// How often the measure's effectiveness is reviewed, in months.
    pub review_months: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
