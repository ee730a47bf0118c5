//! Renders an [`AnnexData`] to PDF with an embedded Typst compiler.
//!
//! The Typst world is sealed: the template is compiled into the binary, the
//! data is the only other file (`/data.json`), the fonts come from
//! typst-assets, and there is no file system, package or network access.
//! Library, font book and fonts are built once per process.

use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use super::AnnexData;

/// The Typst source of the annex.
const TEMPLATE: &str = include_str!("template.typ");

/// Why an annex could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The data could not be serialised to JSON.
    #[error("annex data could not be serialised: {0}")]
    Data(#[from] serde_json::Error),
    /// Typst reported errors while compiling the template.
    #[error("Typst compilation failed: {0}")]
    Compile(String),
    /// The PDF export failed (e.g. a PDF/A rule was violated).
    #[error("PDF export failed: {0}")]
    Export(String),
}

/// A Typst template compiled into the binary, under a fixed virtual path.
pub(crate) struct Template {
    id: FileId,
    source: Source,
    text: &'static str,
}

impl Template {
    /// `path` must be unique per template (file ids are interned for the
    /// process lifetime); build each template once, e.g. in a `OnceLock`.
    pub(crate) fn new(path: &str, text: &'static str) -> Self {
        let id = file_id(path);
        Template {
            id,
            source: Source::new(id, text.to_owned()),
            text,
        }
    }
}

fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("valid virtual path");
    FileId::new(RootedPath::new(VirtualRoot::Project, vpath))
}

/// What every render shares: built on first use, then reused.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    data_id: FileId,
    annex: Template,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Shared {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            data_id: file_id("/data.json"),
            annex: Template::new("/main.typ", TEMPLATE),
        }
    })
}

/// The world of one render: the shared parts, the template and this
/// document's data.
struct DocWorld<'a> {
    shared: &'static Shared,
    template: &'a Template,
    data: Bytes,
    today: Option<Datetime>,
}

