//! Every signed record anchors the audit chain, not only the annex: a
//! closed review's report, a training certificate and a pledge copy print
//! the chain's head at signing and keep it here, so `audit verify` can
//! check that each PDF a person holds names a row the chain still has.

use sea_orm_migration::prelude::*;

/// The tables that keep a signed PDF and, from now on, its anchor.
const TABLES: [&str; 3] = ["review_cycles", "training_completions", "pledge_signatures"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Anchor {
    AuditSeq,
    AuditHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            // One column per statement: SQLite adds one at a time.
            m.alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .add_column(ColumnDef::new(Anchor::AuditSeq).big_integer().null())
                    .to_owned(),
            )
            .await?;
            m.alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .add_column(ColumnDef::new(Anchor::AuditHash).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            for column in [Anchor::AuditHash, Anchor::AuditSeq] {
                m.alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
            }
        }
        Ok(())
    }
}
