//! Renders an [`AnnexData`] to PDF with the annex template (see
//! [`crate::pdf::typeset`] for the sealed Typst world).

use std::sync::OnceLock;

use super::AnnexData;
use crate::pdf::typeset::{RenderError, Rendered, Template, typeset};

/// The Typst source of the annex.
const TEMPLATE: &str = include_str!("template.typ");

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/main.typ", TEMPLATE))
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

/// Like [`render_pdf`], but says whether the PDF/A export succeeded.
pub fn render(data: &AnnexData) -> Result<Rendered, RenderError> {
    let stand = parse_stand(&data.stand);
    let version = data
        .version
        .map_or_else(|| "entwurf".to_owned(), |v| v.to_string());
    typeset(
        template(),
        serde_json::to_vec(data)?,
        stand,
        format!("nachweis-tom-anlage/{}/{version}", data.org_name),
    )
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
