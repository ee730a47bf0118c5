//! Assembling the annex from the catalogue and the organisation profile.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::AnnexData;
use crate::entities::organisations;
use crate::error::{AppError, AppResult};

/// The annex as it would read if published now: implemented measures only.
pub async fn draft(
    db: &DatabaseConnection,
    org_id: i32,
    now: DateTime<Utc>,
) -> AppResult<AnnexData> {
    let sections = crate::toms::service::annex_sections(db, org_id, now).await?;
    with_sections(db, org_id, now, sections).await
}

/// The draft around sections the caller has already read.
pub async fn with_sections(
    db: &DatabaseConnection,
    org_id: i32,
    now: DateTime<Utc>,
    sections: Vec<super::AnnexSection>,
) -> AppResult<AnnexData> {
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    Ok(AnnexData {
        display_short: if org.display_short.is_empty() {
            org.legal_name.clone()
        } else {
            org.display_short
        },
        org_name: org.legal_name,
        intro: org
            .intro_text
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        sections,
        stand: now
            .with_timezone(&chrono_tz::Europe::Berlin)
            .format("%d.%m.%Y")
            .to_string(),
        version: None,
        draft: true,
        audit_anchor: None,
    })
}

/// Renders the draft annex to PDF bytes.
pub async fn draft_pdf(
    db: &DatabaseConnection,
    org_id: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    let data = draft(db, org_id, now).await?;
    // Typst compiles synchronously (tens of milliseconds); keep it off the async workers.
    tokio::task::spawn_blocking(move || super::render::render_pdf(&data))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}
