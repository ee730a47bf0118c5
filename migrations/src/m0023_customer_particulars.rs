//! The particulars of the processing per customer (Art. 28(3) GDPR), which
//! the AVV offered to that customer states: subject matter and duration,
//! nature and purpose, types of data, categories of data subjects, the
//! services, who may instruct, the controller's DPO, the breach notification
//! deadline, and which subprocessors its services use.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TEXTS: [Customers; 7] = [
    Customers::Subject,
    Customers::Purpose,
    Customers::DataTypes,
    Customers::DataSubjects,
    Customers::Services,
    Customers::Instructors,
    Customers::ControllerDpo,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in TEXTS {
            m.alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .add_column(text(column).default(""))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Customers::Table)
                .add_column(string_len(Customers::BreachDeadline, 200).default(""))
                .to_owned(),
        )
        .await?;
        // When the particulars were last saved; none: never (the choice of
        // subprocessors, which may be empty, is not made yet).
        m.alter_table(
            Table::alter()
                .table(Customers::Table)
                .add_column(timestamp_with_time_zone_null(Customers::ParticularsAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CustomerSubprocessors::Table)
                .col(pk_auto(CustomerSubprocessors::Id))
                .col(integer(CustomerSubprocessors::OrgId))
                .col(integer(CustomerSubprocessors::CustomerId))
                .col(integer(CustomerSubprocessors::SubprocessorId))
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            CustomerSubprocessors::Table,
                            CustomerSubprocessors::CustomerId,
                        )
                        .to(Customers::Table, Customers::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            CustomerSubprocessors::Table,
                            CustomerSubprocessors::SubprocessorId,
                        )
                        .to(Subprocessors::Table, Subprocessors::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_customer_subprocessors")
                .table(CustomerSubprocessors::Table)
                .col(CustomerSubprocessors::OrgId)
                .col(CustomerSubprocessors::CustomerId)
                .col(CustomerSubprocessors::SubprocessorId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CustomerSubprocessors::Table).to_owned())
            .await?;
        for column in TEXTS
            .into_iter()
            .chain([Customers::BreachDeadline, Customers::ParticularsAt])
        {
            m.alter_table(
                Table::alter()
                    .table(Customers::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    Table,
    Id,
    Subject,
    Purpose,
    DataTypes,
    DataSubjects,
    Services,
    Instructors,
    ControllerDpo,
    BreachDeadline,
    ParticularsAt,
}

#[derive(DeriveIden)]
enum Subprocessors {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CustomerSubprocessors {
    Table,
    Id,
    OrgId,
    CustomerId,
    SubprocessorId,
}
