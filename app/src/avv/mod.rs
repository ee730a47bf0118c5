//! The AVV (Auftragsverarbeitungsvertrag, Art. 28 GDPR): the processor's
//! standard contract text, versioned per language like the pledge texts.
//! Nachweis proposes a text of its own, written point by point along
//! Art. 28(3) (a) to (h), which refers to Anlage 1 (TOM) and Anlage 2
//! (Unterauftragsverarbeiter). Later parts of the AVV (the particulars per
//! customer, the concluded contract) build on these versions.

mod page;
#[cfg(feature = "ssr")]
pub mod service;

pub use page::AvvPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ids::AvvTextId;
use crate::pledges::Block;

/// The languages the text is kept in, German first.
pub const LOCALES: &[(&str, &str)] = &[("de", "Deutsch"), ("en", "English")];

/// Nachweis's proposal for the text, per language: (title, Markdown).
pub fn default_text(locale: &str) -> (&'static str, &'static str) {
    match locale {
        "en" => (
            "Data processing agreement (Art. 28 GDPR)",
            include_str!("default_en.md"),
        ),
        _ => (
            "Vertrag zur Auftragsverarbeitung (Art. 28 DSGVO)",
            include_str!("default_de.md"),
        ),
    }
}

/// One version of the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvvTextView {
    pub id: AvvTextId,
    pub locale: String,
    pub version: i32,
    pub title: String,
    /// The Markdown as written (for the edit form).
    pub body: String,
    /// The text as shown: headings, paragraphs, items.
    pub blocks: Vec<Block>,
    pub sha256: String,
    pub created_at: crate::format::LocalTime,
    pub created_by: String,
}

/// One language's text: the current version and the earlier ones, newest
/// first (without their bodies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvvLanguage {
    pub locale: String,
    pub label: String,
    pub current: Option<AvvTextView>,
    /// (version, SHA-256, when, by whom), newest first, the current included.
    pub history: Vec<(i32, String, crate::format::LocalTime, String)>,
    /// What the edit form starts with: the current text, else Nachweis's
    /// proposal.
    pub draft_title: String,
    pub draft_body: String,
}

/// The AVV page: every language, and whether the reader may edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvvTexts {
    pub languages: Vec<AvvLanguage>,
    pub can_edit: bool,
}

/// What saving did: a new version, or nothing because the text was unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvvSaved {
    pub id: AvvTextId,
    pub version: i32,
    pub created: bool,
}

/// The organisation's AVV texts (admins and auditors).
#[server(endpoint = "avv/texts")]
pub async fn get_avv_texts() -> Result<AvvTexts, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::texts(&state.db, &actor).await
}

/// Saves the text of one language (admins): a new version when it differs
/// from the current one, else nothing. Leads back to the page, which
/// confirms what happened (with and without JavaScript).
#[server(endpoint = "avv/save")]
pub async fn save_avv_text(
    locale: String,
    title: String,
    body: String,
) -> Result<AvvSaved, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let saved = service::save(&state.db, state.now(), &actor, &locale, &title, &body).await?;
    let outcome = if saved.created { "neu" } else { "unveraendert" };
    leptos_axum::redirect(&format!(
        "/avv?sprache={locale}&gespeichert={outcome}&fassung={}#text-{locale}",
        saved.version
    ));
    Ok(saved)
}
