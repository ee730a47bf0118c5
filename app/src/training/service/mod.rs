//! Courses, attempts, completions with certificates, and the overview.

use crate::ids::{AttemptId, CompletionId, CourseId, CourseVersionId, EvidenceId, OrgId};
use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::quiz::{self, Layout};
use super::{
    AttemptView, BASE_COURSE_TITLE, Cell, CellState, CertificateView, CourseAdminView, CourseList,
    CourseState, MyCourse, MyTraining, OVERVIEW_PAGE_SIZE, OverviewQuery, OverviewRow,
    QuestionView, TrainingOverview,
};
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::Role;
use crate::entities::{
    organisations, training_attempts, training_completions, training_courses, training_versions,
};
use crate::error::{AppError, AppResult};
use crate::format::german_datetime;
use crate::pdf::typeset::Template;
use crate::pledges::PledgeState;

const MAX_SOURCE: usize = 200_000;

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/certificate.typ", include_str!("../certificate.typ")))
}

fn version_hash(title: &str, pass_percent: i32, source: &str) -> String {
    hex::encode(Sha256::digest(
        format!("{title}\n{pass_percent}\n\n{source}").as_bytes(),
    ))
}

/// The newest version of every course of the organisation, by course id.
async fn current_versions<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<HashMap<CourseId, training_versions::Model>> {
    let mut out: HashMap<CourseId, training_versions::Model> = HashMap::new();
    for v in training_versions::Entity::find()
        .filter(training_versions::Column::OrgId.eq(org_id))
        .order_by_asc(training_versions::Column::Version)
        .all(db)
        .await?
    {
        out.insert(v.course_id, v);
    }
    Ok(out)
}

async fn courses_of<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<training_courses::Model>> {
    Ok(training_courses::Entity::find()
        .filter(training_courses::Column::OrgId.eq(org_id))
        .order_by_asc(training_courses::Column::Id)
        .all(db)
        .await?)
}

/// A course version without its content: what standings and lists show.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct VersionHead {
    pub id: CourseVersionId,
    pub course_id: CourseId,
    pub version: i32,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

/// The organisation's courses and the current version of each, without
/// the course content: read once per request and shared by whoever needs
/// them (the start page shows the person's courses and everyone's due
/// trainings from the same statement).
#[derive(Debug, Clone, Default)]
pub struct Courses {
    /// In the order they were created; each has a version (a course is
    /// created with its first).
    courses: Vec<training_courses::Model>,
    current: HashMap<CourseId, VersionHead>,
}

/// A version head with its course, as one row of [`Courses::load`].
#[derive(Debug, sea_orm::FromQueryResult)]
struct HeadWithCourse {
    id: CourseVersionId,
    course_id: CourseId,
    version: i32,
    title: String,
    created_at: DateTime<Utc>,
    course_title: String,
    interval_months: i32,
    new_staff_days: i32,
    retry_days: i32,
    course_created_at: DateTime<Utc>,
}

impl Courses {
    /// One statement: every version head joined with its course.
    pub async fn load<C: sea_orm::ConnectionTrait>(db: &C, org_id: OrgId) -> AppResult<Courses> {
        use sea_orm::{JoinType, QuerySelect, RelationDef};
        use training_courses::Column as K;
        use training_versions::Column as V;
        let to_course: RelationDef =
            training_versions::Entity::belongs_to(training_courses::Entity)
                .from(V::CourseId)
                .to(K::Id)
                .into();
        let mut courses: Vec<training_courses::Model> = Vec::new();
        let mut current: HashMap<CourseId, VersionHead> = HashMap::new();
        for r in training_versions::Entity::find()
            .select_only()
            .columns([V::Id, V::CourseId, V::Version, V::Title, V::CreatedAt])
            .column_as(K::Title, "course_title")
            .columns([K::IntervalMonths, K::NewStaffDays, K::RetryDays])
            .column_as(K::CreatedAt, "course_created_at")
            .join(JoinType::InnerJoin, to_course)
            .filter(V::OrgId.eq(org_id))
            .order_by_asc(V::Version)
            .into_model::<HeadWithCourse>()
            .all(db)
            .await?
        {
            if !current.contains_key(&r.course_id) {
                courses.push(training_courses::Model {
                    id: r.course_id,
                    org_id,
                    title: r.course_title,
                    interval_months: r.interval_months,
                    new_staff_days: r.new_staff_days,
                    retry_days: r.retry_days,
                    created_at: r.course_created_at,
                });
            }
            current.insert(
                r.course_id,
                VersionHead {
                    id: r.id,
                    course_id: r.course_id,
                    version: r.version,
                    title: r.title,
                    created_at: r.created_at,
                },
            );
        }
        courses.sort_by_key(|c| c.id);
        Ok(Courses { courses, current })
    }

