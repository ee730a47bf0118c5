use crate::ids::{AttemptId, CompletionId, CourseId, CourseVersionId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A passed course: written once, never updated.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training_completions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CompletionId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub version_id: CourseVersionId,
    pub version: i32,
    /// The course version's hash at completion.
    pub content_sha256: String,
    pub attempt_id: AttemptId,
    pub score: i32,
    pub max_score: i32,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    pub certificate_pdf: Vec<u8>,
    pub certificate_sha256: String,
    /// The audit chain's head when the PDF was signed (printed in it).
    pub audit_seq: Option<i64>,
    pub audit_hash: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("training_completions::Model")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("version", &self.version)
            .field("score", &self.score)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
