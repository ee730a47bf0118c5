//! The daily digest mail: what needs attention, in German and English,
//! with links into Nachweis.

use crate::format::german_date;
use crate::mail::templates::html_page;
use crate::mail::{Locale, Mail};
use leptos::prelude::{ElementChild, StyleAttribute};

/// One entry of a section: its text and its link.
type Line = (String, String);
/// A section: its title, its size and its entries.
type Section = (String, usize, Vec<Line>);

/// How many entries a section of the mail lists; the rest are counted, with
/// a link to Nachweis (a mail with 5,000 overdue trainings helps nobody).
pub const LINES: usize = 25;

/// Adds a section for `items`, unless there are none.
fn add<T>(
    sections: &mut Vec<Section>,
    de: bool,
    (title_de, title_en): (&str, &str),
    items: &[T],
    line: impl Fn(&T) -> Line,
) {
    if !items.is_empty() {
        let title = if de { title_de } else { title_en };
        sections.push((
            title.to_owned(),
            items.len(),
            items.iter().take(LINES).map(line).collect(),
        ));
    }
}

/// The daily digest: what needs attention, with links into Nachweis.
pub fn digest(
    locale: Locale,
    org_name: &str,
    name: &str,
    a: &super::Attention,
    base: &str,
    day: &str,
) -> Mail {
    let de = locale == Locale::De;
    let mut sections: Vec<Section> = Vec::new();
    add(
        &mut sections,
        de,
        (
            "Nachweise, die ablaufen oder abgelaufen sind",
            "Evidence expiring or expired",
        ),
        &a.evidence_expiring,
        |x| evidence_expiring(x, de, base),
    );
    add(
        &mut sections,
        de,
        (
            "Nachweise von Unterauftragsverarbeitern, die ablaufen oder abgelaufen sind",
            "Subprocessor attestations expiring or expired",
        ),
        &a.attestations_expiring,
        |x| attestations_expiring(x, de, base),
    );
    add(
        &mut sections,
        de,
        (
            "Maßnahmen ohne Verantwortliche",
            "Measures without an owner",
        ),
        &a.measures_without_owner,
        |x| measure(x, base),
    );
    add(
        &mut sections,
        de,
        (
            "Umgesetzte Maßnahmen ohne gültigen Nachweis",
            "Implemented measures without current evidence",
        ),
        &a.implemented_without_evidence,
        |x| implemented_without_evidence(x, base),
    );
    add(
        &mut sections,
        de,
        (
            "Schulungen, die fällig oder überfällig sind",
            "Trainings due or overdue",
        ),
        &a.trainings_due,
        |x| trainings_due(x, de, base),
    );
    add(
        &mut sections,
        de,
        ("Fällige Wirksamkeitsprüfungen", "Effectiveness reviews due"),
        &a.reviews_due,
        |x| reviews_due(x, de, base),
    );
    add(
        &mut sections,
        de,
        (
            "Bewertungen im laufenden Prüfzyklus",
            "Assessments in the open review cycle",
        ),
        &a.assessments_waiting,
        |x| assessments_waiting(x, de, base),
    );
    add(
        &mut sections,
        de,
        (
            "Korrekturmaßnahmen, die fällig oder überfällig sind",
            "Corrective actions due or overdue",
        ),
        &a.actions_due,
        |x| actions_due(x, de, base),
    );
    add(
        &mut sections,
        de,
        (
            "Als nicht wirksam bewertete Maßnahmen",
            "Measures judged not effective",
        ),
        &a.not_effective,
        |x| measure(x, base),
    );
    add(
        &mut sections,
        de,
        (
            "Kunden ohne geschlossenen oder mit veraltetem AVV",
            "Customers without a concluded or with an outdated AVV",
        ),
        &a.contracts_open,
        |x| {
            (
                x.line(de),
                format!("{base}/avv-abschluss#kunde-{}", x.customer_id),
            )
        },
    );
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
    for (title, total, items) in &mut sections {
        if *total > items.len() {
            let more = *total - items.len();
            items.push(if de {
                (
                    format!("… und {more} weitere in Nachweis"),
                    format!("{base}/"),
                )
            } else {
                (format!("… and {more} more in Nachweis"), format!("{base}/"))
            });
        }
        text.push_str(&format!("\n{title} ({total})\n"));
        for (label, link) in items.iter() {
            text.push_str(&format!("- {label}\n  {link}\n"));
        }
    }
    let outro = if de {
        "Diese Übersicht kommt täglich, solange es etwas zu tun gibt."
    } else {
        "This summary arrives daily while something needs to be done."
    };
    text.push_str(&format!("\n{outro}\n"));
    let sections = sections
        .into_iter()
        .map(|(title, total, items)| {
            let heading = format!("{title} ({total})");
            leptos::view! {
                <h2 style="font-size: 1.1em">{heading}</h2>
                <ul>
                    {items
                        .into_iter()
                        .map(|(label, link)| leptos::view! { <li><a href=link>{label}</a></li> })
                        .collect::<Vec<_>>()}
                </ul>
            }
        })
        .collect::<Vec<_>>();
    let html = html_page(
        locale,
        leptos::view! {
            <p>{greeting}</p>
            <p>{intro}</p>
            {sections}
            <p>{outro}</p>
        },
    );
    Mail {
        locale,
        subject,
        text,
        html,
    }
}

