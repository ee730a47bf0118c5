//! Issuing notices, objecting to them, and reading both back.

use crate::entities::BeginWrite;
use crate::ids::{OrgId, UserId};
use leptos::prelude::{ElementChild, StyleAttribute};
use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use super::{
    DEFAULT_OBJECTION_DAYS, NoticeList, NoticeView, ObjectionView, OwnObjection, PortalNotice,
};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::Role;
use crate::domain::Validity;
use crate::entities::{
    customer_contacts, customers, memberships, notice_objections, organisations,
    subprocessor_notices, subprocessors, users,
};
use crate::error::{AppError, AppResult};
use crate::format::LocalTime;
use crate::format::{german_date, german_day as today};
use crate::ids::{NoticeId, SubprocessorId};
use crate::mail::templates::{html_page, paragraphs};
use crate::mail::{Locale, Mail};
use crate::subprocessors::PortalAttestation;
use crate::subprocessors::SubStatus;
use crate::subprocessors::service::ForCustomers;

const MAX_MESSAGE: usize = 4000;
const MAX_REASON: usize = 4000;
/// A deadline further out than this is almost certainly a typo.
const MAX_DEADLINE_DAYS: i64 = 366;

/// What the DPO fills in.
#[derive(Debug, Clone)]
pub struct Issue {
    pub subprocessor_id: SubprocessorId,
    pub replaces_id: Option<SubprocessorId>,
    pub message: String,
    /// `None`: 30 days from today.
    pub deadline: Option<NaiveDate>,
}

/// An ISO (`2026-12-24`) or German (`24.12.2026`) date; empty means the default.
pub fn parse_deadline(s: &str) -> AppResult<Option<NaiveDate>> {
    match s.trim() {
        "" => Ok(None),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(d, "%d.%m.%Y"))
            .map(Some)
            .map_err(|_| {
                AppError::invalid("deadline", format!("„{d}“ ist kein Datum (TT.MM.JJJJ)."))
            }),
    }
}

async fn sub_in_org<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: SubprocessorId,
) -> AppResult<subprocessors::Model> {
    subprocessors::Entity::find_by_id(id)
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Unterauftragsverarbeiter".into()))
}

