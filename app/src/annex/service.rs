//! Assembling the annex from the catalogue and the organisation profile.

use crate::ids::OrgId;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};

use std::collections::HashMap;

use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

use super::{AnnexData, AnnexSection};
use crate::domain::MeasureStatus;
use crate::entities::{measures, organisations};
use crate::error::{AppError, AppResult};
use crate::ids::{CategoryId, MeasureId};

/// The annex as it would read if published now: implemented measures only.
pub async fn draft(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: DateTime<Utc>,
) -> AppResult<AnnexData> {
    let sections = annex_sections(db, org_id, now).await?;
    with_sections(db, org_id, now, sections).await
}

/// The draft around sections the caller has already read.
pub async fn with_sections(
    db: &DatabaseConnection,
    org_id: OrgId,
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
        stand: crate::format::german_day_text(now),
        version: None,
        draft: true,
        audit_anchor: None,
    })
}

/// Renders the draft annex to PDF bytes.
pub async fn draft_pdf(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    let data = draft(db, org_id, now).await?;
    // Typst compiles synchronously (tens of milliseconds); keep it off the async workers.
    tokio::task::spawn_blocking(move || super::render::render_pdf(&data))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// The implemented measures per category in document order, for the annex:
/// (number, title, level, texts). Categories without any are left out, unless
/// a subcategory of theirs has some (the heading is needed for the numbering).
pub async fn annex_sections(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<AnnexSection>> {
    Ok(annex_sections_with_ids(db, org_id, now)
        .await?
        .into_iter()
        .map(|(section, _)| section)
        .collect())
}

/// The annex sections, each with the ids of the measures behind its paragraphs.
/// A measure that relies on subprocessors ends with a sentence naming them
/// and their attestations valid at `now`.
pub async fn annex_sections_with_ids(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<(AnnexSection, Vec<MeasureId>)>> {
    let cats = crate::toms::service::ordered_categories(db, org_id).await?;
    let notes =
        crate::subprocessors::service::annex_notes(db, org_id, crate::format::german_day(now))
            .await?;
    let text = |m: &measures::Model| match notes.get(&m.id) {
        Some(note) => format!("{} {note}", m.body.trim_end()),
        None => m.body.clone(),
    };
    let all = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org_id))
        .filter(measures::Column::Status.eq(MeasureStatus::Implemented))
        .order_by_asc(measures::Column::Position)
        .order_by_asc(measures::Column::Id)
        .all(db)
        .await?;
    // When the organisation states it: per section, when its measures were last reviewed.
    let states_reviews = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .is_some_and(|o| o.annex_review_dates);
    let reviewed = if states_reviews {
        let pairs: Vec<(CategoryId, MeasureId)> =
            all.iter().map(|m| (m.category_id, m.id)).collect();
        crate::reviews::service::section_review_dates(db, org_id, &pairs).await?
    } else {
        HashMap::new()
    };
    let mut sections: Vec<(AnnexSection, Vec<MeasureId>)> = cats
        .iter()
        .map(|(number, c)| {
            let mine: Vec<&measures::Model> =
                all.iter().filter(|m| m.category_id == c.id).collect();
            (
                AnnexSection {
                    number: number.clone(),
                    title: c.title.clone(),
                    level: if c.parent_id.is_some() { 2 } else { 1 },
                    measures: mine.iter().map(|m| text(m)).collect(),
                    reviewed: reviewed
                        .get(&c.id)
                        .filter(|_| !mine.is_empty())
                        .map(|d| d.format("%d.%m.%Y").to_string()),
                },
                mine.iter().map(|m| m.id).collect(),
            )
        })
        .collect();
    let keep: Vec<bool> = cats
        .iter()
        .enumerate()
        .map(|(i, (_, c))| {
            !sections[i].0.measures.is_empty()
                || (c.parent_id.is_none()
                    && cats.iter().zip(&sections).any(|((_, child), (s, _))| {
                        child.parent_id == Some(c.id) && !s.measures.is_empty()
                    }))
        })
        .collect();
    let mut i = 0;
    sections.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    Ok(sections)
}
