//! Each pool's second pool: on SQLite the writers' own connection, on
//! PostgreSQL the readers' own pool.
//!
//! SQLite lets one connection write at a time. A writer that found the lock
//! taken used to hold one of the pool's connections while SQLite's busy
//! handler polled the lock, sleeping up to 100 ms between tries: under load
//! the lock stood free while waiting writers slept, and pages waited for the
//! connections the writers held. Waiting for a turn in the process before
//! taking a pooled connection was worse: the writer whose turn it was then
//! waited for a connection the readers kept busy, and every writer behind it
//! waited too (stop 37 measured both).
//!
//! So a SQLite pool gets a second pool of exactly one connection, made with
//! the same options, on which [`super::BeginWrite`] begins: writers queue
//! for that connection (sqlx's acquire is first come, first served), readers
//! never wait for a writer, and a writer never waits for a reader.
//!
//! A PostgreSQL pool gets a second pool of the same size whose connections
//! begin every transaction `REPEATABLE READ, READ ONLY` unless told
//! otherwise (`default_transaction_isolation`, `default_transaction_read_only`),
//! on which [`super::BeginRead`] begins: a page's read transaction is a
//! plain `BEGIN`. On the first pool sea-orm sets the two with a statement of
//! its own after `BEGIN`: one more round trip per page.
//!
//! The second pool lives as long as the pool it belongs to: the registry
//! holds the pool's options only weakly, and drops the second pools of
//! pools that are gone.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{DatabaseConnection, DatabaseConnectionType};

/// A pool's second pool, by the address of the pool's options (which the
/// pool holds for its lifetime; the weak reference keeps the address from
/// being reused while the entry exists).
struct Entry {
    first: Weak<dyn Any + Send + Sync>,
    second: DatabaseConnection,
}

static SECOND: LazyLock<Mutex<HashMap<usize, Entry>>> = LazyLock::new(Default::default);

/// The options of a pool, as what the registry holds of them.
enum Options {
    Sqlite(Arc<SqliteConnectOptions>),
    Postgres(Arc<PgConnectOptions>),
}

impl Options {
    fn of(db: &DatabaseConnection) -> Option<Self> {
        match db.inner {
            DatabaseConnectionType::SqlxSqlitePoolConnection(_) => Some(Self::Sqlite(
                db.get_sqlite_connection_pool().connect_options(),
            )),
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => Some(Self::Postgres(
                db.get_postgres_connection_pool().connect_options(),
            )),
            _ => None,
        }
    }

    /// The registry's key of a pool: the address of its options.
    fn key(&self) -> usize {
        match self {
            Self::Sqlite(o) => Arc::as_ptr(o) as usize,
            Self::Postgres(o) => Arc::as_ptr(o) as usize,
        }
    }

    fn weak(&self) -> Weak<dyn Any + Send + Sync> {
        match self {
            Self::Sqlite(o) => Arc::downgrade(o) as Weak<dyn Any + Send + Sync>,
            Self::Postgres(o) => Arc::downgrade(o) as Weak<dyn Any + Send + Sync>,
        }
    }
}

fn registry() -> std::sync::MutexGuard<'static, HashMap<usize, Entry>> {
    // A panic while the map was held cannot leave it half-changed: each
    // change is one insert, remove or field assignment.
    SECOND.lock().unwrap_or_else(|e| e.into_inner())
}

/// Gives the pool `first` its second pool, opened when first used: on
/// SQLite the writers' connection, with the pool's options (busy timeout,
/// WAL, foreign keys); on PostgreSQL the readers' pool, with the pool's
/// settings and size. Call it once, before the pool is used, and before
/// [`set_metric_callback`].
pub fn attach_second_pool(first: &DatabaseConnection) {
    let Some(options) = Options::of(first) else {
        return;
    };
    let second = match &options {
        Options::Sqlite(o) => {
            // A private in-memory database is a different one on every
            // connection (sqlx turns `sqlite::memory:` into a shared one,
            // which may have one).
            if o.get_filename().as_os_str().is_empty() || o.get_filename().as_os_str() == ":memory:"
            {
                return;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(super::WRITE_WAIT)
                .test_before_acquire(super::PING_SQLITE_ON_ACQUIRE)
                .connect_lazy_with((**o).clone());
            sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
        }
        Options::Postgres(o) => {
            let readers = (**o).clone().options([
                ("default_transaction_isolation", "repeatable read"),
                ("default_transaction_read_only", "on"),
            ]);
            let pool = first
                .get_postgres_connection_pool()
                .options()
                .clone()
                .connect_lazy_with(readers);
            sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool)
        }
    };
    let mut map = registry();
    map.retain(|_, e| e.first.strong_count() > 0);
    map.insert(
        options.key(),
        Entry {
            first: options.weak(),
            second,
        },
    );
}

/// The second pool of `db`, if it has one.
pub(super) fn second_of(db: &DatabaseConnection) -> Option<DatabaseConnection> {
    let options = Options::of(db)?;
    registry().get(&options.key()).map(|e| e.second.clone())
}

/// Closes `db` and its second pool (SQLite checkpoints the WAL into the
/// database file when its last connection closes). The one way to close a
/// pool (sea-orm's own is disallowed: it would leave the second open).
#[allow(clippy::disallowed_methods)] // this is the one place
pub async fn close(db: DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let second = Options::of(&db)
        .and_then(|options| registry().remove(&options.key()))
        .map(|e| e.second);
    if let Some(second) = second {
        second.close().await?;
    }
    db.close().await
}

/// Sets sea-orm's metric callback (called after every statement) on `db`
/// and on its second pool, so a count sees every statement the pool's
/// users run. The one way to set it (sea-orm's own is disallowed: it would
/// see only the first pool's).
pub fn set_metric_callback<F>(db: &mut DatabaseConnection, callback: F)
where
    F: Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
{
    let callback = Arc::new(callback);
    if let Some(options) = Options::of(db)
        && let Some(entry) = registry().get_mut(&options.key())
    {
        let callback = callback.clone();
        #[allow(clippy::disallowed_methods)] // this is the one place
        entry.second.set_metric_callback(move |info| callback(info));
    }
    #[allow(clippy::disallowed_methods)] // this is the one place
    db.set_metric_callback(move |info| callback(info));
}

/// Whether the pool whose options are at `key` has a second pool.
#[cfg(test)]
pub(super) fn is_registered(key: usize) -> bool {
    registry().contains_key(&key)
}
