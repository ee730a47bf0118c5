//! The TOM annex ("Anlage zur Vereinbarung zur Auftragsverarbeitung") as data, and behind `ssr` its PDF renderer.
//!
//! The DTOs are plain data shared with the browser; [`render`] turns them into
//! a PDF with an embedded Typst compiler (server only).

use serde::{Deserialize, Serialize};

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
}

#[cfg(feature = "ssr")]
pub mod render;
#[cfg(feature = "ssr")]
pub mod service;
