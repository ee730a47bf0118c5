//! Memberships by person: every signed-in request reads a person's
//! memberships by user (with the session, m0026), and the only index was
//! by organisation first. With 5,000 staff that read was a scan of every
//! membership on every request.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_memberships_user")
                .table(Memberships::Table)
                .col(Memberships::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_memberships_user")
                .table(Memberships::Table)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    UserId,
}
