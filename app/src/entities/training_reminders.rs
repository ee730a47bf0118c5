use crate::ids::{CourseId, CourseVersionId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A training reminder that went out (into the outbox); one per person,
/// course version, kind and due date.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_reminders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub version_id: CourseVersionId,
    /// `due` or `overdue`.
    pub kind: String,
    pub due_date: Date,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
