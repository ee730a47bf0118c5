//! Customers (the controllers with an AVV) and their contact persons, who
//! receive notices such as a new annex version.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Customers::Table)
                .col(pk_auto(Customers::Id))
                .col(integer(Customers::OrgId))
                .col(string_len(Customers::Name, 200))
                .col(string_len(Customers::AvvReference, 200).default(""))
                .col(date_null(Customers::AvvDate))
                .col(timestamp_with_time_zone(Customers::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Customers::Table, Customers::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CustomerContacts::Table)
                .col(pk_auto(CustomerContacts::Id))
                .col(integer(CustomerContacts::OrgId))
                .col(integer(CustomerContacts::CustomerId))
                .col(string_len(CustomerContacts::Name, 120))
                .col(string_len(CustomerContacts::Email, 254))
                .col(string_len(CustomerContacts::Locale, 5).default("de"))
                .foreign_key(
                    ForeignKey::create()
                        .from(CustomerContacts::Table, CustomerContacts::CustomerId)
                        .to(Customers::Table, Customers::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_customer_contacts_org")
                .table(CustomerContacts::Table)
                .col(CustomerContacts::OrgId)
                .col(CustomerContacts::CustomerId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CustomerContacts::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Customers::Table).to_owned())
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
    OrgId,
    Name,
    AvvReference,
    AvvDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CustomerContacts {
    Table,
    Id,
    OrgId,
    CustomerId,
    Name,
    Email,
    Locale,
}