fn evidence_expiring(e: &super::ExpiringEvidence, de: bool, base: &str) -> Line {
    let until = e.valid_until.map(german_date).unwrap_or_default();
    let state = match (e.validity, de) {
        (crate::domain::Validity::Expired, true) => {
            format!("abgelaufen am {until}")
        }
        (crate::domain::Validity::Expired, false) => {
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
}

fn attestations_expiring(e: &super::ExpiringAttestation, de: bool, base: &str) -> Line {
    let until = e.valid_until.map(german_date).unwrap_or_default();
    let state = match (e.validity, de) {
        (crate::domain::Validity::Expired, true) => {
            format!("abgelaufen am {until}")
        }
        (crate::domain::Validity::Expired, false) => {
            format!("expired on {until}")
        }
        (_, true) => format!("gültig bis {until}"),
        (_, false) => format!("valid until {until}"),
    };
    (
        format!("{}: {} ({state})", e.subprocessor, e.kind),
        format!("{base}/unterauftragsverarbeiter#sub-{}", e.subprocessor_id),
    )
}

fn implemented_without_evidence(m: &super::MeasureRef, base: &str) -> Line {
    (
        format!("{}: {}", m.category, m.label),
        format!("{base}/massnahmen/{}#nachweise", m.id),
    )
}

fn trainings_due(t: &super::TrainingDueRef, de: bool, base: &str) -> Line {
    let due = german_date(t.due);
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
}

fn reviews_due(d: &crate::reviews::ReviewDue, de: bool, base: &str) -> Line {
    (
        format!("{}: {} ({})", d.category, d.label, d.describe(de)),
        format!("{base}/massnahmen/{}", d.measure_id),
    )
}

fn assessments_waiting(i: &crate::reviews::ItemRow, de: bool, base: &str) -> Line {
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
}

fn actions_due(f: &crate::reviews::FindingView, de: bool, base: &str) -> Line {
    let due = german_date(f.due_date);
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
}

/// A measure, linked to its page.
fn measure(m: &super::MeasureRef, base: &str) -> Line {
    (
        format!("{}: {}", m.category, m.label),
        format!("{base}/massnahmen/{}", m.id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reminders::{Attention, TrainingDueRef};

    #[test]
    fn a_long_section_lists_its_first_entries_and_counts_the_rest() {
        let due = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let a = Attention {
            trainings_due: (0..LINES + 7)
                .map(|i| TrainingDueRef {
                    name: format!("Person {i:03}"),
                    course: "Grundschulung".into(),
                    due,
                    overdue: true,
                })
                .collect(),
            ..Default::default()
        };
        for (locale, more) in [
            (Locale::De, "… und 7 weitere"),
            (Locale::En, "… and 7 more"),
        ] {
            let mail = digest(locale, "Acme", "Ada", &a, "https://n.example", "1.12.2026");
            let listed = mail.text.matches("Person ").count();
            assert_eq!(listed, LINES, "{}", mail.text);
            assert!(
                mail.text.contains(&format!("({})", LINES + 7)),
                "{}",
                mail.text
            );
            assert!(mail.text.contains(more), "{}", mail.text);
            assert!(mail.html.contains(more), "{}", &*mail.html);
            assert_eq!(mail.html.matches("Person ").count(), LINES);
        }
    }
}
