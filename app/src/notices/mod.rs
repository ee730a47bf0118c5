//! Notices of a planned new or replaced subprocessor (Art. 28(2) GDPR).
//!
//! The DPO issues a notice with an objection deadline (30 days unless set
//! otherwise); every contact of every customer gets it by mail through the
//! outbox, customers see it in the portal and may object with a reason until
//! the deadline; the DPO sees the objections per notice and customer.

mod page;
pub use page::{NoticesPanel, PortalNotices};

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::format::LocalTime;
use crate::ids::{NoticeId, SubprocessorId};
use crate::subprocessors::PortalAttestation;

#[cfg(feature = "ssr")]
pub mod service;

/// Days customers have to object unless the DPO sets another deadline.
pub const DEFAULT_OBJECTION_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectionView {
    pub customer: String,
    /// Name and address of the person who objected.
    pub by: String,
    pub at: LocalTime,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeView {
    pub id: NoticeId,
    pub subprocessor_id: SubprocessorId,
    pub subprocessor: String,
    pub replaces: Option<String>,
    pub message: String,
    pub issued_at: LocalTime,
    pub issued_by: String,
    /// The last day to object.
    pub deadline: NaiveDate,
    /// The deadline has not passed yet.
    pub open: bool,
    /// Contacts the notice was mailed to.
    pub recipients: i32,
    pub objections: Vec<ObjectionView>,
    /// Customers who have not objected.
    pub without_objection: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeList {
    pub items: Vec<NoticeView>,
    pub can_issue: bool,
    /// Subprocessors a notice can name (not terminated): (id, name, status label).
    pub subprocessors: Vec<(SubprocessorId, String, String)>,
    /// The deadline proposed for a new notice.
    pub default_deadline: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnObjection {
    pub by: String,
    pub at: LocalTime,
    pub reason: String,
}

/// A notice as a customer sees it in the portal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalNotice {
    pub id: NoticeId,
    pub subprocessor: String,
    pub service: String,
    pub locations: String,
    pub safeguard: String,
    pub attestations: Vec<PortalAttestation>,
    pub replaces: Option<String>,
    pub message: String,
    /// The day it was issued.
    pub issued_at: NaiveDate,
    /// The last day to object.
    pub deadline: NaiveDate,
    pub open: bool,
    /// The objection of the person's company, if it objected.
    pub objection: Option<OwnObjection>,
    /// The person may object now (customer user, deadline open, not yet objected).
    pub can_object: bool,
}

/// Every notice of the organisation with its objections (admins and auditors).
#[server(endpoint = "notices/list")]
pub async fn list_notices() -> Result<NoticeList, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::list(&state.db, &actor, state.now()).await
}

/// Issues a notice and mails it to every customer contact (admins).
/// `deadline` is an ISO or German date; empty means 30 days from today.
#[server(endpoint = "notices/issue")]
pub async fn issue_notice(
    subprocessor_id: SubprocessorId,
    #[server(default)] replaces_id: SubprocessorId,
    #[server(default)] message: String,
    #[server(default)] deadline: String,
) -> Result<NoticeId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let deadline = service::parse_deadline(&deadline)?;
    service::issue(
        &state.db,
        state.now(),
        &state.public_url,
        &actor,
        service::Issue {
            subprocessor_id,
            replaces_id: (replaces_id != SubprocessorId(0)).then_some(replaces_id),
            message,
            deadline,
        },
    )
    .await
}

/// The notices in the signed-in person's portal.
#[server(endpoint = "portal/notices")]
pub async fn portal_notices() -> Result<Vec<PortalNotice>, AppError> {
    let (state, actor) = crate::auth::require_signed_in().await?;
    service::for_portal(&state.db, &actor, state.now()).await
}

/// A customer objects to a notice, with a reason, before the deadline.
#[server(endpoint = "portal/notices/object")]
pub async fn object_to_notice(notice_id: NoticeId, reason: String) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_signed_in().await?;
    service::object(
        &state.db,
        state.now(),
        &state.public_url,
        &actor,
        notice_id,
        &reason,
    )
    .await
}
