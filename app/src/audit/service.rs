//! Appending to and verifying the hash chain.
//!
//! Every row's hash is an HMAC-SHA256 under the audit key, derived from the
//! instance secret (kept outside the database): whoever can write to the
//! database cannot rewrite a row and recompute the chain. The key is
//! installed once per process at start ([`install_key`]); one process
//! serves one instance. A chain from before keying (plain SHA-256) is
//! checked and keyed once at start ([`key_legacy_rows`]).

use crate::entities::BeginWrite;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::ids::{OrgId, UserId};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{AuditEntry, AuditFilter};
use crate::entities::{audit_head, audit_log, publications};
use crate::error::AppResult;

/// Who did it: a signed-in person, or the system / the CLI.
#[derive(Debug, Clone)]
pub struct AuditActor {
    pub user_id: Option<UserId>,
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
    pub org_id: Option<OrgId>,
    pub actor: &'a AuditActor,
    pub entity: &'a str,
    pub entity_id: String,
    pub action: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> AuditEvent<'a> {
    /// `actor` did `action` to `entity` number `entity_id`; outside any
    /// organisation until [`AuditEvent::in_org`] names one.
    pub fn new(
        actor: &'a AuditActor,
        entity: &'a str,
        entity_id: impl Into<String>,
        action: &'a str,
    ) -> Self {
        Self {
            org_id: None,
            actor,
            entity,
            entity_id: entity_id.into(),
            action,
            before: None,
            after: None,
        }
    }

    /// The organisation whose data changed.
    pub fn in_org(self, org_id: OrgId) -> Self {
        self.org(Some(org_id))
    }

    pub fn org(self, org_id: Option<OrgId>) -> Self {
        Self { org_id, ..self }
    }

    /// The record before the change.
    pub fn before(self, before: Value) -> Self {
        self.before_opt(Some(before))
    }

    pub fn before_opt(self, before: Option<Value>) -> Self {
        Self { before, ..self }
    }

    /// The record after the change.
    pub fn after(self, after: Value) -> Self {
        self.after_opt(Some(after))
    }

    pub fn after_opt(self, after: Option<Value>) -> Self {
        Self { after, ..self }
    }
}

/// Timestamps are hashed and stored at microsecond precision so that every
/// database returns exactly what was hashed.
fn truncate_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// The purpose the audit key is derived for from the instance secret.
pub const KEY_PURPOSE: &str = "nachweis audit chain v1";

static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();

/// Installs the audit key for this process. A second, different key is an
/// error: one process serves one instance.
pub fn install_key(key: [u8; 32]) -> AppResult<()> {
    let installed = KEY.get_or_init(|| key);
    if *installed != key {
        return Err(crate::error::AppError::internal(
            "a second instance secret in one process: the audit chain has one key",
        ));
    }
    Ok(())
}

fn key() -> AppResult<&'static [u8; 32]> {
    KEY.get().ok_or_else(|| {
        crate::error::AppError::internal("the audit key is not installed (instance secret)")
    })
}

#[cfg(test)]
#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    seq: i64,
    org_id: Option<OrgId>,
    actor_id: Option<UserId>,
    actor_label: &str,
    at: DateTime<Utc>,
    entity: &str,
    entity_id: &str,
    action: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    row_digest(
        None,
        prev,
        seq,
        org_id,
        actor_id,
        actor_label,
        at,
        entity,
        entity_id,
        action,
        before,
        after,
    )
}

/// The row's hash: HMAC-SHA256 under `key`, or (rows from before the chain
/// was keyed) plain SHA-256, over the same length-prefixed fields.
#[allow(clippy::too_many_arguments)]
fn row_digest(
    key: Option<&[u8; 32]>,
    prev: &str,
    seq: i64,
    org_id: Option<OrgId>,
    actor_id: Option<UserId>,
    actor_label: &str,
    at: DateTime<Utc>,
    entity: &str,
    entity_id: &str,
    action: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    use hmac::{Hmac, Mac};
    enum Hasher {
        Plain(Sha256),
        Keyed(Hmac<Sha256>),
    }
    let mut h = match key {
        None => Hasher::Plain(Sha256::new()),
        Some(k) => Hasher::Keyed(
            <Hmac<Sha256> as Mac>::new_from_slice(k).expect("HMAC takes any key length"),
        ),
    };
    // Length-prefixed fields: no two different rows hash the same input.
    let mut field = |s: &str| {
        let len = (s.len() as u64).to_be_bytes();
        match &mut h {
            Hasher::Plain(d) => {
                Digest::update(d, len);
                Digest::update(d, s.as_bytes());
            }
            Hasher::Keyed(m) => {
                m.update(&len);
                m.update(s.as_bytes());
            }
        }
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
    match h {
        Hasher::Plain(d) => hex::encode(d.finalize()),
        Hasher::Keyed(m) => hex::encode(m.finalize().into_bytes()),
    }
}

/// Appends one row. Call it inside the transaction that makes the change.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    ev: AuditEvent<'_>,
) -> AppResult<()> {
    record_all(db, [(now, ev)]).await
}

