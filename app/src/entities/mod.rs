//! SeaORM entities: the database rows. Server-only; they never cross the wire
//! (DTOs in each domain module do).

pub mod attestations;
pub mod audit_head;
pub mod audit_log;
pub mod avv_texts;
pub mod categories;
pub mod contract_acceptances;
pub mod contract_offers;
pub mod contract_reminders;
pub mod customer_contacts;
pub mod customer_subprocessors;
pub mod customers;
pub mod evidence;
pub mod evidence_versions;
pub mod identity_providers;
pub mod invitations;
pub mod job_runs;
pub mod login_links;
pub mod login_throttle;
pub mod measure_owners;
pub mod measure_revisions;
pub mod measure_subprocessors;
pub mod measures;
pub mod memberships;
pub mod notice_objections;
pub mod organisations;
pub mod outbox;
pub mod pledge_signatures;
pub mod pledge_texts;
pub mod portal_visits;
pub mod publications;
pub mod review_cycles;
pub mod review_events;
pub mod review_findings;
pub mod review_item_evidence;
pub mod review_items;
pub mod sessions;
pub mod signing_keys;
pub mod subprocessor_lists;
pub mod subprocessor_notices;
pub mod subprocessors;
pub mod training_attempts;
pub mod training_completions;
pub mod training_courses;
pub mod training_reminders;
pub mod training_versions;
pub mod user_identities;
pub mod users;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

mod writers;
pub use writers::{attach_writer, close, set_metric_callback};

/// How long a SQLite writer waits for the writers' connection of its pool,
/// and for the write lock held by another process (the busy timeout every
/// connection gets), before it gives up.
pub const WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Whether a SQLite pool pings a connection before handing it out. sqlx
/// does so by default, for connections over a network that may have been
/// cut while idle; a SQLite connection is a file in this process, served
/// by a thread of its own, and cannot be cut. The ping cost every
/// statement outside a transaction and every transaction one more hand-off
/// to that thread and back (the session read of a download, its 304 and
/// every page). sqlx still pings on the way back into the pool and closes
/// a connection whose ping fails (e.g. a statement dropped mid-way).
pub const PING_SQLITE_ON_ACQUIRE: bool = false;

/// Beginning a transaction that writes: the one way services open one.
pub trait BeginWrite {
    /// On SQLite the transaction runs on the pool's writers' connection
    /// when it has one ([`attach_writer`]): writers of this process queue
    /// for that one connection and leave the pool's connections to readers.
    /// It takes the write lock at once (`BEGIN IMMEDIATE`): a writer of
    /// another process (the command line) waits for it (the busy timeout)
    /// instead of reading first and failing with `SQLITE_BUSY` when it
    /// upgrades to writing. On PostgreSQL a plain `BEGIN` on the pool.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<DatabaseTransaction, DbErr>> + Send;
}

impl BeginWrite for DatabaseConnection {
    async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.get_database_backend() {
            DbBackend::Sqlite => {
                let writer = writers::writer_of(self);
                writer
                    .as_ref()
                    .unwrap_or(self)
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await
            }
            #[allow(clippy::disallowed_methods)] // the one plain BEGIN
            _ => self.begin().await,
        }
    }
}

/// Beginning a transaction that only reads. A page whose data takes many
/// statements reads them all on one connection: each statement on the pool
/// costs two more round trips to a connection (taking it, and the check
/// when it comes back), which on SQLite are thread hand-offs and on
/// PostgreSQL network round trips. And the page sees one state of the data:
/// on SQLite a read transaction reads one snapshot anyway; PostgreSQL's
/// default (READ COMMITTED) gives every statement a snapshot of its own, so
/// there it is `REPEATABLE READ, READ ONLY` (one more round trip: sea-orm
/// sets it with a statement after `BEGIN`). Otherwise a page could read
/// the assessments of a measure that its catalogue, read a moment before,
/// did not have yet.
/// Nothing may write in it: on SQLite the write would have to upgrade the
/// read lock, which is what [`BeginWrite`] exists to avoid; on PostgreSQL
/// it fails.
pub trait BeginRead {
    fn begin_read(
        &self,
    ) -> impl std::future::Future<Output = Result<DatabaseTransaction, DbErr>> + Send;
}

