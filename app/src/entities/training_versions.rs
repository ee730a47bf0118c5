use crate::ids::{CourseId, CourseVersionId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// One version of a course; written once, never updated.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CourseVersionId,
    pub org_id: OrgId,
    pub course_id: CourseId,
    pub version: i32,
    pub title: String,
    /// Markdown content, then `---quiz---` and the questions.
    #[sea_orm(column_type = "Text")]
    pub source: String,
    pub pass_percent: i32,
    /// SHA-256 of title, pass mark and source, hex.
    pub sha256: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
