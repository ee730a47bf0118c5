//! The mail outbox, the record of daily jobs, and each person's language.
//!
//! A message is a row written in the same transaction as the change that
//! causes it; the worker claims a row with a conditional update (only one
//! process wins), sends it, and records the server's answer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(pk_auto(Outbox::Id))
                .col(integer_null(Outbox::OrgId))
                .col(string_len(Outbox::Kind, 40))
                .col(string_len(Outbox::Recipient, 254))
                .col(string_len(Outbox::Locale, 5))
                .col(text(Outbox::Subject))
                .col(text(Outbox::BodyText))
                .col(text(Outbox::BodyHtml))
                .col(string_len(Outbox::MessageId, 200))
                .col(string_len(Outbox::Status, 10))
                .col(integer(Outbox::Attempts).default(0))
                .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                .col(string_len_null(Outbox::ClaimedBy, 80))
                .col(timestamp_with_time_zone_null(Outbox::ClaimedAt))
                .col(text_null(Outbox::LastError))
                .col(text_null(Outbox::ServerReply))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone_null(Outbox::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Outbox::Table, Outbox::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_due")
                .table(Outbox::Table)
                .col(Outbox::Status)
                .col(Outbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_org")
                .table(Outbox::Table)
                .col(Outbox::OrgId)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await?;

        // A daily job claims (job, org, day) by inserting this row in the
        // transaction that does the work: a second node or a restart finds
        // the key taken and does nothing.
        m.create_table(
            Table::create()
                .table(JobRuns::Table)
                .col(pk_auto(JobRuns::Id))
                .col(string_len(JobRuns::Job, 40))
                .col(integer(JobRuns::OrgId))
                .col(date(JobRuns::Day))
                .col(string_len(JobRuns::Node, 80))
                .col(timestamp_with_time_zone(JobRuns::RanAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(JobRuns::Table, JobRuns::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_job_runs_job_org_day")
                .table(JobRuns::Table)
                .col(JobRuns::Job)
                .col(JobRuns::OrgId)
                .col(JobRuns::Day)
                .unique()
                .to_owned(),
        )
        .await?;

        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len(Users::Locale, 5).default("de"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Invitations::Table)
                .add_column(string_len(Invitations::Locale, 5).default("de"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Invitations::Table)
                .drop_column(Invitations::Locale)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::Locale)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(JobRuns::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Locale,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Locale,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    OrgId,
    Kind,
    Recipient,
    Locale,
    Subject,
    BodyText,
    BodyHtml,
    MessageId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedBy,
    ClaimedAt,
    LastError,
    ServerReply,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Id,
    Job,
    OrgId,
    Day,
    Node,
    RanAt,
}
