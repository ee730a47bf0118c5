//! Customers and contacts, and the notices they receive.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::json;

use super::{ContactView, CustomerView};
use crate::annex::{AnnexChange, ChangeKind};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::EmailAddress;
use crate::entities::{customer_contacts, customers};
use crate::error::{AppError, AppResult};
use crate::mail::templates::{esc, html_page};
use crate::mail::{Locale, Mail};

pub async fn list(db: &DatabaseConnection, org_id: i32) -> AppResult<Vec<CustomerView>> {
    let contacts = customer_contacts::Entity::find()
        .filter(customer_contacts::Column::OrgId.eq(org_id))
        .order_by_asc(customer_contacts::Column::Id)
        .all(db)
        .await?;
    Ok(customers::Entity::find()
        .filter(customers::Column::OrgId.eq(org_id))
        .order_by_asc(customers::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|c| CustomerView {
            contacts: contacts
                .iter()
                .filter(|k| k.customer_id == c.id)
                .map(|k| ContactView {
                    id: k.id,
                    name: k.name.clone(),
                    email: k.email.clone(),
                    locale: k.locale.clone(),
                })
                .collect(),
            id: c.id,
            name: c.name,
            avv_reference: c.avv_reference,
            avv_date: c
                .avv_date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        })
        .collect())
}

pub async fn add(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    name: &str,
    avv_reference: &str,
    avv_date: &str,
) -> AppResult<i32> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(
            "name",
            "Bitte geben Sie den Namen des Kunden an (höchstens 200 Zeichen).",
        ));
    }
    let avv_date = match avv_date.trim() {
        "" => None,
        d => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(d, "%d.%m.%Y"))
                .map_err(|_| {
                    AppError::invalid("avv_date", format!("„{d}“ ist kein Datum (TT.MM.JJJJ)."))
                })?,
        ),
    };
    let txn = db.begin().await?;
    let row = customers::ActiveModel {
        org_id: Set(actor.org_id),
        name: Set(name.to_owned()),
        avv_reference: Set(avv_reference.trim().chars().take(200).collect()),
        avv_date: Set(avv_date),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "customer",
            entity_id: row.id.to_string(),
            action: "create",
            before: None,
            after: Some(json!({ "name": row.name, "avv_reference": row.avv_reference, "avv_date": row.avv_date })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

pub async fn add_contact(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    customer_id: i32,
    name: &str,
    email: &EmailAddress,
    locale: Locale,
) -> AppResult<i32> {
    let txn = db.begin().await?;
    let customer = customers::Entity::find_by_id(customer_id)
        .filter(customers::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kunde".into()))?;
    let row = customer_contacts::ActiveModel {
        org_id: Set(actor.org_id),
        customer_id: Set(customer.id),
        name: Set(crate::domain::parse_display_name(name)?),
        email: Set(email.as_str().to_owned()),
        locale: Set(locale.as_str().to_owned()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "customer",
            entity_id: customer.id.to_string(),
            action: "add_contact",
            before: None,
            after: Some(json!({ "name": row.name, "email": row.email })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

pub async fn remove_contact(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i32,
) -> AppResult<()> {
    let txn = db.begin().await?;
    let row = customer_contacts::Entity::find_by_id(id)
        .filter(customer_contacts::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kontakt".into()))?;
    customer_contacts::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "customer",
            entity_id: row.customer_id.to_string(),
            action: "remove_contact",
            before: Some(json!({ "name": row.name, "email": row.email })),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

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
    let mut html = format!("<p>{}</p><ul>", esc(&intro));
    for l in &lines {
        html.push_str(&format!("<li>{}</li>", esc(l)));
    }
    html.push_str(&format!(
        "</ul><p>{} <a href=\"{}\">{}</a></p>",
        esc(outro),
        esc(portal),
        esc(portal)
    ));
    Mail {
        locale,
        subject,
        text,
        html: html_page(locale, &html),
    }
}

/// Queues the notice for every contact of every customer, in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn queue_publication_notices<C: ConnectionTrait>(
    txn: &C,
    now: DateTime<Utc>,
    org_id: i32,
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
