//! The messages Nachweis sends, in German and English, each as plain text and
//! as HTML. Every value from the database is escaped in the HTML part.

use super::{Locale, Mail};
use crate::domain::Role;

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

fn role_label(locale: Locale, role: Role) -> &'static str {
    match locale {
        Locale::De => role.label(),
        Locale::En => match role {
            Role::Admin => "data protection officer (admin)",
            Role::Owner => "measure owner",
            Role::Staff => "staff member",
            Role::Auditor => "auditor (read-only)",
            Role::Customer => "customer",
        },
    }
}

/// The invitation to join an organisation.
pub fn invitation(
    locale: Locale,
    org_name: &str,
    inviter: &str,
    role: Role,
    link: &str,
    expires: &str,
) -> Mail {
    let role = role_label(locale, role);
    match locale {
        Locale::De => Mail {
            locale,
            subject: format!("Einladung zu Nachweis: {org_name}"),
            text: format!(
                "Guten Tag,\n\n{inviter} lädt Sie ein, in Nachweis bei {org_name} mitzuarbeiten (Rolle: {role}).\n\nUm die Einladung anzunehmen, öffnen Sie diesen Link:\n{link}\n\nDer Link ist bis {expires} gültig und nur für Sie bestimmt. Wenn Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht ignorieren.\n"
            ),
            html: html_page(
                locale,
                &format!(
                    "<p>Guten Tag,</p><p>{} lädt Sie ein, in Nachweis bei <strong>{}</strong> mitzuarbeiten (Rolle: {}).</p>\
                     <p><a href=\"{}\">Einladung annehmen</a></p>\
                     <p>Der Link ist bis {} gültig und nur für Sie bestimmt. Wenn Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht ignorieren.</p>",
                    esc(inviter),
                    esc(org_name),
                    esc(role),
                    esc(link),
                    esc(expires)
                ),
            ),
        },
        Locale::En => Mail {
            locale,
            subject: format!("Invitation to Nachweis: {org_name}"),
            text: format!(
                "Hello,\n\n{inviter} invites you to work with {org_name} in Nachweis (role: {role}).\n\nTo accept the invitation, open this link:\n{link}\n\nThe link is valid until {expires} and meant for you only. If you did not expect this invitation, you can ignore this message.\n"
            ),
            html: html_page(
                locale,
                &format!(
                    "<p>Hello,</p><p>{} invites you to work with <strong>{}</strong> in Nachweis (role: {}).</p>\
                     <p><a href=\"{}\">Accept the invitation</a></p>\
                     <p>The link is valid until {} and meant for you only. If you did not expect this invitation, you can ignore this message.</p>",
                    esc(inviter),
                    esc(org_name),
                    esc(role),
                    esc(link),
                    esc(expires)
                ),
            ),
        },
    }
}

