use crate::ids::{CourseId, OrgId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_courses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CourseId,
    pub org_id: OrgId,
    /// The title of the newest version.
    pub title: String,
    /// Everyone repeats the course this many months after passing.
    pub interval_months: i32,
    /// New staff (and everyone when the course is new) pass within this many days.
    pub new_staff_days: i32,
    /// After failing, try again within this many days.
    pub retry_days: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
