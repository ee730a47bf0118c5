//! The TOM catalogue: categories in the Art. 32 structure and the measures in
//! them, with owners, status, order and full history.

pub mod art32;
#[cfg(feature = "ssr")]
pub mod import;
mod import_page;
mod new_measure_page;
pub use import_page::ImportPage;
pub use new_measure_page::NewMeasurePage;

#[cfg(feature = "ssr")]
pub mod service;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use crate::domain::{MeasureStatus, Validity};
use crate::error::AppError;
use crate::ids::{CategoryId, MeasureId, UserId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRef {
    pub user_id: UserId,
    pub display_name: String,
}

/// A measure in a list, with where it stands: the catalogue's columns and
/// filters and the start page read these, computed once per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureSummary {
    pub id: MeasureId,
    pub title: String,
    pub body: String,
    pub status: MeasureStatus,
    pub owners: Vec<String>,
    /// Whether the reader is one of its owners.
    pub mine: bool,
    /// The best validity among its evidence files; `None`: no file at all.
    pub evidence: Option<Validity>,
    /// Implemented measures: when the next effectiveness review is due.
    pub next_review: Option<NaiveDate>,
    /// Implemented and its review is due (the rule of `/pruefungen`).
    pub review_due: bool,
}

impl MeasureSummary {
    /// Implemented but without a current or expiring evidence file: what
    /// the start page counts as "ohne gültigen Nachweis".
    pub fn lacks_evidence(&self) -> bool {
        self.status == MeasureStatus::Implemented && !Validity::counts(self.evidence)
    }

    /// In force and nobody is responsible for it.
    pub fn lacks_owner(&self) -> bool {
        self.status != MeasureStatus::Retired && self.owners.is_empty()
    }
}

/// The catalogue's filter chips, as GET parameters (`?filter=…`) so that a
/// filtered list works without JavaScript and can be bookmarked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogueFilter {
    WithoutEvidence,
    ReviewDue,
    WithoutOwner,
}

impl CatalogueFilter {
    pub const ALL: [CatalogueFilter; 3] = [
        CatalogueFilter::WithoutEvidence,
        CatalogueFilter::ReviewDue,
        CatalogueFilter::WithoutOwner,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            CatalogueFilter::WithoutEvidence => "ohne-nachweis",
            CatalogueFilter::ReviewDue => "pruefung-faellig",
            CatalogueFilter::WithoutOwner => "ohne-verantwortliche",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CatalogueFilter::WithoutEvidence => "Umgesetzt ohne gültigen Nachweis",
            CatalogueFilter::ReviewDue => "Prüfung fällig",
            CatalogueFilter::WithoutOwner => "Ohne Verantwortliche",
        }
    }

    /// The filter a `?filter=` value names; anything else (an old bookmark)
    /// filters nothing.
    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.slug() == slug)
    }

    pub fn matches(self, m: &MeasureSummary) -> bool {
        match self {
            CatalogueFilter::WithoutEvidence => m.lacks_evidence(),
            CatalogueFilter::ReviewDue => m.review_due,
            CatalogueFilter::WithoutOwner => m.lacks_owner(),
        }
    }
}

/// What the catalogue shows: a filter, a search text, only the reader's
/// own measures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogueQuery {
    pub filter: Option<CatalogueFilter>,
    pub search: String,
    pub mine: bool,
}

impl CatalogueQuery {
    pub fn is_empty(&self) -> bool {
        self.filter.is_none() && self.search.trim().is_empty() && !self.mine
    }

