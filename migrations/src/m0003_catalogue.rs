//! The TOM catalogue: categories in the Art. 32 structure (two levels),
//! measures, their owners, and one revision row per change of a measure.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_accounts::{Organisations, Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Categories::Table)
                .col(pk_auto(Categories::Id))
                .col(integer(Categories::OrgId))
                .col(integer_null(Categories::ParentId))
                // Stable key of the Art. 32 category this one stands for
                // ("zutrittskontrolle"), empty for categories an organisation added.
                .col(string_len(Categories::Kind, 40).default(""))
                .col(string_len(Categories::Title, 200))
                .col(integer(Categories::Position))
                .col(timestamp_with_time_zone(Categories::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Categories::Table, Categories::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Categories::Table, Categories::ParentId)
                        .to(Categories::Table, Categories::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_categories_org")
                .table(Categories::Table)
                .col(Categories::OrgId)
                .col(Categories::Position)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Measures::Table)
                .col(pk_auto(Measures::Id))
                .col(integer(Measures::OrgId))
                .col(integer(Measures::CategoryId))
                .col(string_len(Measures::Title, 200).default(""))
                .col(text(Measures::Body))
                .col(string_len(Measures::Status, 20))
                .col(integer(Measures::Position))
                // Optimistic concurrency: an edit names the version it started from.
                .col(integer(Measures::Version))
                .col(timestamp_with_time_zone(Measures::CreatedAt))
                .col(timestamp_with_time_zone(Measures::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Measures::Table, Measures::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Measures::Table, Measures::CategoryId)
                        .to(Categories::Table, Categories::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_measures_org_category")
                .table(Measures::Table)
                .col(Measures::OrgId)
                .col(Measures::CategoryId)
                .col(Measures::Position)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MeasureOwners::Table)
                .col(integer(MeasureOwners::MeasureId))
                .col(integer(MeasureOwners::UserId))
                .col(integer(MeasureOwners::OrgId))
                .primary_key(
                    Index::create()
                        .col(MeasureOwners::MeasureId)
                        .col(MeasureOwners::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MeasureOwners::Table, MeasureOwners::MeasureId)
                        .to(Measures::Table, Measures::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MeasureOwners::Table, MeasureOwners::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_measure_owners_org_user")
                .table(MeasureOwners::Table)
                .col(MeasureOwners::OrgId)
                .col(MeasureOwners::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MeasureRevisions::Table)
                .col(pk_auto(MeasureRevisions::Id))
                .col(integer(MeasureRevisions::OrgId))
                .col(integer(MeasureRevisions::MeasureId))
                .col(integer(MeasureRevisions::Version))
                .col(integer_null(MeasureRevisions::ActorId))
                .col(string_len(MeasureRevisions::Change, 20))
                // The measure as it was after this change, as JSON.
                .col(text(MeasureRevisions::Snapshot))
                .col(timestamp_with_time_zone(MeasureRevisions::At))
                .foreign_key(
                    ForeignKey::create()
                        .from(MeasureRevisions::Table, MeasureRevisions::MeasureId)
                        .to(Measures::Table, Measures::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_measure_revisions_version")
                .table(MeasureRevisions::Table)
                .col(MeasureRevisions::MeasureId)
                .col(MeasureRevisions::Version)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MeasureRevisions::Table.into_iden(),
            MeasureOwners::Table.into_iden(),
            Measures::Table.into_iden(),
            Categories::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    OrgId,
    ParentId,
    Kind,
    Title,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Measures {
    Table,
    Id,
    OrgId,
    CategoryId,
    Title,
    Body,
    Status,
    Position,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MeasureOwners {
    Table,
    MeasureId,
    UserId,
    OrgId,
}

#[derive(DeriveIden)]
enum MeasureRevisions {
    Table,
    Id,
    OrgId,
    MeasureId,
    Version,
    ActorId,
    Change,
    Snapshot,
    At,
}