impl World for DocWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.template.id
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.template.id {
            Ok(self.template.source.clone())
        } else if id == self.shared.data_id {
            Err(FileError::NotSource)
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.template.id {
            Ok(Bytes::from_string(self.template.text))
        } else if id == self.shared.data_id {
            Ok(self.data.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // The document's own date, never the clock: renders are reproducible.
        self.today
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}

/// Renders the annex to a PDF/A-2b document (plain PDF 1.7 if the content
/// cannot conform, see below; a warning is logged then).
///
/// The output is deterministic: the PDF document id is derived from the
/// organisation and version, the creation date from `stand`, so the same
/// data gives the same bytes.
pub fn render_pdf(data: &AnnexData) -> Result<Vec<u8>, RenderError> {
    render(data).map(|r| r.pdf)
}

/// A rendered annex and whether it conforms to PDF/A-2b.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    /// `None` if PDF/A-2b; otherwise why it fell back to plain PDF.
    pub not_pdfa: Option<String>,
}

/// Like [`render_pdf`], but says whether the PDF/A export succeeded.
pub fn render(data: &AnnexData) -> Result<Rendered, RenderError> {
    let stand = parse_stand(&data.stand);
    let version = data
        .version
        .map_or_else(|| "entwurf".to_owned(), |v| v.to_string());
    typeset(
        &shared().annex,
        serde_json::to_vec(data)?,
        stand,
        format!("nachweis-tom-anlage/{}/{version}", data.org_name),
    )
}

/// Compiles `template` with `data` as `/data.json` and exports a PDF/A-2b
/// document (plain PDF 1.7 if the content cannot conform, see below; a
/// warning is logged then). `date` is the document's date (Typst's `today`
/// and the PDF creation date), `ident` seeds the PDF document id: the same
/// input gives the same bytes.
pub(crate) fn typeset(
    template: &Template,
    data: Vec<u8>,
    date: Option<(i32, u8, u8)>,
    ident: String,
) -> Result<Rendered, RenderError> {
    let world = DocWorld {
        shared: shared(),
        template,
        data: Bytes::new(data),
        today: date.and_then(|(y, m, d)| Datetime::from_ymd(y, m, d)),
    };

    let compiled = typst::compile::<PagedDocument>(&world);
    // Drop cache entries unused for 10 compilations, as the typst CLI does
    // after each compile; keeps a long-running server's memory bounded.
    typst::comemo::evict(10);
    let document = compiled
        .output
        .map_err(|errors| RenderError::Compile(describe(&world, &errors)))?;

    let mut options = PdfOptions {
        ident: Smart::Custom(ident),
        timestamp: date
            .and_then(|(y, m, d)| Datetime::from_ymd_hms(y, m, d, 0, 0, 0))
            .map(Timestamp::new_utc),
        standards: PdfStandards::new(&[PdfStandard::A_2b])
            .map_err(|e| RenderError::Export(e.message().to_string()))?,
        ..PdfOptions::default()
    };
    // PDF/A-2b normally passes: the bundled fonts are embedded and the
    // template's colours are plain sRGB. krilla rejects it only for input
    // PDF/A forbids, e.g. a character no bundled font has (an emoji: the
    // `.notdef` glyph) or a document without a date (PDF/A needs a creation
    // date). Then fall back to a plain PDF 1.7 rather than no document at all.
    match typst_pdf::pdf(&document, &options) {
        Ok(pdf) => Ok(Rendered {
            pdf,
            not_pdfa: None,
        }),
        Err(errors) => {
            let reason = describe(&world, &errors);
            tracing::warn!(%reason, "document is not PDF/A-2b conformant; exporting it as plain PDF");
            options.standards = PdfStandards::default();
            let pdf = typst_pdf::pdf(&document, &options)
                .map_err(|errors| RenderError::Export(describe(&world, &errors)))?;
            Ok(Rendered {
                pdf,
                not_pdfa: Some(reason),
            })
        }
    }
}

/// `"23.11.2026"` as (year, month, day); `None` if `stand` has another form.
pub(crate) fn parse_stand(stand: &str) -> Option<(i32, u8, u8)> {
    let mut parts = stand.trim().split('.');
    let day = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let year = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((year, month, day))
}

/// Joins Typst diagnostics into one message, with the template line where known.
fn describe(world: &DocWorld<'_>, diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|diag| {
            let mut line = String::new();
            if let Some(id) = diag.span.id()
                && let Some(range) = world.range(diag.span)
            {
                line.push_str(id.vpath().get_with_slash());
                if id == world.template.id
                    && let Some(n) = world.template.source.lines().byte_to_line(range.start)
                {
                    line.push_str(&format!(":{}", n + 1));
                }
                line.push_str(": ");
            }
            line.push_str(&diag.message);
            for hint in &diag.hints {
                line.push_str(&format!(" (hint: {})", hint.v));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annex::AnnexSection;

    fn section(number: &str, title: &str, level: u8, measures: &[&str]) -> AnnexSection {
        AnnexSection {
            number: number.to_owned(),
            title: title.to_owned(),
            level,
            measures: measures.iter().map(|m| (*m).to_owned()).collect(),
            reviewed: None,
        }
    }

    /// A few sections of seed 003 (clickbits GmbH).
    fn seed_003() -> AnnexData {
        AnnexData {
            org_name: "clickbits GmbH".to_owned(),
            display_short: "clickbits".to_owned(),
            intro: vec![
                "Die clickbits GmbH trifft folgende technische und organisatorische Maßnahmen, um bei der Verarbeitung personenbezogener Daten ein angemessenes Schutzniveau zu gewährleisten:".to_owned(),
                "Hier sind die technischen und organisatorischen Maßnahmen als Anlage zur \"Vereinbarung zur Auftragsverarbeitung nach EU-Datenschutzgrundverordnung (DSGVO)\" aufgeführt.".to_owned(),
            ],
            sections: vec![
                section("1", "Pseudonymisierung", 1, &[
                    "Die vom Nutzer in der Software eingegebenen sowie die vom System erhobenen Daten werden mit einer User-ID gespeichert. Diese ist ein Pseudonym für den jeweiligen Nutzer und lässt sich über eine weitere Tabelle dem Benutzernamen und der E-Mail-Adresse des Nutzers zuordnen.",
                ]),
                section("2", "Verschlüsselung", 1, &[
                    "Datenträger in den Geschäftsräumen mit personenbezogenen Daten werden entsprechend dem Stand der Technik verschlüsselt.",
                    "Die Software ist durch den Kunden ausschließlich über verschlüsselte Internetverbindungen (https) nutzbar.",
                ]),
                section("3", "Gewährleistung der Vertraulichkeit", 1, &[]),
                section("3.1", "Zutrittskontrolle", 2, &[
                    "Der Zutritt zu den Geschäftsräumen erfolgt über ein Schließsystem mit kontrollierter Schlüsselvergabe. Besucher dürfen die Geschäftsräume nur in Begleitung berechtigter Mitarbeiter betreten.",
                ]),
                section("3.2", "Zugangskontrolle", 2, &[
                    "Die Anmeldung an IT-Systemen erfolgt über mindestens 12-stellige Kennwörter mit Sonderzeichen, Ziffern und/oder Klein-/Großbuchstaben.",
                    "Für Remote-Zugriffe werden personenbezogene VPN-Zugänge genutzt. Client-Rechner und Notebooks sowie deren Backups sind vollständig verschlüsselt.",
                ]),
                section("5", "Gewährleistung der Verfügbarkeit", 1, &[
                    "Von Server-Systemen werden mehrmals täglich Backups durchgeführt. Sicherungen werden zusätzlich räumlich getrennt an einem anderen Standort gespeichert.",
                ]),
            ],
            stand: "23.11.2026".to_owned(),
            version: Some(3),
            draft: false,
            audit_anchor: None,
        }
    }

    /// The text of a PDF as `pdftotext -layout` sees it.
    fn pdf_text(pdf: &[u8], name: &str) -> String {
        let path =
            std::env::temp_dir().join(format!("nachweis-annex-{name}-{}.pdf", std::process::id()));
        std::fs::write(&path, pdf).expect("write temp pdf");
        let output = std::process::Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .expect("run pdftotext (poppler-utils)");
        let _ = std::fs::remove_file(&path);
        assert!(output.status.success(), "pdftotext failed: {output:?}");
        String::from_utf8(output.stdout).expect("pdftotext prints UTF-8")
    }

    /// The text as running prose: words hyphenated at a line end (Typst
    /// writes a soft hyphen, U+00AD, there) are joined again, and runs of
    /// whitespace collapse to one space.
    fn squash(text: &str) -> String {
        let mut out = String::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(stem) = out.strip_suffix('\u{ad}') {
                out.truncate(stem.len());
            } else if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(line);
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn annex_renders_seed_sections_to_pdf() {
        let start = std::time::Instant::now();
        let pdf = render_pdf(&seed_003()).expect("render");
        eprintln!(
            "annex render (first, includes font loading): {:?}",
            start.elapsed()
        );
        assert!(pdf.starts_with(b"%PDF-"));

        let text = pdf_text(&pdf, "seed");
        let flat = squash(&text);
        for expected in [
            "Technische und organisatorische Maßnahmen nach Art. 32 DSGVO",
            "Anlage zur Vereinbarung zur Auftragsverarbeitung",
            "3.1. Zutrittskontrolle",
            "Besucher dürfen die Geschäftsräume nur in Begleitung berechtigter Mitarbeiter betreten.",
            "über ein Schließsystem mit kontrollierter Schlüsselvergabe.",
            "Anlage zur „Vereinbarung zur Auftragsverarbeitung nach EU-Datenschutzgrundverordnung (DSGVO)“ aufgeführt.",
            "Stand: 23.11.2026",
            "Version 3",
        ] {
            assert!(flat.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(
            text.contains("3.1. Zutrittskontrolle"),
            "heading not on one line:\n{text}"
        );
        assert!(text.contains("Stand: 23.11.2026"), "{text}");
        assert!(
            text.contains("Seite 1/"),
            "footer page number missing:\n{text}"
        );
        assert!(text.contains("clickbits GmbH"), "{text}");
        assert!(
            !text.contains("ENTWURF"),
            "a published annex is no draft:\n{text}"
        );

        // Same data, same bytes (fixed ident and timestamp); later renders are cheap.
        let start = std::time::Instant::now();
        let again = render_pdf(&seed_003()).expect("render again");
        eprintln!("annex render (second): {:?}", start.elapsed());
        assert!(pdf == again, "rendering is not deterministic");
    }

    /// Whether the PDF declares PDF/A-2b in its XMP metadata (krilla writes
    /// the metadata stream uncompressed).
    fn is_pdfa_2b(pdf: &[u8]) -> bool {
        let text = String::from_utf8_lossy(pdf);
        text.contains("<pdfaid:part>2</pdfaid:part>")
            && text.contains("<pdfaid:conformance>B</pdfaid:conformance>")
    }

    #[test]
    fn annex_is_pdfa_2b() {
        assert!(is_pdfa_2b(&render_pdf(&seed_003()).expect("render")));
    }

    #[test]
    fn annex_without_pdfa_conformance_still_renders() {
        // No bundled font has an emoji (PDF/A forbids the .notdef glyph), and
        // a `stand` that is no date leaves PDF/A without its creation date.
        let mut data = seed_003();
        data.sections[0].measures =
            vec!["Freigegeben \u{1F642} von der Geschäftsführung.".to_owned()];
        let pdf = render_pdf(&data).expect("render with emoji");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(!is_pdfa_2b(&pdf));
        assert!(squash(&pdf_text(&pdf, "emoji")).contains("von der Geschäftsführung."));

        let mut data = seed_003();
        data.stand = "Herbst 2026".to_owned();
        let pdf = render_pdf(&data).expect("render with free-form stand");
        assert!(!is_pdfa_2b(&pdf));
        assert!(pdf_text(&pdf, "stand").contains("Stand: Herbst 2026"));
    }

    #[test]
    fn annex_draft_is_marked() {
        let mut data = seed_003();
        data.draft = true;
        data.version = None;
        let text = pdf_text(&render_pdf(&data).expect("render"), "draft");
        assert!(text.contains("ENTWURF"), "{text}");
        assert!(!text.contains("Version"), "{text}");
    }

    #[test]
    fn annex_markup_in_data_is_rendered_literally() {
        let mut data = seed_003();
        let hostile =
            r#"Kein Markup: #panic("x") *bold* $x$ <label> @ref _kursiv_ `code` \ = Titel"#;
        data.sections[0].measures = vec![hostile.to_owned()];
        data.sections[0].title = "#panic(\"im Titel\") *fett*".to_owned();
        data.org_name = "#panic(\"org\") GmbH".to_owned();
        data.intro = vec!["= Keine Überschrift".to_owned()];

        let pdf = render_pdf(&data).expect("markup in data must not break compilation");
        let text = pdf_text(&pdf, "markup");
        let flat = squash(&text);
        assert!(text.contains(r#"#panic("x")"#), "{text}");
        assert!(flat.contains(&squash(hostile)), "{text}");
        assert!(flat.contains(r#"1. #panic("im Titel") *fett*"#), "{text}");
        assert!(flat.contains(r#"#panic("org") GmbH"#), "{text}");
        assert!(flat.contains("= Keine Überschrift"), "{text}");
    }
}
