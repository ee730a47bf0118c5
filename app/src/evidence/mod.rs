//! Evidence (Nachweise): files that prove a measure, with validity dates and
//! versions. Uploads and downloads are plain HTTP routes in the server
//! (streamed, never held in memory); listing and editing are server functions.

mod panel;
pub use panel::{EvidenceData, EvidencePanel};

/// The upload and the download.
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod sniff;
/// Taking a file in: spooled, checked, stored, recorded.
#[cfg(feature = "ssr")]
pub mod upload;

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::format::LocalTime;
use crate::ids::{EvidenceId, EvidenceVersionId, MeasureId};

pub use crate::domain::{EXPIRY_WARNING_DAYS, Validity};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceVersionView {
    pub id: EvidenceVersionId,
    pub version: i32,
    pub file_name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: LocalTime,
    pub purged: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceView {
    pub id: EvidenceId,
    pub measure_id: Option<MeasureId>,
    pub title: String,
    pub description: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub validity: Validity,
    /// Newest first; the first is the current version.
    pub versions: Vec<EvidenceVersionView>,
}

/// The evidence of one measure and what the viewer may do with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureEvidence {
    pub items: Vec<EvidenceView>,
    /// Hidden (deleted) items whose files still exist; admins only.
    pub hidden: Vec<EvidenceView>,
    pub can_write: bool,
    pub can_purge: bool,
    /// Largest upload in bytes.
    pub max_bytes: u64,
}

/// What a finished upload answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResult {
    pub evidence_id: EvidenceId,
    pub measure_id: Option<MeasureId>,
    pub version_id: EvidenceVersionId,
    pub version: i32,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub file_name: String,
}

/// Human-readable size: `1,5 MB`.
pub fn format_size(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0).replace('.', ",")
    } else if b >= 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{bytes} Bytes")
    }
}

#[server(endpoint = "evidence/list")]
pub async fn list_evidence(measure_id: MeasureId) -> Result<MeasureEvidence, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::for_measure(&state, &actor, measure_id).await
}

#[server(endpoint = "evidence/update")]
pub async fn update_evidence(
    id: EvidenceId,
    title: String,
    #[server(default)] description: String,
    #[server(default)] valid_from: String,
    #[server(default)] valid_until: String,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let meta = service::Meta::parse(&title, &description, &valid_from, &valid_until)?;
    service::update(&state.db, state.now(), &actor, id, meta).await
}

/// Hides an evidence item (its files stay until an admin purges them).
#[server(endpoint = "evidence/delete")]
pub async fn delete_evidence(id: EvidenceId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::hide(&state.db, state.now(), &actor, id).await
}

/// Removes the files of a hidden evidence item for good (admins); the rows
/// and the audit log keep their hashes.
#[server(endpoint = "evidence/purge")]
pub async fn purge_evidence(id: EvidenceId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::purge(&state, &actor, id).await
}
