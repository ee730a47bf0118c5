//! Subprocessors (Unterauftragsverarbeiter): who processes data on the
//! organisation's behalf, where, under which transfer safeguard, and the
//! attestations (ISO/IEC 27001 certificates, SOC 2 reports, …) that prove
//! their measures. Measures can rely on a subprocessor; the annex then names
//! it and its current attestations.

mod page;
pub use page::{ListVersion, RelianceData, ReliancePanel, SubprocessorsPage};

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Validity;
use crate::error::AppError;
use crate::ids::{AttestationId, EvidenceVersionId, MeasureId, SubprocessorId};

#[cfg(feature = "ssr")]
pub mod anlage2;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;

pub use crate::domain::{AttestationKind, Safeguard, SubStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestationView {
    pub id: AttestationId,
    pub kind: AttestationKind,
    pub issuer: String,
    pub scope: String,
    pub valid_until: Option<NaiveDate>,
    pub validity: Validity,
    /// The certificate or report as an evidence file (its current version).
    pub file_version_id: Option<EvidenceVersionId>,
    pub file_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureLink {
    pub id: MeasureId,
    pub label: String,
}

/// A subprocessor named in a measure's reliance panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubprocessorLink {
    pub id: SubprocessorId,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubprocessorView {
    pub id: SubprocessorId,
    pub name: String,
    pub address: String,
    pub service: String,
    pub locations: String,
    pub safeguard: Safeguard,
    pub contact: String,
    pub status: SubStatus,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub version: i32,
    pub attestations: Vec<AttestationView>,
    pub measures: Vec<MeasureLink>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubprocessorList {
    pub items: Vec<SubprocessorView>,
    pub can_edit: bool,
}

/// A subprocessor as a measure page names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reliance {
    pub linked: Vec<SubprocessorLink>,
    pub available: Vec<SubprocessorLink>,
    pub can_edit: bool,
}

/// One published version of Anlage 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anlage2Version {
    pub version: i32,
    pub published_at: String,
    pub published_by: String,
    pub sha256: String,
    pub self_signed: bool,
    /// The subprocessors it names.
    pub subprocessors: Vec<String>,
    /// What changed since the version before ("Neu: …", "Geändert: … (…)").
    pub changes: Vec<String>,
}

/// Anlage 2 as the organisation's people see it: its versions, newest
/// first, and what the next version would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anlage2Overview {
    pub versions: Vec<Anlage2Version>,
    pub pending: Vec<String>,
    pub can_publish: bool,
    /// Notices whose objection deadline has passed while the newest
    /// version does not name their subprocessor yet: the next version is due.
    pub notices_due: Vec<String>,
    /// Objections to notices: for those customers the change waits.
    pub blocked: Vec<String>,
}

#[server(endpoint = "subprocessors/anlage2")]
pub async fn get_anlage2() -> Result<Anlage2Overview, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    anlage2::overview(&state.db, &actor, state.now()).await
}

/// Publishes the next version of Anlage 2 (admins).
#[server(endpoint = "subprocessors/anlage2/publish")]
pub async fn publish_anlage2() -> Result<i32, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let version = anlage2::publish(&state.db, &state.signing, &actor, state.now()).await?;
    // A form comes back to the list, which confirms the version.
    leptos_axum::redirect(&format!(
        "/unterauftragsverarbeiter?anlage2={version}#anlage2"
    ));
    Ok(version)
}

#[server(endpoint = "subprocessors/list")]
pub async fn list_subprocessors() -> Result<SubprocessorList, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::list(&state.db, &actor, state.now()).await
}

/// Creates (`id` = 0) or updates a subprocessor (admins).
#[server(endpoint = "subprocessors/save")]
#[allow(clippy::too_many_arguments)]
pub async fn save_subprocessor(
    #[server(default)] id: SubprocessorId,
    #[server(default)] version: i32,
    name: String,
    #[server(default)] address: String,
    #[server(default)] service: String,
    #[server(default)] locations: String,
    safeguard: String,
    #[server(default)] contact: String,
    status: String,
    #[server(default)] since: String,
    #[server(default)] until: String,
) -> Result<SubprocessorId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let input = service::Input::parse(
        &name, &address, &service, &locations, &safeguard, &contact, &status, &since, &until,
    )?;
    let id = service::save(&state.db, state.now(), &actor, id, version, input).await?;
    // Back to the saved card, which confirms the save (with and without
    // JavaScript).
    leptos_axum::redirect(&format!(
        "/unterauftragsverarbeiter?gespeichert={id}#sub-{id}"
    ));
    Ok(id)
}

#[server(endpoint = "subprocessors/attestation/add")]
pub async fn add_attestation(
    subprocessor_id: SubprocessorId,
    kind: String,
    #[server(default)] issuer: String,
    #[server(default)] scope: String,
    #[server(default)] valid_until: String,
) -> Result<AttestationId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let kind: AttestationKind = kind.parse()?;
    service::add_attestation(
        &state.db,
        state.now(),
        &actor,
        subprocessor_id,
        kind,
        &issuer,
        &scope,
        &valid_until,
    )
    .await
}

#[server(endpoint = "subprocessors/attestation/remove")]
pub async fn remove_attestation(id: AttestationId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::remove_attestation(&state.db, state.now(), &actor, id).await
}

/// The subprocessors a measure relies on, and those it could.
#[server(endpoint = "subprocessors/reliance")]
pub async fn get_reliance(measure_id: MeasureId) -> Result<Reliance, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::reliance(&state.db, &actor, measure_id).await
}

/// Links (`link` = true) or unlinks a measure and a subprocessor (admins).
#[server(endpoint = "subprocessors/link")]
pub async fn link_measure(
    measure_id: MeasureId,
    subprocessor_id: SubprocessorId,
    #[server(default)] unlink: bool,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::link(
        &state.db,
        state.now(),
        &actor,
        measure_id,
        subprocessor_id,
        !unlink,
    )
    .await
}

/// A subprocessor's attestation whose validity ends soon or ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiringAttestation {
    pub subprocessor_id: SubprocessorId,
    pub subprocessor: String,
    /// e.g. "ISO/IEC 27001".
    pub kind: String,
    pub valid_until: Option<NaiveDate>,
    pub validity: Validity,
}

/// An attestation as customers see it (portal, notices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalAttestation {
    pub kind: String,
    pub issuer: String,
    pub valid_until: Option<NaiveDate>,
    pub validity: Validity,
}
