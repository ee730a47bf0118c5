//! The audit log (Eingabekontrolle): one row per change, hash-chained.
//!
//! `audit_head` holds the single chain head. Appending updates it first in the
//! writing transaction, which serialises concurrent appenders on every
//! database (row lock on PostgreSQL, the write lock on SQLite), so the chain
//! never forks.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_integer(AuditLog::Seq).primary_key())
                .col(integer_null(AuditLog::OrgId))
                .col(integer_null(AuditLog::ActorId))
                .col(string_len(AuditLog::ActorLabel, 254))
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(string_len(AuditLog::Entity, 40))
                .col(string_len(AuditLog::EntityId, 64))
                .col(string_len(AuditLog::Action, 40))
                .col(text_null(AuditLog::Before))
                .col(text_null(AuditLog::After))
                .col(string_len(AuditLog::PrevHash, 64))
                .col(string_len(AuditLog::Hash, 64))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_log_org_seq")
                .table(AuditLog::Table)
                .col(AuditLog::OrgId)
                .col(AuditLog::Seq)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .col(integer(AuditHead::Id).primary_key())
                .col(big_integer(AuditHead::Seq))
                .col(string_len(AuditHead::Hash, 64))
                .to_owned(),
        )
        .await?;
        let genesis = "0".repeat(64);
        m.exec_stmt(
            Query::insert()
                .into_table(AuditHead::Table)
                .columns([AuditHead::Id, AuditHead::Seq, AuditHead::Hash])
                .values_panic([1.into(), 0i64.into(), genesis.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditHead::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    OrgId,
    ActorId,
    ActorLabel,
    At,
    Entity,
    EntityId,
    Action,
    Before,
    After,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}
