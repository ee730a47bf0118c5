//! Notices of a planned new or replaced subprocessor (Art. 28(2) GDPR): the
//! DPO informs every customer, who may object with a reason until the
//! deadline.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SubprocessorNotices::Table)
                .col(pk_auto(SubprocessorNotices::Id))
                .col(integer(SubprocessorNotices::OrgId))
                // The subprocessor to be added (usually with status "planned").
                .col(integer(SubprocessorNotices::SubprocessorId))
                // The one it replaces, if any.
                .col(integer_null(SubprocessorNotices::ReplacesId))
                .col(text(SubprocessorNotices::Message).default(""))
                .col(date(SubprocessorNotices::Deadline))
                .col(integer(SubprocessorNotices::IssuedBy))
                .col(timestamp_with_time_zone(SubprocessorNotices::IssuedAt))
                // How many contacts the mail was queued for.
                .col(integer(SubprocessorNotices::Recipients).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(SubprocessorNotices::Table, SubprocessorNotices::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            SubprocessorNotices::Table,
                            SubprocessorNotices::SubprocessorId,
                        )
                        .to(Subprocessors::Table, Subprocessors::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_subprocessor_notices_org")
                .table(SubprocessorNotices::Table)
                .col(SubprocessorNotices::OrgId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(NoticeObjections::Table)
                .col(pk_auto(NoticeObjections::Id))
                .col(integer(NoticeObjections::OrgId))
                .col(integer(NoticeObjections::NoticeId))
                .col(integer(NoticeObjections::CustomerId))
                .col(integer(NoticeObjections::UserId))
                .col(text(NoticeObjections::Reason))
                .col(timestamp_with_time_zone(NoticeObjections::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(NoticeObjections::Table, NoticeObjections::NoticeId)
                        .to(SubprocessorNotices::Table, SubprocessorNotices::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(NoticeObjections::Table, NoticeObjections::CustomerId)
                        .to(Customers::Table, Customers::Id),
                )
                .to_owned(),
        )
        .await?;
        // One objection per customer and notice: a second click, a second
        // tab or a colleague of the same customer cannot count twice.
        m.create_index(
            Index::create()
                .name("ux_notice_objections_notice_customer")
                .table(NoticeObjections::Table)
                .col(NoticeObjections::NoticeId)
                .col(NoticeObjections::CustomerId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(NoticeObjections::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SubprocessorNotices::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Subprocessors {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SubprocessorNotices {
    Table,
    Id,
    OrgId,
    SubprocessorId,
    ReplacesId,
    Message,
    Deadline,
    IssuedBy,
    IssuedAt,
    Recipients,
}

#[derive(DeriveIden)]
enum NoticeObjections {
    Table,
    Id,
    OrgId,
    NoticeId,
    CustomerId,
    UserId,
    Reason,
    CreatedAt,
}
