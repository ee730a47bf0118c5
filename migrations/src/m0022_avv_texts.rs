//! The processor's standard AVV text (Art. 28 GDPR), versioned per
//! organisation and language like the pledge texts: each version is written
//! once and never updated; an unchanged text makes no version.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AvvTexts::Table)
                .col(pk_auto(AvvTexts::Id))
                .col(integer(AvvTexts::OrgId))
                // `de` or `en`; each language has its own versions.
                .col(string_len(AvvTexts::Locale, 8))
                .col(integer(AvvTexts::Version))
                .col(string_len(AvvTexts::Title, 200))
                .col(text(AvvTexts::Body))
                // SHA-256 of title and body, hex.
                .col(string_len(AvvTexts::Sha256, 64))
                .col(integer_null(AvvTexts::CreatedBy))
                .col(timestamp_with_time_zone(AvvTexts::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(AvvTexts::Table, AvvTexts::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        // Two saves at once cannot both become the same version.
        m.create_index(
            Index::create()
                .name("ux_avv_texts_org_locale_version")
                .table(AvvTexts::Table)
                .col(AvvTexts::OrgId)
                .col(AvvTexts::Locale)
                .col(AvvTexts::Version)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AvvTexts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AvvTexts {
    Table,
    Id,
    OrgId,
    Locale,
    Version,
    Title,
    Body,
    Sha256,
    CreatedBy,
    CreatedAt,
}
