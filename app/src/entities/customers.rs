use crate::ids::{CustomerId, OrgId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CustomerId,
    pub org_id: OrgId,
    pub name: String,
    pub avv_reference: String,
    pub avv_date: Option<Date>,
    pub created_at: DateTimeUtc,
    /// The particulars of the processing (Art. 28(3) GDPR) its AVV states.
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub purpose: String,
    #[sea_orm(column_type = "Text")]
    pub data_types: String,
    #[sea_orm(column_type = "Text")]
    pub data_subjects: String,
    #[sea_orm(column_type = "Text")]
    pub services: String,
    /// The controller's persons authorised to give instructions.
    #[sea_orm(column_type = "Text")]
    pub instructors: String,
    /// The controller's data protection officer (contact).
    #[sea_orm(column_type = "Text")]
    pub controller_dpo: String,
    /// The deadline agreed for notifying personal-data breaches.
    pub breach_deadline: String,
    /// When the particulars were last saved (the subprocessors chosen).
    pub particulars_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
