//! The audit chain is keyed: each new row's hash is an HMAC-SHA256 under a
//! key derived from the instance secret, which is kept outside the
//! database. Someone who can write to the database can no longer rewrite a
//! row and recompute the chain. Rows written before this migration stay
//! plain SHA-256 (`keyed = false`) and may only precede keyed ones.
//! Publications anchor the chain: the head (sequence number and hash) at
//! the time of signing is printed in the signed PDF and stored with it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Keyed,
}

#[derive(DeriveIden)]
enum Publications {
    Table,
    AuditSeq,
    AuditHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .add_column(
                    ColumnDef::new(AuditLog::Keyed)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Publications::Table)
                .add_column(ColumnDef::new(Publications::AuditSeq).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Publications::Table)
                .add_column(
                    ColumnDef::new(Publications::AuditHash)
                        .string_len(64)
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Publications::Table)
                .drop_column(Publications::AuditHash)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Publications::Table)
                .drop_column(Publications::AuditSeq)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .drop_column(AuditLog::Keyed)
                .to_owned(),
        )
        .await
    }
}
