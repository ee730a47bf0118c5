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

/// Beginning a transaction that writes: the one way services open one.
pub trait BeginWrite {
    /// On SQLite the transaction takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a second writer waits for it (the busy timeout) instead
    /// of reading first and failing with `SQLITE_BUSY` when it upgrades to
    /// writing, so the pool can hold many connections. On PostgreSQL a
    /// plain `BEGIN`.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<DatabaseTransaction, DbErr>> + Send;
}

impl BeginWrite for DatabaseConnection {
    async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.get_database_backend() {
            DbBackend::Sqlite => {
                self.begin_with_options(TransactionOptions {
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