/// Issues the notice and queues one mail per customer contact, all in one
/// transaction: either the notice exists and every mail is queued, or neither.
pub async fn issue(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    public_url: &str,
    actor: &Actor,
    input: Issue,
) -> AppResult<NoticeId> {
    let today = today(now);
    let deadline = input
        .deadline
        .unwrap_or(today + Duration::days(DEFAULT_OBJECTION_DAYS));
    if deadline <= today {
        return Err(AppError::invalid(
            "deadline",
            "Die Einspruchsfrist muss nach dem heutigen Tag enden.",
        ));
    }
    if deadline > today + Duration::days(MAX_DEADLINE_DAYS) {
        return Err(AppError::invalid(
            "deadline",
            "Die Einspruchsfrist darf höchstens ein Jahr betragen.",
        ));
    }
    let message = input.message.trim().replace("\r\n", "\n");
    if message.chars().count() > MAX_MESSAGE {
        return Err(AppError::invalid(
            "message",
            format!("Die Erläuterung ist zu lang (höchstens {MAX_MESSAGE} Zeichen)."),
        ));
    }
    // The attestations the mail names (read first; the transaction below
    // checks that the subprocessor belongs to the organisation).
    let attestations = crate::subprocessors::service::for_org(db, actor.org_id, now)
        .await?
        .into_iter()
        .find(|s| s.id == input.subprocessor_id)
        .map(|s| s.attestations)
        .unwrap_or_default();
    let txn = db.begin_write().await?;
    let sub = sub_in_org(&txn, actor.org_id, input.subprocessor_id).await?;
    if sub.status == SubStatus::Terminated {
        return Err(AppError::invalid(
            "subprocessor_id",
            format!("{} ist als beendet erfasst.", sub.name),
        ));
    }
    let replaces = match input.replaces_id {
        None => None,
        Some(id) if id == sub.id => {
            return Err(AppError::invalid(
                "replaces_id",
                "Ein Unterauftragsverarbeiter kann sich nicht selbst ersetzen.",
            ));
        }
        Some(id) => Some(sub_in_org(&txn, actor.org_id, id).await?),
    };
    let org = organisations::Entity::find_by_id(actor.org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let notice = subprocessor_notices::ActiveModel {
        org_id: Set(actor.org_id),
        subprocessor_id: Set(sub.id),
        replaces_id: Set(replaces.as_ref().map(|r| r.id)),
        message: Set(message.clone()),
        deadline: Set(deadline),
        issued_by: Set(actor.user_id),
        issued_at: Set(now),
        recipients: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let contacts = customer_contacts::Entity::find()
        .filter(customer_contacts::Column::OrgId.eq(actor.org_id))
        .order_by_asc(customer_contacts::Column::Id)
        .all(&txn)
        .await?;
    let link = format!("{public_url}/portal#mitteilung-{}", notice.id);
    for c in &contacts {
        let mail = notice_mail(
            Locale::parse_lenient(&c.locale),
            &org.legal_name,
            &sub,
            &attestations,
            replaces.as_ref(),
            &message,
            deadline,
            &link,
        );
        crate::mail::service::enqueue(
            &txn,
            now,
            Some(actor.org_id),
            "subprocessor_notice",
            &c.email,
            &mail,
        )
        .await?;
    }
    let recipients = contacts.len() as i32;
    let mut active: subprocessor_notices::ActiveModel = notice.clone().into();
    active.recipients = Set(recipients);
    active.update(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent::new(
            &actor.audit(),
            "subprocessor_notice",
            notice.id.to_string(),
            "issue",
        )
        .in_org(actor.org_id)
        .after(json!({
            "subprocessor": sub.name,
            "replaces": replaces.as_ref().map(|r| r.name.clone()),
            "deadline": deadline,
            "recipients": recipients,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(notice.id)
}

/// A customer objects. Only customer users assigned to a customer may, once
/// per customer and notice, and only until the deadline (inclusive).
pub async fn object(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    public_url: &str,
    actor: &Actor,
    notice_id: NoticeId,
    reason: &str,
) -> AppResult<()> {
    if actor.role != Role::Customer {
        return Err(AppError::Forbidden);
    }
    let reason = reason.trim().replace("\r\n", "\n");
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "Bitte begründen Sie Ihren Einspruch.",
        ));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::invalid(
            "reason",
            format!("Die Begründung ist zu lang (höchstens {MAX_REASON} Zeichen)."),
        ));
    }
    let txn = db.begin_write().await?;
    let notice = subprocessor_notices::Entity::find_by_id(notice_id)
        .filter(subprocessor_notices::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Mitteilung".into()))?;
    if today(now) > notice.deadline {
        return Err(AppError::invalid(
            "reason",
            format!(
                "Die Einspruchsfrist ist am {} abgelaufen.",
                german_date(notice.deadline)
            ),
        ));
    }
    let customer_id = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(actor.org_id))
        .filter(memberships::Column::UserId.eq(actor.user_id))
        .one(&txn)
        .await?
        .and_then(|m| m.customer_id)
        .ok_or_else(|| {
            AppError::invalid(
                "reason",
                "Ihr Zugang ist keinem Kunden zugeordnet. Bitte wenden Sie sich an den Datenschutzbeauftragten.",
            )
        })?;
    let customer = customers::Entity::find_by_id(customer_id)
        .filter(customers::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kunde".into()))?;
    let already = || {
        AppError::invalid(
            "reason",
            format!(
                "Für {} wurde gegen diese Mitteilung bereits Einspruch eingelegt.",
                customer.name
            ),
        )
    };
    if notice_objections::Entity::find()
        .filter(notice_objections::Column::NoticeId.eq(notice.id))
        .filter(notice_objections::Column::CustomerId.eq(customer.id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(already());
    }
    let inserted = notice_objections::ActiveModel {
        org_id: Set(actor.org_id),
        notice_id: Set(notice.id),
        customer_id: Set(customer.id),
        user_id: Set(actor.user_id),
        reason: Set(reason.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    // Two colleagues at once: the unique index decides, the loser is told.
    if let Err(e) = &inserted
        && matches!(
            e.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        )
    {
        return Err(already());
    }
    inserted?;
    let sub = sub_in_org(&txn, actor.org_id, notice.subprocessor_id).await?;
    record(
        &txn,
        now,
        AuditEvent::new(
            &actor.audit(),
            "subprocessor_notice",
            notice.id.to_string(),
            "objection",
        )
        .in_org(actor.org_id)
        .after(json!({ "customer": customer.name, "reason": reason })),
    )
    .await?;
    // Tell every admin (DPO), in the same transaction.
    let link = format!(
        "{public_url}/unterauftragsverarbeiter#mitteilung-{}",
        notice.id
    );
    for admin in admins(&txn, actor.org_id).await? {
        let mail = objection_mail(
            Locale::parse_lenient(&admin.locale),
            &customer.name,
            &format!("{} <{}>", actor.display_name, actor.email),
            &sub.name,
            &reason,
            &link,
        );
        crate::mail::service::enqueue(
            &txn,
            now,
            Some(actor.org_id),
            "objection",
            &admin.email,
            &mail,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn admins<C: ConnectionTrait>(db: &C, org_id: OrgId) -> AppResult<Vec<users::Model>> {
    let ids: Vec<UserId> = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org_id))
        .filter(memberships::Column::Role.eq(Role::Admin.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .filter(users::Column::Locked.eq(false))
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?)
}

async fn user_labels<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = UserId>,
) -> AppResult<HashMap<UserId, String>> {
    let ids: Vec<UserId> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, format!("{} <{}>", u.display_name, u.email)))
        .collect())
}

/// The DPO's view: every notice, newest first, with objections per customer.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<NoticeList> {
    if !matches!(actor.role, Role::Admin | Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    let org_id = actor.org_id;
    let today = today(now);
    let subs: HashMap<SubprocessorId, subprocessors::Model> = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let customers = customers::Entity::find()
        .filter(customers::Column::OrgId.eq(org_id))
        .order_by_asc(customers::Column::Name)
        .all(db)
        .await?;
    let notices = subprocessor_notices::Entity::find()
        .filter(subprocessor_notices::Column::OrgId.eq(org_id))
        .order_by_desc(subprocessor_notices::Column::IssuedAt)
        .order_by_desc(subprocessor_notices::Column::Id)
        .all(db)
        .await?;
    let objections = notice_objections::Entity::find()
        .filter(notice_objections::Column::OrgId.eq(org_id))
        .order_by_asc(notice_objections::Column::CreatedAt)
        .all(db)
        .await?;
    let labels = user_labels(
        db,
        notices
            .iter()
            .map(|n| n.issued_by)
            .chain(objections.iter().map(|o| o.user_id)),
    )
    .await?;
    let name = |id: SubprocessorId| subs.get(&id).map(|s| s.name.clone()).unwrap_or_default();
    let items = notices
        .into_iter()
        .map(|n| {
            let mine: Vec<&notice_objections::Model> =
                objections.iter().filter(|o| o.notice_id == n.id).collect();
            NoticeView {
                id: n.id,
                subprocessor_id: n.subprocessor_id,
                subprocessor: name(n.subprocessor_id),
                replaces: n.replaces_id.map(name),
                message: n.message,
                issued_at: LocalTime::of(n.issued_at),
                issued_by: labels.get(&n.issued_by).cloned().unwrap_or_default(),
                deadline: n.deadline,
                open: today <= n.deadline,
                recipients: n.recipients,
                objections: mine
                    .iter()
                    .map(|o| ObjectionView {
                        customer: customers
                            .iter()
                            .find(|c| c.id == o.customer_id)
                            .map(|c| c.name.clone())
                            .unwrap_or_default(),
                        by: labels.get(&o.user_id).cloned().unwrap_or_default(),
                        at: LocalTime::of(o.created_at),
                        reason: o.reason.clone(),
                    })
                    .collect(),
                without_objection: customers
                    .iter()
                    .filter(|c| !mine.iter().any(|o| o.customer_id == c.id))
                    .map(|c| c.name.clone())
                    .collect(),
            }
        })
        .collect();
    let mut candidates: Vec<&subprocessors::Model> = subs
        .values()
        .filter(|s| s.status != SubStatus::Terminated)
        .collect();
    // Planned ones first: they are what a notice is usually about.
    candidates.sort_by_key(|s| (s.status != SubStatus::Planned, s.name.clone()));
    Ok(NoticeList {
        items,
        can_issue: actor.role.is_admin(),
        subprocessors: candidates
            .into_iter()
            .map(|s| (s.id, s.name.clone(), s.status.label().to_owned()))
            .collect(),
        default_deadline: today + Duration::days(DEFAULT_OBJECTION_DAYS),
    })
}

/// The portal's view: every notice of the organisation, newest first, with
/// the objection of the person's own company.
pub async fn for_portal(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<Vec<PortalNotice>> {
    let notices = portal_notice_rows(db, actor.org_id).await?;
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    let subs = crate::subprocessors::service::for_portal(db, actor.org_id).await?;
    portal_view(db, actor, now, notices, &subs).await
}

/// [`for_portal`] with the subprocessors already read for the portal:
/// `subs` must be `subprocessors::service::for_portal` of `actor.org_id`.
pub async fn for_portal_with<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    subs: &[ForCustomers],
) -> AppResult<Vec<PortalNotice>> {
    let notices = portal_notice_rows(db, actor.org_id).await?;
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    portal_view(db, actor, now, notices, subs).await
}

/// The organisation's notices, newest first.
async fn portal_notice_rows<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<subprocessor_notices::Model>> {
    Ok(subprocessor_notices::Entity::find()
        .filter(subprocessor_notices::Column::OrgId.eq(org_id))
        .order_by_desc(subprocessor_notices::Column::IssuedAt)
        .order_by_desc(subprocessor_notices::Column::Id)
        .all(db)
        .await?)
}

/// The notices as `actor` sees them, with the objections of their company.
async fn portal_view<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    notices: Vec<subprocessor_notices::Model>,
    subs: &[ForCustomers],
) -> AppResult<Vec<PortalNotice>> {
    let org_id = actor.org_id;
    let today = today(now);
    // The person's company, as the session read it with this request.
    let customer_id = actor.customer_id;
    let own: Vec<notice_objections::Model> = match customer_id {
        None => Vec::new(),
        Some(cid) => {
            notice_objections::Entity::find()
                .filter(notice_objections::Column::OrgId.eq(org_id))
                .filter(notice_objections::Column::CustomerId.eq(cid))
                .all(db)
                .await?
        }
    };
    let labels = user_labels(db, own.iter().map(|o| o.user_id)).await?;
    let find = |id: SubprocessorId| subs.iter().find(|(s, _)| s.id == id && s.org_id == org_id);
    Ok(notices
        .into_iter()
        .filter_map(|n| {
            let (sub, attestations) = find(n.subprocessor_id)?;
            let objection = own
                .iter()
                .find(|o| o.notice_id == n.id)
                .map(|o| OwnObjection {
                    by: labels.get(&o.user_id).cloned().unwrap_or_default(),
                    at: LocalTime::of(o.created_at),
                    reason: o.reason.clone(),
                });
            let open = today <= n.deadline;
            Some(PortalNotice {
                id: n.id,
                subprocessor: sub.name.clone(),
                service: sub.service.clone(),
                locations: sub.locations.clone(),
                safeguard: sub.safeguard.label().to_owned(),
                attestations: attestations
                    .iter()
                    .map(|a| PortalAttestation {
                        kind: a.kind.label().to_owned(),
                        issuer: a.issuer.clone(),
                        valid_until: a.valid_until,
                        validity: Validity::of(a.valid_until, today),
                    })
                    .collect(),
                replaces: n
                    .replaces_id
                    .and_then(|r| find(r).map(|(s, _)| s.name.clone())),
                message: n.message,
                issued_at: crate::format::german_day(n.issued_at),
                deadline: n.deadline,
                open,
                can_object: open
                    && objection.is_none()
                    && actor.role == Role::Customer
                    && customer_id.is_some(),
                objection,
            })
        })
        .collect())
}

/// The notice mail to one customer contact.
#[allow(clippy::too_many_arguments)]
pub fn notice_mail(
    locale: Locale,
    org_name: &str,
    sub: &subprocessors::Model,
    attestations: &[crate::subprocessors::AttestationView],
    replaces: Option<&subprocessors::Model>,
    message: &str,
    deadline: NaiveDate,
    link: &str,
) -> Mail {
    let de = locale == Locale::De;
    let until = german_date(deadline);
    let safeguard = sub.safeguard.label();
    let subject = match (de, replaces) {
        (true, None) => format!(
            "{org_name}: geplanter neuer Unterauftragsverarbeiter {} – Einspruch bis {until}",
            sub.name
        ),
        (true, Some(r)) => format!(
            "{org_name}: geplanter Wechsel des Unterauftragsverarbeiters {} zu {} – Einspruch bis {until}",
            r.name, sub.name
        ),
        (false, None) => format!(
            "{org_name}: planned new subprocessor {} – objections until {until}",
            sub.name
        ),
        (false, Some(r)) => format!(
            "{org_name}: planned replacement of subprocessor {} by {} – objections until {until}",
            r.name, sub.name
        ),
    };
    let intro = match (de, replaces) {
        (true, None) => format!(
            "{org_name} beabsichtigt, einen weiteren Unterauftragsverarbeiter einzusetzen (Art. 28 Abs. 2 DSGVO):"
        ),
        (true, Some(r)) => format!(
            "{org_name} beabsichtigt, den Unterauftragsverarbeiter {} durch einen anderen zu ersetzen (Art. 28 Abs. 2 DSGVO):",
            r.name
        ),
        (false, None) => {
            format!("{org_name} intends to engage an additional subprocessor (Art. 28(2) GDPR):")
        }
        (false, Some(r)) => format!(
            "{org_name} intends to replace the subprocessor {} (Art. 28(2) GDPR):",
            r.name
        ),
    };
    let mut facts: Vec<(&str, String)> = vec![
        ("Name", sub.name.clone()),
        (if de { "Leistung" } else { "Service" }, sub.service.clone()),
        (
            if de { "Verarbeitungsorte" } else { "Locations" },
            sub.locations.clone(),
        ),
        (
            if de {
                "Drittlandübermittlung"
            } else {
                "Third-country transfer"
            },
            safeguard.to_owned(),
        ),
    ];
    if !sub.address.trim().is_empty() {
        facts.push((
            if de { "Anschrift" } else { "Address" },
            sub.address.replace('\n', ", "),
        ));
    }
    for a in attestations {
        let valid = match a.valid_until {
            None => String::new(),
            Some(d) if de => format!(", gültig bis {}", german_date(d)),
            Some(d) => format!(", valid until {d}"),
        };
        facts.push((
            if de { "Nachweis" } else { "Attestation" },
            format!("{}{valid}", a.kind.label()),
        ));
    }
    let objection = if de {
        format!(
            "Sie können diesem Vorhaben bis einschließlich {until} widersprechen, mit Begründung, im Kundenportal:"
        )
    } else {
        format!(
            "You may object to this, with a reason, until {until} (inclusive) in the customer portal:"
        )
    };
    let mut text = format!("{intro}\n\n");
    for (k, v) in &facts {
        text.push_str(&format!("{k}: {v}\n"));
    }
    if !message.is_empty() {
        text.push_str(&format!("\n{message}\n"));
    }
    text.push_str(&format!("\n{objection}\n{link}\n"));
    let message = message.to_owned();
    let (link_href, link_text) = (link.to_owned(), link.to_owned());
    let html = html_page(
        locale,
        leptos::view! {
            <p>{intro}</p>
            <table>
                {facts
                    .into_iter()
                    .map(|(k, v)| {
                        leptos::view! {
                            <tr>
                                <th style="text-align: left; padding-right: 1em">{k}</th>
                                <td>{v}</td>
                            </tr>
                        }
                    })
                    .collect::<Vec<_>>()}
            </table>
            {paragraphs(&message)}
            <p>{objection} <br /> <a href=link_href>{link_text}</a></p>
        },
    );
    Mail {
        locale,
        subject,
        text,
        html,
    }
}

/// The mail to a DPO when a customer objects.
pub fn objection_mail(
    locale: Locale,
    customer: &str,
    by: &str,
    subprocessor: &str,
    reason: &str,
    link: &str,
) -> Mail {
    let (subject, intro, label) = if locale == Locale::De {
        (
            format!("Einspruch von {customer} gegen {subprocessor}"),
            format!(
                "{customer} hat Einspruch gegen den geplanten Unterauftragsverarbeiter {subprocessor} eingelegt ({by})."
            ),
            "Begründung",
        )
    } else {
        (
            format!("Objection from {customer} to {subprocessor}"),
            format!("{customer} has objected to the planned subprocessor {subprocessor} ({by})."),
            "Reason",
        )
    };
    let text = format!("{intro}\n\n{label}:\n{reason}\n\n{link}\n");
    let (link_href, link_text) = (link.to_owned(), link.to_owned());
    let html = html_page(
        locale,
        leptos::view! {
            <p>{intro}</p>
            <p><strong>{format!("{label}:")}</strong></p>
            <blockquote>{paragraphs(reason)}</blockquote>
            <p><a href=link_href>{link_text}</a></p>
        },
    );
    Mail {
        locale,
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Safeguard;

    fn sub(name: &str) -> subprocessors::Model {
        let at = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).unwrap_or_default();
        subprocessors::Model {
            id: SubprocessorId(1),
            org_id: crate::ids::OrgId(1),
            name: name.into(),
            address: "Industriestr. 25\n91710 Gunzenhausen".into(),
            service: "Hosting".into(),
            locations: "Deutschland".into(),
            safeguard: Safeguard::Eu,
            contact: String::new(),
            status: SubStatus::Planned,
            since: None,
            until: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn notice_names_the_deadline_and_escapes_html() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap_or_default();
        let m = notice_mail(
            Locale::De,
            "ConRat <b>GmbH</b>",
            &sub("Hetzner Online GmbH"),
            &[],
            Some(&sub("DomainFactory GmbH")),
            "Umzug in ein neues Rechenzentrum.",
            d,
            "https://n.example/portal#mitteilung-1",
        );
        assert!(
            m.subject.contains("Einspruch bis 24.12.2026"),
            "{}",
            m.subject
        );
        assert!(
            m.subject
                .contains("DomainFactory GmbH zu Hetzner Online GmbH")
        );
        assert!(m.text.contains("bis einschließlich 24.12.2026"));
        assert!(m.text.contains("Umzug in ein neues Rechenzentrum."));
        assert!(m.html.contains("ConRat &lt;b&gt;GmbH&lt;/b&gt;"));
        assert!(!m.html.contains("<b>GmbH"));
        let en = notice_mail(Locale::En, "ConRat", &sub("X"), &[], None, "", d, "l");
        assert!(en.subject.contains("objections until 24.12.2026"));
    }

    #[test]
    fn deadline_accepts_iso_and_german_and_rejects_garbage() {
        let want = NaiveDate::from_ymd_opt(2026, 12, 24);
        assert_eq!(parse_deadline("2026-12-24").ok().flatten(), want);
        assert_eq!(parse_deadline(" 24.12.2026 ").ok().flatten(), want);
        assert_eq!(parse_deadline("").ok().flatten(), None);
        assert!(parse_deadline("morgen").is_err());
    }
}
