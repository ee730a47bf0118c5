//! Evidence rows: validation, recording an upload, listing, editing, hiding
//! and purging. Every query names the actor's organisation.

use crate::entities::BeginWrite;
use crate::ids::{EvidenceId, EvidenceVersionId, OrgId};
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::{EvidenceVersionView, EvidenceView, MeasureEvidence, UploadResult, Validity};
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::service::Actor;
use crate::entities::{evidence, evidence_versions, measures};
use crate::error::{AppError, AppResult};
use crate::ids::{AttestationId, MeasureId};
use crate::state::AppState;

/// An organisation's evidence that still has a file: the items not
/// deleted with a version not purged, read in one statement.
pub struct Files {
    items: Vec<evidence::Model>,
}

impl Files {
    pub async fn load<C: ConnectionTrait>(db: &C, org_id: OrgId) -> AppResult<Self> {
        use sea_orm::sea_query::{Expr, ExprTrait, Query};
        let has_file = Query::select()
            .expr(Expr::val(1))
            .from(evidence_versions::Entity)
            .and_where(
                Expr::col((
                    evidence_versions::Entity,
                    evidence_versions::Column::EvidenceId,
                ))
                .equals((evidence::Entity, evidence::Column::Id)),
            )
            .and_where(evidence_versions::Column::OrgId.eq(org_id))
            .and_where(evidence_versions::Column::PurgedAt.is_null())
            .to_owned();
        let items = evidence::Entity::find()
            .filter(evidence::Column::OrgId.eq(org_id))
            .filter(evidence::Column::DeletedAt.is_null())
            .filter(Expr::exists(has_file))
            .all(db)
            .await?;
        Ok(Self { items })
    }

    /// The items that have a file.
    pub fn present(&self) -> impl Iterator<Item = &evidence::Model> {
        self.items.iter()
    }

    /// Per measure, the best validity of its files on `today` (see
    /// [`Validity::counts`] for what makes a measure's evidence valid).
    pub fn best_by_measure(&self, today: NaiveDate) -> HashMap<MeasureId, Validity> {
        let mut out: HashMap<MeasureId, Validity> = HashMap::new();
        for e in self.present() {
            if let Some(m) = e.measure_id {
                let v = Validity::of(e.valid_until, today);
                out.insert(m, Validity::best(out.get(&m).copied(), v));
            }
        }
        out
    }
}

/// Title, description and validity of an evidence item, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub title: String,
    pub description: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

impl Meta {
    pub fn parse(
        title: &str,
        description: &str,
        valid_from: &str,
        valid_until: &str,
    ) -> AppResult<Self> {
        let title = title.trim();
        if title.is_empty() {
            return Err(AppError::invalid(
                "title",
                "Bitte geben Sie einen Titel an.",
            ));
        }
        if title.chars().count() > 200 {
            return Err(AppError::invalid(
                "title",
                "Der Titel ist länger als 200 Zeichen.",
            ));
        }
        if description.chars().count() > 5000 {
            return Err(AppError::invalid(
                "description",
                "Die Beschreibung ist länger als 5000 Zeichen.",
            ));
        }
        let valid_from = crate::format::parse_optional_date("valid_from", valid_from)?;
        let valid_until = crate::format::parse_optional_date("valid_until", valid_until)?;
        if let (Some(f), Some(u)) = (valid_from, valid_until)
            && u < f
        {
            return Err(AppError::invalid(
                "valid_until",
                "„Gültig bis“ liegt vor „Gültig ab“.",
            ));
        }
        Ok(Self {
            title: title.to_owned(),
            description: description.trim().to_owned(),
            valid_from,
            valid_until,
        })
    }
}

/// What an upload adds to: a new item on a measure, or a new version of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The certificate or report behind a subprocessor's attestation.
    Attestation {
        attestation_id: AttestationId,
        meta: Meta,
    },
    New {
        measure_id: Option<MeasureId>,
        meta: Meta,
    },
    Version {
        evidence_id: EvidenceId,
        valid_until: Option<Option<NaiveDate>>,
    },
}

