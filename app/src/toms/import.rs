//! Reading an existing TOM document (Markdown or plain text, German or
//! English) into blocks, each suggested a catalogue category by the meaning
//! of the heading it stands under.
//!
//! Understood: Markdown headings (`##`, `###`, numbered or not), bare heading
//! lines of plain text (also two run together, "Gewährleistung der
//! Vertraulichkeit Zutrittskontrolle": the more specific one wins), lettered
//! or numbered headings ("a) Zutrittskontrolle", "3.1 Input control"),
//! paragraphs and bullet items (`-`, `*`, `•`, `–`). Nothing is dropped: a
//! block whose heading means nothing known stays unmapped until somebody
//! assigns it; text after the "Stand:" line is kept and marked as such.

use super::art32::classify_heading;

/// Largest document accepted for import (a TOM annex is a few dozen KB).
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// Where a block stands in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Before the first heading: the introduction.
    Intro,
    /// Under a heading.
    Body,
    /// After the "Stand:" line that ends an annex.
    AfterEnd,
}

/// One paragraph or bullet item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The heading it stands under, as written (without `#` and numbering).
    pub heading: Option<String>,
    /// The catalogue category kind that heading means, if any.
    pub kind: Option<&'static str>,
    pub text: String,
    pub place: Place,
}

/// Why a document cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("Das Dokument ist leer.")]
    Empty,
    #[error(
        "Das Dokument ist mit {0} KB zu groß für einen Import (höchstens 1024 KB). Eine TOM-Anlage umfasst üblicherweise wenige Seiten Text."
    )]
    TooLarge(usize),
    #[error(
        "Das ist kein lesbarer Text (UTF-8). Bitte fügen Sie den Text als Markdown oder reinen Text ein, nicht als Word- oder PDF-Datei."
    )]
    NotText,
    #[error(
        "Im Dokument wurde keine Überschrift gefunden, die einer Kategorie nach Art. 32 DSGVO entspricht (z. B. „Zutrittskontrolle“, „Verschlüsselung“, „Input control“)."
    )]
    NoHeadings,
}

/// Checks raw bytes and returns them as text.
pub fn decode(bytes: &[u8]) -> Result<String, ImportError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge(bytes.len().div_ceil(1024)));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotText)?;
    check_text(text)?;
    Ok(text.trim_start_matches('\u{feff}').to_owned())
}

fn check_text(text: &str) -> Result<(), ImportError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge(text.len().div_ceil(1024)));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    {
        return Err(ImportError::NotText);
    }
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(())
}

fn is_title(line: &str) -> bool {
    let l = line.to_lowercase();
    l.contains("art. 32")
        || l.contains("artikel 32")
        || l.contains("article 32")
        || l.contains("art 32")
}

fn is_end_marker(line: &str) -> bool {
    let l = line.to_lowercase();
    l.starts_with("stand:")
        || l.starts_with("stand ")
            && l[6..]
                .trim_start()
                .starts_with(|c: char| c.is_ascii_digit())
        || l.starts_with("as of:")
        || l.starts_with("last updated")
}

/// "a) ", "1. ", "3.1. ", "3.1 ", "iv) " at the start: returns the rest.
fn strip_enumerator(line: &str) -> Option<&str> {
    let (head, rest) = line.split_once(char::is_whitespace)?;
    let body = head.trim_end_matches(['.', ')']);
    let marked = head.len() > body.len();
    let numeric = !body.is_empty()
        && body
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let lettered = marked
        && (body.len() == 1 && body.chars().all(|c| c.is_ascii_alphabetic())
            || !body.is_empty()
                && body
                    .chars()
                    .all(|c| matches!(c, 'i' | 'v' | 'x' | 'I' | 'V' | 'X')));
    (numeric || lettered).then(|| rest.trim())
}

fn strip_bullet(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "• ", "– ", "— ", "+ ", "· "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    None
}

/// What a line is.
enum Line<'a> {
    Heading(String, Option<&'static str>),
    Bullet(&'a str),
    Text,
}

fn classify_line(line: &str, markdown: bool) -> Line<'_> {
    if let Some(rest) = line.strip_prefix('#') {
        let text = rest.trim_start_matches('#').trim();
        let text = strip_enumerator(text).unwrap_or(text);
        let text = text
            .trim_matches(|c| c == '*' || c == '_')
            .trim()
            .to_owned();
        let kind = classify_heading(&text);
        return Line::Heading(text, kind);
    }
    if let Some(rest) = strip_bullet(line) {
        return Line::Bullet(rest);
    }
    let ends_like_prose = line.ends_with(['.', ':', ';', ',', '!', '?']);
    let short = line.chars().count() <= 160;
    if let Some(rest) = strip_enumerator(line)
        && short
        && !ends_like_prose
        && !rest.is_empty()
    {
        // "a) Zutrittskontrolle": a heading even if its meaning is unknown.
        let rest = rest.trim_matches(|c| c == '*' || c == '_').trim();
        return Line::Heading(rest.to_owned(), classify_heading(rest));
    }
    if !markdown && short && !ends_like_prose {
        let bare = line.trim_matches(|c| c == '*' || c == '_').trim();
        if let Some(kind) = classify_heading(bare) {
            return Line::Heading(bare.to_owned(), Some(kind));
        }
    }
    Line::Text
}

