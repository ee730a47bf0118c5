//! What an uploaded file really is, judged by its first bytes, not by its
//! name or the type the browser claims; and a file name that is safe to show
//! and to put in a `Content-Disposition` header.

/// The types evidence may have, with the content type stored and served.
pub const ALLOWED: &[(&str, &str)] = &[
    ("PDF", "application/pdf"),
    ("PNG", "image/png"),
    ("JPEG", "image/jpeg"),
    ("WebP", "image/webp"),
    ("Text", "text/plain; charset=utf-8"),
    ("CSV", "text/csv; charset=utf-8"),
    (
        "DOCX",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ODT", "application/vnd.oasis.opendocument.text"),
    ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    ("E-Mail", "message/rfc822"),
];

/// Why a file was refused, in words for the uploader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

fn allowed_list() -> String {
    ALLOWED
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decides the content type from the file's first bytes (`head`, up to
/// 256 KiB) and its name (only to tell text formats apart).
pub fn content_type(head: &[u8], file_name: &str) -> Result<&'static str, Refused> {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        if let Some((_, ct)) = ALLOWED
            .iter()
            .find(|(_, ct)| ct.split(';').next() == Some(mime))
        {
            return Ok(ct);
        }
        return Err(Refused(format!(
            "Dateien dieser Art ({mime}) können nicht als Nachweis hochgeladen werden. Erlaubt sind: {}.",
            allowed_list()
        )));
    }
    if head.is_empty() {
        return Err(Refused("Die Datei ist leer.".into()));
    }
    if !is_text(head) {
        return Err(Refused(format!(
            "Der Dateiinhalt passt zu keiner erlaubten Art. Erlaubt sind: {}.",
            allowed_list()
        )));
    }
    if looks_like_markup(head)
        || matches!(
            ext.as_str(),
            "html" | "htm" | "xhtml" | "svg" | "xml" | "js"
        )
    {
        return Err(Refused(
            "HTML-, SVG- und XML-Dateien werden nicht angenommen, weil ein Browser sie als Seite ausführen könnte. Bitte laden Sie stattdessen ein PDF hoch.".into(),
        ));
    }
    Ok(match ext.as_str() {
        "csv" => "text/csv; charset=utf-8",
        "eml" if looks_like_mail(head) => "message/rfc822",
        "eml" => {
            return Err(Refused(
                "Die Datei heißt .eml, enthält aber keine E-Mail (keine Kopfzeilen wie From: oder Subject:).".into(),
            ));
        }
        _ => "text/plain; charset=utf-8",
    })
}

/// UTF-8 without NUL or other control characters (a cut-off last character
/// at the end of `head` is fine).
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            // Incomplete sequence at the very end: the head cut a character.
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(s) => s,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

fn looks_like_markup(head: &[u8]) -> bool {
    let start: String = String::from_utf8_lossy(&head[..head.len().min(1024)])
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    [
        "<!doctype",
        "<html",
        "<svg",
        "<?xml",
        "<head",
        "<body",
        "<script",
        "<iframe",
    ]
    .iter()
    .any(|p| start.starts_with(p))
}

fn looks_like_mail(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(8192)]);
    let headers: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).collect();
    let named = |n: &str| {
        headers
            .iter()
            .any(|l| l.len() > n.len() && l[..n.len()].eq_ignore_ascii_case(n))
    };
    named("from:") && (named("subject:") || named("date:") || named("to:"))
}

/// The last path component, without control characters or characters that
/// are special in file systems and headers, at most 200 characters.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '|' | '?' | '*' | ';' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let short: String = trimmed.chars().take(200).collect();
    if short.is_empty() {
        "nachweis".to_owned()
    } else {
        short
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` with an ASCII fallback.
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .map(|c| if c == '"' || c == '\\' { '_' } else { c })
        .collect();
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_types_are_recognised_whatever_the_name() {
        assert_eq!(
            content_type(b"%PDF-1.7\n%\xe2\xe3", "a.pdf"),
            Ok("application/pdf")
        );
        assert_eq!(
            content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "bild.jpg"),
            Ok("image/png")
        );
        assert_eq!(
            content_type(b"Name;Datum\nA;1\n", "liste.csv"),
            Ok("text/csv; charset=utf-8")
        );
        assert_eq!(
            content_type("Schulung am 1.3.\n".as_bytes(), "notiz.txt"),
            Ok("text/plain; charset=utf-8")
        );
        assert_eq!(
            content_type(b"From: a@b.de\r\nSubject: Test\r\n\r\nHallo", "m.eml"),
            Ok("message/rfc822")
        );
    }

    #[test]
    fn executables_markup_and_binary_junk_are_refused() {
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0";
        assert!(content_type(exe, "rechnung.pdf").is_err());
        assert!(content_type(b"<!DOCTYPE html><html><script>x</script>", "a.txt").is_err());
        assert!(content_type(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "a.png").is_err());
        assert!(content_type(b"\0\x01\x02\x03binary", "a.txt").is_err());
        assert!(content_type(b"", "a.txt").is_err());
        assert!(content_type(b"just text", "a.eml").is_err());
    }

    #[test]
    fn file_names_lose_their_paths_and_specials() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_file_name("C:\\Users\\x\\Bericht.pdf"),
            "Bericht.pdf"
        );
        assert_eq!(sanitize_file_name("..\u{0}"), "nachweis");
        assert_eq!(sanitize_file_name("a\"b;c.pdf"), "a_b_c.pdf");
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
    }

    #[test]
    fn disposition_is_always_attachment_and_header_safe() {
        let d = content_disposition("Prüfbericht 2026.pdf");
        assert!(d.starts_with("attachment; filename=\"Pr_fbericht 2026.pdf\""));
        assert!(d.contains("filename*=UTF-8''Pr%C3%BCfbericht%202026.pdf"));
    }
}
