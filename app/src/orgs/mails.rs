//! The invitation mail, in German and English.

use crate::domain::Role;
use leptos::prelude::*;

use crate::mail::templates::html_page;
use crate::mail::{Locale, Mail};

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
    let (org, href) = (org_name.to_owned(), link.to_owned());
    match locale {
        Locale::De => Mail {
            locale,
            subject: format!("Einladung zu Nachweis: {org_name}"),
            text: format!(
                "Guten Tag,\n\n{inviter} lädt Sie ein, in Nachweis bei {org_name} mitzuarbeiten (Rolle: {role}).\n\nUm die Einladung anzunehmen, öffnen Sie diesen Link:\n{link}\n\nDer Link ist bis {expires} gültig und nur für Sie bestimmt. Wenn Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht ignorieren.\n"
            ),
            html: html_page(
                locale,
                view! {
                    <p>"Guten Tag,"</p>
                    <p>
                        {format!("{inviter} lädt Sie ein, in Nachweis bei ")}
                        <strong>{org}</strong>
                        {format!(" mitzuarbeiten (Rolle: {role}).")}
                    </p>
                    <p><a href=href>"Einladung annehmen"</a></p>
                    <p>
                        {format!("Der Link ist bis {expires} gültig und nur für Sie bestimmt. Wenn Sie diese Einladung nicht erwartet haben, können Sie diese Nachricht ignorieren.")}
                    </p>
                },
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
                view! {
                    <p>"Hello,"</p>
                    <p>
                        {format!("{inviter} invites you to work with ")}
                        <strong>{org}</strong>
                        {format!(" in Nachweis (role: {role}).")}
                    </p>
                    <p><a href=href>"Accept the invitation"</a></p>
                    <p>
                        {format!("The link is valid until {expires} and meant for you only. If you did not expect this invitation, you can ignore this message.")}
                    </p>
                },
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
