//! The outbox: messages are rows written in the caller's transaction; the
//! worker (in the server crate) claims, sends and settles them here.
//!
//! Exactly-once is not on offer from SMTP; at-most-once is. A row is claimed
//! by a conditional update that only one process can win. If a process dies
//! after claiming, nobody knows whether the server accepted the message, so
//! the row is not sent again automatically: it turns `failed` with a reason
//! that says so, and an admin decides.

use crate::ids::{MessageId, OrgId};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{Mail, OutboxEntry, OutboxStatus};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::entities::outbox;
use crate::error::{AppError, AppResult};

/// Attempts before a message is given up as failed.
pub const MAX_ATTEMPTS: i32 = 5;
/// How long a claim may last before the row counts as interrupted.
pub const CLAIM_TIMEOUT_MINUTES: i64 = 10;

/// Wait before attempt `n + 1` after `n` failed attempts: 1, 5, 15, 60 minutes.
pub fn backoff(attempts: i32) -> Duration {
    match attempts {
        ..=1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(15),
        _ => Duration::minutes(60),
    }
}

/// Queues one message in the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org_id: Option<OrgId>,
    kind: &str,
    recipient: &str,
    mail: &Mail,
) -> AppResult<outbox::Model> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let row = outbox::ActiveModel {
        org_id: Set(org_id),
        kind: Set(kind.to_owned()),
        recipient: Set(recipient.to_owned()),
        locale: Set(mail.locale.as_str().to_owned()),
        subject: Set(mail.subject.clone()),
        body_text: Set(mail.text.clone()),
        body_html: Set(mail.html.to_string()),
        message_id: Set(format!("{token}@nachweis")),
        status: Set(OutboxStatus::Queued),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_by: Set(None),
        claimed_at: Set(None),
        last_error: Set(None),
        server_reply: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row)
}

/// Rows due for sending, oldest first (not yet claimed).
pub async fn due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<MessageId>> {
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(outbox::Column::Status.eq(OutboxStatus::Queued))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .into_tuple::<MessageId>()
        .all(db)
        .await?)
}

/// Claims a queued row for `node`; `None` when another process was faster.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    node: &str,
    id: MessageId,
) -> AppResult<Option<outbox::Model>> {
    let res = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Status,
            Expr::value(OutboxStatus::Sending.as_str()),
        )
        .col_expr(outbox::Column::ClaimedBy, Expr::value(node))
        .col_expr(outbox::Column::ClaimedAt, Expr::value(now))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Queued))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(None);
    }
    Ok(outbox::Entity::find_by_id(id).one(db).await?)
}

/// Records the server's acceptance.
pub async fn mark_sent(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    row: &outbox::Model,
    reply: &str,
) -> AppResult<()> {
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Status,
            Expr::value(OutboxStatus::Sent.as_str()),
        )
        .col_expr(outbox::Column::SentAt, Expr::value(now))
        .col_expr(outbox::Column::ServerReply, Expr::value(truncate(reply)))
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Sending))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: back to the queue with a wait, or `failed`
/// after [`MAX_ATTEMPTS`].
pub async fn mark_attempt_failed(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    row: &outbox::Model,
    error: &str,
) -> AppResult<OutboxStatus> {
    let give_up = row.attempts >= MAX_ATTEMPTS;
    let status = if give_up {
        OutboxStatus::Failed
    } else {
        OutboxStatus::Queued
    };
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            outbox::Column::NextAttemptAt,
            Expr::value(now + backoff(row.attempts)),
        )
        .col_expr(outbox::Column::LastError, Expr::value(truncate(error)))
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Sending))
        .exec(db)
        .await?;
    Ok(status)
}

/// Rows claimed longer ago than [`CLAIM_TIMEOUT_MINUTES`] belong to a process
/// that died mid-send: they become `failed`, never silently re-sent.
pub async fn settle_interrupted(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let res = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Status,
            Expr::value(OutboxStatus::Failed.as_str()),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(
                "Versand unterbrochen (der sendende Prozess wurde beendet). Ob der Mailserver die Nachricht angenommen hat, ist unbekannt; sie wird deshalb nicht automatisch erneut gesendet.",
            ),
        )
        .filter(outbox::Column::Status.eq(OutboxStatus::Sending))
        .filter(outbox::Column::ClaimedAt.lt(now - Duration::minutes(CLAIM_TIMEOUT_MINUTES)))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

fn truncate(s: &str) -> String {
    s.chars().take(1000).collect()
}

/// The organisation's outbox, newest first (admins).
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    limit: u64,
) -> AppResult<Vec<OutboxEntry>> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::OrgId.eq(actor.org_id))
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    rows.into_iter().map(entry).collect()
}

pub async fn count_by_status(
    db: &DatabaseConnection,
    org_id: OrgId,
    status: OutboxStatus,
) -> AppResult<u64> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::OrgId.eq(org_id))
        .filter(outbox::Column::Status.eq(status))
        .count(db)
        .await?)
}

fn entry(r: outbox::Model) -> AppResult<OutboxEntry> {
    Ok(OutboxEntry {
        id: r.id,
        kind: r.kind,
        recipient: r.recipient,
        subject: r.subject,
        status: r.status,
        attempts: r.attempts,
        created_at: crate::format::LocalTime::of(r.created_at),
        next_attempt_at: crate::format::LocalTime::of(r.next_attempt_at),
        sent_at: r.sent_at.map(crate::format::LocalTime::of),
        last_error: r.last_error,
        server_reply: r.server_reply,
    })
}

/// Puts a failed (or queued) message of the admin's organisation back in the
/// queue, due now, with a fresh attempt budget.
pub async fn retry(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: MessageId,
) -> AppResult<()> {
    let row = outbox::Entity::find_by_id(id)
        .filter(outbox::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Nachricht".into()))?;
    let status = row.status;
    if matches!(status, OutboxStatus::Sent | OutboxStatus::Sending) {
        return Err(AppError::Refused(
            "Diese Nachricht wurde bereits versendet oder wird gerade versendet.".into(),
        ));
    }
    let txn = crate::entities::BeginWrite::begin_write(db).await?;
    let res = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Status,
            Expr::value(OutboxStatus::Queued.as_str()),
        )
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(row.status))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::Conflict);
    }
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "outbox", id.to_string(), "retry")
            .in_org(actor.org_id)
            .before(json!({ "status": row.status, "last_error": row.last_error }))
            .after(json!({ "status": "queued" })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
