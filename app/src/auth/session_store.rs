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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

use crate::entities::sessions;
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
}

/// A session's row as this process last read or wrote it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    data: String,
    expires_at: DateTime<Utc>,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, idle: Duration) -> Self {
        Self {
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
            let data =
                serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
            let res = sessions::ActiveModel {
                id: Set(record.id.to_string()),
                data: Set(data),
                expires_at: Set(self.expires_at()),
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
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        let expires_at = self.expires_at();
        let unchanged = self
            .seen()
            .get(&record.id)
            .is_some_and(|seen| seen.data == data && seen.expires_at >= expires_at - TOUCH_EVERY);
        if unchanged {
            return Ok(());
        }
        sessions::Entity::insert(sessions::ActiveModel {
            id: Set(record.id.to_string()),
            data: Set(data.clone()),
            expires_at: Set(expires_at),
        })
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .update_columns([sessions::Column::Data, sessions::Column::ExpiresAt])
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
        let Some(row) = sessions::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
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
        let data = serde_json::from_str(&row.data).map_err(|e| Error::Decode(e.to_string()))?;
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
