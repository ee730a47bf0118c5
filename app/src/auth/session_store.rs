//! A tower-sessions store over the application database (SQLite or
//! PostgreSQL through SeaORM): sessions survive restarts and are shared by
//! every node.
//!
//! A session ends after `idle` without a request. The store keeps that time
//! itself, from the application's clock (tests move it): tower-sessions
//! computes its expiry from the wall clock, which the store ignores. The
//! session layer saves on every request (`with_always_save`), and the store
//! writes only when the data changed or the expiry has moved by more than
//! [`TOUCH_EVERY`], so an active session costs one write a minute, not one
//! per request.
//!
//! Which sessions need no write is decided without asking the database:
//! `load` remembers what it read (the data and the stored expiry), and
//! `save` compares against that. Every request loads before it saves, so
//! the memory is never older than the request; another node's writes only
//! make a skipped write more harmless (they extend the expiry). The
//! database keeps the same rule in the statement's `WHERE` for saves
//! without a load.
//!
//! `load` reads the person the session signs in with the same statement
//! (the row keeps the user and organisation beside its data) and hands
//! them to the request under a key that is never stored: a signed-in
//! request costs the database one statement before the page's own.
//!
//! Requests that load at the same moment share that statement
//! ([`Batched`]): while one read is under way, the sessions asked for
//! meanwhile wait and are read together in the next. Every load still
//! reads after it was asked, so a session ended or an account locked
//! before a request arrived is never honoured for it; nothing is cached
//! between requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, Set, Statement,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

use super::batch::Batched;
use super::service;
use crate::entities::{memberships, organisations, sessions, users};
use crate::ids::{CustomerId, OrgId, UserId};
use crate::state::Clock;

/// How stale a stored expiry may get before a request writes it again.
pub const TOUCH_EVERY: Duration = Duration::seconds(60);

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    idle: Duration,
    /// What this process last read or wrote per session.
    seen: Arc<Mutex<HashMap<Id, Seen>>>,
    writes: Arc<AtomicU64>,
    /// Concurrent loads, read together.
    reads: Batched<Id, Vec<Loaded>>,
}

