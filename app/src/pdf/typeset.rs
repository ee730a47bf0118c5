//! Renders documents to PDF with an embedded Typst compiler: the annex,
//! pledge copies, certificates and review reports.
//!
//! The Typst world is sealed: each template is compiled into the binary,
//! the data is the only other file (`/data.json`), the fonts come from
//! typst-assets, and there is no file system, package or network access.
//! Library, font book and fonts are built once per process. Rendering is
//! CPU work: async callers run it on `spawn_blocking`.

use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The data could not be serialised to JSON.
    #[error("document data could not be serialised: {0}")]
    Data(#[from] serde_json::Error),
    /// Typst reported errors while compiling the template.
    #[error("Typst compilation failed: {0}")]
    Compile(String),
    /// The PDF export failed (e.g. a PDF/A rule was violated).
    #[error("PDF export failed: {0}")]
    Export(String),
}

/// A Typst template compiled into the binary, under a fixed virtual path.
pub struct Template {
    id: FileId,
    source: Source,
    text: &'static str,
}

impl Template {
    /// `path` must be unique per template (file ids are interned for the
    /// process lifetime); build each template once, e.g. in a `OnceLock`.
    pub fn new(path: &str, text: &'static str) -> Self {
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

/// A rendered document and whether it conforms to PDF/A-2b.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    /// `None` if PDF/A-2b; otherwise why it fell back to plain PDF.
    pub not_pdfa: Option<String>,
}

/// Compiles `template` with `data` as `/data.json` and exports a PDF/A-2b
/// document (plain PDF 1.7 if the content cannot conform, see below; a
/// warning is logged then). `date` is the document's date (Typst's `today`
/// and the PDF creation date), `ident` seeds the PDF document id: the same
/// input gives the same bytes.
pub fn typeset(
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
    // Typst memoises evaluation and layout (comemo) for the next compile of
    // a similar document: worth it in an editor that recompiles on every
    // keystroke, the reason the typst CLI keeps what the last 10 compiles
    // used. A server renders now and then (a publication, a preview), and
    // what a compile memoised stayed in memory until ten more had run: the
    // 300-measure annex's layout among it. So nothing is kept.
    typst::comemo::evict(0);
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
