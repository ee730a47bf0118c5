//! At most one open review cycle per organisation, enforced by the
//! database: the service checks first and says which cycle is open, but
//! two admins opening a cycle at the same instant both passed that check.
//! A partial unique index, the same statement in SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_review_cycles_one_open ON review_cycles (org_id) WHERE status = 'open'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX ux_review_cycles_one_open")
            .await?;
        Ok(())
    }
}