/// Appends the events in order, one chain link each, with a few statements
/// whatever their number: the head is bumped by all of them at once and
/// read back in the same statement (which takes the write lock that
/// serialises appenders), the links are computed here, and the rows go
/// in together with the new head (see [`insert`]). The audit writer's
/// group commit uses it: a batch of downloads cost four statements per
/// row before.
pub async fn record_all<'a, C: ConnectionTrait>(
    db: &C,
    events: impl IntoIterator<Item = (DateTime<Utc>, AuditEvent<'a>)>,
) -> AppResult<()> {
    let events: Vec<_> = events.into_iter().collect();
    if events.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(events.len()).map_err(crate::error::AppError::internal)?;
    let bump = Query::update()
        .table(audit_head::Entity)
        .value(
            audit_head::Column::Seq,
            Expr::col(audit_head::Column::Seq).add(count),
        )
        .and_where(audit_head::Column::Id.eq(1))
        .returning(Query::returning().columns([
            audit_head::Column::Id,
            audit_head::Column::Seq,
            audit_head::Column::Hash,
        ]))
        .to_owned();
    let head = audit_head::Model::find_by_statement(db.get_database_backend().build(&bump))
        .one(db)
        .await?
        .ok_or_else(|| crate::error::AppError::internal("audit head row missing"))?;
    let key = key()?;
    let mut prev = head.hash;
    let mut rows = Vec::with_capacity(events.len());
    for (seq, (now, ev)) in (head.seq - count + 1..).zip(events) {
        let at = truncate_micros(now);
        let before = ev.before.map(|v| v.to_string());
        let after = ev.after.map(|v| v.to_string());
        let hash = row_digest(
            Some(key),
            &prev,
            seq,
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
        rows.push(audit_log::Model {
            seq,
            org_id: ev.org_id,
            actor_id: ev.actor.user_id,
            actor_label: ev.actor.label.clone(),
            at,
            entity: ev.entity.to_owned(),
            entity_id: ev.entity_id,
            action: ev.action.to_owned(),
            before,
            after,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
            keyed: true,
        });
    }
    insert(db, rows, prev).await
}

/// Inserts the chain's new rows and moves the head's hash to `head`.
///
/// On PostgreSQL that is one statement whatever the number of rows: the
/// rows travel as one JSON parameter and the head is updated in the same
/// statement. Each statement is a round trip to the server, and the
/// appender holds the chain's lock all the while; the download group
/// commit made one per insert size and one for the head (a batch of 31
/// rows: nine statements, now one). On SQLite, in the process, they are
/// inserts of a few fixed sizes (see [`insert_size`]) and an update.
async fn insert<C: ConnectionTrait>(
    db: &C,
    rows: Vec<audit_log::Model>,
    head: String,
) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let rows = serde_json::to_string(&rows.iter().map(JsonRow::of).collect::<Vec<_>>())
            .map_err(crate::error::AppError::internal)?;
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            APPEND_POSTGRES,
            [rows.into(), head.into()],
        ))
        .await?;
        return Ok(());
    }
    let rows: Vec<audit_log::ActiveModel> = rows.into_iter().map(Into::into).collect();
    let mut rest = rows.as_slice();
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(insert_size(rest.len()));
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
        rest = after;
    }
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(head))
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

/// The rows (`$1`, a JSON array of [`JsonRow`]) and the head's new hash
/// (`$2`) in one statement: a data-modifying `WITH` runs to completion
/// whether or not the statement reads it.
const APPEND_POSTGRES: &str = "WITH added AS (\
    INSERT INTO audit_log (seq, org_id, actor_id, actor_label, at, entity, entity_id, action, before, after, prev_hash, hash, keyed) \
    SELECT seq, org_id, actor_id, actor_label, at, entity, entity_id, action, before, after, prev_hash, hash, keyed \
    FROM json_populate_recordset(NULL::audit_log, $1::json)\
) UPDATE audit_head SET hash = $2 WHERE id = 1";

