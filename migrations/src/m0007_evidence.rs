//! Evidence: the files that prove a measure, with versions.
//!
//! The bytes live in the blob store under their SHA-256; a version row is
//! committed only after its blob is durably stored, so a row never points at
//! a missing file. Deleting hides an evidence item; purging a version removes
//! its bytes (when no other row uses them) but keeps the row and its hash.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Evidence::Table)
                .col(pk_auto(Evidence::Id))
                .col(integer(Evidence::OrgId))
                .col(integer_null(Evidence::MeasureId))
                .col(string_len(Evidence::Title, 200))
                .col(text(Evidence::Description).default(""))
                .col(date_null(Evidence::ValidFrom))
                .col(date_null(Evidence::ValidUntil))
                .col(integer_null(Evidence::CreatedBy))
                .col(timestamp_with_time_zone(Evidence::CreatedAt))
                .col(timestamp_with_time_zone(Evidence::UpdatedAt))
                .col(timestamp_with_time_zone_null(Evidence::DeletedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Evidence::Table, Evidence::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Evidence::Table, Evidence::MeasureId)
                        .to(Measures::Table, Measures::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_evidence_org_measure")
                .table(Evidence::Table)
                .col(Evidence::OrgId)
                .col(Evidence::MeasureId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EvidenceVersions::Table)
                .col(pk_auto(EvidenceVersions::Id))
                .col(integer(EvidenceVersions::OrgId))
                .col(integer(EvidenceVersions::EvidenceId))
                .col(integer(EvidenceVersions::Version))
                .col(string_len(EvidenceVersions::Sha256, 64))
                .col(big_integer(EvidenceVersions::Size))
                .col(string_len(EvidenceVersions::ContentType, 120))
                .col(string_len(EvidenceVersions::FileName, 255))
                .col(integer_null(EvidenceVersions::UploadedBy))
                .col(string_len(EvidenceVersions::UploadedByLabel, 254))
                .col(timestamp_with_time_zone(EvidenceVersions::UploadedAt))
                .col(timestamp_with_time_zone_null(EvidenceVersions::PurgedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(EvidenceVersions::Table, EvidenceVersions::EvidenceId)
                        .to(Evidence::Table, Evidence::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_evidence_versions_evidence_version")
                .table(EvidenceVersions::Table)
                .col(EvidenceVersions::EvidenceId)
                .col(EvidenceVersions::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_evidence_versions_sha256")
                .table(EvidenceVersions::Table)
                .col(EvidenceVersions::Sha256)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EvidenceVersions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Evidence::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Measures {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Id,
    OrgId,
    MeasureId,
    Title,
    Description,
    ValidFrom,
    ValidUntil,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum EvidenceVersions {
    Table,
    Id,
    OrgId,
    EvidenceId,
    Version,
    Sha256,
    Size,
    ContentType,
    FileName,
    UploadedBy,
    UploadedByLabel,
    UploadedAt,
    PurgedAt,
}
