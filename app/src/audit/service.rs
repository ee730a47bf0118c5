//! Appending to and verifying the hash chain.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{AuditEntry, AuditFilter};
use crate::entities::{audit_head, audit_log};
use crate::error::AppResult;

/// Who did it: a signed-in person, or the system / the CLI.
#[derive(Debug, Clone)]
pub struct AuditActor {
    pub user_id: Option<i32>,
    pub label: String,
}

impl AuditActor {
    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            label: label.to_owned(),
        }
    }
}

/// One change to business data.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub org_id: Option<i32>,
    pub actor: &'a AuditActor,
    pub entity: &'a str,
    pub entity_id: String,
    pub action: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Timestamps are hashed and stored at microsecond precision so that every
/// database returns exactly what was hashed.
fn truncate_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    seq: i64,
    org_id: Option<i32>,
    actor_id: Option<i32>,
    actor_label: &str,
    at: DateTime<Utc>,
    entity: &str,
    entity_id: &str,
    action: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields: no two different rows hash the same input.
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(prev);
    field(&seq.to_string());
    field(&org_id.map(|v| v.to_string()).unwrap_or_default());
    field(&actor_id.map(|v| v.to_string()).unwrap_or_default());
    field(actor_label);
    field(&at.to_rfc3339_opts(SecondsFormat::Micros, true));
    field(entity);
    field(entity_id);
    field(action);
    field(before.unwrap_or("\u{0}"));
    field(after.unwrap_or("\u{0}"));
    hex::encode(h.finalize())
}

/// Appends one row. Call it inside the transaction that makes the change.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    ev: AuditEvent<'_>,
) -> AppResult<()> {
    // Bump the head first: this takes the write lock that serialises appenders.
    audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Seq,
            Expr::col(audit_head::Column::Seq).add(1),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| crate::error::AppError::internal("audit head row missing"))?;
    let at = truncate_micros(now);
    let before = ev.before.map(|v| v.to_string());
    let after = ev.after.map(|v| v.to_string());
    let hash = row_hash(
        &head.hash,
        head.seq,
        ev.org_id,
        ev.actor.user_id,
        &ev.actor.label,
        at,
        ev.entity,
        &ev.entity_id,
        ev.action,
        before.as_deref(),
        after.as_deref(),
    );
    audit_log::ActiveModel {
        seq: Set(head.seq),
        org_id: Set(ev.org_id),
        actor_id: Set(ev.actor.user_id),
        actor_label: Set(ev.actor.label.clone()),
        at: Set(at),
        entity: Set(ev.entity.to_owned()),
        entity_id: Set(ev.entity_id),
        action: Set(ev.action.to_owned()),
        before: Set(before),
        after: Set(after),
        prev_hash: Set(head.hash.clone()),
        hash: Set(hash.clone()),
    }
    .insert(db)
    .await?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(hash))
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

/// Outcome of recomputing the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Intact {
        rows: u64,
    },
    /// The first row whose stored hash or link does not match.
    Broken {
        seq: i64,
        reason: String,
    },
}

/// Recomputes every row's hash in order, in pages, and compares with the head.
pub async fn verify(db: &DatabaseConnection) -> AppResult<Verification> {
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut rows = 0u64;
    loop {
        let page = audit_log::Entity::find()
            .filter(audit_log::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        if page.is_empty() {
            break;
        }
        for r in page {
            if r.seq != expected_seq {
                return Ok(Verification::Broken {
                    seq: expected_seq,
                    reason: format!("row {expected_seq} is missing"),
                });
            }
            if r.prev_hash != prev {
                return Ok(Verification::Broken {
                    seq: r.seq,
                    reason: "link to the previous row does not match".into(),
                });
            }
            let h = row_hash(
                &r.prev_hash,
                r.seq,
                r.org_id,
                r.actor_id,
                &r.actor_label,
                r.at,
                &r.entity,
                &r.entity_id,
                &r.action,
                r.before.as_deref(),
                r.after.as_deref(),
            );
            if h != r.hash {
                return Ok(Verification::Broken {
                    seq: r.seq,
                    reason: "content does not match its hash".into(),
                });
            }
            prev = r.hash;
            expected_seq += 1;
            rows += 1;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    if let Some(head) = head
        && (head.seq != rows as i64 || head.hash != prev)
    {
        return Ok(Verification::Broken {
            seq: rows as i64 + 1,
            reason: format!(
                "chain ends at row {rows} but the head names row {}",
                head.seq
            ),
        });
    }
    Ok(Verification::Intact { rows })
}

pub async fn list(
    db: &DatabaseConnection,
    org_id: i32,
    filter: &AuditFilter,
    limit: u64,
) -> AppResult<Vec<AuditEntry>> {
    let mut q = audit_log::Entity::find().filter(audit_log::Column::OrgId.eq(org_id));
    if !filter.entity.trim().is_empty() {
        q = q.filter(audit_log::Column::Entity.eq(filter.entity.trim()));
    }
    if !filter.action.trim().is_empty() {
        q = q.filter(audit_log::Column::Action.eq(filter.action.trim()));
    }
    if !filter.actor.trim().is_empty() {
        q = q.filter(audit_log::Column::ActorLabel.contains(filter.actor.trim()));
    }
    let rows = q
        .order_by_desc(audit_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            at: crate::ui::format_datetime(r.at),
            actor: r.actor_label,
            entity: r.entity,
            entity_id: r.entity_id,
            action: r.action,
            before: r.before,
            after: r.after,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_every_field() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let base = row_hash(
            "p",
            1,
            Some(1),
            Some(2),
            "a",
            at,
            "e",
            "1",
            "x",
            None,
            Some("{}"),
        );
        assert_ne!(
            base,
            row_hash(
                "p",
                1,
                Some(1),
                Some(2),
                "a",
                at,
                "e",
                "1",
                "x",
                Some("{}"),
                None
            )
        );
        assert_ne!(
            base,
            row_hash(
                "p",
                2,
                Some(1),
                Some(2),
                "a",
                at,
                "e",
                "1",
                "x",
                None,
                Some("{}")
            )
        );
        assert_ne!(
            base,
            row_hash(
                "p",
                1,
                Some(1),
                Some(2),
                "a",
                at,
                "e",
                "1",
                "y",
                None,
                Some("{}")
            )
        );
    }
}