/// An audit row as [`APPEND_POSTGRES`] reads it: the table's column names,
/// the time with its microseconds (what was hashed).
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    seq: i64,
    org_id: Option<OrgId>,
    actor_id: Option<UserId>,
    actor_label: &'a str,
    at: String,
    entity: &'a str,
    entity_id: &'a str,
    action: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    prev_hash: &'a str,
    hash: &'a str,
    keyed: bool,
}

impl<'a> JsonRow<'a> {
    fn of(r: &'a audit_log::Model) -> Self {
        Self {
            seq: r.seq,
            org_id: r.org_id,
            actor_id: r.actor_id,
            actor_label: &r.actor_label,
            at: r.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            entity: &r.entity,
            entity_id: &r.entity_id,
            action: &r.action,
            before: r.before.as_deref(),
            after: r.after.as_deref(),
            prev_hash: &r.prev_hash,
            hash: &r.hash,
            keyed: r.keyed,
        }
    }
}

/// Rows per insert statement, at most: 13 values each stay far below the
/// bind parameter limits of SQLite (32,766) and PostgreSQL (65,535).
const ROWS_PER_INSERT: usize = 256;

/// How many of `left` rows the next insert takes: the largest of a few
/// fixed sizes that fits. Each row count is a statement text of its own,
/// which the database prepares and plans once per connection and the
/// connection caches; a batch of any size took a new one (PostgreSQL,
/// download group commit at 64 connections: 4 ms for a 34-row insert,
/// the batch writer busy in every sample).
fn insert_size(left: usize) -> usize {
    [ROWS_PER_INSERT, 64, 16, 4, 1]
        .into_iter()
        .find(|n| *n <= left)
        .unwrap_or(left)
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
        kind: Break,
        /// The organisation of the broken row (or of the document holding
        /// a broken anchor), where known: only its admins and auditors are
        /// told more than the row's number.
        org_id: Option<OrgId>,
    },
}

/// What is wrong at the first broken row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    Missing,
    Link,
    Unkeyed,
    Content,
    Head,
    Anchor,
}

impl Break {
    /// The finding in German, for the Protokoll page.
    pub fn german(self) -> &'static str {
        match self {
            Break::Missing => "Der Eintrag fehlt: Die Kette ist an dieser Stelle unterbrochen.",
            Break::Link => {
                "Der Eintrag passt nicht zu seinem Vorgänger: Davor wurde etwas geändert, entfernt oder eingefügt."
            }
            Break::Unkeyed => {
                "Der Eintrag ist nicht mit dem Schlüssel dieser Installation gesichert."
            }
            Break::Content => "Der Inhalt des Eintrags wurde nachträglich verändert.",
            Break::Head => {
                "Die Kette endet früher, als ihr gespeichertes Ende angibt: Einträge am Ende fehlen."
            }
            Break::Anchor => {
                "Ein signiertes Dokument nennt für diesen Eintrag einen Prüfwert, den die Kette nicht hat."
            }
        }
    }
}

/// Keys a chain written before the audit log was keyed, once: checks the
/// plain SHA-256 chain row by row and, if it is intact, replaces every
/// hash by its HMAC under the audit key, in one transaction. A broken
/// legacy chain is left as it is (`audit verify` names the row). Returns
/// the number of rows keyed.
pub async fn key_legacy_rows(db: &DatabaseConnection) -> AppResult<u64> {
    let key = key()?;
    let any = audit_log::Entity::find()
        .filter(audit_log::Column::Keyed.eq(false))
        .one(db)
        .await?;
    if any.is_none() {
        return Ok(0);
    }
    let txn = db.begin_write().await?;
    // Take the appenders' lock first (the head row), as `record` does.
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Seq, Expr::col(audit_head::Column::Seq))
        .filter(audit_head::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    let rows = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(&txn)
        .await?;
    let (mut old_prev, mut new_prev) = ("0".repeat(64), "0".repeat(64));
    let mut keyed = 0u64;
    for (i, r) in rows.into_iter().enumerate() {
        if r.seq != i as i64 + 1 || r.prev_hash != old_prev || r.keyed {
            tracing::error!(
                seq = r.seq,
                "audit log: the chain before keying is broken here; left unkeyed"
            );
            return Ok(0);
        }
        let fields = |k: Option<&[u8; 32]>, prev: &str| {
            row_digest(
                k,
                prev,
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
            )
        };
        if fields(None, &r.prev_hash) != r.hash {
            tracing::error!(
                seq = r.seq,
                "audit log: a row before keying does not match its hash; left unkeyed"
            );
            return Ok(0);
        }
        let hash = fields(Some(key), &new_prev);
        old_prev = r.hash.clone();
        audit_log::Entity::update_many()
            .col_expr(audit_log::Column::PrevHash, Expr::value(new_prev.clone()))
            .col_expr(audit_log::Column::Hash, Expr::value(hash.clone()))
            .col_expr(audit_log::Column::Keyed, Expr::value(true))
            .filter(audit_log::Column::Seq.eq(r.seq))
            .exec(&txn)
            .await?;
        new_prev = hash;
        keyed += 1;
    }
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(new_prev))
        .filter(audit_head::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(keyed)
}

