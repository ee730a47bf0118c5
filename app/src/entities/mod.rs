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

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

/// How long a writer waits for its turn (and SQLite's busy timeout, set on
/// every connection, for writers of other processes) before it gives up.
pub const WRITE_WAIT: Duration = Duration::from_secs(30);

/// Beginning a transaction that writes: the one way services open one.
pub trait BeginWrite {
    /// On SQLite the writers of this process take turns: a writer waits
    /// for its turn without holding a connection (readers keep the pool),
    /// in the order they came, and then begins with the write lock taken
    /// at once (`BEGIN IMMEDIATE`). Without the turn, waiting writers each
    /// held a pooled connection and polled the lock in SQLite's busy
    /// handler, which sleeps up to 100 ms between tries: under load the
    /// lock stood free while they slept and pages waited for connections.
    /// `BEGIN IMMEDIATE` still matters against other processes (the CLI):
    /// a second writer waits for the lock (the busy timeout) instead of
    /// reading first and failing with `SQLITE_BUSY` when it upgrades to
    /// writing. On PostgreSQL a plain `BEGIN`.
    fn begin_write(&self) -> impl std::future::Future<Output = Result<Txn, DbErr>> + Send;
}

impl BeginWrite for DatabaseConnection {
    async fn begin_write(&self) -> Result<Txn, DbErr> {
        match self.get_database_backend() {
            DbBackend::Sqlite => {
                let turn = write_turn(self);
                let turn = tokio::time::timeout(WRITE_WAIT, turn.lock_owned())
                    .await
                    .map_err(|_| {
                        DbErr::Custom(format!(
                            "database busy: no turn to write within {} s",
                            WRITE_WAIT.as_secs()
                        ))
                    })?;
                let txn = self
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?;
                Ok(Txn {
                    txn,
                    _turn: Some(turn),
                })
            }
            #[allow(clippy::disallowed_methods)] // the one plain BEGIN
            _ => Ok(self.begin().await?.into()),
        }
    }
}

/// The write turn of the SQLite file `db` is connected to, shared by every
/// pool of this process on that file. A turn nobody holds or waits for is
/// dropped; the map keeps only dead entries until the next lookup.
fn write_turn(db: &DatabaseConnection) -> Arc<tokio::sync::Mutex<()>> {
    static TURNS: LazyLock<Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    let file = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
    let mut turns = TURNS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(turn) = turns.get(&file).and_then(Weak::upgrade) {
        return turn;
    }
    turns.retain(|_, t| t.strong_count() > 0);
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    turns.insert(file, Arc::downgrade(&turn));
    turn
}

/// A transaction of ours: sea-orm's, and on SQLite, for one from
/// [`BeginWrite`], this process's write turn, which passes on to the next
/// writer when the transaction ends (commit, rollback or drop).
pub struct Txn {
    // Dropped before the turn (fields drop in order): the next writer
    // begins only after this transaction has ended.
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Txn {
    pub async fn commit(self) -> Result<(), DbErr> {
        let Txn { txn, _turn } = self;
        txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        let Txn { txn, _turn } = self;
        txn.rollback().await
    }
}

/// A transaction begun otherwise (a read-only snapshot), holding no turn.
impl From<DatabaseTransaction> for Txn {
    fn from(txn: DatabaseTransaction) -> Self {
        Txn { txn, _turn: None }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.txn.is_mock_connection()
    }
}

/// Beginning a transaction that only reads. A page whose data takes many
/// statements reads them all on one connection: each statement on the pool
/// costs two more round trips to a connection (taking it, and the check
/// when it comes back), which on SQLite are thread hand-offs and on
/// PostgreSQL network round trips. And the page sees one state of the data.
/// Nothing may write in it: on SQLite the write would have to upgrade the
/// read lock, which is what [`BeginWrite`] exists to avoid.
pub trait BeginRead {
    fn begin_read(
        &self,
    ) -> impl std::future::Future<Output = Result<DatabaseTransaction, DbErr>> + Send;
}

impl BeginRead for DatabaseConnection {
    async fn begin_read(&self) -> Result<DatabaseTransaction, DbErr> {
        #[allow(clippy::disallowed_methods)] // reads only (see above)
        self.begin().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    /// A pool of `connections` on a new SQLite file in WAL mode whose busy
    /// timeout is `busy`: with 0, a writer that finds the write lock taken
    /// fails at once with SQLITE_BUSY.
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

    /// Writers of one process wait for their turn, not for SQLite's lock:
    /// with a busy timeout of 0 every writer but the first would fail with
    /// SQLITE_BUSY if they met at the lock. Each reads, pauses while
    /// holding its transaction, and writes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_take_turns_without_meeting_at_the_lock() {
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
        db.close().await.unwrap();
        remove(&file);
    }

    /// Writers waiting for their turn hold no connection: with two
    /// connections, one writer holding the lock and many waiting, a reader
    /// still gets the other connection (before the turns, the waiting
    /// writers each held one, polling the lock, and readers waited for the
    /// pool's acquire timeout).
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
        // The reader sees the last committed state: nothing yet.
        assert_eq!(count(&db).await, 0);
        first.commit().await.unwrap();
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        assert_eq!(count(&db).await, 5);
        db.close().await.unwrap();
        remove(&file);
    }
}
