//! Database connection and migrations.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::config::Config;

/// Connects and applies pending migrations.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = open(config).await?;
    migrate(&db, config).await?;
    Ok(db)
}

/// Connects without touching the schema (backup reads what is there;
/// restore migrates in steps).
pub async fn open(config: &Config) -> anyhow::Result<DatabaseConnection> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!("configuration: setting `data_dir` (NACHWEIS_DATA_DIR / --data-dir): cannot create {}: {e}", config.data_dir.display())
        })?;
    }
    let mut opts = ConnectOptions::new(config.database_url.clone());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30));
    if config.is_sqlite() {
        // One writer at a time is how SQLite works; a single connection makes
        // that explicit and avoids "database is locked" on upgraded transactions.
        opts.max_connections(1).min_connections(1);
    } else {
        opts.max_connections(16);
    }
    let db = Database::connect(opts).await.map_err(|e| {
        anyhow::anyhow!("database: cannot connect (check DATABASE_URL / --database-url): {e}")
    })?;
    if config.is_sqlite() {
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
        db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
        db.execute_unprepared("PRAGMA synchronous = NORMAL").await?;
    }
    Ok(db)
}

/// Applies pending migrations and installs the audit key.
pub async fn migrate(db: &DatabaseConnection, config: &Config) -> anyhow::Result<()> {
    // The audit chain is keyed with a key derived from the instance secret.
    // A chain from before keying is checked and keyed in the run that adds
    // keying to the schema, and only then: later, an unkeyed row is a
    // broken chain, not a legacy one.
    let keying_now = Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .any(|m| m.name() == KEYING_MIGRATION);
    Migrator::up(db, None).await?;
    let secret = crate::secrets::instance_secret(config)?;
    app::audit::service::install_key(secret.derive(app::audit::service::KEY_PURPOSE))
        .map_err(|e| anyhow::anyhow!("audit log: {e}"))?;
    if keying_now {
        let keyed = app::audit::service::key_legacy_rows(db)
            .await
            .map_err(|e| anyhow::anyhow!("audit log: keying the existing chain: {e}"))?;
        tracing::info!(
            rows = keyed,
            "audit log: the existing chain was checked and keyed"
        );
    }
    Ok(())
}

/// The migration that makes the audit chain keyed.
const KEYING_MIGRATION: &str = "m0020_keyed_audit";
