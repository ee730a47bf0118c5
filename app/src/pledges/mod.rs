//! Confidentiality pledges (Verpflichtung auf die Vertraulichkeit nach
//! Art. 28 Abs. 3 lit. b, Art. 29, Art. 32 Abs. 4 DSGVO).
//!
//! The DPO sets the text (versions; a new version must be signed again);
//! staff read the whole text and sign by typing their full name and
//! confirming with their password; the signature keeps the text version and
//! hash, time and client, and a PDF copy with the signature block rendered
//! with Typst. Signatures are never changed.

mod page;
pub use page::{PledgeAdminPage, PledgePage, PledgeReminder, Text};

use crate::ids::{PledgeTextId, ProviderId, SignatureId, UserId};
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::format::LocalTime;

/// The signed copy, the overview as CSV, signing confirmed by SSO.
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;

/// One block of a text: a heading, a paragraph, a list item or (in
/// courses) an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// `heading`, `paragraph`, `item` or `image`.
    pub kind: String,
    /// The text; an image's description (its alt text).
    pub text: String,
    /// An image's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
}

/// Optional clauses the DPO can add to the text: (key, label).
pub const CLAUSES: &[(&str, &str)] = &[
    (
        "stgb203",
        "Verschwiegenheit nach § 203 StGB (Kunden sind Berufsgeheimnisträger)",
    ),
    ("geschgehg", "Geschäftsgeheimnisse (GeschGehG)"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PledgeTextView {
    pub id: PledgeTextId,
    pub version: i32,
    pub title: String,
    pub blocks: Vec<Block>,
    pub sha256: String,
    pub clauses: Vec<String>,
    /// The day it was set (in Germany).
    pub created_at: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureView {
    pub id: SignatureId,
    pub version: i32,
    pub typed_name: String,
    pub signed_at: LocalTime,
    pub pdf_sha256: String,
}

/// What a member sees on `/verpflichtung`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyPledge {
    /// The current text, if the organisation has set one.
    pub current: Option<PledgeTextView>,
    /// The person's signature of the current text.
    pub signed: Option<SignatureView>,
    /// Signatures of earlier versions.
    pub earlier: Vec<SignatureView>,
    /// The name to type (the account's name).
    pub display_name: String,
    /// This role has to sign (admins, owners, staff; not auditors or customers).
    pub must_sign: bool,
    /// The account has a password to confirm with.
    pub has_password: bool,
    /// Identity providers the person can confirm with instead: (id, name).
    pub sso: Vec<(ProviderId, String)>,
}

crate::domain::codes! {
    /// Where a person stands with the confidentiality pledge.
    pub enum PledgeState in "state" {
        /// Signed the current version.
        Signed = "signed", "verpflichtet";
        /// Signed an earlier version only.
        Outdated = "outdated", "ältere Fassung";
        Missing = "missing", "fehlt";
    }
}

/// One person in the DPO's overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PledgeRow {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub role: String,
    pub state: PledgeState,
    pub signed_version: Option<i32>,
    pub signed_at: Option<LocalTime>,
    pub signature_id: Option<SignatureId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PledgeOverview {
    pub current: Option<PledgeTextView>,
    pub rows: Vec<PledgeRow>,
    pub signed: usize,
    pub total: usize,
    /// The sentence the annex can state.
    pub summary: String,
    /// Text (Markdown) to start editing from: the current body, or the default.
    pub draft_title: String,
    pub draft_body: String,
    pub can_edit: bool,
}

/// The signed-in member's pledge: the current text and their signatures.
#[server(endpoint = "pledges/mine")]
pub async fn get_my_pledge() -> Result<MyPledge, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::mine(&state.db, &actor).await
}

/// Signs the current text. `text_sha256` is the hash of the text the person
/// read (a newer version published meanwhile is refused), `typed_name` their
/// full name, `confirm` the confirmation that they read the whole text.
#[server(endpoint = "pledges/sign")]
pub async fn sign_pledge(
    text_id: PledgeTextId,
    text_sha256: String,
    typed_name: String,
    password: String,
    #[server(default)] confirm: String,
) -> Result<SignatureId, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let parts: axum::http::request::Parts = leptos_axum::extract()
        .await
        .map_err(crate::error::AppError::internal)?;
    let client = service::Client::from_request(&parts);
    service::sign(
        &state,
        &actor,
        service::Signing {
            text_id,
            text_sha256,
            typed_name,
            confirmed: !confirm.trim().is_empty(),
        },
        service::Confirmation::Password(password),
        client,
    )
    .await
}

/// Every member and the state of their pledge (admins and auditors).
#[server(endpoint = "pledges/overview")]
pub async fn get_pledge_overview() -> Result<PledgeOverview, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::overview(&state.db, &actor).await
}

/// Sets a new version of the text (admins). `clauses`: comma-separated keys of [`CLAUSES`].
#[server(endpoint = "pledges/publish")]
pub async fn publish_pledge(
    title: String,
    body: String,
    #[server(default)] stgb203: String,
    #[server(default)] geschgehg: String,
) -> Result<PledgeTextId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let mut clauses = Vec::new();
    if !stgb203.is_empty() {
        clauses.push("stgb203");
    }
    if !geschgehg.is_empty() {
        clauses.push("geschgehg");
    }
    service::publish(&state.db, state.now(), &actor, &title, &body, &clauses).await
}
