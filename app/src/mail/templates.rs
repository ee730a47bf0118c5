//! The messages Nachweis sends, in German and English, each as plain text and
//! as HTML. The HTML part is view markup rendered to a string, so every value
//! in it is escaped by construction.

use leptos::either::Either;
use leptos::prelude::*;

use super::{Locale, Mail, MailHtml};

/// A message's HTML part. `body` is view markup, so every value in it is
/// escaped by construction (there is no way to splice raw text in); this
/// puts the frame around it.
pub fn html_page(locale: Locale, body: impl IntoView + 'static) -> MailHtml {
    let footer = match locale {
        Locale::De => "Technische und organisatorische Maßnahmen nach Art. 32 DSGVO",
        Locale::En => "Technical and organisational measures under Art. 32 GDPR",
    };
    let page = view! {
        <html lang=locale.as_str()>
            <head>
                <meta charset="utf-8" />
            </head>
            <body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a">
                {body}
                <p style="color: #666; font-size: 0.9em">{format!("Nachweis · {footer}")}</p>
            </body>
        </html>
    };
    // The renderer marks text nodes with `<!>` comments for hydration,
    // which a mail never has. The sequence cannot come from a value (every
    // `<` in one is escaped), so removing it removes only the markers.
    let html = page.to_html().replace("<!>", "");
    MailHtml(format!("<!DOCTYPE html>\n{html}\n"))
}

/// Paragraphs (separated by a blank line), with their line breaks kept;
/// nothing for an empty text.
pub fn paragraphs(text: &str) -> impl IntoView + use<> {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            if !p.contains('\n') {
                return Either::Left(view! { <p>{p.to_owned()}</p> });
            }
            let mut lines = Vec::new();
            for (i, line) in p.split('\n').enumerate() {
                if i > 0 {
                    lines.push(view! { <br /> }.into_any());
                }
                lines.push(line.to_owned().into_any());
            }
            Either::Right(view! { <p>{lines}</p> })
        })
        .collect_view()
}

/// A plain message: paragraphs (separated by a blank line) and one link
/// under them, as text and as HTML.
pub fn simple(locale: Locale, subject: String, body: &str, link: &str) -> Mail {
    let (link_href, link_text) = (link.to_owned(), link.to_owned());
    let html = html_page(
        locale,
        view! {
            {paragraphs(body)}
            <p><a href=link_href>{link_text}</a></p>
        },
    );
    Mail {
        locale,
        subject,
        text: format!("{body}\n\n{link}\n"),
        html,
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
                .contains("<p>Guten Tag &lt;Eve&gt;,</p><p>bitte prüfen &amp; bestätigen.</p>"),
            "{}",
            &*m.html
        );
        assert!(
            m.html
                .contains("href=\"https://nachweis.example/a?b=1&amp;c=2\""),
            "{}",
            &*m.html
        );
        assert!(!m.html.contains("<Eve>"));
    }
}