impl BeginRead for DatabaseConnection {
    async fn begin_read(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.get_database_backend() {
            DbBackend::Postgres => {
                self.begin_with_config(
                    Some(sea_orm::IsolationLevel::RepeatableRead),
                    Some(sea_orm::AccessMode::ReadOnly),
                )
                .await
            }
            #[allow(clippy::disallowed_methods)] // reads only (see above)
            _ => self.begin().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use sea_orm::{ConnectionTrait, Statement};

    /// A pool of `connections` on a new SQLite file in WAL mode whose busy
    /// timeout is `busy` (with 0, a writer that finds the write lock taken
    /// fails at once with SQLITE_BUSY), with its writers' connection.
    async fn pool(name: &str, connections: u32, busy: Duration) -> (DatabaseConnection, PathBuf) {
        let file = std::env::temp_dir().join(format!(
            "nachweis-{name}-{}-{}.db",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let options = SqliteConnectOptions::new()
            .filename(&file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(busy);
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .unwrap();
        let db = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
        attach_writer(&db);
        db.execute_unprepared("CREATE TABLE t (n INTEGER NOT NULL)")
            .await
            .unwrap();
        (db, file)
    }

    async fn count<C: ConnectionTrait>(db: &C) -> i64 {
        db.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) AS n FROM t",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap()
    }

    fn remove(file: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }

    /// Writers of one process queue for their connection and never meet at
    /// SQLite's lock: with a busy timeout of 0 every writer but the first
    /// would fail with SQLITE_BUSY if they did. Each reads, pauses while
    /// holding its transaction, and writes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_queue_without_meeting_at_the_lock() {
        let (db, file) = pool("turns", 8, Duration::ZERO).await;
        let writers = (0..16).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let txn = db.begin_write().await?;
                let seen = count(&txn).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
                txn.execute_unprepared(&format!("INSERT INTO t (n) VALUES ({i})"))
                    .await?;
                txn.commit().await?;
                Ok::<i64, DbErr>(seen)
            })
        });
        let mut seen = Vec::new();
        for w in futures::future::join_all(writers).await {
            seen.push(w.unwrap().expect("a writer failed"));
        }
        // One at a time: each saw the rows of all the writers before it.
        seen.sort();
        assert_eq!(seen, (0..16).collect::<Vec<i64>>());
        assert_eq!(count(&db).await, 16);
        close(db).await.unwrap();
        remove(&file);
    }

    /// Waiting writers hold none of the readers' connections: with two of
    /// them, one writer holding the lock and four waiting, a reader still
    /// gets one (before, the waiting writers each held one, polling the
    /// lock, and readers waited for the pool's acquire timeout).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_writers_leave_the_connections_to_readers() {
        let (db, file) = pool("readers", 2, Duration::from_secs(30)).await;
        let first = db.begin_write().await.unwrap();
        first
            .execute_unprepared("INSERT INTO t (n) VALUES (0)")
            .await
            .unwrap();
        let waiting: Vec<_> = (1..=4)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let txn = db.begin_write().await?;
                    txn.execute_unprepared(&format!("INSERT INTO t (n) VALUES ({i})"))
                        .await?;
                    txn.commit().await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Both readers' connections are free; a read sees the last
        // committed state: nothing yet.
        let (a, b) = tokio::join!(db.begin_read(), db.begin_read());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!((count(&a).await, count(&b).await), (0, 0));
        drop((a, b));
        first.commit().await.unwrap();
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        assert_eq!(count(&db).await, 5);
        close(db).await.unwrap();
        remove(&file);
    }

    /// A pool's writers' connection goes when the pool does: tests and the
    /// command line open many pools in one process. (The test's weak
    /// reference keeps the options' address from being reused meanwhile.)
    #[tokio::test]
    async fn a_writer_goes_with_its_pool() {
        // Dropped: the next pool's registration drops its writer.
        let (db, file) = pool("gone", 2, Duration::from_secs(30)).await;
        let options = Arc::downgrade(&db.get_sqlite_connection_pool().connect_options());
        let key = options.as_ptr() as usize;
        assert!(writers::is_registered(key));
        db.begin_write().await.unwrap().commit().await.unwrap();
        drop(db);
        assert_eq!(
            options.strong_count(),
            0,
            "the dropped pool kept its options"
        );
        let (other, other_file) = pool("next", 2, Duration::from_secs(30)).await;
        assert!(!writers::is_registered(key));
        // Closed: the writer is closed with it, and the last connection's
        // close folds the WAL into the file.
        let other_key = Arc::as_ptr(&other.get_sqlite_connection_pool().connect_options()) as usize;
        other.begin_write().await.unwrap().commit().await.unwrap();
        close(other).await.unwrap();
        assert!(!writers::is_registered(other_key));
        let mut wal = other_file.as_os_str().to_owned();
        wal.push("-wal");
        assert!(
            !std::path::Path::new(&wal).exists(),
            "the WAL is left: a connection stayed open"
        );
        remove(&file);
        remove(&other_file);
    }
}
