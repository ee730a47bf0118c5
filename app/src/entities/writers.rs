//! The writers' own connection of a SQLite pool.
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
//! never wait for a writer, and a writer never waits for a reader. It lives
//! as long as the pool it belongs to: the registry holds the pool's options
//! only weakly, and drops the writers of pools that are gone.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{DatabaseConnection, DatabaseConnectionType};

/// A pool's writers' connection, by the address of the pool's options
/// (which the pool holds for its lifetime; the weak reference keeps the
/// address from being reused while the entry exists).
struct Entry {
    readers: Weak<SqliteConnectOptions>,
    writer: DatabaseConnection,
}

static WRITERS: LazyLock<Mutex<HashMap<usize, Entry>>> = LazyLock::new(Default::default);

/// The options of a SQLite pool (on another backend, none).
fn options_of(db: &DatabaseConnection) -> Option<Arc<SqliteConnectOptions>> {
    match db.inner {
        DatabaseConnectionType::SqlxSqlitePoolConnection(_) => {
            Some(db.get_sqlite_connection_pool().connect_options())
        }
        _ => None,
    }
}

/// The registry's key of a pool: the address of its options.
fn key(options: &Arc<SqliteConnectOptions>) -> usize {
    Arc::as_ptr(options) as usize
}

fn writers() -> std::sync::MutexGuard<'static, HashMap<usize, Entry>> {
    // A panic while the map was held cannot leave it half-changed: each
    // change is one insert, remove or field assignment.
    WRITERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Gives the SQLite pool `readers` a connection of its writers' own, opened
/// when first used, with the pool's options (busy timeout, WAL, foreign
/// keys). Other backends are left as they are. Call it once, before the
/// pool is used, and before [`set_metric_callback`].
pub fn attach_writer(readers: &DatabaseConnection) {
    let Some(options) = options_of(readers) else {
        return;
    };
    // A private in-memory database is a different one on every connection
    // (sqlx turns `sqlite::memory:` into a shared one, which may have one).
    if options.get_filename().as_os_str().is_empty()
        || options.get_filename().as_os_str() == ":memory:"
    {
        return;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(super::WRITE_WAIT)
        .test_before_acquire(super::PING_SQLITE_ON_ACQUIRE)
        .connect_lazy_with((*options).clone());
    let writer = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    let mut map = writers();
    map.retain(|_, e| e.readers.strong_count() > 0);
    map.insert(
        key(&options),
        Entry {
            readers: Arc::downgrade(&options),
            writer,
        },
    );
}

/// The writers' connection of `db`, if it has one.
pub(super) fn writer_of(db: &DatabaseConnection) -> Option<DatabaseConnection> {
    let options = options_of(db)?;
    writers().get(&key(&options)).map(|e| e.writer.clone())
}

/// Closes `db` and its writers' connection (SQLite checkpoints the WAL
/// into the database file when its last connection closes). The one way to
/// close a pool (sea-orm's own is disallowed: it would leave the writer
/// open).
#[allow(clippy::disallowed_methods)] // this is the one place
pub async fn close(db: DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let writer = options_of(&db)
        .and_then(|options| writers().remove(&key(&options)))
        .map(|e| e.writer);
    if let Some(writer) = writer {
        writer.close().await?;
    }
    db.close().await
}

/// Sets sea-orm's metric callback (called after every statement) on `db`
/// and on its writers' connection, so a count sees every statement the
/// pool's users run. The one way to set it (sea-orm's own is disallowed:
/// it would see only the readers).
pub fn set_metric_callback<F>(db: &mut DatabaseConnection, callback: F)
where
    F: Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
{
    let callback = Arc::new(callback);
    if let Some(options) = options_of(db)
        && let Some(entry) = writers().get_mut(&key(&options))
    {
        let callback = callback.clone();
        #[allow(clippy::disallowed_methods)] // this is the one place
        entry.writer.set_metric_callback(move |info| callback(info));
    }
    #[allow(clippy::disallowed_methods)] // this is the one place
    db.set_metric_callback(move |info| callback(info));
}

/// Whether the pool whose options are at `key` has a writers' connection.
#[cfg(test)]
pub(super) fn is_registered(key: usize) -> bool {
    writers().contains_key(&key)
}