/// The chain's head: the last row's sequence number and hash (0 and
/// zeros for an empty chain). Signed publications print and keep it.
pub async fn head<C: ConnectionTrait>(db: &C) -> AppResult<Anchor> {
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| crate::error::AppError::internal("audit head row missing"))?;
    Ok(Anchor {
        seq: head.seq,
        hash: head.hash,
    })
}

/// The chain's head as a signed PDF prints it and its row keeps it: a copy
/// someone holds then attests the log up to that point ([`verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl Anchor {
    /// The line the PDF prints: the row and the first 16 hex digits.
    pub fn label(&self) -> String {
        format!(
            "Eintrag {}, Prüfwert {}",
            self.seq,
            &self.hash[..self.hash.len().min(16)]
        )
    }
}

/// Every stored anchor, with what holds it: annexes, review reports,
/// training certificates and pledge copies.
async fn stored_anchors(db: &DatabaseConnection) -> AppResult<Vec<(String, i32, Anchor)>> {
    use crate::entities::{pledge_signatures, review_cycles, training_completions};
    let mut all = Vec::new();
    let mut add = |what: String, org: i32, seq: Option<i64>, hash: Option<String>| {
        if let (Some(seq), Some(hash)) = (seq, hash) {
            all.push((what, org, Anchor { seq, hash }));
        }
    };
    for (id, org, version, seq, hash) in publications::Entity::find()
        .filter(publications::Column::AuditSeq.is_not_null())
        .select_only()
        .columns([
            publications::Column::Id,
            publications::Column::OrgId,
            publications::Column::Version,
            publications::Column::AuditSeq,
            publications::Column::AuditHash,
        ])
        .order_by_asc(publications::Column::Id)
        .into_tuple::<(i32, i32, i32, Option<i64>, Option<String>)>()
        .all(db)
        .await?
    {
        add(
            format!("the signed annex version {version} (organisation {org}, id {id})"),
            org,
            seq,
            hash,
        );
    }
    for (id, org, version, seq, hash) in review_cycles::Entity::find()
        .filter(review_cycles::Column::AuditSeq.is_not_null())
        .select_only()
        .columns([
            review_cycles::Column::Id,
            review_cycles::Column::OrgId,
            review_cycles::Column::ReportVersion,
            review_cycles::Column::AuditSeq,
            review_cycles::Column::AuditHash,
        ])
        .order_by_asc(review_cycles::Column::Id)
        .into_tuple::<(i32, i32, i32, Option<i64>, Option<String>)>()
        .all(db)
        .await?
    {
        add(
            format!("the review report of cycle {id}, version {version} (organisation {org})"),
            org,
            seq,
            hash,
        );
    }
    for (id, org, seq, hash) in training_completions::Entity::find()
        .filter(training_completions::Column::AuditSeq.is_not_null())
        .select_only()
        .columns([
            training_completions::Column::Id,
            training_completions::Column::OrgId,
            training_completions::Column::AuditSeq,
            training_completions::Column::AuditHash,
        ])
        .order_by_asc(training_completions::Column::Id)
        .into_tuple::<(i32, i32, Option<i64>, Option<String>)>()
        .all(db)
        .await?
    {
        add(
            format!("the training certificate {id} (organisation {org})"),
            org,
            seq,
            hash,
        );
    }
    for (id, org, seq, hash) in pledge_signatures::Entity::find()
        .filter(pledge_signatures::Column::AuditSeq.is_not_null())
        .select_only()
        .columns([
            pledge_signatures::Column::Id,
            pledge_signatures::Column::OrgId,
            pledge_signatures::Column::AuditSeq,
            pledge_signatures::Column::AuditHash,
        ])
        .order_by_asc(pledge_signatures::Column::Id)
        .into_tuple::<(i32, i32, Option<i64>, Option<String>)>()
        .all(db)
        .await?
    {
        add(
            format!("the signed pledge {id} (organisation {org})"),
            org,
            seq,
            hash,
        );
    }
    Ok(all)
}

