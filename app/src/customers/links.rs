//! One-time login links for customers' contact persons without single
//! sign-on. Anyone may ask for a link on the login page; only a registered
//! contact address gets one, by mail through the outbox, and the answer is
//! the same either way. A link works once and for 30 minutes; the database
//! keeps only its SHA-256. Opening the link shows a button, and only the
//! button's POST signs in: mail scanners that fetch links do not use it up.

use crate::entities::BeginWrite;
use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Duration, Utc};
use leptos::prelude::ElementChild;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::domain::{EmailAddress, Role};
use crate::entities::{customer_contacts, login_links, organisations, users};
use crate::error::AppResult;
use crate::mail::templates::html_page;
use crate::mail::{Locale, Mail};

/// How long a link works.
pub const LINK_TTL_MINUTES: i64 = 30;
/// Open links per address at once; more requests send nothing (no mail bombing).
const MAX_OPEN_LINKS: u64 = 3;

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Sends a link to every customer contact registered under `email` (one
/// per organisation and customer). Returns how many were queued; callers
/// must not show that number to the person asking.
pub async fn request(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    public_url: &str,
    email: &str,
) -> AppResult<u32> {
    let email = EmailAddress::parse(email)?;
    let txn = db.begin_write().await?;
    let open = login_links::Entity::find()
        .filter(login_links::Column::Email.eq(email.as_str()))
        .filter(login_links::Column::UsedAt.is_null())
        .filter(login_links::Column::ExpiresAt.gt(now))
        .count(&txn)
        .await?;
    if open >= MAX_OPEN_LINKS {
        return Ok(0);
    }
    let contacts = customer_contacts::Entity::find()
        .filter(customer_contacts::Column::Email.eq(email.as_str()))
        .all(&txn)
        .await?;
    let mut queued = 0;
    for contact in contacts {
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let expires_at = now + Duration::minutes(LINK_TTL_MINUTES);
        login_links::ActiveModel {
            org_id: Set(contact.org_id),
            customer_id: Set(contact.customer_id),
            contact_id: Set(contact.id),
            email: Set(email.as_str().to_owned()),
            token_sha256: Set(digest(&token)),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let org_name = organisations::Entity::find_by_id(contact.org_id)
            .one(&txn)
            .await?
            .map(|o| o.legal_name)
            .unwrap_or_default();
        let link = format!("{public_url}/anmeldelink/{token}");
        let mail = link_mail(Locale::parse_lenient(&contact.locale), &org_name, &link);
        crate::mail::service::enqueue(
            &txn,
            now,
            Some(contact.org_id),
            "login_link",
            email.as_str(),
            &mail,
        )
        .await?;
        record(
            &txn,
            now,
            AuditEvent::new(
                &AuditActor::system("anonymous"),
                "login_link",
                contact.id.to_string(),
                "requested",
            )
            .in_org(contact.org_id)
            .after(json!({ "email": email.as_str(), "expires_at": expires_at })),
        )
        .await?;
        queued += 1;
    }
    txn.commit().await?;
    Ok(queued)
}

fn link_mail(locale: Locale, org_name: &str, link: &str) -> Mail {
    let (subject, intro, note) = match locale {
        Locale::De => (
            format!("Ihr Anmeldelink für das Kundenportal von {org_name}"),
            format!(
                "Mit diesem Link melden Sie sich am Kundenportal von {org_name} an (technische und organisatorische Maßnahmen, Anlage zum AV-Vertrag):"
            ),
            format!(
                "Der Link gilt einmal und {LINK_TTL_MINUTES} Minuten lang. Wenn Sie ihn nicht angefordert haben, können Sie diese Nachricht ignorieren."
            ),
        ),
        Locale::En => (
            format!("Your sign-in link for the customer portal of {org_name}"),
            format!(
                "Use this link to sign in to the customer portal of {org_name} (technical and organisational measures, annex to the data processing agreement):"
            ),
            format!(
                "The link works once and for {LINK_TTL_MINUTES} minutes. If you did not ask for it, you can ignore this message."
            ),
        ),
    };
    Mail {
        locale,
        text: format!("{intro}\n\n{link}\n\n{note}\n"),
        html: html_page(locale, {
            let (intro, note) = (intro.clone(), note.clone());
            let (link_href, link_text) = (link.to_owned(), link.to_owned());
            leptos::view! {
                <p>{intro}</p>
                <p><a href=link_href>{link_text}</a></p>
                <p>{note}</p>
            }
        }),
        subject,
    }
}

/// Why a link does not sign anyone in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    Unknown,
    Used,
    Expired,
    /// The address belongs to staff of this organisation: they sign in otherwise.
    NotACustomer,
}

/// Checks a link without using it (for the page the link opens).
pub async fn check(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    token: &str,
) -> AppResult<Result<(), LinkError>> {
    let Some(row) = find(db, token).await? else {
        return Ok(Err(LinkError::Unknown));
    };
    Ok(state_of(&row, now))
}

async fn find(
    db: &impl sea_orm::ConnectionTrait,
    token: &str,
) -> AppResult<Option<login_links::Model>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(login_links::Entity::find()
        .filter(login_links::Column::TokenSha256.eq(digest(token)))
        .one(db)
        .await?)
}

fn state_of(row: &login_links::Model, now: DateTime<Utc>) -> Result<(), LinkError> {
    if row.used_at.is_some() {
        Err(LinkError::Used)
    } else if row.expires_at <= now {
        Err(LinkError::Expired)
    } else {
        Ok(())
    }
}

/// Uses a link: exactly once, also when two requests race. Returns the
/// person and organisation to sign in as.
pub async fn redeem(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    token: &str,
) -> AppResult<Result<(UserId, OrgId), LinkError>> {
    let txn = db.begin_write().await?;
    let Some(row) = find(&txn, token).await? else {
        return Ok(Err(LinkError::Unknown));
    };
    if let Err(e) = state_of(&row, now) {
        return Ok(Err(e));
    }
    let taken = login_links::Entity::update_many()
        .col_expr(login_links::Column::UsedAt, Expr::value(now))
        .filter(login_links::Column::Id.eq(row.id))
        .filter(login_links::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(Err(LinkError::Used));
    }
    let email = EmailAddress::parse(&row.email)?;
    let system = AuditActor::system("login-link");
    let user = match users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?
    {
        Some(u) if u.locked => return Ok(Err(LinkError::NotACustomer)),
        Some(u) => u,
        None => {
            let name = customer_contacts::Entity::find_by_id(row.contact_id)
                .one(&txn)
                .await?
                .map(|c| c.name)
                .filter(|n| crate::domain::parse_display_name(n).is_ok())
                .unwrap_or_else(|| email.as_str().to_owned());
            crate::auth::service::create_user(&txn, now, &system, &email, &name, None).await?
        }
    };
    if crate::orgs::service::admit_member(
        &txn,
        now,
        &system,
        row.org_id,
        user.id,
        Some(row.customer_id),
        Role::Customer,
        "login link",
    )
    .await?
    .is_err()
    {
        return Ok(Err(LinkError::NotACustomer));
    }
    record(
        &txn,
        now,
        AuditEvent::new(
            &AuditActor {
                user_id: Some(user.id),
                label: user.email.clone(),
            },
            "session",
            user.id.to_string(),
            "login",
        )
        .in_org(row.org_id)
        .after(json!({ "method": "login link" })),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok((user.id, row.org_id)))
}
