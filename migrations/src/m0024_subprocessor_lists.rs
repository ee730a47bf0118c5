//! Anlage 2 of the AVV as its own publication: the list of subprocessors,
//! versioned, signed and immutable like the TOM annex. Each version keeps
//! the snapshot it was rendered from (for "what has changed") and the
//! signed PDF; it is written once and never updated.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SubprocessorLists::Table)
                .col(pk_auto(SubprocessorLists::Id))
                .col(integer(SubprocessorLists::OrgId))
                .col(integer(SubprocessorLists::Version))
                .col(timestamp_with_time_zone(SubprocessorLists::PublishedAt))
                .col(integer_null(SubprocessorLists::PublishedBy))
                .col(string_len(SubprocessorLists::PublishedByLabel, 300))
                // JSON of the entries the PDF was rendered from.
                .col(text(SubprocessorLists::Snapshot))
                .col(blob(SubprocessorLists::Pdf))
                // SHA-256 of the signed PDF, hex.
                .col(string_len(SubprocessorLists::Sha256, 64))
                .col(text(SubprocessorLists::SignerSubject))
                .col(boolean(SubprocessorLists::SelfSigned))
                .foreign_key(
                    ForeignKey::create()
                        .from(SubprocessorLists::Table, SubprocessorLists::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        // Two publications at once cannot both become the same version.
        m.create_index(
            Index::create()
                .name("ux_subprocessor_lists_org_version")
                .table(SubprocessorLists::Table)
                .col(SubprocessorLists::OrgId)
                .col(SubprocessorLists::Version)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SubprocessorLists::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SubprocessorLists {
    Table,
    Id,
    OrgId,
    Version,
    PublishedAt,
    PublishedBy,
    PublishedByLabel,
    Snapshot,
    Pdf,
    Sha256,
    SignerSubject,
    SelfSigned,
}
