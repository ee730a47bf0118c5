//! The AVV concluded in the portal. An offer is the sealed contract for one
//! customer (text version, particulars, Anlage 1 and Anlage 2 by version
//! and SHA-256); an acceptance is the customer's declaration with the
//! contract sealed again, its closing protocol filled in. Both are written
//! once and never updated; a changed text or changed particulars make a
//! new offer, and an offer is accepted at most once (unique index).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ContractOffers::Table)
                .col(pk_auto(ContractOffers::Id))
                .col(integer(ContractOffers::OrgId))
                .col(integer(ContractOffers::CustomerId))
                // 1, 2, … per customer.
                .col(integer(ContractOffers::Number))
                .col(integer(ContractOffers::TextVersion))
                .col(string_len(ContractOffers::TextSha256, 64))
                .col(integer(ContractOffers::Anlage1Version))
                .col(string_len(ContractOffers::Anlage1Sha256, 64))
                .col(integer(ContractOffers::Anlage2Version))
                .col(string_len(ContractOffers::Anlage2Sha256, 64))
                // SHA-256 of the particulars as offered (what "changed" compares).
                .col(string_len(ContractOffers::ParticularsSha256, 64))
                .col(timestamp_with_time_zone(ContractOffers::OfferedAt))
                .col(integer_null(ContractOffers::OfferedBy))
                .col(string_len(ContractOffers::OfferedByLabel, 300))
                // JSON of what the PDF was rendered from; the concluded
                // contract is rendered from it again, with the acceptance.
                .col(text(ContractOffers::Document))
                .col(blob(ContractOffers::Pdf))
                // SHA-256 of the sealed PDF: the document hash the customer accepts.
                .col(string_len(ContractOffers::Sha256, 64))
                .foreign_key(
                    ForeignKey::create()
                        .from(ContractOffers::Table, ContractOffers::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ContractOffers::Table, ContractOffers::CustomerId)
                        .to(Customers::Table, Customers::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_contract_offers_customer_number")
                .table(ContractOffers::Table)
                .col(ContractOffers::CustomerId)
                .col(ContractOffers::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ContractAcceptances::Table)
                .col(pk_auto(ContractAcceptances::Id))
                .col(integer(ContractAcceptances::OrgId))
                .col(integer(ContractAcceptances::CustomerId))
                .col(integer(ContractAcceptances::OfferId))
                .col(integer(ContractAcceptances::UserId))
                .col(string_len(ContractAcceptances::TypedName, 300))
                .col(string_len(ContractAcceptances::Function, 300))
                // "password" or "sso".
                .col(string_len(ContractAcceptances::Method, 20))
                // The account, or the provider and subject.
                .col(text(ContractAcceptances::Identity))
                .col(string_len(ContractAcceptances::ClientIp, 64))
                .col(text(ContractAcceptances::UserAgent))
                .col(timestamp_with_time_zone(ContractAcceptances::AcceptedAt))
                .col(blob(ContractAcceptances::Pdf))
                .col(string_len(ContractAcceptances::Sha256, 64))
                .foreign_key(
                    ForeignKey::create()
                        .from(ContractAcceptances::Table, ContractAcceptances::OfferId)
                        .to(ContractOffers::Table, ContractOffers::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ContractAcceptances::Table, ContractAcceptances::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // One acceptance per offer, however often it is sent.
        m.create_index(
            Index::create()
                .name("ux_contract_acceptances_offer")
                .table(ContractAcceptances::Table)
                .col(ContractAcceptances::OfferId)
                .unique()
                .to_owned(),
        )
        .await?;
        // The reminder of an offer not accepted after 14 days: one per
        // offer across restarts and nodes (the primary key decides).
        m.create_table(
            Table::create()
                .table(ContractReminders::Table)
                .col(integer(ContractReminders::OfferId).primary_key())
                .col(integer(ContractReminders::OrgId))
                .col(timestamp_with_time_zone(ContractReminders::QueuedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ContractReminders::Table, ContractReminders::OfferId)
                        .to(ContractOffers::Table, ContractOffers::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ContractReminders::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ContractAcceptances::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ContractOffers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ContractOffers {
    Table,
    Id,
    OrgId,
    CustomerId,
    Number,
    TextVersion,
    TextSha256,
    Anlage1Version,
    Anlage1Sha256,
    Anlage2Version,
    Anlage2Sha256,
    ParticularsSha256,
    OfferedAt,
    OfferedBy,
    OfferedByLabel,
    Document,
    Pdf,
    Sha256,
}

#[derive(DeriveIden)]
enum ContractAcceptances {
    Table,
    Id,
    OrgId,
    CustomerId,
    OfferId,
    UserId,
    TypedName,
    Function,
    Method,
    Identity,
    ClientIp,
    UserAgent,
    AcceptedAt,
    Pdf,
    Sha256,
}

#[derive(DeriveIden)]
enum ContractReminders {
    Table,
    OfferId,
    OrgId,
    QueuedAt,
}
