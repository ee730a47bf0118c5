//! Subprocessors (Unterauftragsverarbeiter), their attestations (ISO 27001
//! certificates, SOC 2 reports, …) and which measures rely on them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Subprocessors::Table)
                .col(pk_auto(Subprocessors::Id))
                .col(integer(Subprocessors::OrgId))
                .col(string_len(Subprocessors::Name, 200))
                .col(text(Subprocessors::Address).default(""))
                .col(text(Subprocessors::Service).default(""))
                .col(text(Subprocessors::Locations).default(""))
                .col(string_len(Subprocessors::Safeguard, 20))
                .col(text(Subprocessors::Contact).default(""))
                .col(string_len(Subprocessors::Status, 20))
                .col(date_null(Subprocessors::Since))
                .col(date_null(Subprocessors::Until))
                .col(integer(Subprocessors::Version).default(1))
                .col(timestamp_with_time_zone(Subprocessors::CreatedAt))
                .col(timestamp_with_time_zone(Subprocessors::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Subprocessors::Table, Subprocessors::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_subprocessors_org")
                .table(Subprocessors::Table)
                .col(Subprocessors::OrgId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Attestations::Table)
                .col(pk_auto(Attestations::Id))
                .col(integer(Attestations::OrgId))
                .col(integer(Attestations::SubprocessorId))
                .col(string_len(Attestations::Kind, 20))
                .col(string_len(Attestations::Issuer, 200).default(""))
                .col(text(Attestations::Scope).default(""))
                .col(date_null(Attestations::ValidUntil))
                .col(integer_null(Attestations::EvidenceId))
                .col(timestamp_with_time_zone(Attestations::CreatedAt))
                .col(timestamp_with_time_zone_null(Attestations::DeletedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Attestations::Table, Attestations::SubprocessorId)
                        .to(Subprocessors::Table, Subprocessors::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Attestations::Table, Attestations::EvidenceId)
                        .to(Evidence::Table, Evidence::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_attestations_org_sub")
                .table(Attestations::Table)
                .col(Attestations::OrgId)
                .col(Attestations::SubprocessorId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MeasureSubprocessors::Table)
                .col(integer(MeasureSubprocessors::MeasureId))
                .col(integer(MeasureSubprocessors::SubprocessorId))
                .col(integer(MeasureSubprocessors::OrgId))
                .primary_key(
                    Index::create()
                        .col(MeasureSubprocessors::MeasureId)
                        .col(MeasureSubprocessors::SubprocessorId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MeasureSubprocessors::Table, MeasureSubprocessors::MeasureId)
                        .to(Measures::Table, Measures::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            MeasureSubprocessors::Table,
                            MeasureSubprocessors::SubprocessorId,
                        )
                        .to(Subprocessors::Table, Subprocessors::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MeasureSubprocessors::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Attestations::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Subprocessors::Table).to_owned())
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
}

#[derive(DeriveIden)]
enum Subprocessors {
    Table,
    Id,
    OrgId,
    Name,
    Address,
    Service,
    Locations,
    Safeguard,
    Contact,
    Status,
    Since,
    Until,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Attestations {
    Table,
    Id,
    OrgId,
    SubprocessorId,
    Kind,
    Issuer,
    Scope,
    ValidUntil,
    EvidenceId,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum MeasureSubprocessors {
    Table,
    MeasureId,
    SubprocessorId,
    OrgId,
}
