//! One-time login links for customers' contacts who have no single sign-on:
//! only the SHA-256 of the token is stored; a link works once, for a short time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LoginLinks::Table)
                .col(pk_auto(LoginLinks::Id))
                .col(integer(LoginLinks::OrgId))
                .col(integer(LoginLinks::CustomerId))
                .col(integer(LoginLinks::ContactId))
                .col(string_len(LoginLinks::Email, 254))
                .col(string_len_uniq(LoginLinks::TokenSha256, 64))
                .col(timestamp_with_time_zone(LoginLinks::CreatedAt))
                .col(timestamp_with_time_zone(LoginLinks::ExpiresAt))
                .col(timestamp_with_time_zone_null(LoginLinks::UsedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(LoginLinks::Table, LoginLinks::CustomerId)
                        .to(Customers::Table, Customers::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_login_links_email")
                .table(LoginLinks::Table)
                .col(LoginLinks::Email)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginLinks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LoginLinks {
    Table,
    Id,
    OrgId,
    CustomerId,
    ContactId,
    Email,
    TokenSha256,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
