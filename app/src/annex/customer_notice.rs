//! The notice of a new annex version to every customer contact, in their
//! language, queued in the publication's transaction.

use crate::ids::OrgId;
use chrono::{DateTime, Utc};
use leptos::prelude::ElementChild;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{AnnexChange, ChangeKind};
use crate::entities::customer_contacts;
use crate::error::AppResult;
use crate::mail::templates::html_page;
use crate::mail::{Locale, Mail};

/// The notice of a new annex version for one contact.
pub fn publication_notice(
    locale: Locale,
    org_name: &str,
    version: i32,
    stand: &str,
    changes: &[AnnexChange],
    portal: &str,
) -> Mail {
    let de = locale == Locale::De;
    let count = |k: ChangeKind| changes.iter().filter(|c| c.kind == k).count();
    let summary = if de {
        format!(
            "{} neu, {} geändert, {} verschoben, {} entfallen",
            count(ChangeKind::Added),
            count(ChangeKind::Changed),
            count(ChangeKind::Moved),
            count(ChangeKind::Removed)
        )
    } else {
        format!(
            "{} added, {} changed, {} moved, {} removed",
            count(ChangeKind::Added),
            count(ChangeKind::Changed),
            count(ChangeKind::Moved),
            count(ChangeKind::Removed)
        )
    };
    let lines: Vec<String> = changes
        .iter()
        .take(30)
        .map(|c| {
            let text = c
                .new_text
                .as_deref()
                .or(c.old_text.as_deref())
                .unwrap_or_default();
            let short: String = text.chars().take(120).collect();
            let kind = if de {
                c.kind.label().to_owned()
            } else {
                format!("{:?}", c.kind)
            };
            format!("{kind} ({}): {short}", c.section)
        })
        .collect();
    let (subject, intro, outro) = if de {
        (
            format!("{org_name}: neue Fassung der Anlage TOM (Version {version}, Stand {stand})"),
            format!(
                "{org_name} hat eine neue Fassung der technischen und organisatorischen Maßnahmen (Anlage zur Vereinbarung zur Auftragsverarbeitung) veröffentlicht: Version {version}, Stand {stand}. Änderungen: {summary}."
            ),
            "Die signierte Fassung und alle früheren finden Sie im Kundenportal:",
        )
    } else {
        (
            format!("{org_name}: new version of the TOM annex (version {version}, as of {stand})"),
            format!(
                "{org_name} has published a new version of its technical and organisational measures (annex to the data processing agreement): version {version}, as of {stand}. Changes: {summary}."
            ),
            "The signed version and all earlier ones are in the customer portal:",
        )
    };
    let mut text = format!("{intro}\n\n");
    for l in &lines {
        text.push_str(&format!("- {l}\n"));
    }
    text.push_str(&format!("\n{outro}\n{portal}\n"));
    let (link_href, link_text) = (portal.to_owned(), portal.to_owned());
    let html = html_page(
        locale,
        leptos::view! {
            <p>{intro}</p>
            <ul>
                {lines
                    .into_iter()
                    .map(|l| leptos::view! { <li>{l}</li> })
                    .collect::<Vec<_>>()}
            </ul>
            <p>{format!("{outro} ")} <a href=link_href>{link_text}</a></p>
        },
    );
    Mail {
        locale,
        subject,
        text,
        html,
    }
}

/// Queues the notice for every contact of every customer, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn queue_publication_notices<C: ConnectionTrait>(
    txn: &C,
    now: DateTime<Utc>,
    org_id: OrgId,
    org_name: &str,
    version: i32,
    stand: &str,
    changes: &[AnnexChange],
    public_url: &str,
) -> AppResult<u32> {
    let contacts = customer_contacts::Entity::find()
        .filter(customer_contacts::Column::OrgId.eq(org_id))
        .order_by_asc(customer_contacts::Column::Id)
        .all(txn)
        .await?;
    let portal = format!("{public_url}/portal");
    for c in &contacts {
        let mail = publication_notice(
            Locale::parse_lenient(&c.locale),
            org_name,
            version,
            stand,
            changes,
            &portal,
        );
        crate::mail::service::enqueue(txn, now, Some(org_id), "publication", &c.email, &mail)
            .await?;
    }
    Ok(contacts.len() as u32)
}
