//! The TOM annex ("Anlage zur Vereinbarung zur Auftragsverarbeitung") as data, and behind `ssr` its PDF renderer.
//!
//! The DTOs are plain data shared with the browser; [`render`] turns them into
//! a PDF with an embedded Typst compiler (server only).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

mod page;
pub use page::AnnexPage;

/// Everything the annex shows, already in display form (texts, date string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnexData {
    /// Full legal name of the organisation, e.g. "clickbits GmbH"; in the footer.
    pub org_name: String,
    /// Short name used in running text, e.g. "clickbits".
    pub display_short: String,
    /// Introductory paragraphs before the first section.
    pub intro: Vec<String>,
    /// The sections in document order.
    pub sections: Vec<AnnexSection>,
    /// The date the annex was issued, already formatted ("23.11.2026").
    pub stand: String,
    /// Version number of a published annex; `None` for one never published.
    pub version: Option<i32>,
    /// Marks the document as a draft ("ENTWURF" in the header).
    pub draft: bool,
    /// The audit log's head when a published version was signed
    /// ("Eintrag 1234, Prüfwert 3f2a…"), printed under the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_anchor: Option<String>,
}

/// One numbered section with the texts of its measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnexSection {
    /// The number as printed, e.g. "3.1".
    pub number: String,
    /// The heading text, e.g. "Zutrittskontrolle".
    pub title: String,
    /// Heading level: 1 for a main section, 2 for a subsection.
    pub level: u8,
    /// One paragraph per measure.
    pub measures: Vec<String>,
    /// When every measure of the section was last found effective in a
    /// review (the oldest of their dates), if the organisation states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed: Option<String>,
}

/// The new version's notice to customer contacts.
#[cfg(feature = "ssr")]
pub mod customer_notice;
/// The draft and published versions as PDF.
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod publish;
#[cfg(feature = "ssr")]
pub mod render;
#[cfg(feature = "ssr")]
pub mod service;

/// How a measure changed since the last publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Added,
    Changed,
    Moved,
    Removed,
}

impl ChangeKind {
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Added => "Neu",
            ChangeKind::Changed => "Geändert",
            ChangeKind::Moved => "Verschoben",
            ChangeKind::Removed => "Entfällt",
        }
    }
}

/// One measure's difference between the last publication and the draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnexChange {
    pub kind: ChangeKind,
    /// Section in the draft (for removed measures: where it was).
    pub section: String,
    /// Where it was, if it moved.
    pub old_section: Option<String>,
    pub old_text: Option<String>,
    pub new_text: Option<String>,
}

/// One published version, without its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicationInfo {
    pub version: i32,
    pub stand: String,
    pub published_at: crate::format::LocalTime,
    pub published_by: String,
    pub sha256: String,
    pub signer: String,
    pub self_signed: bool,
    pub pdfa: bool,
    pub size: i64,
}

impl PublicationInfo {
    /// Who signed, by name: the certificate subject's common name, and its
    /// organisation where that says more (`CN=Katrin Vogel,O=ConRat GmbH`
    /// is "Katrin Vogel, ConRat GmbH"); the subject itself if it has neither.
    pub fn signer_name(&self) -> String {
        signer_name(&self.signer)
    }
}

/// See [`PublicationInfo::signer_name`]: RFC 4514 text, `\,` escapes a comma.
pub fn signer_name(subject: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut part = String::new();
    let mut chars = subject.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => part.extend(chars.next()),
            ',' | '+' => parts.push(std::mem::take(&mut part)),
            c => part.push(c),
        }
    }
    parts.push(part);
    let attribute = |name: &str| {
        parts.iter().find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_owned())
        })
    };
    match (attribute("CN"), attribute("O")) {
        (Some(cn), Some(o)) if cn != o => format!("{cn}, {o}"),
        (Some(name), _) | (None, Some(name)) => name,
        (None, None) => subject.to_owned(),
    }
}

#[cfg(test)]
mod signer_tests {
    use super::signer_name;

    #[test]
    fn the_signer_is_named_by_common_name_and_organisation() {
        assert_eq!(
            signer_name("CN=Katrin Vogel,O=ConRat GmbH,C=DE"),
            "Katrin Vogel, ConRat GmbH"
        );
        assert_eq!(signer_name("CN=ConRat GmbH,O=ConRat GmbH"), "ConRat GmbH");
        assert_eq!(
            signer_name("O=Kanzlei Hoffmann \\, Partner,C=DE"),
            "Kanzlei Hoffmann , Partner"
        );
        assert_eq!(signer_name("C=DE"), "C=DE");
    }
}

/// Everything the annex page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnexOverview {
    pub can_publish: bool,
    pub last_version: Option<i32>,
    /// The draft reads exactly like the last publication.
    pub unchanged: bool,
    pub changes: Vec<AnnexChange>,
    /// Changes outside the measures (intro, headings, name).
    pub other_changes: Vec<String>,
    pub measure_count: i32,
    pub publications: Vec<PublicationInfo>,
    /// No configured certificate: signatures are self-signed.
    pub key_self_signed: bool,
    /// Why the draft cannot be PDF/A-2b (it would be published as plain PDF).
    pub pdfa_problem: Option<String>,
    /// Measures in the draft whose latest assessment found them not (fully)
    /// effective, with a corrective action still open.
    pub not_effective: Vec<crate::toms::MeasureRef>,
}

#[server(endpoint = "annex/overview")]
pub async fn get_annex_overview() -> Result<AnnexOverview, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    publish::overview(&state.db, &state.signing, &actor, state.now()).await
}

#[server(endpoint = "annex/publish")]
pub async fn publish_annex() -> Result<PublicationInfo, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let published = publish::publish(
        &state.db,
        &state.signing,
        &actor,
        state.now(),
        &state.public_url,
    )
    .await?;
    // A form comes back to the page, which confirms the new version.
    leptos_axum::redirect(&format!(
        "/anlage?veroeffentlicht={}",
        published.info.version
    ));
    Ok(published.info)
}