    pub fn matches(&self, m: &MeasureSummary) -> bool {
        let needle = self.search.trim().to_lowercase();
        self.filter.is_none_or(|f| f.matches(m))
            && (!self.mine || m.mine)
            && (needle.is_empty()
                || m.title.to_lowercase().contains(&needle)
                || m.body.to_lowercase().contains(&needle))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryView {
    pub id: CategoryId,
    pub number: String,
    pub title: String,
    pub parent_id: Option<CategoryId>,
    pub measures: Vec<MeasureSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueView {
    /// With a query: only the categories holding a match.
    pub categories: Vec<CategoryView>,
    pub can_edit: bool,
    /// Measures shown, and in the whole catalogue.
    pub shown: usize,
    pub total: usize,
}

/// One entry of a measure's history, with what changed against the previous one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisionView {
    pub version: i32,
    pub at: crate::format::LocalTime,
    pub actor: String,
    pub change: String,
    pub changes: Vec<String>,
    pub body: String,
    pub previous_body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryRef {
    pub id: CategoryId,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureDetail {
    pub id: MeasureId,
    pub category_id: CategoryId,
    pub category: String,
    pub title: String,
    pub body: String,
    pub status: MeasureStatus,
    pub version: i32,
    pub owners: Vec<PersonRef>,
    pub can_edit: bool,
    pub is_admin: bool,
    pub revisions: Vec<RevisionView>,
    pub categories: Vec<CategoryRef>,
    pub members: Vec<PersonRef>,
}

#[server(endpoint = "toms/measure")]
pub async fn get_measure(id: MeasureId) -> Result<MeasureDetail, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::measure_detail(&state.db, &actor, id).await
}

#[server(endpoint = "toms/categories")]
pub async fn list_categories() -> Result<Vec<CategoryRef>, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::category_refs(&state.db, actor.org_id).await
}

#[server(endpoint = "toms/measure/create")]
pub async fn create_measure(
    category_id: CategoryId,
    title: String,
    body: String,
    status: String,
) -> Result<MeasureId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let input = service::MeasureInput::parse(category_id, &title, &body, &status)?;
    let id = service::create_measure(&state.db, state.now(), &actor, input).await?;
    leptos_axum::redirect(&format!("/massnahmen/{id}"));
    Ok(id)
}

#[server(endpoint = "toms/measure/update")]
pub async fn update_measure(
    id: MeasureId,
    version: i32,
    category_id: CategoryId,
    title: String,
    body: String,
    status: String,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let input = service::MeasureInput::parse(category_id, &title, &body, &status)?;
    service::update_measure(&state.db, state.now(), &actor, id, version, input).await?;
    // A form comes back to the read view, which confirms the saved version.
    leptos_axum::redirect(&format!("/massnahmen/{id}?gespeichert=1"));
    Ok(())
}

#[server(endpoint = "toms/measure/retire")]
pub async fn retire_measure(id: MeasureId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::retire_measure(&state.db, state.now(), &actor, id).await
}

#[server(endpoint = "toms/measure/move")]
pub async fn move_measure(id: MeasureId, direction: String) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let up = service::parse_direction(&direction)?;
    service::move_measure(&state.db, state.now(), &actor, id, up).await
}

#[server(endpoint = "toms/measure/owner/add")]
pub async fn add_owner(measure_id: MeasureId, user_id: UserId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::set_owner(&state.db, state.now(), &actor, measure_id, user_id, true).await?;
    // Back to where the form stood, not to the top of the page.
    leptos_axum::redirect(&format!("/massnahmen/{measure_id}#verantwortlich"));
    Ok(())
}

#[server(endpoint = "toms/measure/owner/remove")]
pub async fn remove_owner(measure_id: MeasureId, user_id: UserId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::set_owner(&state.db, state.now(), &actor, measure_id, user_id, false).await?;
    leptos_axum::redirect(&format!("/massnahmen/{measure_id}#verantwortlich"));
    Ok(())
}

#[server(endpoint = "toms/category/add")]
pub async fn add_category(parent_id: Option<CategoryId>, title: String) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let title = crate::domain::parse_category_title(&title)?;
    service::add_category(&state.db, state.now(), &actor, parent_id, &title).await
}

#[server(endpoint = "toms/category/rename")]
pub async fn rename_category(id: CategoryId, title: String) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let title = crate::domain::parse_category_title(&title)?;
    service::rename_category(&state.db, state.now(), &actor, id, &title).await
}

#[server(endpoint = "toms/category/move")]
pub async fn move_category(id: CategoryId, direction: String) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let up = service::parse_direction(&direction)?;
    service::move_category(&state.db, state.now(), &actor, id, up).await
}