/// The daily digest: what needs attention, with links into Nachweis.
pub fn digest(
    locale: Locale,
    org_name: &str,
    name: &str,
    a: &crate::reminders::Attention,
    base: &str,
    day: &str,
) -> Mail {
    let de = locale == Locale::De;
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    if !a.evidence_expiring.is_empty() {
        sections.push((
            if de {
                "Nachweise, die ablaufen oder abgelaufen sind"
            } else {
                "Evidence expiring or expired"
            }
            .to_owned(),
            a.evidence_expiring
                .iter()
                .map(|e| {
                    let until = german(&e.valid_until);
                    let state = match (e.validity, de) {
                        (crate::evidence::Validity::Expired, true) => {
                            format!("abgelaufen am {until}")
                        }
                        (crate::evidence::Validity::Expired, false) => {
                            format!("expired on {until}")
                        }
                        (_, true) => format!("gültig bis {until}"),
                        (_, false) => format!("valid until {until}"),
                    };
                    let link = e
                        .measure_id
                        .map(|m| format!("{base}/massnahmen/{m}#nachweise"))
                        .unwrap_or_else(|| format!("{base}/"));
                    (format!("{} ({state}) – {}", e.title, e.measure), link)
                })
                .collect(),
        ));
    }
    if !a.attestations_expiring.is_empty() {
        sections.push((
            if de {
                "Nachweise von Unterauftragsverarbeitern, die ablaufen oder abgelaufen sind"
            } else {
                "Subprocessor attestations expiring or expired"
            }
            .to_owned(),
            a.attestations_expiring
                .iter()
                .map(|e| {
                    let until = german(&e.valid_until);
                    let state = match (e.validity, de) {
                        (crate::evidence::Validity::Expired, true) => {
                            format!("abgelaufen am {until}")
                        }
                        (crate::evidence::Validity::Expired, false) => {
                            format!("expired on {until}")
                        }
                        (_, true) => format!("gültig bis {until}"),
                        (_, false) => format!("valid until {until}"),
                    };
                    (
                        format!("{}: {} ({state})", e.subprocessor, e.kind),
                        format!("{base}/unterauftragsverarbeiter#sub-{}", e.subprocessor_id),
                    )
                })
                .collect(),
        ));
    }
    if !a.measures_without_owner.is_empty() {
        sections.push((
            if de {
                "Maßnahmen ohne Verantwortliche"
            } else {
                "Measures without an owner"
            }
            .to_owned(),
            a.measures_without_owner
                .iter()
                .map(|m| {
                    (
                        format!("{}: {}", m.category, m.label),
                        format!("{base}/massnahmen/{}", m.id),
                    )
                })
                .collect(),
        ));
    }
    if !a.implemented_without_evidence.is_empty() {
        sections.push((
            if de {
                "Umgesetzte Maßnahmen ohne gültigen Nachweis"
            } else {
                "Implemented measures without current evidence"
            }
            .to_owned(),
            a.implemented_without_evidence
                .iter()
                .map(|m| {
                    (
                        format!("{}: {}", m.category, m.label),
                        format!("{base}/massnahmen/{}#nachweise", m.id),
                    )
                })
                .collect(),
        ));
    }
    if !a.trainings_due.is_empty() {
        sections.push((
            if de {
                "Schulungen, die fällig oder überfällig sind"
            } else {
                "Trainings due or overdue"
            }
            .to_owned(),
            a.trainings_due
                .iter()
                .map(|t| {
                    let due = german(&t.due);
                    let state = match (t.overdue, de) {
                        (true, true) => format!("überfällig seit {due}"),
                        (true, false) => format!("overdue since {due}"),
                        (false, true) => format!("fällig bis {due}"),
                        (false, false) => format!("due by {due}"),
                    };
                    (
                        format!("{}: {} ({state})", t.name, t.course),
                        format!("{base}/schulungen/uebersicht"),
                    )
                })
                .collect(),
        ));
    }
    if !a.reviews_overdue.is_empty() {
        sections.push((
            if de {
                "Überfällige Wirksamkeitsprüfungen"
            } else {
                "Overdue effectiveness reviews"
            }
            .to_owned(),
            a.reviews_overdue
                .iter()
                .map(|d| {
                    let due = german(&d.next_due);
                    let state = if de {
                        format!("fällig seit {due}")
                    } else {
                        format!("due since {due}")
                    };
                    (
                        format!("{}: {} ({state})", d.category, d.label),
                        format!("{base}/massnahmen/{}", d.measure_id),
                    )
                })
                .collect(),
        ));
    }
    if !a.assessments_waiting.is_empty() {
        sections.push((
            if de {
                "Bewertungen im laufenden Prüfzyklus"
            } else {
                "Assessments in the open review cycle"
            }
            .to_owned(),
            a.assessments_waiting
                .iter()
                .map(|i| {
                    let state = match (i.state, de) {
                        (crate::reviews::ItemState::Submitted, true) => "wartet auf Freigabe",
                        (crate::reviews::ItemState::Submitted, false) => "awaiting approval",
                        (crate::reviews::ItemState::Returned, true) => "zurückgegeben",
                        (crate::reviews::ItemState::Returned, false) => "returned",
                        (_, true) => "noch zu bewerten",
                        (_, false) => "to assess",
                    };
                    (
                        format!("{}: {} ({state})", i.category, i.label),
                        format!("{base}/pruefungen/bewertung/{}", i.id),
                    )
                })
                .collect(),
        ));
    }
    if !a.actions_due.is_empty() {
        sections.push((
            if de {
                "Korrekturmaßnahmen, die fällig oder überfällig sind"
            } else {
                "Corrective actions due or overdue"
            }
            .to_owned(),
            a.actions_due
                .iter()
                .map(|f| {
                    let due = german(&f.due_date);
                    let state = match (f.overdue, de) {
                        (true, true) => format!("überfällig seit {due}"),
                        (true, false) => format!("overdue since {due}"),
                        (false, true) => format!("fällig bis {due}"),
                        (false, false) => format!("due by {due}"),
                    };
                    (
                        format!("{}: {} ({state})", f.measure, f.action),
                        format!("{base}/pruefungen/bewertung/{}", f.item_id),
                    )
                })
                .collect(),
        ));
    }
    if !a.not_effective.is_empty() {
        sections.push((
            if de {
                "Als nicht wirksam bewertete Maßnahmen"
            } else {
                "Measures judged not effective"
            }
            .to_owned(),
            a.not_effective
                .iter()
                .map(|m| {
                    (
                        format!("{}: {}", m.category, m.label),
                        format!("{base}/massnahmen/{}", m.id),
                    )
                })
                .collect(),
        ));
    }
    let subject = if de {
        format!("Nachweis: Handlungsbedarf bei {org_name} ({day})")
    } else {
        format!("Nachweis: action needed at {org_name} ({day})")
    };
    let greeting = if de {
        format!("Guten Tag {name},")
    } else {
        format!("Hello {name},")
    };
    let intro = if de {
        format!("in Nachweis gibt es bei {org_name} Folgendes zu tun:")
    } else {
        format!("this needs your attention at {org_name} in Nachweis:")
    };
    let mut text = format!("{greeting}\n\n{intro}\n");
    let mut html = format!("<p>{}</p><p>{}</p>", esc(&greeting), esc(&intro));
    for (title, items) in &sections {
        text.push_str(&format!("\n{title} ({})\n", items.len()));
        html.push_str(&format!(
            "<h2 style=\"font-size: 1.1em\">{} ({})</h2><ul>",
            esc(title),
            items.len()
        ));
        for (label, link) in items {
            text.push_str(&format!("- {label}\n  {link}\n"));
            html.push_str(&format!(
                "<li><a href=\"{}\">{}</a></li>",
                esc(link),
                esc(label)
            ));
        }
        html.push_str("</ul>");
    }
    let outro = if de {
        "Diese Übersicht kommt täglich, solange es etwas zu tun gibt."
    } else {
        "This summary arrives daily while something needs to be done."
    };
    text.push_str(&format!("\n{outro}\n"));
    html.push_str(&format!("<p>{}</p>", esc(outro)));
    Mail {
        locale,
        subject,
        text,
        html: html_page(locale, &html),
    }
}

fn german(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] => format!("{d}.{m}.{y}"),
        _ => iso.to_owned(),
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

    #[test]
    fn html_part_escapes_names() {
        let m = invitation(
            Locale::De,
            "<script>alert(1)</script> GmbH",
            "Eve & Co",
            Role::Owner,
            "https://n.example/einladung/abc",
            "01.12.2026 10:00",
        );
        assert!(!m.html.contains("<script>"));
        assert!(m.html.contains("&lt;script&gt;"));
        assert!(m.html.contains("Eve &amp; Co"));
        assert!(m.text.contains("<script>alert(1)</script> GmbH"));
        assert!(m.text.contains("https://n.example/einladung/abc"));
    }

    #[test]
    fn english_invitation_is_english() {
        let m = invitation(
            Locale::En,
            "ACME",
            "Dana",
            Role::Staff,
            "https://x/y",
            "1 Dec",
        );
        assert!(m.subject.starts_with("Invitation"));
        assert!(m.text.contains("staff member"));
        assert!(m.html.contains("lang=\"en\""));
    }
}
