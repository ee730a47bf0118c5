//! Confidentiality pledges (Verpflichtung auf die Vertraulichkeit): the
//! versioned texts an organisation has its people sign, and the signatures,
//! each with the PDF copy that was handed to the signer. Signature rows are
//! written once and never updated.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PledgeTexts::Table)
                .col(pk_auto(PledgeTexts::Id))
                .col(integer(PledgeTexts::OrgId))
                .col(integer(PledgeTexts::Version))
                .col(string_len(PledgeTexts::Title, 200))
                // What the DPO wrote, without the optional clauses.
                .col(text(PledgeTexts::Base))
                // The complete text as signed, optional clauses included.
                .col(text(PledgeTexts::Body))
                // Which optional clauses it contains, comma-separated keys.
                .col(string_len(PledgeTexts::Clauses, 200).default(""))
                .col(string_len(PledgeTexts::Sha256, 64))
                .col(integer_null(PledgeTexts::CreatedBy))
                .col(timestamp_with_time_zone(PledgeTexts::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PledgeTexts::Table, PledgeTexts::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_pledge_texts_org_version")
                .table(PledgeTexts::Table)
                .col(PledgeTexts::OrgId)
                .col(PledgeTexts::Version)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PledgeSignatures::Table)
                .col(pk_auto(PledgeSignatures::Id))
                .col(integer(PledgeSignatures::OrgId))
                .col(integer(PledgeSignatures::UserId))
                .col(integer(PledgeSignatures::PledgeTextId))
                .col(integer(PledgeSignatures::Version))
                .col(string_len(PledgeSignatures::TextSha256, 64))
                .col(string_len(PledgeSignatures::TypedName, 200))
                .col(string_len(PledgeSignatures::Method, 20))
                .col(string_len(PledgeSignatures::ClientIp, 64).default(""))
                .col(string_len(PledgeSignatures::UserAgent, 400).default(""))
                .col(timestamp_with_time_zone(PledgeSignatures::SignedAt))
                .col(blob(PledgeSignatures::Pdf))
                .col(string_len(PledgeSignatures::PdfSha256, 64))
                .foreign_key(
                    ForeignKey::create()
                        .from(PledgeSignatures::Table, PledgeSignatures::PledgeTextId)
                        .to(PledgeTexts::Table, PledgeTexts::Id),
                )
                .to_owned(),
        )
        .await?;
        // One signature per person and text version: a double submit cannot
        // sign twice.
        m.create_index(
            Index::create()
                .name("ux_pledge_signatures_text_user")
                .table(PledgeSignatures::Table)
                .col(PledgeSignatures::PledgeTextId)
                .col(PledgeSignatures::UserId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pledge_signatures_org_user")
                .table(PledgeSignatures::Table)
                .col(PledgeSignatures::OrgId)
                .col(PledgeSignatures::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PledgeSignatures::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(PledgeTexts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PledgeTexts {
    Table,
    Id,
    OrgId,
    Version,
    Title,
    Base,
    Body,
    Clauses,
    Sha256,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PledgeSignatures {
    Table,
    Id,
    OrgId,
    UserId,
    PledgeTextId,
    Version,
    TextSha256,
    TypedName,
    Method,
    ClientIp,
    UserAgent,
    SignedAt,
    Pdf,
    PdfSha256,
}
