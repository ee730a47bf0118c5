//! The messages Nachweis sends, in German and English, each as plain text and
//! as HTML. Every value from the database is escaped in the HTML part.

use super::{Locale, Mail};

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML frame around a message body.
pub fn html_page(locale: Locale, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family: sans-serif; line-height: 1.5; color: #1a1a1a\">{body}\
         <p style=\"color: #666; font-size: 0.9em\">Nachweis · {}</p></body></html>\n",
        locale.as_str(),
        match locale {
            Locale::De => "Technische und organisatorische Maßnahmen nach Art. 32 DSGVO",
            Locale::En => "Technical and organisational measures under Art. 32 GDPR",
        }
    )
}

/// A plain message: paragraphs (separated by a blank line) and one link
/// under them, as text and as escaped HTML.
pub fn simple(locale: Locale, subject: String, body: &str, link: &str) -> Mail {
    let html = body
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", esc(p)))
        .collect::<String>()
        + &format!("<p><a href=\"{}\">{}</a></p>", esc(link), esc(link));
    Mail {
        locale,
        subject,
        text: format!("{body}\n\n{link}\n"),
        html: html_page(locale, &html),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_messages_keep_paragraphs_and_escape_them() {
        let m = simple(
            Locale::De,
            "Betreff".into(),
            "Guten Tag <Eve>,\n\nbitte prüfen & bestätigen.",
            "https://nachweis.example/a?b=1&c=2",
        );
        assert_eq!(
            m.text,
            "Guten Tag <Eve>,\n\nbitte prüfen & bestätigen.\n\nhttps://nachweis.example/a?b=1&c=2\n"
        );
        assert!(
            m.html
                .contains("<p>Guten Tag &lt;Eve&gt;,</p><p>bitte prüfen &amp; bestätigen.</p>")
        );
        assert!(
            m.html
                .contains("href=\"https://nachweis.example/a?b=1&amp;c=2\"")
        );
        assert!(!m.html.contains("<Eve>"));
    }
}
