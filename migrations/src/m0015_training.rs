//! Privacy training: courses, their versions (content and quiz, frozen once
//! created), attempts (shuffled question order, saved answers for pause and
//! resume) and completion records with their certificate PDF.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TrainingCourses::Table)
                .col(pk_auto(TrainingCourses::Id))
                .col(integer(TrainingCourses::OrgId))
                .col(string_len(TrainingCourses::Title, 200))
                .col(timestamp_with_time_zone(TrainingCourses::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TrainingCourses::Table, TrainingCourses::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TrainingVersions::Table)
                .col(pk_auto(TrainingVersions::Id))
                .col(integer(TrainingVersions::OrgId))
                .col(integer(TrainingVersions::CourseId))
                .col(integer(TrainingVersions::Version))
                .col(string_len(TrainingVersions::Title, 200))
                // The course as written: Markdown, then `---quiz---` and the questions.
                .col(text(TrainingVersions::Source))
                .col(integer(TrainingVersions::PassPercent))
                .col(string_len(TrainingVersions::Sha256, 64))
                .col(integer_null(TrainingVersions::CreatedBy))
                .col(timestamp_with_time_zone(TrainingVersions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TrainingVersions::Table, TrainingVersions::CourseId)
                        .to(TrainingCourses::Table, TrainingCourses::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_training_versions_course_version")
                .table(TrainingVersions::Table)
                .col(TrainingVersions::CourseId)
                .col(TrainingVersions::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TrainingAttempts::Table)
                .col(pk_auto(TrainingAttempts::Id))
                .col(integer(TrainingAttempts::OrgId))
                .col(integer(TrainingAttempts::UserId))
                .col(integer(TrainingAttempts::CourseId))
                .col(integer(TrainingAttempts::VersionId))
                // JSON: the shuffled order of questions and of their options.
                .col(text(TrainingAttempts::Layout))
                // JSON: the answers given so far, by question.
                .col(text(TrainingAttempts::Answers))
                .col(timestamp_with_time_zone(TrainingAttempts::StartedAt))
                .col(timestamp_with_time_zone(TrainingAttempts::UpdatedAt))
                .col(timestamp_with_time_zone_null(TrainingAttempts::FinishedAt))
                .col(integer_null(TrainingAttempts::Score))
                .col(integer(TrainingAttempts::MaxScore))
                .col(boolean_null(TrainingAttempts::Passed))
                .foreign_key(
                    ForeignKey::create()
                        .from(TrainingAttempts::Table, TrainingAttempts::VersionId)
                        .to(TrainingVersions::Table, TrainingVersions::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_training_attempts_org_user")
                .table(TrainingAttempts::Table)
                .col(TrainingAttempts::OrgId)
                .col(TrainingAttempts::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TrainingCompletions::Table)
                .col(pk_auto(TrainingCompletions::Id))
                .col(integer(TrainingCompletions::OrgId))
                .col(integer(TrainingCompletions::UserId))
                .col(integer(TrainingCompletions::CourseId))
                .col(integer(TrainingCompletions::VersionId))
                .col(integer(TrainingCompletions::Version))
                .col(string_len(TrainingCompletions::ContentSha256, 64))
                .col(integer(TrainingCompletions::AttemptId))
                .col(integer(TrainingCompletions::Score))
                .col(integer(TrainingCompletions::MaxScore))
                .col(timestamp_with_time_zone(TrainingCompletions::StartedAt))
                .col(timestamp_with_time_zone(TrainingCompletions::FinishedAt))
                .col(blob(TrainingCompletions::CertificatePdf))
                .col(string_len(TrainingCompletions::CertificateSha256, 64))
                .foreign_key(
                    ForeignKey::create()
                        .from(TrainingCompletions::Table, TrainingCompletions::AttemptId)
                        .to(TrainingAttempts::Table, TrainingAttempts::Id),
                )
                .to_owned(),
        )
        .await?;
        // One completion per attempt: submitting twice cannot count twice.
        m.create_index(
            Index::create()
                .name("ux_training_completions_attempt")
                .table(TrainingCompletions::Table)
                .col(TrainingCompletions::AttemptId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_training_completions_org_user")
                .table(TrainingCompletions::Table)
                .col(TrainingCompletions::OrgId)
                .col(TrainingCompletions::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TrainingCompletions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(TrainingAttempts::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(TrainingVersions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(TrainingCourses::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TrainingCourses {
    Table,
    Id,
    OrgId,
    Title,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TrainingVersions {
    Table,
    Id,
    OrgId,
    CourseId,
    Version,
    Title,
    Source,
    PassPercent,
    Sha256,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TrainingAttempts {
    Table,
    Id,
    OrgId,
    UserId,
    CourseId,
    VersionId,
    Layout,
    Answers,
    StartedAt,
    UpdatedAt,
    FinishedAt,
    Score,
    MaxScore,
    Passed,
}

#[derive(DeriveIden)]
enum TrainingCompletions {
    Table,
    Id,
    OrgId,
    UserId,
    CourseId,
    VersionId,
    Version,
    ContentSha256,
    AttemptId,
    Score,
    MaxScore,
    StartedAt,
    FinishedAt,
    CertificatePdf,
    CertificateSha256,
}