    /// Each course that has a version, with its current version.
    fn with_versions(&self) -> Vec<(training_courses::Model, VersionHead)> {
        self.courses
            .iter()
            .filter_map(|c| Some((c.clone(), self.current.get(&c.id)?.clone())))
            .collect()
    }
}

/// Image types a course may show (no SVG: it can carry script).
pub const COURSE_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The prefix of an image address that names a piece of evidence.
const IMAGE_SCHEME: &str = "nachweis:";

/// The evidence a course's content shows as images (`![Beschreibung](nachweis:42)`),
/// or what is wrong with an image: another address, no description.
pub fn image_refs(content: &str) -> Result<Vec<EvidenceId>, String> {
    let mut ids = Vec::new();
    for b in crate::pledges::service::blocks_with_images(content) {
        let Some(src) = b.src.as_deref() else {
            continue;
        };
        let id = src
            .strip_prefix(IMAGE_SCHEME)
            .and_then(|id| id.trim().parse::<EvidenceId>().ok())
            .ok_or_else(|| {
                format!(
                    "Das Bild „{src}“ lässt sich nicht einbinden: Bilder kommen aus den Nachweisen, geschrieben als ![Beschreibung]({IMAGE_SCHEME}Nummer). Adressen anderer Websites werden nicht geladen."
                )
            })?;
        if b.text.is_empty() {
            return Err(format!(
                "Das Bild {IMAGE_SCHEME}{id} hat keine Beschreibung: Schreiben Sie in die eckigen Klammern, was es zeigt, für alle, die es nicht sehen."
            ));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The file of an image evidence of the organisation: its newest version,
/// if that is a picture a course may show.
async fn course_image_file(
    db: &DatabaseConnection,
    org_id: OrgId,
    evidence_id: EvidenceId,
) -> AppResult<crate::entities::evidence_versions::Model> {
    use crate::entities::{evidence, evidence_versions};
    let not_found = || AppError::NotFound("Das Bild".into());
    evidence::Entity::find_by_id(evidence_id)
        .filter(evidence::Column::OrgId.eq(org_id))
        .filter(evidence::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    evidence_versions::Entity::find()
        .filter(evidence_versions::Column::EvidenceId.eq(evidence_id))
        .filter(evidence_versions::Column::OrgId.eq(org_id))
        .filter(evidence_versions::Column::PurgedAt.is_null())
        .order_by_desc(evidence_versions::Column::Version)
        .one(db)
        .await?
        .filter(|v| COURSE_IMAGE_TYPES.contains(&v.content_type.as_str()))
        .ok_or_else(not_found)
}

/// An image of a course version, for anyone of the organisation who may
/// read courses: only evidence the version's content shows, so the image
/// route opens no other evidence to staff (who cannot list evidence).
pub async fn course_image(
    db: &DatabaseConnection,
    actor: &Actor,
    version_id: CourseVersionId,
    evidence_id: EvidenceId,
) -> AppResult<crate::entities::evidence_versions::Model> {
    let not_found = || AppError::NotFound("Das Bild".into());
    if !actor.role.is_internal() {
        return Err(not_found());
    }
    let v = training_versions::Entity::find_by_id(version_id)
        .filter(training_versions::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let shown = quiz::parse(&v.source)
        .ok()
        .and_then(|c| image_refs(&c.content).ok())
        .unwrap_or_default();
    if !shown.contains(&evidence_id) {
        return Err(not_found());
    }
    course_image_file(db, actor.org_id, evidence_id).await
}

/// The organisation's image evidence a course can show: (id, title).
async fn usable_images(
    db: &DatabaseConnection,
    org_id: OrgId,
) -> AppResult<Vec<(EvidenceId, String)>> {
    use crate::entities::{evidence, evidence_versions};
    use sea_orm::QuerySelect;
    let images: std::collections::HashSet<EvidenceId> = evidence_versions::Entity::find()
        .select_only()
        .column(evidence_versions::Column::EvidenceId)
        .filter(evidence_versions::Column::OrgId.eq(org_id))
        .filter(evidence_versions::Column::PurgedAt.is_null())
        .filter(evidence_versions::Column::ContentType.is_in(COURSE_IMAGE_TYPES.iter().copied()))
        .into_tuple::<EvidenceId>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(evidence::Entity::find()
        .filter(evidence::Column::OrgId.eq(org_id))
        .filter(evidence::Column::DeletedAt.is_null())
        .order_by_asc(evidence::Column::Title)
        .all(db)
        .await?
        .into_iter()
        .filter(|e| images.contains(&e.id))
        .map(|e| (e.id, e.title))
        .collect())
}

mod attempts;
mod certificates;
mod courses;
mod reminders;
mod standings;
pub use attempts::*;
pub use certificates::*;
pub use courses::*;
pub use reminders::*;
pub use standings::*;
