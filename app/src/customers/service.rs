//! Customers and contacts, and the notices they receive.

use crate::entities::BeginWrite;
use crate::ids::{ContactId, CustomerId, OrgId};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::{ContactView, CustomerView};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::EmailAddress;
use crate::entities::{customer_contacts, customers};
use crate::error::{AppError, AppResult};
use crate::mail::Locale;

pub async fn list(db: &DatabaseConnection, org_id: OrgId) -> AppResult<Vec<CustomerView>> {
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
            avv_date: c.avv_date,
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
) -> AppResult<CustomerId> {
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
    let txn = db.begin_write().await?;
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
        AuditEvent::new(&actor.audit(), "customer", row.id.to_string(), "create").in_org(actor.org_id).after(json!({ "name": row.name, "avv_reference": row.avv_reference, "avv_date": row.avv_date })),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

pub async fn add_contact(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    customer_id: CustomerId,
    name: &str,
    email: &EmailAddress,
    locale: Locale,
) -> AppResult<ContactId> {
    let txn = db.begin_write().await?;
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
        AuditEvent::new(
            &actor.audit(),
            "customer",
            customer.id.to_string(),
            "add_contact",
        )
        .in_org(actor.org_id)
        .after(json!({ "name": row.name, "email": row.email })),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

pub async fn remove_contact(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: ContactId,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
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
        AuditEvent::new(
            &actor.audit(),
            "customer",
            row.customer_id.to_string(),
            "remove_contact",
        )
        .in_org(actor.org_id)
        .before(json!({ "name": row.name, "email": row.email })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
