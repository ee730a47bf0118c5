//! Customers and contacts, and the notices they receive.

use crate::entities::BeginWrite;
use crate::ids::{ContactId, CustomerId, OrgId, SubprocessorId};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::{ContactView, CustomerView, PARTICULARS, Particulars};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::EmailAddress;
use crate::entities::{customer_contacts, customer_subprocessors, customers, subprocessors};
use crate::error::{AppError, AppResult};
use crate::mail::Locale;

pub async fn list(db: &DatabaseConnection, org_id: OrgId) -> AppResult<Vec<CustomerView>> {
    list_of(db, org_id, true).await
}

/// [`list`], with the contacts only if `contacts` (a list of contracts
/// needs none: one statement less).
pub async fn list_of<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    contacts: bool,
) -> AppResult<Vec<CustomerView>> {
    let contacts = match contacts {
        true => {
            customer_contacts::Entity::find()
                .filter(customer_contacts::Column::OrgId.eq(org_id))
                .order_by_asc(customer_contacts::Column::Id)
                .all(db)
                .await?
        }
        false => Vec::new(),
    };
    let uses = customer_subprocessors::Entity::find()
        .filter(customer_subprocessors::Column::OrgId.eq(org_id))
        .order_by_asc(customer_subprocessors::Column::SubprocessorId)
        .all(db)
        .await?;
    Ok(customers::Entity::find()
        .filter(customers::Column::OrgId.eq(org_id))
        .order_by_asc(customers::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|c| CustomerView {
            particulars: particulars_of(
                &c,
                uses.iter()
                    .filter(|u| u.customer_id == c.id)
                    .map(|u| u.subprocessor_id)
                    .collect(),
            ),
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

/// One customer of the organisation with its particulars; another
/// organisation's customer is not found.
pub async fn one(
    db: &DatabaseConnection,
    org_id: OrgId,
    id: CustomerId,
) -> AppResult<(customers::Model, Particulars)> {
    let c = customers::Entity::find_by_id(id)
        .filter(customers::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kunde".into()))?;
    let uses = customer_subprocessors::Entity::find()
        .filter(customer_subprocessors::Column::OrgId.eq(org_id))
        .filter(customer_subprocessors::Column::CustomerId.eq(id))
        .order_by_asc(customer_subprocessors::Column::SubprocessorId)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.subprocessor_id)
        .collect();
    let p = particulars_of(&c, uses);
    Ok((c, p))
}

fn particulars_of(c: &customers::Model, subprocessors: Vec<SubprocessorId>) -> Particulars {
    Particulars {
        subject: c.subject.clone(),
        purpose: c.purpose.clone(),
        data_types: c.data_types.clone(),
        data_subjects: c.data_subjects.clone(),
        services: c.services.clone(),
        instructors: c.instructors.clone(),
        controller_dpo: c.controller_dpo.clone(),
        breach_deadline: c.breach_deadline.clone(),
        subprocessors,
        chosen: c.particulars_at.is_some(),
    }
}

/// The longest particular accepted, in characters.
const MAX_PARTICULAR: usize = 4000;

/// Saves a customer's particulars (admins of its organisation): the texts,
/// trimmed, and the subprocessors its services use, which must be the
/// organisation's own. Audited with before and after.
pub async fn save_particulars(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    customer_id: CustomerId,
    input: Particulars,
) -> AppResult<()> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    for (field, label, _) in PARTICULARS {
        if input.text(field).chars().count() > MAX_PARTICULAR {
            return Err(AppError::invalid(
                field,
                format!("„{label}“ ist zu lang (höchstens {MAX_PARTICULAR} Zeichen)."),
            ));
        }
    }
    let mut chosen = input.subprocessors.clone();
    chosen.sort();
    chosen.dedup();
    let txn = db.begin_write().await?;
    let customer = customers::Entity::find_by_id(customer_id)
        .filter(customers::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kunde".into()))?;
    let known = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(actor.org_id))
        .filter(subprocessors::Column::Id.is_in(chosen.clone()))
        .all(&txn)
        .await?;
    if known.len() != chosen.len() {
        return Err(AppError::invalid(
            "subprocessors",
            "Bitte wählen Sie nur Unterauftragsverarbeiter Ihrer Organisation.",
        ));
    }
    let before_uses: Vec<SubprocessorId> = customer_subprocessors::Entity::find()
        .filter(customer_subprocessors::Column::OrgId.eq(actor.org_id))
        .filter(customer_subprocessors::Column::CustomerId.eq(customer_id))
        .order_by_asc(customer_subprocessors::Column::SubprocessorId)
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| u.subprocessor_id)
        .collect();
    let before = particulars_of(&customer, before_uses);
    let t = |field: &str| input.text(field).replace("\r\n", "\n").trim().to_owned();
    let mut row: customers::ActiveModel = customer.into();
    row.subject = Set(t("subject"));
    row.purpose = Set(t("purpose"));
    row.data_types = Set(t("data_types"));
    row.data_subjects = Set(t("data_subjects"));
    row.services = Set(t("services"));
    row.instructors = Set(t("instructors"));
    row.controller_dpo = Set(t("controller_dpo"));
    row.breach_deadline = Set(t("breach_deadline"));
    row.particulars_at = Set(Some(now));
    let saved = row.update(&txn).await?;
    customer_subprocessors::Entity::delete_many()
        .filter(customer_subprocessors::Column::OrgId.eq(actor.org_id))
        .filter(customer_subprocessors::Column::CustomerId.eq(customer_id))
        .exec(&txn)
        .await?;
    for sub in &chosen {
        customer_subprocessors::ActiveModel {
            org_id: Set(actor.org_id),
            customer_id: Set(customer_id),
            subprocessor_id: Set(*sub),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let after = particulars_of(&saved, chosen);
    record(
        &txn,
        now,
        AuditEvent::new(
            &actor.audit(),
            "customer",
            customer_id.to_string(),
            "particulars",
        )
        .in_org(actor.org_id)
        .before(json!(before))
        .after(json!(after)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