/// The stored file behind a new version.
#[derive(Debug, Clone)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub file_name: String,
}

/// Checks before any byte is stored that the target exists in `org_id`.
pub async fn check_target<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    target: &Target,
) -> AppResult<()> {
    match target {
        Target::New {
            measure_id: Some(id),
            ..
        } => {
            measures::Entity::find_by_id(*id)
                .filter(measures::Column::OrgId.eq(org_id))
                .one(db)
                .await?
                .ok_or_else(|| AppError::NotFound("Die Maßnahme".into()))?;
        }
        Target::New {
            measure_id: None, ..
        } => {}
        Target::Attestation { attestation_id, .. } => {
            crate::subprocessors::service::check_attestation(db, org_id, *attestation_id).await?;
        }
        Target::Version { evidence_id, .. } => {
            visible(db, org_id, *evidence_id).await?;
        }
    }
    Ok(())
}

async fn visible<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: EvidenceId,
) -> AppResult<evidence::Model> {
    evidence::Entity::find_by_id(id)
        .filter(evidence::Column::OrgId.eq(org_id))
        .filter(evidence::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Nachweis".into()))
}

async fn insert_item<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &AuditActor,
    org_id: OrgId,
    measure_id: Option<MeasureId>,
    meta: Meta,
) -> AppResult<evidence::Model> {
    Ok(evidence::ActiveModel {
        org_id: Set(org_id),
        measure_id: Set(measure_id),
        title: Set(meta.title),
        description: Set(meta.description),
        valid_from: Set(meta.valid_from),
        valid_until: Set(meta.valid_until),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Writes the rows for a stored blob, with an audit entry, in one transaction.
pub async fn record_upload(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &AuditActor,
    org_id: OrgId,
    target: Target,
    blob: StoredBlob,
) -> AppResult<UploadResult> {
    let txn = db.begin_write().await?;
    let attestation = match &target {
        Target::Attestation { attestation_id, .. } => Some(*attestation_id),
        _ => None,
    };
    let (item, version) = match target {
        Target::New { measure_id, meta } => (
            insert_item(&txn, now, actor, org_id, measure_id, meta).await?,
            1,
        ),
        Target::Attestation { meta, .. } => {
            (insert_item(&txn, now, actor, org_id, None, meta).await?, 1)
        }
        Target::Version {
            evidence_id,
            valid_until,
        } => {
            let item = visible(&txn, org_id, evidence_id).await?;
            let last = evidence_versions::Entity::find()
                .filter(evidence_versions::Column::EvidenceId.eq(item.id))
                .count(&txn)
                .await? as i32;
            let mut am: evidence::ActiveModel = item.into();
            am.updated_at = Set(now);
            if let Some(v) = valid_until {
                am.valid_until = Set(v);
            }
            (am.update(&txn).await?, last + 1)
        }
    };
    let row = evidence_versions::ActiveModel {
        org_id: Set(org_id),
        evidence_id: Set(item.id),
        version: Set(version),
        sha256: Set(blob.sha256.clone()),
        size: Set(blob.size),
        content_type: Set(blob.content_type.clone()),
        file_name: Set(blob.file_name.clone()),
        uploaded_by: Set(actor.user_id),
        uploaded_by_label: Set(actor.label.clone()),
        uploaded_at: Set(now),
        purged_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e {
        // Two uploads of a new version at once: one wins the number.
        sea_orm::DbErr::Query(_) | sea_orm::DbErr::Exec(_) if version > 1 => AppError::Conflict,
        e => AppError::from(e),
    })?;
    if let Some(attestation_id) = attestation {
        crate::subprocessors::service::attach_evidence(&txn, org_id, attestation_id, item.id)
            .await?;
    }
    record(
        &txn,
        now,
        AuditEvent::new(
            actor,
            "evidence",
            item.id.to_string(),
            if version == 1 {
                "create"
            } else {
                "new_version"
            },
        )
        .in_org(org_id)
        .after(json!({
            "title": item.title,
            "measure_id": item.measure_id,
            "version": version,
            "file_name": blob.file_name,
            "sha256": blob.sha256,
            "size": blob.size,
            "content_type": blob.content_type,
            "valid_until": item.valid_until,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(UploadResult {
        evidence_id: item.id,
        measure_id: item.measure_id,
        version_id: row.id,
        version,
        sha256: blob.sha256,
        size: blob.size,
        content_type: blob.content_type,
        file_name: blob.file_name,
    })
}

/// Evidence items with their versions (newest first), hidden or not.
pub async fn views(
    db: &DatabaseConnection,
    org_id: OrgId,
    items: Vec<evidence::Model>,
    today: NaiveDate,
) -> AppResult<Vec<EvidenceView>> {
    let ids: Vec<EvidenceId> = items.iter().map(|i| i.id).collect();
    let mut versions: HashMap<EvidenceId, Vec<EvidenceVersionView>> = HashMap::new();
    for v in evidence_versions::Entity::find()
        .filter(evidence_versions::Column::OrgId.eq(org_id))
        .filter(evidence_versions::Column::EvidenceId.is_in(ids))
        .order_by_desc(evidence_versions::Column::Version)
        .all(db)
        .await?
    {
        versions
            .entry(v.evidence_id)
            .or_default()
            .push(EvidenceVersionView {
                id: v.id,
                version: v.version,
                file_name: v.file_name,
                size: v.size,
                content_type: v.content_type,
                sha256: v.sha256,
                uploaded_by: v.uploaded_by_label,
                uploaded_at: crate::format::LocalTime::of(v.uploaded_at),
                purged: v.purged_at.is_some(),
            });
    }
    Ok(items
        .into_iter()
        .map(|i| EvidenceView {
            id: i.id,
            measure_id: i.measure_id,
            title: i.title,
            description: i.description,
            valid_from: i.valid_from,
            valid_until: i.valid_until,
            validity: Validity::of(i.valid_until, today),
            versions: versions.remove(&i.id).unwrap_or_default(),
        })
        .collect())
}

pub async fn for_measure(
    state: &AppState,
    actor: &Actor,
    measure_id: MeasureId,
) -> AppResult<MeasureEvidence> {
    if !actor.role.reads_evidence() {
        return Err(AppError::Forbidden);
    }
    check_target(
        &state.db,
        actor.org_id,
        &Target::New {
            measure_id: Some(measure_id),
            meta: Meta::parse("x", "", "", "")?,
        },
    )
    .await?;
    let all = evidence::Entity::find()
        .filter(evidence::Column::OrgId.eq(actor.org_id))
        .filter(evidence::Column::MeasureId.eq(measure_id))
        .order_by_asc(evidence::Column::Id)
        .all(&state.db)
        .await?;
    let (hidden, shown): (Vec<_>, Vec<_>) = all.into_iter().partition(|e| e.deleted_at.is_some());
    let today = crate::format::german_day(state.now());
    let items = views(&state.db, actor.org_id, shown, today).await?;
    let hidden = if actor.role.is_admin() {
        views(&state.db, actor.org_id, hidden, today)
            .await?
            .into_iter()
            .filter(|h| h.versions.iter().any(|v| !v.purged))
            .collect()
    } else {
        Vec::new()
    };
    Ok(MeasureEvidence {
        items,
        hidden,
        can_write: actor.role.writes_evidence(),
        can_purge: actor.role.is_admin(),
        max_bytes: state.evidence.max_bytes,
    })
}

pub async fn update(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: EvidenceId,
    meta: Meta,
) -> AppResult<()> {
    if !actor.role.writes_evidence() {
        return Err(AppError::Forbidden);
    }
    let txn = db.begin_write().await?;
    let item = visible(&txn, actor.org_id, id).await?;
    let before = json!({ "title": item.title, "description": item.description, "valid_from": item.valid_from, "valid_until": item.valid_until });
    let mut am: evidence::ActiveModel = item.into();
    am.title = Set(meta.title.clone());
    am.description = Set(meta.description.clone());
    am.valid_from = Set(meta.valid_from);
    am.valid_until = Set(meta.valid_until);
    am.updated_at = Set(now);
    am.update(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "evidence", id.to_string(), "update").in_org(actor.org_id).before(before).after(json!({ "title": meta.title, "description": meta.description, "valid_from": meta.valid_from, "valid_until": meta.valid_until })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn hide(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: EvidenceId,
) -> AppResult<()> {
    if !actor.role.writes_evidence() {
        return Err(AppError::Forbidden);
    }
    let txn = db.begin_write().await?;
    let item = visible(&txn, actor.org_id, id).await?;
    let title = item.title.clone();
    let mut am: evidence::ActiveModel = item.into();
    am.deleted_at = Set(Some(now));
    am.update(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "evidence", id.to_string(), "delete")
            .in_org(actor.org_id)
            .before(json!({ "title": title })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Removes the bytes of every version of a hidden item. Blobs another row
/// still uses (the same file uploaded elsewhere) stay. The rows keep their
/// hashes and the audit log names each purged hash.
pub async fn purge(state: &AppState, actor: &Actor, id: EvidenceId) -> AppResult<()> {
    let now = state.now();
    let item = evidence::Entity::find_by_id(id)
        .filter(evidence::Column::OrgId.eq(actor.org_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Nachweis".into()))?;
    if item.deleted_at.is_none() {
        return Err(AppError::Refused(
            "Nur gelöschte (ausgeblendete) Nachweise können endgültig entfernt werden.".into(),
        ));
    }
    let versions = evidence_versions::Entity::find()
        .filter(evidence_versions::Column::EvidenceId.eq(item.id))
        .filter(evidence_versions::Column::PurgedAt.is_null())
        .all(&state.db)
        .await?;
    let txn = state.db.begin_write().await?;
    let mut hashes = Vec::new();
    for v in &versions {
        let mut am: evidence_versions::ActiveModel = v.clone().into();
        am.purged_at = Set(Some(now));
        am.update(&txn).await?;
        hashes.push(v.sha256.clone());
    }
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "evidence", id.to_string(), "purge")
            .in_org(actor.org_id)
            .before(json!({ "title": item.title, "sha256": hashes })),
    )
    .await?;
    txn.commit().await?;
    // Bytes go after the commit: a crash here leaves an unreferenced blob
    // (swept later), never a live row without its file.
    for sha in hashes {
        let still_used = evidence_versions::Entity::find()
            .filter(evidence_versions::Column::Sha256.eq(sha.as_str()))
            .filter(evidence_versions::Column::PurgedAt.is_null())
            .count(&state.db)
            .await?
            > 0;
        if !still_used {
            state
                .evidence
                .store
                .delete(&sha)
                .await
                .map_err(AppError::internal)?;
        }
    }
    Ok(())
}

/// A version the actor may download: same organisation, item not hidden,
/// bytes not purged. Anything else is "not found", whoever asks.
pub async fn downloadable(
    db: &DatabaseConnection,
    actor: &Actor,
    version_id: EvidenceVersionId,
) -> AppResult<evidence_versions::Model> {
    if !actor.role.reads_evidence() {
        return Err(AppError::Forbidden);
    }
    let not_found = || AppError::NotFound("Die Datei".into());
    let v = evidence_versions::Entity::find_by_id(version_id)
        .filter(evidence_versions::Column::OrgId.eq(actor.org_id))
        .filter(evidence_versions::Column::PurgedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    visible(db, actor.org_id, v.evidence_id)
        .await
        .map_err(|_| not_found())?;
    Ok(v)
}

/// Every live version's hash (for the consistency check).
pub async fn live_hashes(db: &DatabaseConnection) -> AppResult<Vec<(EvidenceVersionId, String)>> {
    Ok(evidence_versions::Entity::find()
        .filter(evidence_versions::Column::PurgedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v.sha256))
        .collect())
}
