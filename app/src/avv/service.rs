//! The AVV texts: read, and saved as a new version when changed.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use super::{AvvLanguage, AvvSaved, AvvTextView, AvvTexts, LOCALES, default_text};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::entities::{BeginWrite, avv_texts, users};
use crate::error::{AppError, AppResult};
use crate::format::LocalTime;
use crate::ids::OrgId;

/// The longest text accepted, in characters.
const MAX_BODY: usize = 100_000;

fn known_locale(locale: &str) -> AppResult<&'static str> {
    LOCALES
        .iter()
        .map(|(l, _)| *l)
        .find(|l| *l == locale)
        .ok_or_else(|| AppError::invalid("locale", format!("Unbekannte Sprache „{locale}“.")))
}

/// The current version of one language, if any.
pub async fn current<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    locale: &str,
) -> AppResult<Option<avv_texts::Model>> {
    Ok(avv_texts::Entity::find()
        .filter(avv_texts::Column::OrgId.eq(org_id))
        .filter(avv_texts::Column::Locale.eq(locale))
        .order_by_desc(avv_texts::Column::Version)
        .one(db)
        .await?)
}

/// The AVV page's data (admins and auditors).
pub async fn texts(db: &DatabaseConnection, actor: &Actor) -> AppResult<AvvTexts> {
    if !actor.role.reads_contracts() {
        return Err(AppError::Forbidden);
    }
    let rows = avv_texts::Entity::find()
        .filter(avv_texts::Column::OrgId.eq(actor.org_id))
        .order_by_desc(avv_texts::Column::Version)
        .all(db)
        .await?;
    let mut authors: Vec<_> = rows.iter().filter_map(|r| r.created_by).collect();
    authors.sort();
    authors.dedup();
    let names: std::collections::HashMap<_, _> = users::Entity::find()
        .filter(users::Column::Id.is_in(authors))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let author = |r: &avv_texts::Model| {
        r.created_by
            .and_then(|u| names.get(&u).cloned())
            .unwrap_or_else(|| "Nachweis".to_owned())
    };
    let languages = LOCALES
        .iter()
        .map(|(locale, label)| {
            let mine: Vec<&avv_texts::Model> =
                rows.iter().filter(|r| r.locale == *locale).collect();
            let current = mine.first().map(|r| AvvTextView {
                id: r.id,
                locale: r.locale.clone(),
                version: r.version,
                title: r.title.clone(),
                body: r.body.clone(),
                blocks: crate::pledges::service::blocks(&r.body),
                sha256: r.sha256.clone(),
                created_at: LocalTime::of(r.created_at),
                created_by: author(r),
            });
            let (proposed_title, proposed_body) = default_text(locale);
            AvvLanguage {
                locale: (*locale).to_owned(),
                label: (*label).to_owned(),
                draft_title: current
                    .as_ref()
                    .map_or_else(|| proposed_title.to_owned(), |c| c.title.clone()),
                draft_body: current
                    .as_ref()
                    .map_or_else(|| proposed_body.trim().to_owned(), |c| c.body.clone()),
                history: mine
                    .iter()
                    .map(|r| {
                        (
                            r.version,
                            r.sha256.clone(),
                            LocalTime::of(r.created_at),
                            author(r),
                        )
                    })
                    .collect(),
                current,
            }
        })
        .collect();
    Ok(AvvTexts {
        languages,
        can_edit: actor.role.is_admin(),
    })
}

/// Saves one language's text (admins): a new version if title or body
/// differ from the current version, else the current one, unchanged.
pub async fn save(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    locale: &str,
    title: &str,
    body: &str,
) -> AppResult<AvvSaved> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let locale = known_locale(locale.trim())?;
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid(
            "title",
            "Bitte geben Sie einen Titel an (höchstens 200 Zeichen).",
        ));
    }
    let body = body.replace("\r\n", "\n").trim().to_owned();
    if crate::pledges::service::blocks(&body).is_empty() {
        return Err(AppError::invalid(
            "body",
            "Bitte geben Sie den Vertragstext ein.",
        ));
    }
    if body.chars().count() > MAX_BODY {
        return Err(AppError::invalid(
            "body",
            format!("Der Text ist zu lang (höchstens {MAX_BODY} Zeichen)."),
        ));
    }
    let sha256 = crate::pledges::service::text_hash(title, &body);
    let txn = db.begin_write().await?;
    let previous = current(&txn, actor.org_id, locale).await?;
    if let Some(p) = previous.as_ref().filter(|p| p.sha256 == sha256) {
        return Ok(AvvSaved {
            id: p.id,
            version: p.version,
            created: false,
        });
    }
    let version = previous.map_or(1, |p| p.version + 1);
    // Two admins at once: the unique (org, locale, version) index lets one win.
    let row = avv_texts::ActiveModel {
        org_id: Set(actor.org_id),
        locale: Set(locale.to_owned()),
        version: Set(version),
        title: Set(title.to_owned()),
        body: Set(body),
        sha256: Set(sha256),
        created_by: Set(Some(actor.user_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::unless_unique(e, AppError::Conflict))?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "avv_text", row.id.to_string(), "publish")
            .in_org(actor.org_id)
            .after(json!({ "locale": row.locale, "version": row.version, "sha256": row.sha256 })),
    )
    .await?;
    txn.commit().await?;
    Ok(AvvSaved {
        id: row.id,
        version: row.version,
        created: true,
    })
}