/// Splits a document into blocks. Fails on empty, oversized, binary input or
/// a document without a single recognisable heading.
pub fn parse(text: &str) -> Result<Vec<Block>, ImportError> {
    check_text(text)?;
    let text = text.trim_start_matches('\u{feff}');
    let markdown = text
        .lines()
        .any(|l| l.trim_start().starts_with("## ") || l.trim_start().starts_with("# "));
    let mut blocks = Vec::new();
    let mut heading: Option<String> = None;
    let mut kind: Option<&'static str> = None;
    let mut place = Place::Intro;
    let mut para: Vec<&str> = Vec::new();
    let mut seen_title = false;

    let flush = |para: &mut Vec<&str>,
                 blocks: &mut Vec<Block>,
                 heading: &Option<String>,
                 kind: Option<&'static str>,
                 place: Place| {
        if para.is_empty() {
            return;
        }
        let text = para
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        para.clear();
        if !text.is_empty() {
            blocks.push(Block {
                heading: heading.clone(),
                kind,
                text,
                place,
            });
        }
    };

    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.chars().all(|c| matches!(c, '-' | '*' | '_' | '=')) {
            flush(&mut para, &mut blocks, &heading, kind, place);
            continue;
        }
        if place != Place::AfterEnd && is_end_marker(line) {
            flush(&mut para, &mut blocks, &heading, kind, place);
            place = Place::AfterEnd;
            heading = None;
            kind = None;
            continue;
        }
        if !seen_title && blocks.is_empty() && para.is_empty() && is_title(line) {
            seen_title = true;
            continue;
        }
        match classify_line(line, markdown) {
            Line::Heading(text, k) if place != Place::AfterEnd => {
                flush(&mut para, &mut blocks, &heading, kind, place);
                heading = Some(text);
                kind = k;
                place = Place::Body;
            }
            Line::Bullet(item) => {
                flush(&mut para, &mut blocks, &heading, kind, place);
                para.push(item);
            }
            Line::Heading(..) | Line::Text => para.push(line),
        }
    }
    flush(&mut para, &mut blocks, &heading, kind, place);
    if !blocks.iter().any(|b| b.kind.is_some()) {
        return Err(ImportError::NoHeadings);
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(blocks: &[Block]) -> Vec<Option<&'static str>> {
        blocks.iter().map(|b| b.kind).collect()
    }

    #[test]
    fn lettered_checklist_with_bullets() {
        let doc = "TOM der Beispiel GmbH\n\na) Zutrittskontrolle\n- Alarmanlage\n- Chipkarten für alle Türen\n\nb) Zugangskontrolle\n* Kennwörter mit 12 Zeichen\n* Zwei-Faktor-Anmeldung\n\nc) Auftragskontrolle\n- Verträge nach Art. 28\n";
        let blocks = parse(doc).unwrap();
        let texts: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "TOM der Beispiel GmbH",
                "Alarmanlage",
                "Chipkarten für alle Türen",
                "Kennwörter mit 12 Zeichen",
                "Zwei-Faktor-Anmeldung",
                "Verträge nach Art. 28"
            ]
        );
        assert_eq!(
            kinds(&blocks),
            [
                None,
                Some("zutrittskontrolle"),
                Some("zutrittskontrolle"),
                Some("zugangskontrolle"),
                Some("zugangskontrolle"),
                None
            ]
        );
        assert_eq!(blocks[0].place, Place::Intro);
        // The unknown heading is kept, so the person can see and assign it.
        assert_eq!(blocks[5].heading.as_deref(), Some("Auftragskontrolle"));
        assert_eq!(blocks[5].place, Place::Body);
    }

    #[test]
    fn english_annex_maps_by_meaning() {
        let doc = "# Technical and organisational measures (Article 32 GDPR)\n\n## Physical access control\nBadge readers on all doors.\n\n## Input control\nAll changes are logged.\n\n## Encryption\nTLS 1.3 everywhere.\n";
        let blocks = parse(doc).unwrap();
        assert_eq!(
            kinds(&blocks),
            [
                Some("zutrittskontrolle"),
                Some("eingabekontrolle"),
                Some("verschluesselung")
            ]
        );
    }

    #[test]
    fn bad_input_is_named() {
        assert_eq!(parse(""), Err(ImportError::Empty));
        assert_eq!(parse("  \n\n "), Err(ImportError::Empty));
        assert_eq!(
            parse("Nur ein Absatz ohne Überschrift.\n\nUnd noch einer."),
            Err(ImportError::NoHeadings)
        );
        assert_eq!(decode(&[0xff, 0xfe, 0x00, 0x41]), Err(ImportError::NotText));
        assert_eq!(
            decode(b"%PDF-1.7\n\x00\x01binary"),
            Err(ImportError::NotText)
        );
        assert!(matches!(
            decode(&vec![b'a'; 5 * 1024 * 1024]),
            Err(ImportError::TooLarge(5120))
        ));
    }

    #[test]
    fn text_after_the_stand_line_is_kept_and_marked() {
        let doc =
            "Verschlüsselung\nAlles ist verschlüsselt.\n\nStand: 01.04.2023\n\nCookie-Hinweis\n";
        let blocks = parse(doc).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].place, Place::AfterEnd);
        assert_eq!(blocks[1].text, "Cookie-Hinweis");
        assert_eq!(blocks[1].kind, None);
    }
}