/// Recomputes every row's hash in order, in pages, and compares with the
/// head; then checks that every anchor a signed PDF holds (annexes,
/// reports, certificates, pledges) names a row of this chain with that hash.
pub async fn verify(db: &DatabaseConnection) -> AppResult<Verification> {
    let key = key()?;
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
                    kind: Break::Missing,
                    org_id: None,
                });
            }
            if r.prev_hash != prev {
                return Ok(Verification::Broken {
                    seq: r.seq,
                    reason: "link to the previous row does not match".into(),
                    kind: Break::Link,
                    org_id: r.org_id,
                });
            }
            if !r.keyed {
                return Ok(Verification::Broken {
                    seq: r.seq,
                    reason: "the row is not keyed (its hash is plain SHA-256)".into(),
                    kind: Break::Unkeyed,
                    org_id: r.org_id,
                });
            }
            let h = row_digest(
                Some(key),
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
                    kind: Break::Content,
                    org_id: r.org_id,
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
            kind: Break::Head,
            org_id: None,
        });
    }
    for (what, org, anchor) in stored_anchors(db).await? {
        let matches = if anchor.seq == 0 {
            anchor.hash == "0".repeat(64)
        } else {
            audit_log::Entity::find_by_id(anchor.seq)
                .one(db)
                .await?
                .is_some_and(|r| r.hash == anchor.hash)
        };
        if !matches {
            return Ok(Verification::Broken {
                seq: anchor.seq,
                reason: format!(
                    "{what} anchors row {} with a hash the chain does not have",
                    anchor.seq
                ),
                kind: Break::Anchor,
                org_id: Some(OrgId(org)),
            });
        }
    }
    Ok(Verification::Intact { rows })
}

pub async fn list(
    db: &DatabaseConnection,
    org_id: OrgId,
    filter: &AuditFilter,
    limit: u64,
) -> AppResult<Vec<AuditEntry>> {
    list_from(db, org_id, filter, 0, limit).await
}

/// [`list`] from the `offset`-th newest matching row on.
pub async fn list_from(
    db: &DatabaseConnection,
    org_id: OrgId,
    filter: &AuditFilter,
    offset: u64,
    limit: u64,
) -> AppResult<Vec<AuditEntry>> {
    let rows = filtered(org_id, filter)?
        .order_by_desc(audit_log::Column::Seq)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(entry).collect())
}

/// [`list`] of the rows older than row `before` (all, without it): pages
/// that stay put while new rows are written, for an export.
pub async fn list_older(
    db: &DatabaseConnection,
    org_id: OrgId,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: u64,
) -> AppResult<Vec<AuditEntry>> {
    let mut q = filtered(org_id, filter)?;
    if let Some(before) = before {
        q = q.filter(audit_log::Column::Seq.lt(before));
    }
    let rows = q
        .order_by_desc(audit_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(entry).collect())
}

/// The organisation's rows that match the filter (a bad date is refused).
fn filtered(org_id: OrgId, filter: &AuditFilter) -> AppResult<sea_orm::Select<audit_log::Entity>> {
    let day = |field: &str, text: &str| -> AppResult<Option<chrono::NaiveDate>> {
        crate::format::parse_optional_date(field, text)
    };
    let mut q = audit_log::Entity::find().filter(audit_log::Column::OrgId.eq(org_id));
    if let Some(from) = day("from", &filter.from)? {
        q = q.filter(audit_log::Column::At.gte(crate::format::german_midnight(from)));
    }
    if let Some(to) = day("to", &filter.to)? {
        let end = to.succ_opt().unwrap_or(to);
        q = q.filter(audit_log::Column::At.lt(crate::format::german_midnight(end)));
    }
    if !filter.entity.trim().is_empty() {
        q = q.filter(audit_log::Column::Entity.eq(filter.entity.trim()));
    }
    if !filter.action.trim().is_empty() {
        q = q.filter(audit_log::Column::Action.eq(filter.action.trim()));
    }
    if !filter.actor.trim().is_empty() {
        q = q.filter(audit_log::Column::ActorLabel.contains(filter.actor.trim()));
    }
    Ok(q)
}