/// Sessions per statement at most.
const READ_TOGETHER: usize = 64;
/// How long a session read may take before its requests get an error and
/// the sessions asked after it are read: one read at a time means a stuck
/// connection would otherwise hold up every request. A read of a few
/// indexed rows that takes this long finds the database unusable anyway.
const READ_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// A session's row as this process last read or wrote it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    data: String,
    expires_at: DateTime<Utc>,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, idle: Duration) -> Self {
        let sql = Arc::new(ReadSql::new(db.get_database_backend()));
        let reads = Batched::new(READ_TOGETHER, READ_PATIENCE, {
            let db = db.clone();
            move |ids: Vec<Id>| {
                let (db, sql) = (db.clone(), sql.clone());
                async move { loaded(&db, &sql, &ids).await.map_err(|e| e.to_string()) }
            }
        });
        Self {
            reads,
            db,
            clock,
            idle,
            seen: Arc::default(),
            writes: Arc::default(),
        }
    }

    fn expires_at(&self) -> DateTime<Utc> {
        self.clock.now() + self.idle
    }

    /// Session rows written (created, changed or touched) since the start.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Seen>> {
        // The map holds no invariant a panic could break.
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes expired sessions; run periodically.
    pub async fn delete_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        self.seen().retain(|_, s| s.expires_at > now);
        sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lt(now))
            .exec(&self.db)
            .await
            .map(|r| r.rows_affected)
            .map_err(backend)
    }
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh random id; on the (astronomically unlikely) collision pick another.
        loop {
            let data = stored_data(record)?;
            let signed_in = service::signed_in(&record.data);
            let res = sessions::ActiveModel {
                id: Set(record.id.to_string()),
                data: Set(data),
                expires_at: Set(self.expires_at()),
                user_id: Set(signed_in.map(|s| s.0)),
                org_id: Set(signed_in.map(|s| s.1)),
            }
            .insert(&self.db)
            .await;
            self.writes.fetch_add(1, Ordering::Relaxed);
            match res {
                Ok(_) => return Ok(()),
                Err(e)
                    if matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    record.id = Id::default();
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = stored_data(record)?;
        let expires_at = self.expires_at();
        let unchanged = self
            .seen()
            .get(&record.id)
            .is_some_and(|seen| seen.data == data && seen.expires_at >= expires_at - TOUCH_EVERY);
        if unchanged {
            return Ok(());
        }
        let signed_in = service::signed_in(&record.data);
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(record.id.to_string()),
            data: Set(data.clone()),
            expires_at: Set(expires_at),
            user_id: Set(signed_in.map(|s| s.0)),
            org_id: Set(signed_in.map(|s| s.1)),
        })
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .update_columns([
                    sessions::Column::Data,
                    sessions::Column::ExpiresAt,
                    sessions::Column::UserId,
                    sessions::Column::OrgId,
                ])
                // An unchanged session whose expiry was written within the
                // last minute is left alone.
                .action_and_where(
                    Expr::col((sessions::Entity, sessions::Column::Data))
                        .ne(Expr::col((
                            sea_orm::sea_query::Alias::new("excluded"),
                            sessions::Column::Data,
                        )))
                        .or(Expr::col((sessions::Entity, sessions::Column::ExpiresAt))
                            .lt(expires_at - TOUCH_EVERY)),
                )
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await
        .map_err(backend)?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.seen().insert(record.id, Seen { data, expires_at });
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let rows = self.reads.get(*id).await.map_err(backend)?;
        let Some(row) = rows.as_ref().and_then(|rows| rows.first()) else {
            self.seen().remove(id);
            return Ok(None);
        };
        // Expired sessions are gone, whatever the cookie says.
        if row.expires_at <= self.clock.now() {
            self.seen().remove(id);
            return Ok(None);
        }
        self.seen().insert(
            *id,
            Seen {
                data: row.data.clone(),
                expires_at: row.expires_at,
            },
        );
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at.timestamp())
            .map_err(|e| Error::Decode(e.to_string()))?;
        let mut data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&row.data).map_err(|e| Error::Decode(e.to_string()))?;
        data.remove(service::PERSON_KEY);
        if let (Some(user_id), Some(org_id)) = (row.user_id, row.org_id) {
            let person = service::PersonRows {
                user_id,
                org_id,
                rows: rows
                    .iter()
                    .flatten()
                    .filter_map(Loaded::membership)
                    .collect(),
            };
            let person = serde_json::to_value(person).map_err(|e| Error::Encode(e.to_string()))?;
            data.insert(service::PERSON_KEY.to_owned(), person);
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.seen().remove(id);
        sessions::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// The session's data as stored: without the person `load` added, in a
/// stable order (so that an unchanged session compares equal).
fn stored_data(record: &Record) -> Result<String> {
    let kept: std::collections::BTreeMap<&String, &serde_json::Value> = record
        .data
        .iter()
        .filter(|(k, _)| k.as_str() != service::PERSON_KEY)
        .collect();
    serde_json::to_string(&kept).map_err(|e| Error::Encode(e.to_string()))
}

/// A session row joined with the account and each membership of the person
/// it signs in (one row per membership; the account's columns are empty
/// for a session that signs in nobody, or whose account is gone).
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
struct Loaded {
    id: String,
    data: String,
    expires_at: DateTime<Utc>,
    user_id: Option<UserId>,
    org_id: Option<OrgId>,
    locked: Option<bool>,
    display_name: Option<String>,
    email: Option<String>,
    member_of: Option<OrgId>,
    role: Option<String>,
    customer_id: Option<CustomerId>,
    joined: Option<DateTime<Utc>>,
    short_name: Option<String>,
    legal_name: Option<String>,
}

impl Loaded {
    fn membership(&self) -> Option<service::PersonRow> {
        Some((
            self.locked?,
            self.display_name.clone()?,
            self.email.clone()?,
            self.member_of?,
            self.role.clone()?,
            self.customer_id,
            self.joined?,
            self.short_name.clone()?,
            self.legal_name.clone()?,
        ))
    }
}

/// The lengths the id list of a session read is padded to.
const READ_SHAPES: [usize; 4] = [1, 4, 16, READ_TOGETHER];

fn padded_len(n: usize) -> usize {
    READ_SHAPES.into_iter().find(|&len| len >= n).unwrap_or(n)
}

/// The session read's SQL for each of [`READ_SHAPES`], built once: building
/// it (columns, joins, condition, then the text) took about as many
/// instructions as running it, on every read.
#[derive(Debug)]
struct ReadSql {
    backend: DbBackend,
    by_shape: Vec<(usize, String)>,
}

impl ReadSql {
    fn new(backend: DbBackend) -> Self {
        let by_shape = READ_SHAPES
            .into_iter()
            .filter_map(|len| {
                let ids: Vec<String> = (0..len).map(|i| format!("shape-{i}")).collect();
                let built = read_statement(backend, &ids);
                // Only a statement whose parameters are exactly the ids, in
                // order, can take other ids; any other is built per read.
                let values: Vec<sea_orm::Value> = ids.into_iter().map(Into::into).collect();
                (built.values.as_ref().map(|v| &v.0) == Some(&values)).then_some((len, built.sql))
            })
            .collect();
        Self { backend, by_shape }
    }

    /// The read of `ids` (distinct), padded to its shape.
    fn statement(&self, ids: &[String]) -> Statement {
        let mut list: Vec<&String> = ids.iter().collect();
        if let Some(&last) = list.last() {
            list.resize(padded_len(list.len()), last);
        }
        let list: Vec<String> = list.into_iter().cloned().collect();
        match self.by_shape.iter().find(|(len, _)| *len == list.len()) {
            Some((_, sql)) => Statement::from_sql_and_values(
                self.backend,
                sql.clone(),
                list.into_iter().map(sea_orm::Value::from),
            ),
            None => read_statement(self.backend, &list),
        }
    }
}

/// The sessions `ids` joined with their accounts and each membership.
fn read_statement(backend: DbBackend, ids: &[String]) -> Statement {
    use sea_orm::{JoinType, QueryOrder, QuerySelect, QueryTrait, RelationDef};
    let to_user: RelationDef = sessions::Entity::belongs_to(users::Entity)
        .from(sessions::Column::UserId)
        .to(users::Column::Id)
        .into();
    let to_memberships: RelationDef = sessions::Entity::belongs_to(memberships::Entity)
        .from(sessions::Column::UserId)
        .to(memberships::Column::UserId)
        .into();
    let to_org: RelationDef = memberships::Entity::belongs_to(organisations::Entity)
        .from(memberships::Column::OrgId)
        .to(organisations::Column::Id)
        .into();
    sessions::Entity::find()
        .filter(sessions::Column::Id.is_in(ids.iter().cloned()))
        .select_only()
        .columns([
            sessions::Column::Id,
            sessions::Column::Data,
            sessions::Column::ExpiresAt,
            sessions::Column::UserId,
            sessions::Column::OrgId,
        ])
        .columns([
            users::Column::Locked,
            users::Column::DisplayName,
            users::Column::Email,
        ])
        .column_as(memberships::Column::OrgId, "member_of")
        .columns([memberships::Column::Role, memberships::Column::CustomerId])
        .column_as(memberships::Column::CreatedAt, "joined")
        .columns([
            organisations::Column::ShortName,
            organisations::Column::LegalName,
        ])
        .join(JoinType::LeftJoin, to_user)
        .join(JoinType::LeftJoin, to_memberships)
        .join(JoinType::LeftJoin, to_org)
        .order_by_asc(memberships::Column::OrgId)
        .build(backend)
}

/// The sessions `ids` with their persons, in one statement: each found
/// session's rows, under its id.
async fn loaded(
    db: &DatabaseConnection,
    sql: &ReadSql,
    ids: &[Id],
) -> std::result::Result<HashMap<Id, Vec<Loaded>>, DbErr> {
    let asked: HashMap<String, Id> = ids.iter().map(|id| (id.to_string(), *id)).collect();
    let keys: Vec<String> = asked.keys().cloned().collect();
    let rows = Loaded::find_by_statement(sql.statement(&keys))
        .all(db)
        .await?;
    let mut found: HashMap<Id, Vec<Loaded>> = HashMap::new();
    for row in rows {
        if let Some(id) = asked.get(&row.id) {
            found.entry(*id).or_default().push(row);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statement made from the SQL built once is the one the query
    /// builder makes for the same (padded) ids, on both databases.
    #[test]
    fn a_read_built_once_is_the_read_built_now() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let sql = ReadSql::new(backend);
            assert_eq!(sql.by_shape.len(), READ_SHAPES.len(), "{backend:?}");
            for n in [1, 2, 4, 5, 16, 17, 64] {
                let ids: Vec<String> = (0..n).map(|i| format!("id-{i}")).collect();
                let mut padded = ids.clone();
                padded.resize(padded_len(n), ids[n - 1].clone());
                assert_eq!(
                    sql.statement(&ids),
                    read_statement(backend, &padded),
                    "{backend:?}, {n} ids"
                );
            }
        }
    }

    #[test]
    fn id_lists_take_four_lengths() {
        let lens: Vec<usize> = (1..=READ_TOGETHER).map(padded_len).collect();
        assert!(lens.iter().zip(1..).all(|(&len, n)| len >= n));
        let mut shapes = lens.clone();
        shapes.dedup();
        assert_eq!(shapes, READ_SHAPES);
    }
}