mod apply {
    use chrono::{DateTime, Utc};

    use crate::entities::BeginWrite;
    use crate::ids::OrgId;
    use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
    use serde_json::json;

    use super::{Block, Place, parse};
    use crate::audit::service::{AuditActor, AuditEvent, record};
    use crate::domain::{MeasureStatus, MeasureText};
    use crate::entities::organisations;
    use crate::error::{AppError, AppResult};
    use crate::ids::CategoryId;
    use crate::toms::service::{MeasureInput, insert_measure, ordered_categories};
    use crate::toms::{ImportPreview, ImportRow, ImportSummary, ImportTarget};

    /// Where a block goes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Target {
        Intro,
        Category(CategoryId),
        Skip,
        Unassigned,
    }

    impl Target {
        pub fn encode(self) -> String {
            match self {
                Target::Intro => "intro".into(),
                Target::Category(id) => format!("c{id}"),
                Target::Skip => "skip".into(),
                Target::Unassigned => String::new(),
            }
        }

        fn decode(s: &str, categories: &[(String, CategoryId, String)]) -> AppResult<Self> {
            match s {
                "intro" => Ok(Target::Intro),
                "skip" => Ok(Target::Skip),
                "" => Ok(Target::Unassigned),
                other => other
                    .strip_prefix('c')
                    .and_then(|id| id.parse::<CategoryId>().ok())
                    .filter(|id| categories.iter().any(|(_, c, _)| c == id))
                    .map(Target::Category)
                    .ok_or_else(|| {
                        AppError::invalid("targets", format!("Unbekanntes Ziel „{other}“."))
                    }),
            }
        }
    }

    /// (label "3.1. Zutrittskontrolle", id, kind) in catalogue order.
    async fn category_list(
        db: &DatabaseConnection,
        org_id: OrgId,
    ) -> AppResult<Vec<(String, CategoryId, String)>> {
        Ok(ordered_categories(db, org_id)
            .await?
            .into_iter()
            .map(|(n, c)| (format!("{n}. {}", c.title), c.id, c.kind))
            .collect())
    }

    fn parse_text(text: &str) -> AppResult<Vec<Block>> {
        parse(text).map_err(|e| AppError::invalid("text", e.to_string()))
    }

    /// The automatic mapping of every block.
    pub async fn suggest(
        db: &DatabaseConnection,
        org_id: OrgId,
        text: &str,
    ) -> AppResult<(Vec<Block>, Vec<Target>, Vec<(String, CategoryId, String)>)> {
        let blocks = parse_text(text)?;
        let cats = category_list(db, org_id).await?;
        let targets = blocks
            .iter()
            .map(|b| match (b.place, b.kind) {
                (Place::Intro, _) => Target::Intro,
                (Place::AfterEnd, _) => Target::Skip,
                (Place::Body, Some(kind)) => cats
                    .iter()
                    .find(|(_, _, k)| k == kind)
                    .map_or(Target::Unassigned, |(_, id, _)| Target::Category(*id)),
                (Place::Body, None) => Target::Unassigned,
            })
            .collect();
        Ok((blocks, targets, cats))
    }

    pub async fn preview(
        db: &DatabaseConnection,
        org_id: OrgId,
        text: &str,
    ) -> AppResult<ImportPreview> {
        let (blocks, targets, cats) = suggest(db, org_id, text).await?;
        let rows: Vec<ImportRow> = blocks
            .into_iter()
            .zip(&targets)
            .enumerate()
            .map(|(index, (b, t))| ImportRow {
                index,
                heading: b.heading.unwrap_or_default(),
                text: b.text,
                target: t.encode(),
                unmapped: *t == Target::Unassigned,
                after_end: b.place == Place::AfterEnd,
            })
            .collect();
        let mut options = vec![ImportTarget {
            value: "intro".into(),
            label: "Einleitung (ersetzt den bisherigen Einleitungstext)".into(),
        }];
        options.extend(cats.iter().map(|(label, id, _)| ImportTarget {
            value: format!("c{id}"),
            label: label.clone(),
        }));
        options.push(ImportTarget {
            value: "skip".into(),
            label: "Nicht übernehmen".into(),
        });
        Ok(ImportPreview {
            unmapped: rows.iter().filter(|r| r.unmapped).count(),
            rows,
            options,
        })
    }

    /// Imports with the given target per block (encoded as in [`Target::encode`]).
    /// Every block must have a target; "skip" is a deliberate choice.
    pub async fn apply(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
        actor: &AuditActor,
        org_id: OrgId,
        text: &str,
        targets: &[String],
    ) -> AppResult<ImportSummary> {
        let blocks = parse_text(text)?;
        let cats = category_list(db, org_id).await?;
        if targets.len() != blocks.len() {
            return Err(AppError::invalid(
                "targets",
                format!(
                    "Die Zuordnung passt nicht zum Text ({} Ziele für {} Abschnitte). Bitte laden Sie die Vorschau neu.",
                    targets.len(),
                    blocks.len()
                ),
            ));
        }
        let targets: Vec<Target> = targets
            .iter()
            .map(|t| Target::decode(t, &cats))
            .collect::<AppResult<_>>()?;
        plan_and_store(db, now, actor, org_id, &blocks, &targets, &cats).await
    }

    pub async fn plan_and_store(
        db: &DatabaseConnection,
        now: DateTime<Utc>,
        actor: &AuditActor,
        org_id: OrgId,
        blocks: &[Block],
        targets: &[Target],
        cats: &[(String, CategoryId, String)],
    ) -> AppResult<ImportSummary> {
        let open: Vec<&Block> = blocks
            .iter()
            .zip(targets)
            .filter(|(_, t)| **t == Target::Unassigned)
            .map(|(b, _)| b)
            .collect();
        if let Some(first) = open.first() {
            let excerpt: String = first.text.chars().take(60).collect();
            return Err(AppError::invalid(
                "targets",
                format!(
                    "{} Abschnitt(e) sind noch keiner Kategorie zugeordnet, z. B. „{excerpt}…“. Wählen Sie eine Kategorie oder „Nicht übernehmen“.",
                    open.len()
                ),
            ));
        }
        let mut inputs = Vec::new();
        let mut intro = Vec::new();
        for (b, t) in blocks.iter().zip(targets) {
            match t {
                Target::Intro => intro.push(b.text.clone()),
                Target::Category(id) => inputs.push((
                    *id,
                    MeasureInput {
                        category_id: *id,
                        title: String::new(),
                        body: MeasureText::parse(&b.text)?,
                        status: MeasureStatus::Implemented,
                    },
                )),
                Target::Skip | Target::Unassigned => {}
            }
        }
        let mut per_category: Vec<(String, i32)> = Vec::new();
        for (id, _) in &inputs {
            let label = cats
                .iter()
                .find(|(_, c, _)| c == id)
                .map(|(l, _, _)| l.clone())
                .unwrap_or_default();
            match per_category.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => per_category.push((label, 1)),
            }
        }
        let measures = inputs.len() as i32;
        let skipped = targets.iter().filter(|t| **t == Target::Skip).count() as i32;
        let actor = actor.clone();
        let intro_set = !intro.is_empty();
        let txn = db.begin_write().await?;
        for (_, input) in inputs {
            insert_measure(&txn, now, &actor, org_id, input, &[]).await?;
        }
        if !intro.is_empty() {
            let org = organisations::Entity::find_by_id(org_id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
            let before = org.intro_text.clone();
            let after = intro.join("\n\n");
            let mut am: organisations::ActiveModel = org.into();
            am.intro_text = Set(after.clone());
            am.updated_at = Set(now);
            am.update(&txn).await?;
            record(
                &txn,
                now,
                AuditEvent::new(&actor, "organisation", org_id.to_string(), "import-intro")
                    .in_org(org_id)
                    .before(json!({ "intro_text": before }))
                    .after(json!({ "intro_text": after })),
            )
            .await?;
        }
        txn.commit().await?;
        Ok(ImportSummary {
            measures,
            intro: intro_set,
            skipped,
            per_category,
        })
    }
}

pub use apply::{Target, apply, plan_and_store, preview, suggest};
