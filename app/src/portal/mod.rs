//! The customer portal (`/portal`): for the controllers who signed an AVV,
//! the current signed TOM annex with its fingerprint, every earlier version,
//! and the current subprocessors with their attestations. Separate from the
//! internal pages; customers see nothing else.

mod page;
pub use page::PortalPage;

pub use crate::subprocessors::PortalAttestation;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::annex::{AnnexChange, PublicationInfo};
use crate::error::AppError;

/// Published annexes for download.
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalSubprocessor {
    pub name: String,
    pub service: String,
    pub locations: String,
    pub safeguard: String,
    pub status: String,
    pub attestations: Vec<PortalAttestation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalView {
    pub org_name: String,
    /// How to reach the processor's data protection officer (free text).
    pub dpo_contact: String,
    /// The newest published version, if any.
    pub current: Option<PublicationInfo>,
    /// Older versions, newest first.
    pub earlier: Vec<PublicationInfo>,
    /// Active and planned subprocessors.
    pub subprocessors: Vec<PortalSubprocessor>,
    /// The newest published Anlage 2 (version and SHA-256), if any.
    pub anlage2: Option<(i32, String)>,
    /// What changed since this person last opened the portal; `None` on the first visit.
    pub since_last_visit: Option<SinceLastVisit>,
    /// The notices about subprocessors, as `portal/notices` returns them
    /// (read here too, so the page reads the subprocessors once).
    pub notices: Vec<crate::notices::PortalNotice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinceLastVisit {
    /// German date and time of the last visit.
    pub visited_at: crate::format::LocalTime,
    /// The version that was current then (0: none was published).
    pub version_then: i32,
    /// From that version to the current one; empty if it is still current.
    pub changes: Vec<AnnexChange>,
}

/// What changed from version `from` to version `to` (any two published versions).
#[server(endpoint = "portal/compare")]
pub async fn compare_versions(from: i32, to: i32) -> Result<Vec<AnnexChange>, AppError> {
    let (state, actor) = crate::auth::require_signed_in().await?;
    service::compare(&state.db, actor.org_id, from, to).await
}

/// The portal of the signed-in person's organisation (every member; it is
/// the only page customers have).
#[server(endpoint = "portal/overview")]
pub async fn get_portal() -> Result<PortalView, AppError> {
    let (state, actor) = crate::auth::require_signed_in().await?;
    service::overview(&state.db, &actor, state.now()).await
}