/// How a measure is named in lists: its title; without one, its first
/// sentence when that is short enough to scan (most seed measures open
/// with one that says what they are), else its start, cut at a word.
pub fn label(title: &str, body: &str) -> String {
    const SHORT: usize = 90;
    const CUT: usize = 80;
    if !title.trim().is_empty() {
        return title.trim().to_owned();
    }
    let first = body.split("\n\n").next().unwrap_or(body).trim();
    // The first sentence: up to a full stop, question or exclamation mark
    // followed by a space and a capital, unless the stop ends an
    // abbreviation ("z. B. Firewalls", "gem. Art. 32").
    const ABBREVIATIONS: &[&str] = &[
        "z", "b", "d", "h", "u", "a", "s", "art", "abs", "nr", "ggf", "bzw", "inkl", "ca", "usw",
        "etc", "vgl", "gem", "lit", "bspw", "evtl", "max", "min", "ff", "dr", "str",
    ];
    // The word before a stop, looked at only where a sentence could end
    // (building it at every character made this most of the start page's
    // time for 300 measures).
    let ends_abbreviation = |before: &[char]| {
        let start = before
            .iter()
            .rposition(|c| c.is_whitespace())
            .map_or(0, |p| p + 1);
        let word: String = before[start..].iter().collect();
        ABBREVIATIONS.contains(&word.to_lowercase().as_str())
    };
    let chars: Vec<char> = first.chars().collect();
    let sentence_end = (1..chars.len().saturating_sub(1)).find(|&i| {
        matches!(chars[i], '.' | '!' | '?')
            && chars[i + 1] == ' '
            && chars.get(i + 2).is_some_and(|c| c.is_uppercase())
            && !(chars[i] == '.' && ends_abbreviation(&chars[..i]))
    });
    let sentence: String = match sentence_end {
        Some(i) => chars[..=i].iter().collect(),
        None => first.to_owned(),
    };
    if sentence.chars().count() <= SHORT {
        return sentence;
    }
    let mut out: String = sentence.chars().take(CUT).collect();
    if let Some(cut) = out.rfind(' ') {
        out.truncate(cut);
    }
    out.push_str(" …");
    out
}

#[cfg(test)]
mod label_tests {
    use super::label;

    #[test]
    fn a_measure_is_named_by_its_title_or_a_short_first_sentence() {
        assert_eq!(label("Serverraum", "Irgendein Text."), "Serverraum");
        assert_eq!(
            label(
                "",
                "Virenschutz auf allen Clients. Er wird täglich aktualisiert."
            ),
            "Virenschutz auf allen Clients."
        );
        assert_eq!(
            label(
                "",
                "Backups nach Art. 32 DSGVO werden täglich erstellt. Mehr dazu im Handbuch."
            ),
            "Backups nach Art. 32 DSGVO werden täglich erstellt."
        );
        let long = "Die vom Kunden in der Software eingegebenen sowie die vom System erhobenen Daten werden mit einer User-ID gespeichert. Diese ist ein Pseudonym.";
        let l = label("", long);
        assert!(l.ends_with(" …") && l.chars().count() <= 82, "{l}");
        assert!(long.starts_with(l.trim_end_matches(" …")));
        assert_eq!(label("", "Kurz"), "Kurz");
        assert_eq!(
            label("", "Schutz z. B. durch Firewalls. Zweiter Satz."),
            "Schutz z. B. durch Firewalls."
        );
    }

    #[test]
    fn abbreviations_are_recognised_at_the_start_and_after_any_whitespace() {
        // The abbreviation is the text's first word.
        assert_eq!(
            label("", "Ca. Hundert Geräte sind erfasst. Zweiter Satz."),
            "Ca. Hundert Geräte sind erfasst."
        );
        // After a line break inside the paragraph, and in capitals.
        assert_eq!(
            label("", "Geregelt im Vertrag,\nGEM. Anlage 2. Zweiter Satz."),
            "Geregelt im Vertrag,\nGEM. Anlage 2."
        );
        // Other stops end a sentence whatever precedes them.
        assert_eq!(label("", "Wirklich z? Ja. Nein."), "Wirklich z?");
        assert_eq!(label("", "Sofort! Dann mehr."), "Sofort!");
        // A stop that is not followed by a space and a capital does not end it.
        assert_eq!(label("", "Version 1.2 gilt. Danach"), "Version 1.2 gilt.");
    }
}

/// One block of an imported document and where it would go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRow {
    pub index: usize,
    /// The heading it stood under in the document.
    pub heading: String,
    pub text: String,
    /// "intro", "c<category id>", "skip", or "" when nothing matched.
    pub target: String,
    pub unmapped: bool,
    /// After the document's "Stand:" line: not taken over unless assigned.
    pub after_end: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportTarget {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub rows: Vec<ImportRow>,
    pub options: Vec<ImportTarget>,
    pub unmapped: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub measures: i32,
    pub intro: bool,
    pub skipped: i32,
    /// (category label, measures added) in catalogue order of first use.
    pub per_category: Vec<(String, i32)>,
}

#[server(endpoint = "toms/import/preview")]
pub async fn preview_import(text: String) -> Result<ImportPreview, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    import::preview(&state.db, actor.org_id, &text).await
}

#[server(endpoint = "toms/import/apply")]
pub async fn apply_import(text: String, targets: Vec<String>) -> Result<ImportSummary, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    import::apply(
        &state.db,
        state.now(),
        &actor.audit(),
        actor.org_id,
        &text,
        &targets,
    )
    .await
}

/// A measure named in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureRef {
    pub id: MeasureId,
    pub label: String,
    pub category: String,
}
