use crate::ids::{AttemptId, CourseId, CourseVersionId, OrgId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: AttemptId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub version_id: CourseVersionId,
    /// JSON: shuffled question order and option order per question.
    #[sea_orm(column_type = "Text")]
    pub layout: String,
    /// JSON: chosen option indexes per question (original numbering).
    #[sea_orm(column_type = "Text")]
    pub answers: String,
    pub started_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub score: Option<i32>,
    pub max_score: i32,
    pub passed: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