fn entry(r: audit_log::Model) -> AuditEntry {
    AuditEntry {
        seq: r.seq,
        at: crate::format::LocalTime::of(r.at),
        actor: r.actor_label,
        entity: r.entity,
        entity_id: r.entity_id,
        action: r.action,
        before: r.before,
        after: r.after,
    }
}

#[cfg(test)]
mod tests {
    /// Inserts take the rows in order in a few fixed sizes, so the
    /// statement texts stay few whatever the batch.
    #[test]
    fn inserts_come_in_a_few_fixed_sizes() {
        for n in 1..=600 {
            let (mut left, mut sizes) = (n, Vec::new());
            while left > 0 {
                let k = super::insert_size(left);
                assert!(k >= 1 && k <= left, "{n}: {k} of {left}");
                sizes.push(k);
                left -= k;
            }
            assert!(
                sizes.iter().all(|k| [256, 64, 16, 4, 1].contains(k)),
                "{n}: {sizes:?}"
            );
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{n}: {sizes:?}");
            assert!(sizes.len() <= 14, "{n}: {} inserts", sizes.len());
        }
    }

    use super::*;

    #[test]
    fn the_keyed_hash_needs_the_key() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let with = |k: Option<&[u8; 32]>| {
            row_digest(
                k,
                "p",
                1,
                Some(OrgId(1)),
                None,
                "a",
                at,
                "e",
                "1",
                "x",
                None,
                None,
            )
        };
        let plain = with(None);
        let a = with(Some(&[1; 32]));
        let b = with(Some(&[2; 32]));
        assert_ne!(plain, a);
        assert_ne!(a, b);
        assert_eq!(a, with(Some(&[1; 32])));
        assert_eq!(
            plain,
            row_hash(
                "p",
                1,
                Some(OrgId(1)),
                None,
                "a",
                at,
                "e",
                "1",
                "x",
                None,
                None
            )
        );
    }

    #[test]
    fn hash_depends_on_every_field() {
        #[derive(Clone)]
        struct Row {
            prev: &'static str,
            seq: i64,
            org_id: Option<OrgId>,
            actor_id: Option<UserId>,
            actor_label: &'static str,
            at: DateTime<Utc>,
            entity: &'static str,
            entity_id: &'static str,
            action: &'static str,
            before: Option<&'static str>,
            after: Option<&'static str>,
        }
        let hash = |r: &Row| {
            row_hash(
                r.prev,
                r.seq,
                r.org_id,
                r.actor_id,
                r.actor_label,
                r.at,
                r.entity,
                r.entity_id,
                r.action,
                r.before,
                r.after,
            )
        };
        let base = Row {
            prev: "p",
            seq: 1,
            org_id: Some(OrgId(1)),
            actor_id: Some(UserId(2)),
            actor_label: "a",
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            entity: "e",
            entity_id: "1",
            action: "x",
            before: Some("{\"b\":1}"),
            after: Some("{}"),
        };
        // One change per field; every row must hash differently from the
        // base and from every other changed row.
        type Change = fn(&mut Row);
        let changes: [(&str, Change); 12] = [
            ("prev", |r| r.prev = "q"),
            ("seq", |r| r.seq = 2),
            ("org_id", |r| r.org_id = Some(OrgId(3))),
            ("actor_id", |r| r.actor_id = Some(UserId(4))),
            ("actor_label", |r| r.actor_label = "b"),
            ("at", |r| r.at += chrono::Duration::microseconds(1)),
            ("entity", |r| r.entity = "f"),
            ("entity_id", |r| r.entity_id = "2"),
            ("action", |r| r.action = "y"),
            ("before", |r| r.before = Some("{\"b\":2}")),
            ("after", |r| r.after = Some("{\"a\":1}")),
            // Length prefixes: moving a character across a field boundary
            // is a different row too.
            ("entity/entity_id boundary", |r| {
                r.entity = "e1";
                r.entity_id = "";
            }),
        ];
        let mut seen = std::collections::HashMap::new();
        seen.insert(hash(&base), "base");
        for (name, change) in changes {
            let mut row = base.clone();
            change(&mut row);
            if let Some(other) = seen.insert(hash(&row), name) {
                panic!("changing {name} hashes the same as {other}");
            }
        }
        // The same row always hashes the same.
        assert_eq!(hash(&base), hash(&base.clone()));
    }
}
