//! Published annexes and the self-signed signing keys behind them.
//!
//! A publication row is written once and never updated: it holds the signed
//! PDF bytes, their SHA-256 and the content snapshot it was rendered from.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .col(integer(SigningKeys::OrgId).primary_key())
                .col(blob(SigningKeys::CertDer))
                .col(blob(SigningKeys::KeyNonce))
                .col(blob(SigningKeys::KeyCiphertext))
                .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SigningKeys::Table, SigningKeys::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Publications::Table)
                .col(pk_auto(Publications::Id))
                .col(integer(Publications::OrgId))
                .col(integer(Publications::Version))
                .col(date(Publications::Stand))
                .col(timestamp_with_time_zone(Publications::PublishedAt))
                .col(integer_null(Publications::PublishedBy))
                .col(string_len(Publications::PublishedByLabel, 254))
                .col(text(Publications::Snapshot))
                .col(blob(Publications::Pdf))
                .col(string_len(Publications::Sha256, 64))
                .col(text(Publications::SignerSubject))
                .col(blob(Publications::SignerCertDer))
                .col(boolean(Publications::SelfSigned))
                .col(boolean(Publications::Pdfa))
                .foreign_key(
                    ForeignKey::create()
                        .from(Publications::Table, Publications::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        // One version number per organisation: two concurrent publications cannot both win.
        m.create_index(
            Index::create()
                .name("ux_publications_org_version")
                .table(Publications::Table)
                .col(Publications::OrgId)
                .col(Publications::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_publications_sha256")
                .table(Publications::Table)
                .col(Publications::Sha256)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Publications::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    OrgId,
    CertDer,
    KeyNonce,
    KeyCiphertext,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Publications {
    Table,
    Id,
    OrgId,
    Version,
    Stand,
    PublishedAt,
    PublishedBy,
    PublishedByLabel,
    Snapshot,
    Pdf,
    Sha256,
    SignerSubject,
    SignerCertDer,
    SelfSigned,
    Pdfa,
}
