//! Annual effectiveness reviews (Art. 32 Abs. 1 lit. d DSGVO): review
//! cycles over the measures, one assessment per measure and cycle, findings
//! with their corrective actions, and the history of each assessment
//! (submitted, returned, approved, amended). Measures get a review cadence;
//! the organisation chooses whether the annex states when each section was
//! last reviewed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Measures::Table)
                .add_column(integer(Measures::ReviewMonths).default(12))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .add_column(boolean(Organisations::AnnexReviewDates).default(false))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewCycles::Table)
                .col(pk_auto(ReviewCycles::Id))
                .col(integer(ReviewCycles::OrgId))
                .col(string_len(ReviewCycles::Title, 200))
                .col(date(ReviewCycles::DueDate))
                // `open` or `closed`.
                .col(string_len(ReviewCycles::Status, 20))
                // `all` (every implemented measure) or `subset`.
                .col(string_len(ReviewCycles::Scope, 20))
                .col(text(ReviewCycles::Method).default(""))
                .col(integer_null(ReviewCycles::OpenedBy))
                .col(timestamp_with_time_zone(ReviewCycles::OpenedAt))
                .col(integer_null(ReviewCycles::ClosedBy))
                .col(timestamp_with_time_zone_null(ReviewCycles::ClosedAt))
                .col(text(ReviewCycles::CloseComment).default(""))
                // The signed report, stored when the cycle closes (and
                // re-issued with each recorded amendment).
                .col(blob_null(ReviewCycles::ReportPdf))
                .col(string_len_null(ReviewCycles::ReportSha256, 64))
                .col(integer(ReviewCycles::ReportVersion).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewCycles::Table, ReviewCycles::OrgId)
                        .to(Organisations::Table, Organisations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_review_cycles_org")
                .table(ReviewCycles::Table)
                .col(ReviewCycles::OrgId)
                .col(ReviewCycles::Status)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewItems::Table)
                .col(pk_auto(ReviewItems::Id))
                .col(integer(ReviewItems::OrgId))
                .col(integer(ReviewItems::CycleId))
                .col(integer(ReviewItems::MeasureId))
                // The measure as it read when the cycle opened.
                .col(text(ReviewItems::MeasureLabel))
                .col(string_len(ReviewItems::Category, 300))
                .col(integer(ReviewItems::MeasureVersion))
                // `pending`, `submitted`, `returned` or `approved`.
                .col(string_len(ReviewItems::State, 20))
                .col(string_len_null(ReviewItems::Result, 30))
                .col(text(ReviewItems::Tested).default(""))
                .col(text(ReviewItems::Rationale).default(""))
                // `yes` or `no`: does the measure match the state of the art?
                .col(string_len_null(ReviewItems::StateOfArt, 10))
                .col(integer_null(ReviewItems::AssessedBy))
                .col(timestamp_with_time_zone_null(ReviewItems::AssessedAt))
                .col(integer_null(ReviewItems::DecidedBy))
                .col(timestamp_with_time_zone_null(ReviewItems::DecidedAt))
                .col(text(ReviewItems::DecisionComment).default(""))
                .col(integer(ReviewItems::Version).default(1))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewItems::Table, ReviewItems::CycleId)
                        .to(ReviewCycles::Table, ReviewCycles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_review_items_measure")
                .table(ReviewItems::Table)
                .col(ReviewItems::CycleId)
                .col(ReviewItems::MeasureId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_review_items_org_measure")
                .table(ReviewItems::Table)
                .col(ReviewItems::OrgId)
                .col(ReviewItems::MeasureId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewItemEvidence::Table)
                .col(integer(ReviewItemEvidence::ItemId))
                .col(integer(ReviewItemEvidence::EvidenceId))
                .col(integer(ReviewItemEvidence::OrgId))
                .primary_key(
                    Index::create()
                        .col(ReviewItemEvidence::ItemId)
                        .col(ReviewItemEvidence::EvidenceId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewItemEvidence::Table, ReviewItemEvidence::ItemId)
                        .to(ReviewItems::Table, ReviewItems::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewFindings::Table)
                .col(pk_auto(ReviewFindings::Id))
                .col(integer(ReviewFindings::OrgId))
                .col(integer(ReviewFindings::CycleId))
                .col(integer(ReviewFindings::ItemId))
                .col(integer(ReviewFindings::MeasureId))
                .col(text(ReviewFindings::Description))
                // The corrective action.
                .col(text(ReviewFindings::Action))
                .col(integer_null(ReviewFindings::OwnerId))
                .col(date(ReviewFindings::DueDate))
                // `open` or `closed`.
                .col(string_len(ReviewFindings::Status, 20))
                .col(text(ReviewFindings::ClosingNote).default(""))
                .col(integer_null(ReviewFindings::ClosingEvidenceId))
                .col(integer_null(ReviewFindings::ClosedBy))
                .col(timestamp_with_time_zone_null(ReviewFindings::ClosedAt))
                .col(integer_null(ReviewFindings::CreatedBy))
                .col(timestamp_with_time_zone(ReviewFindings::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewFindings::Table, ReviewFindings::ItemId)
                        .to(ReviewItems::Table, ReviewItems::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_review_findings_org")
                .table(ReviewFindings::Table)
                .col(ReviewFindings::OrgId)
                .col(ReviewFindings::Status)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewEvents::Table)
                .col(pk_auto(ReviewEvents::Id))
                .col(integer(ReviewEvents::OrgId))
                .col(integer(ReviewEvents::CycleId))
                .col(integer_null(ReviewEvents::ItemId))
                // `open`, `submit`, `return`, `approve`, `close` or `amend`.
                .col(string_len(ReviewEvents::Kind, 20))
                .col(integer_null(ReviewEvents::ActorId))
                .col(string_len(ReviewEvents::ActorLabel, 300))
                .col(text(ReviewEvents::Comment).default(""))
                .col(timestamp_with_time_zone(ReviewEvents::At))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewEvents::Table, ReviewEvents::CycleId)
                        .to(ReviewCycles::Table, ReviewCycles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_review_events_cycle")
                .table(ReviewEvents::Table)
                .col(ReviewEvents::CycleId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ReviewEvents::Table.into_iden(),
            ReviewFindings::Table.into_iden(),
            ReviewItemEvidence::Table.into_iden(),
            ReviewItems::Table.into_iden(),
            ReviewCycles::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(Organisations::Table)
                .drop_column(Organisations::AnnexReviewDates)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Measures::Table)
                .drop_column(Measures::ReviewMonths)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Measures {
    Table,
    ReviewMonths,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    AnnexReviewDates,
}

#[derive(DeriveIden)]
enum ReviewCycles {
    Table,
    Id,
    OrgId,
    Title,
    DueDate,
    Status,
    Scope,
    Method,
    OpenedBy,
    OpenedAt,
    ClosedBy,
    ClosedAt,
    CloseComment,
    ReportPdf,
    ReportSha256,
    ReportVersion,
}

#[derive(DeriveIden)]
enum ReviewItems {
    Table,
    Id,
    OrgId,
    CycleId,
    MeasureId,
    MeasureLabel,
    Category,
    MeasureVersion,
    State,
    Result,
    Tested,
    Rationale,
    StateOfArt,
    AssessedBy,
    AssessedAt,
    DecidedBy,
    DecidedAt,
    DecisionComment,
    Version,
}

#[derive(DeriveIden)]
enum ReviewItemEvidence {
    Table,
    ItemId,
    EvidenceId,
    OrgId,
}

#[derive(DeriveIden)]
enum ReviewFindings {
    Table,
    Id,
    OrgId,
    CycleId,
    ItemId,
    MeasureId,
    Description,
    Action,
    OwnerId,
    DueDate,
    Status,
    ClosingNote,
    ClosingEvidenceId,
    ClosedBy,
    ClosedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReviewEvents {
    Table,
    Id,
    OrgId,
    CycleId,
    ItemId,
    Kind,
    ActorId,
    ActorLabel,
    Comment,
    At,
}
