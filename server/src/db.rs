//! Database connection and migrations.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

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
    let db = if config.is_sqlite() {
        sqlite_pool(config).await?
    } else {
        let mut opts = ConnectOptions::new(config.database_url.clone());
        // sqlx pings a connection when it goes back to the pool and, by
        // default, again when it is taken: for a statement outside a
        // transaction three round trips to the server instead of two. A
        // connection busy a moment ago is not checked again; one idle for
        // a while (which a proxy or firewall may have cut) still is.
        opts.sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire_if_idle_for(Duration::from_secs(10))
            .max_connections(config.database_pool);
        Database::connect(opts).await.map_err(|e| {
            anyhow::anyhow!("database: cannot connect (check DATABASE_URL / --database-url): {e}")
        })?
    };
    Ok(db)
}

/// SQLite in WAL mode with a pool of `database_pool` connections: readers
/// never wait for each other or for the writer. Writers have one connection
/// of their own (`app::entities::attach_writer`), take the write lock at the
/// start of their transaction (`BeginWrite`) and wait for a writer of
/// another process up to the busy timeout; every connection gets the same
/// settings.
async fn sqlite_pool(config: &Config) -> anyhow::Result<DatabaseConnection> {
    use std::str::FromStr;

    without_sqlite_memstatus();
    use sea_orm::sqlx::ConnectOptions as _;
    use sea_orm::sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let options = SqliteConnectOptions::from_str(&config.database_url)
        .map_err(|e| anyhow::anyhow!("database: DATABASE_URL: {e}"))?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(app::entities::WRITE_WAIT)
        // sqlx hands each row from the connection's thread to the task
        // through a channel of 50: a list of 5,000 people cost a thread
        // wake-up for nearly every row (futex and flume led the profile of
        // the start page). Room for whole lists lets the thread run through.
        .row_buffer_size(8192)
        .disable_statement_logging();
    let pool = SqlitePoolOptions::new()
        .max_connections(config.database_pool)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(app::entities::PING_SQLITE_ON_ACQUIRE)
        .connect_with(options)
        .await
        .map_err(|e| {
            anyhow::anyhow!("database: cannot connect (check DATABASE_URL / --database-url): {e}")
        })?;
    let db = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    app::entities::attach_writer(&db);
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

/// SQLite counts every allocation under one process-wide mutex unless told
/// not to before it initialises; with several reader connections that mutex
/// was the hottest lock of the start page (`sqlite3Malloc` under
/// `sqlite3_value_dup`, 36 % of the server's samples). Nachweis never reads
/// those statistics. Called before the first connection; if SQLite is
/// already initialised (another pool in this process), it stays as it is.
fn without_sqlite_memstatus() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int argument; sqlite3_config
        // is only called here, once, and refuses (SQLITE_MISUSE) rather than
        // misbehaves when SQLite is already initialised.
        let rc =
            unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!("SQLite allocation statistics stay on (sqlite3_config: {rc})");
        }
    });
}
