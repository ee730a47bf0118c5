//! Courses, attempts, completions with certificates, and the overview.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::quiz::{self, Layout};
use super::{
    AttemptView, BASE_COURSE_TITLE, Cell, CertificateView, CourseAdminView, CourseList, MyCourse,
    MyTraining, OVERVIEW_PAGE_SIZE, OverviewQuery, OverviewRow, QuestionView, TrainingOverview,
};
use crate::annex::render::{Template, typeset};
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::Role;
use crate::entities::{
    organisations, training_attempts, training_completions, training_courses, training_versions,
};
use crate::error::{AppError, AppResult};
use crate::pledges::must_sign;
use crate::ui::format_datetime;

const MAX_SOURCE: usize = 200_000;

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/certificate.typ", include_str!("certificate.typ")))
}

fn german_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Berlin)
        .format("%d.%m.%Y")
        .to_string()
}

fn version_hash(title: &str, pass_percent: i32, source: &str) -> String {
    hex::encode(Sha256::digest(
        format!("{title}\n{pass_percent}\n\n{source}").as_bytes(),
    ))
}

/// The newest version of every course of the organisation, by course id.
async fn current_versions(
    db: &DatabaseConnection,
    org_id: i32,
) -> AppResult<HashMap<i32, training_versions::Model>> {
    let mut out: HashMap<i32, training_versions::Model> = HashMap::new();
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

async fn courses_of(
    db: &DatabaseConnection,
    org_id: i32,
) -> AppResult<Vec<training_courses::Model>> {
    Ok(training_courses::Entity::find()
        .filter(training_courses::Column::OrgId.eq(org_id))
        .order_by_asc(training_courses::Column::Id)
        .all(db)
        .await?)
}

/// Image types a course may show (no SVG: it can carry script).
pub const COURSE_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The prefix of an image address that names a piece of evidence.
const IMAGE_SCHEME: &str = "nachweis:";

/// The evidence a course's content shows as images (`![Beschreibung](nachweis:42)`),
/// or what is wrong with an image: another address, no description.
pub fn image_refs(content: &str) -> Result<Vec<i32>, String> {
    let mut ids = Vec::new();
    for b in crate::pledges::service::blocks_with_images(content) {
        let Some(src) = b.src.as_deref() else {
            continue;
        };
        let id = src
            .strip_prefix(IMAGE_SCHEME)
            .and_then(|id| id.trim().parse::<i32>().ok())
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
    org_id: i32,
    evidence_id: i32,
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
    version_id: i32,
    evidence_id: i32,
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
async fn usable_images(db: &DatabaseConnection, org_id: i32) -> AppResult<Vec<(i32, String)>> {
    use crate::entities::{evidence, evidence_versions};
    use sea_orm::QuerySelect;
    let images: std::collections::HashSet<i32> = evidence_versions::Entity::find()
        .select_only()
        .column(evidence_versions::Column::EvidenceId)
        .filter(evidence_versions::Column::OrgId.eq(org_id))
        .filter(evidence_versions::Column::PurgedAt.is_null())
        .filter(evidence_versions::Column::ContentType.is_in(COURSE_IMAGE_TYPES.iter().copied()))
        .into_tuple::<i32>()
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

/// Creates a course (`course_id` = 0) or a new version of one. The source
/// is parsed and checked first; nothing is stored if it is wrong.
#[allow(clippy::too_many_arguments)]
pub async fn save_course(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    org_id: i32,
    user_id: Option<i32>,
    audit: &AuditActor,
    course_id: i32,
    title: &str,
    source: &str,
    pass_percent: i32,
) -> AppResult<i32> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid(
            "title",
            "Bitte geben Sie einen Titel an (höchstens 200 Zeichen).",
        ));
    }
    let source = source.replace("\r\n", "\n").trim().to_owned();
    if source.chars().count() > MAX_SOURCE {
        return Err(AppError::invalid("source", "Der Kurs ist zu lang."));
    }
    let parsed = quiz::parse(&source).map_err(|e| AppError::invalid("source", e))?;
    let images = image_refs(&parsed.content).map_err(|e| AppError::invalid("source", e))?;
    for id in images {
        course_image_file(db, org_id, id)
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => AppError::invalid(
                    "source",
                    format!(
                        "Das Bild nachweis:{id} gibt es nicht: Bilder kommen aus den Nachweisen als PNG, JPEG, GIF oder WebP (Liste unter dem Editor)."
                    ),
                ),
                e => e,
            })?;
    }
    let sha256 = version_hash(title, pass_percent, &source);
    let txn = db.begin().await?;
    let (course, previous) = if course_id == 0 {
        let course = training_courses::ActiveModel {
            org_id: Set(org_id),
            title: Set(title.to_owned()),
            interval_months: Set(12),
            new_staff_days: Set(30),
            retry_days: Set(14),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        (course, None)
    } else {
        let course = training_courses::Entity::find_by_id(course_id)
            .filter(training_courses::Column::OrgId.eq(org_id))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound("Der Kurs".into()))?;
        let previous = training_versions::Entity::find()
            .filter(training_versions::Column::CourseId.eq(course.id))
            .order_by_desc(training_versions::Column::Version)
            .one(&txn)
            .await?;
        (course, previous)
    };
    if previous.as_ref().is_some_and(|p| p.sha256 == sha256) {
        return Err(AppError::invalid(
            "source",
            "Der Kurs ist unverändert; eine neue Version entsteht nur mit Änderungen.",
        ));
    }
    let version = previous.map_or(1, |p| p.version + 1);
    let row = training_versions::ActiveModel {
        org_id: Set(org_id),
        course_id: Set(course.id),
        version: Set(version),
        title: Set(title.to_owned()),
        source: Set(source),
        pass_percent: Set(pass_percent),
        sha256: Set(sha256),
        created_by: Set(user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict,
        _ => e.into(),
    })?;
    if course.title != title {
        let mut active: training_courses::ActiveModel = course.clone().into();
        active.title = Set(title.to_owned());
        active.update(&txn).await?;
    }
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(org_id),
            actor: audit,
            entity: "training_course",
            entity_id: course.id.to_string(),
            action: if version == 1 {
                "create"
            } else {
                "new_version"
            },
            before: None,
            after: Some(json!({
                "title": row.title, "version": row.version, "pass_percent": row.pass_percent,
                "sha256": row.sha256,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(course.id)
}

pub async fn save_rules(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    course_id: i32,
    interval_months: i32,
    new_staff_days: i32,
    retry_days: i32,
) -> AppResult<()> {
    if !(1..=60).contains(&interval_months) {
        return Err(AppError::invalid(
            "interval_months",
            "Die Wiederholung ist eine Zahl von 1 bis 60 Monaten.",
        ));
    }
    for (field, v) in [
        ("new_staff_days", new_staff_days),
        ("retry_days", retry_days),
    ] {
        if !(1..=365).contains(&v) {
            return Err(AppError::invalid(
                field,
                "Die Frist ist eine Zahl von 1 bis 365 Tagen.",
            ));
        }
    }
    let txn = db.begin().await?;
    let course = training_courses::Entity::find_by_id(course_id)
        .filter(training_courses::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kurs".into()))?;
    let before = json!({
        "interval_months": course.interval_months, "new_staff_days": course.new_staff_days,
        "retry_days": course.retry_days,
    });
    let mut active: training_courses::ActiveModel = course.into();
    active.interval_months = Set(interval_months);
    active.new_staff_days = Set(new_staff_days);
    active.retry_days = Set(retry_days);
    active.update(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "training_course",
            entity_id: course_id.to_string(),
            action: "rules",
            before: Some(before),
            after: Some(json!({
                "interval_months": interval_months, "new_staff_days": new_staff_days,
                "retry_days": retry_days,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn courses(db: &DatabaseConnection, actor: &Actor) -> AppResult<CourseList> {
    if !matches!(actor.role, Role::Admin | Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    let current = current_versions(db, actor.org_id).await?;
    let courses: Vec<CourseAdminView> = courses_of(db, actor.org_id)
        .await?
        .into_iter()
        .filter_map(|c| {
            let v = current.get(&c.id)?;
            Some(CourseAdminView {
                id: c.id,
                interval_months: c.interval_months,
                new_staff_days: c.new_staff_days,
                retry_days: c.retry_days,
                title: v.title.clone(),
                version: v.version,
                pass_percent: v.pass_percent,
                sha256: v.sha256.clone(),
                questions: quiz::parse(&v.source).map_or(0, |q| q.questions.len()),
                source: v.source.clone(),
                created_at: german_date(v.created_at),
            })
        })
        .collect();
    Ok(CourseList {
        images: usable_images(db, actor.org_id).await?,
        can_edit: actor.role.is_admin(),
        base_missing: !courses.iter().any(|c| c.title == BASE_COURSE_TITLE),
        courses,
    })
}

pub async fn mine(db: &DatabaseConnection, actor: &Actor) -> AppResult<MyTraining> {
    if !must_sign(actor.role) {
        // Auditors take no trainings here.
        return Ok(MyTraining {
            courses: Vec::new(),
            certificates: Vec::new(),
        });
    }
    let current = current_versions(db, actor.org_id).await?;
    let attempts = training_attempts::Entity::find()
        .filter(training_attempts::Column::OrgId.eq(actor.org_id))
        .filter(training_attempts::Column::UserId.eq(actor.user_id))
        .order_by_asc(training_attempts::Column::Id)
        .all(db)
        .await?;
    let completions = training_completions::Entity::find()
        .filter(training_completions::Column::OrgId.eq(actor.org_id))
        .filter(training_completions::Column::UserId.eq(actor.user_id))
        .order_by_desc(training_completions::Column::FinishedAt)
        .all(db)
        .await?;
    let titles: HashMap<i32, String> = courses_of(db, actor.org_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    let mut courses = Vec::new();
    for (course_id, v) in &current {
        let open = attempts
            .iter()
            .rev()
            .find(|a| a.course_id == *course_id && a.finished_at.is_none());
        let last_finished = attempts
            .iter()
            .rev()
            .find(|a| a.course_id == *course_id && a.finished_at.is_some());
        let newest_pass = completions.iter().find(|c| c.course_id == *course_id);
        let state = if open.is_some() {
            "in_progress"
        } else if newest_pass.is_some_and(|c| c.version_id == v.id) {
            "passed"
        } else if last_finished.is_some_and(|a| a.passed == Some(false)) {
            "failed"
        } else if newest_pass.is_some() {
            "outdated"
        } else {
            "open"
        };
        courses.push(MyCourse {
            course_id: *course_id,
            title: v.title.clone(),
            version: v.version,
            state: state.to_owned(),
            attempt_id: open.map(|a| a.id),
            passed_at: newest_pass.map(|c| german_date(c.finished_at)),
            completion_id: newest_pass.map(|c| c.id),
        });
    }
    courses.sort_by_key(|c| c.course_id);
    Ok(MyTraining {
        courses,
        certificates: completions
            .iter()
            .map(|c| CertificateView {
                id: c.id,
                title: titles.get(&c.course_id).cloned().unwrap_or_default(),
                version: c.version,
                finished_at: format_datetime(c.finished_at),
                score: c.score,
                max_score: c.max_score,
            })
            .collect(),
    })
}

/// Starts the current version of a course, or returns the unfinished attempt.
pub async fn start(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    course_id: i32,
) -> AppResult<i32> {
    if !must_sign(actor.role) {
        return Err(AppError::Forbidden);
    }
    let txn = db.begin().await?;
    let course = training_courses::Entity::find_by_id(course_id)
        .filter(training_courses::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kurs".into()))?;
    if let Some(open) = training_attempts::Entity::find()
        .filter(training_attempts::Column::CourseId.eq(course.id))
        .filter(training_attempts::Column::UserId.eq(actor.user_id))
        .filter(training_attempts::Column::FinishedAt.is_null())
        .one(&txn)
        .await?
    {
        return Ok(open.id);
    }
    let version = training_versions::Entity::find()
        .filter(training_versions::Column::CourseId.eq(course.id))
        .order_by_desc(training_versions::Column::Version)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kurs".into()))?;
    let parsed = quiz::parse(&version.source).map_err(AppError::internal)?;
    let layout = quiz::shuffle(&parsed.questions);
    let row = training_attempts::ActiveModel {
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        course_id: Set(course.id),
        version_id: Set(version.id),
        layout: Set(serde_json::to_string(&layout).map_err(AppError::internal)?),
        answers: Set("[]".into()),
        started_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
        score: Set(None),
        max_score: Set(parsed.questions.len() as i32),
        passed: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// An attempt of the signed-in person; anyone else's is not found.
async fn own_attempt(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
) -> AppResult<(training_attempts::Model, training_versions::Model)> {
    let a = training_attempts::Entity::find_by_id(id)
        .filter(training_attempts::Column::OrgId.eq(actor.org_id))
        .filter(training_attempts::Column::UserId.eq(actor.user_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Schulungsdurchgang".into()))?;
    let v = training_versions::Entity::find_by_id(a.version_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kurs".into()))?;
    Ok((a, v))
}

fn answers_of(a: &training_attempts::Model) -> Vec<Vec<usize>> {
    serde_json::from_str(&a.answers).unwrap_or_default()
}

pub async fn attempt(db: &DatabaseConnection, actor: &Actor, id: i32) -> AppResult<AttemptView> {
    let (a, v) = own_attempt(db, actor, id).await?;
    let parsed = quiz::parse(&v.source).map_err(AppError::internal)?;
    let layout: Layout = serde_json::from_str(&a.layout).map_err(AppError::internal)?;
    let answers = answers_of(&a);
    let completion = training_completions::Entity::find()
        .filter(training_completions::Column::AttemptId.eq(a.id))
        .one(db)
        .await?;
    Ok(AttemptView {
        id: a.id,
        course_id: a.course_id,
        title: v.title.clone(),
        version: v.version,
        version_id: v.id,
        pass_percent: v.pass_percent,
        content: crate::pledges::service::blocks_with_images(&parsed.content)
            .into_iter()
            .map(|mut b| {
                // `nachweis:42` → the route that checks the reader may see it.
                if let Some(id) = b.src.as_deref().and_then(|s| s.strip_prefix(IMAGE_SCHEME)) {
                    b.src = Some(format!("/schulungen/bild/{}/{}", v.id, id.trim()));
                }
                b
            })
            .collect(),
        questions: layout
            .questions
            .iter()
            .filter_map(|&qi| {
                let q = parsed.questions.get(qi)?;
                Some(QuestionView {
                    index: qi,
                    text: q.text.clone(),
                    multiple: q.multiple,
                    options: layout
                        .options
                        .get(qi)?
                        .iter()
                        .filter_map(|&oi| Some((oi, q.options.get(oi)?.text.clone())))
                        .collect(),
                    chosen: answers.get(qi).cloned().unwrap_or_default(),
                })
            })
            .collect(),
        finished: a.finished_at.is_some(),
        score: a.score,
        max_score: a.max_score,
        passed: a.passed,
        completion_id: completion.map(|c| c.id),
    })
}

/// What came back from the quiz form.
#[derive(Debug)]
pub struct Answers {
    pub version_id: i32,
    /// (`q<index>`, option index) pairs, as the form sends them.
    pub fields: Vec<(String, String)>,
    /// Hand in (score it) rather than only save for later.
    pub submit: bool,
}

/// The outcome of handing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Saved,
    Passed {
        score: u32,
        max: u32,
        completion_id: i32,
    },
    Failed {
        score: u32,
        max: u32,
    },
}

/// Saves answers (pause) or hands the attempt in. The answers must be for
/// the attempt's own version; a finished attempt takes no more answers, so
/// handing in twice cannot count twice.
pub async fn answer(
    db: &DatabaseConnection,
    signing: &crate::annex::keys::SigningSetup,
    now: DateTime<Utc>,
    actor: &Actor,
    attempt_id: i32,
    input: Answers,
) -> AppResult<Outcome> {
    let (a, v) = own_attempt(db, actor, attempt_id).await?;
    if input.version_id != v.id {
        return Err(AppError::invalid(
            "version_id",
            "Diese Antworten gehören zu einer anderen Version des Kurses.",
        ));
    }
    if a.finished_at.is_some() {
        return Err(AppError::invalid(
            "attempt",
            "Dieser Durchgang ist bereits abgegeben.",
        ));
    }
    let parsed = quiz::parse(&v.source).map_err(AppError::internal)?;
    let mut answers: Vec<Vec<usize>> = vec![Vec::new(); parsed.questions.len()];
    for (name, value) in &input.fields {
        let Some(qi) = name.strip_prefix('q').and_then(|i| i.parse::<usize>().ok()) else {
            continue;
        };
        let (Some(q), Ok(oi)) = (parsed.questions.get(qi), value.parse::<usize>()) else {
            return Err(AppError::invalid(
                "answers",
                "Die Antworten passen nicht zu diesem Kurs.",
            ));
        };
        if oi >= q.options.len() {
            return Err(AppError::invalid(
                "answers",
                "Die Antworten passen nicht zu diesem Kurs.",
            ));
        }
        if !q.multiple {
            answers[qi].clear();
        }
        if !answers[qi].contains(&oi) {
            answers[qi].push(oi);
        }
    }
    let answers_json = serde_json::to_string(&answers).map_err(AppError::internal)?;
    if !input.submit {
        training_attempts::Entity::update_many()
            .col_expr(
                training_attempts::Column::Answers,
                Expr::value(answers_json),
            )
            .col_expr(training_attempts::Column::UpdatedAt, Expr::value(now))
            .filter(training_attempts::Column::Id.eq(a.id))
            .filter(training_attempts::Column::FinishedAt.is_null())
            .exec(db)
            .await?;
        return Ok(Outcome::Saved);
    }
    if let Some(i) = answers.iter().position(|a| a.is_empty()) {
        // Save what there is, then say what is missing.
        training_attempts::Entity::update_many()
            .col_expr(
                training_attempts::Column::Answers,
                Expr::value(answers_json),
            )
            .col_expr(training_attempts::Column::UpdatedAt, Expr::value(now))
            .filter(training_attempts::Column::Id.eq(a.id))
            .filter(training_attempts::Column::FinishedAt.is_null())
            .exec(db)
            .await?;
        return Err(AppError::invalid(
            "answers",
            format!(
                "Bitte beantworten Sie alle Fragen; unbeantwortet ist noch: „{}“. Ihre Antworten sind gespeichert.",
                parsed.questions[i].text
            ),
        ));
    }
    let score = quiz::score(&parsed.questions, &answers);
    let max = parsed.questions.len() as u32;
    let passed = quiz::passed(score, max, v.pass_percent.max(0) as u32);
    let certificate = if passed {
        let org = organisations::Entity::find_by_id(actor.org_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
        Some(certificate(db, signing, &org, actor, &v, &a, now, score, max).await?)
    } else {
        None
    };
    let txn = db.begin().await?;
    // Only one hand-in wins, also with two tabs at once.
    let done = training_attempts::Entity::update_many()
        .col_expr(
            training_attempts::Column::Answers,
            Expr::value(answers_json),
        )
        .col_expr(training_attempts::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            training_attempts::Column::FinishedAt,
            Expr::value(Some(now)),
        )
        .col_expr(
            training_attempts::Column::Score,
            Expr::value(Some(score as i32)),
        )
        .col_expr(training_attempts::Column::Passed, Expr::value(Some(passed)))
        .filter(training_attempts::Column::Id.eq(a.id))
        .filter(training_attempts::Column::FinishedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::invalid(
            "attempt",
            "Dieser Durchgang ist bereits abgegeben.",
        ));
    }
    let outcome = match certificate {
        Some((pdf, anchor)) => {
            let row = training_completions::ActiveModel {
                org_id: Set(actor.org_id),
                user_id: Set(actor.user_id),
                course_id: Set(a.course_id),
                version_id: Set(v.id),
                version: Set(v.version),
                content_sha256: Set(v.sha256.clone()),
                attempt_id: Set(a.id),
                score: Set(score as i32),
                max_score: Set(max as i32),
                started_at: Set(a.started_at),
                finished_at: Set(now),
                certificate_sha256: Set(hex::encode(Sha256::digest(&pdf))),
                certificate_pdf: Set(pdf),
                audit_seq: Set(Some(anchor.seq)),
                audit_hash: Set(Some(anchor.hash)),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            Outcome::Passed {
                score,
                max,
                completion_id: row.id,
            }
        }
        None => Outcome::Failed { score, max },
    };
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "training",
            entity_id: a.id.to_string(),
            action: if passed { "passed" } else { "failed" },
            before: None,
            after: Some(json!({
                "course_id": a.course_id, "version": v.version, "sha256": v.sha256,
                "score": score, "max_score": max,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(outcome)
}

/// The data of a certificate (`certificate.typ`).
#[derive(Debug, Serialize)]
struct CertificateData {
    org_name: String,
    name: String,
    email: String,
    title: String,
    version: i32,
    sha256: String,
    score: u32,
    max: u32,
    pass_percent: i32,
    started_at: String,
    finished_at: String,
    date: String,
    audit_anchor: String,
}

/// Why the organisation signs a certificate (the PDF signature's reason).
pub const CERTIFICATE_REASON: &str = "Schulungsnachweis";

/// Renders the certificate, with the audit chain's head at signing, and
/// signs it with the organisation's certificate (off the async runtime).
#[allow(clippy::too_many_arguments)]
async fn certificate(
    db: &DatabaseConnection,
    signing: &crate::annex::keys::SigningSetup,
    org: &organisations::Model,
    actor: &Actor,
    v: &training_versions::Model,
    a: &training_attempts::Model,
    now: DateTime<Utc>,
    score: u32,
    max: u32,
) -> AppResult<(Vec<u8>, crate::audit::service::Anchor)> {
    let identity = signing.identity(db, org, now).await?;
    let anchor = crate::audit::service::head(db).await?;
    let data = CertificateData {
        org_name: org.legal_name.clone(),
        name: actor.display_name.clone(),
        email: actor.email.clone(),
        title: v.title.clone(),
        version: v.version,
        sha256: v.sha256.clone(),
        score,
        max,
        pass_percent: v.pass_percent,
        started_at: format_datetime(a.started_at),
        finished_at: format_datetime(now),
        date: german_date(now),
        audit_anchor: anchor.label(),
    };
    let details = crate::annex::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: CERTIFICATE_REASON.to_owned(),
        location: crate::annex::publish::location(org),
        time: now,
    };
    let day = now.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    let ident = format!("nachweis-schulung/{}/{}/{}", org.id, actor.user_id, a.id);
    let pdf = tokio::task::spawn_blocking(move || {
        let rendered = typeset(
            template(),
            serde_json::to_vec(&data).map_err(AppError::internal)?,
            Some((day.year(), day.month() as u8, day.day() as u8)),
            ident,
        )
        .map_err(AppError::internal)?;
        crate::annex::sign::sign_pdf(&rendered.pdf, &identity.identity, &details)
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)??;
    Ok((pdf, anchor))
}

/// A certificate for download: its holder, and admins and auditors of the
/// same organisation.
pub async fn certificate_pdf(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
) -> AppResult<training_completions::Model> {
    let row = training_completions::Entity::find_by_id(id)
        .filter(training_completions::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Das Zertifikat".into()))?;
    if row.user_id != actor.user_id && !matches!(actor.role, Role::Admin | Role::Auditor) {
        return Err(AppError::NotFound("Das Zertifikat".into()));
    }
    Ok(row)
}

/// A completion as the standing needs it: the columns, not the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub id: i32,
    pub version_id: i32,
    pub version: i32,
    pub finished_at: DateTime<Utc>,
}

/// Where a person stands in one course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// `done`, `due`, `overdue` or `failed`.
    pub state: &'static str,
    /// When the course is (or was) due; `None` while done and not due soon.
    pub due: Option<NaiveDate>,
    /// Holds a pass of the current version that has not expired.
    pub valid: bool,
}

/// Announce a repeat this many days before it is due.
const DUE_SOON_DAYS: i64 = 30;

/// The rules: a pass of the current version holds for `interval_months`;
/// it is due again from `DUE_SOON_DAYS` before. Without one, the course is
/// due `new_staff_days` after joining (or after the course or its current
/// version appeared, whichever is later), or `retry_days` after a failed
/// attempt.
pub fn standing(
    course: &training_courses::Model,
    current: &training_versions::Model,
    joined: DateTime<Utc>,
    newest_pass: Option<&Pass>,
    last_failure: Option<DateTime<Utc>>,
    today: NaiveDate,
) -> Standing {
    let day = |t: DateTime<Utc>| crate::evidence::service::today(t);
    let days = |n: i32| chrono::Duration::days(i64::from(n.max(0)));
    if let Some(c) = newest_pass.filter(|c| c.version_id == current.id) {
        let due = day(c.finished_at)
            .checked_add_months(chrono::Months::new(course.interval_months.max(1) as u32))
            .unwrap_or(NaiveDate::MAX);
        let valid = today <= due;
        return Standing {
            state: if !valid {
                "overdue"
            } else if today + chrono::Duration::days(DUE_SOON_DAYS) >= due {
                "due"
            } else {
                "done"
            },
            due: (today + chrono::Duration::days(DUE_SOON_DAYS) >= due).then_some(due),
            valid,
        };
    }
    let start = day(joined)
        .max(day(course.created_at))
        .max(day(current.created_at));
    // A failure counts when it came after the newest pass (of any version).
    let failed_since_start =
        last_failure.filter(|f| day(*f) >= start && newest_pass.is_none_or(|c| *f > c.finished_at));
    let due = match failed_since_start {
        Some(f) => day(f) + days(course.retry_days),
        None => start + days(course.new_staff_days),
    };
    Standing {
        state: if today > due {
            "overdue"
        } else if failed_since_start.is_some() {
            "failed"
        } else {
            "due"
        },
        due: Some(due),
        valid: false,
    }
}

/// One person's standing in every course, with what the overview shows.
struct PersonRow {
    row: crate::pledges::PledgeRow,
    cells: Vec<(Cell, Standing)>,
}

/// Courses (current versions) and every person who must train, with their
/// standing. Reads only the columns it needs: at 5,000 staff the stored
/// certificates and quiz answers would be most of the bytes.
async fn standings(
    db: &DatabaseConnection,
    org_id: i32,
    today: NaiveDate,
) -> AppResult<(
    Vec<(training_courses::Model, training_versions::Model)>,
    Vec<PersonRow>,
)> {
    use sea_orm::QuerySelect;
    let current = current_versions(db, org_id).await?;
    let courses: Vec<(training_courses::Model, training_versions::Model)> = courses_of(db, org_id)
        .await?
        .into_iter()
        .filter_map(|c| {
            let v = current.get(&c.id)?.clone();
            Some((c, v))
        })
        .collect();
    let pledge_text = crate::pledges::service::current(db, org_id).await?;
    let people = crate::pledges::service::rows(db, org_id, pledge_text.as_ref()).await?;
    let joined: HashMap<i32, DateTime<Utc>> = crate::entities::memberships::Entity::find()
        .select_only()
        .columns([
            crate::entities::memberships::Column::UserId,
            crate::entities::memberships::Column::CreatedAt,
        ])
        .filter(crate::entities::memberships::Column::OrgId.eq(org_id))
        .into_tuple::<(i32, DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    use training_completions::Column as C;
    let completions: Vec<(i32, i32, i32, i32, i32, DateTime<Utc>)> =
        training_completions::Entity::find()
            .select_only()
            .columns([
                C::UserId,
                C::CourseId,
                C::Id,
                C::VersionId,
                C::Version,
                C::FinishedAt,
            ])
            .filter(C::OrgId.eq(org_id))
            .order_by_asc(C::FinishedAt)
            .order_by_asc(C::Id)
            .into_tuple()
            .all(db)
            .await?;
    // Newest completion per (person, course); completions come oldest first.
    let mut newest: HashMap<(i32, i32), Pass> = HashMap::with_capacity(completions.len());
    for (user_id, course_id, id, version_id, version, finished_at) in completions {
        newest.insert(
            (user_id, course_id),
            Pass {
                id,
                version_id,
                version,
                finished_at,
            },
        );
    }
    use training_attempts::Column as A;
    let mut last_failure: HashMap<(i32, i32), DateTime<Utc>> = HashMap::new();
    for (user_id, course_id, at) in training_attempts::Entity::find()
        .select_only()
        .columns([A::UserId, A::CourseId, A::FinishedAt])
        .filter(A::OrgId.eq(org_id))
        .filter(A::Passed.eq(false))
        .filter(A::FinishedAt.is_not_null())
        .into_tuple::<(i32, i32, DateTime<Utc>)>()
        .all(db)
        .await?
    {
        let e = last_failure.entry((user_id, course_id)).or_insert(at);
        *e = (*e).max(at);
    }
    let rows = people
        .into_iter()
        .map(|p| {
            let cells = courses
                .iter()
                .map(|(course, version)| {
                    let pass = newest.get(&(p.user_id, course.id));
                    let st = standing(
                        course,
                        version,
                        joined.get(&p.user_id).copied().unwrap_or(course.created_at),
                        pass,
                        last_failure.get(&(p.user_id, course.id)).copied(),
                        today,
                    );
                    let cell = Cell {
                        state: st.state.to_owned(),
                        version: pass.map(|c| c.version),
                        date: pass.map(|c| german_date(c.finished_at)),
                        completion_id: pass.map(|c| c.id),
                        due: st.due.map(|d| d.format("%d.%m.%Y").to_string()),
                    };
                    (cell, st)
                })
                .collect();
            PersonRow { row: p, cells }
        })
        .collect();
    Ok((courses, rows))
}

/// Staff × courses, with the pledge state and the figures for the annex
/// (always over everyone); the rows narrowed down by the query.
pub async fn overview(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    query: &OverviewQuery,
) -> AppResult<TrainingOverview> {
    if !matches!(actor.role, Role::Admin | Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    let today = crate::evidence::service::today(now);
    let (courses, people) = standings(db, actor.org_id, today).await?;
    let total = people.len();
    let trained = people
        .iter()
        .filter(|p| !p.cells.is_empty() && p.cells.iter().all(|(_, st)| st.valid))
        .count();
    let signed = people.iter().filter(|p| p.row.state == "signed").count();
    let needle = query.search.trim().to_lowercase();
    let rows: Vec<OverviewRow> = people
        .into_iter()
        .map(|p| OverviewRow {
            user_id: p.row.user_id,
            name: p.row.name,
            email: p.row.email,
            role: p.row.role,
            cells: p.cells.into_iter().map(|(c, _)| c).collect(),
            pledge: p.row.state,
        })
        .filter(|r| query.show.matches(r))
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.email.to_lowercase().contains(&needle)
        })
        .collect();
    let matching = rows.len();
    let (rows, page, pages) = match query.page {
        None => (rows, 1, 1),
        Some(page) => {
            let pages = matching.div_ceil(OVERVIEW_PAGE_SIZE).max(1);
            let page = page.clamp(1, pages);
            let rows = rows
                .into_iter()
                .skip((page - 1) * OVERVIEW_PAGE_SIZE)
                .take(OVERVIEW_PAGE_SIZE)
                .collect();
            (rows, page, pages)
        }
    };
    Ok(TrainingOverview {
        summary: if courses.is_empty() {
            "Es ist noch kein Schulungskurs angelegt.".to_owned()
        } else {
            format!("Stand der Schulungen: {trained} von {total} Mitarbeitenden geschult.")
        },
        pledge_summary: format!(
            "Auf die Vertraulichkeit verpflichtet: {signed} von {total} Mitarbeitenden."
        ),
        courses: courses
            .iter()
            .map(|(c, v)| (c.id, v.title.clone(), v.version))
            .collect(),
        rows,
        matching,
        page,
        pages,
        trained,
        total,
    })
}

/// A training someone has to do, for reminders.
#[derive(Debug, Clone)]
pub struct DueTraining {
    pub user_id: i32,
    pub name: String,
    pub email: String,
    pub course_id: i32,
    pub title: String,
    pub version_id: i32,
    pub due: NaiveDate,
    pub overdue: bool,
}

/// Every training of the organisation that is due (soon) or overdue.
pub async fn due_trainings(
    db: &DatabaseConnection,
    org_id: i32,
    now: DateTime<Utc>,
) -> AppResult<Vec<DueTraining>> {
    let today = crate::evidence::service::today(now);
    let (courses, people) = standings(db, org_id, today).await?;
    let mut out = Vec::new();
    for p in people {
        for ((course, version), (_, st)) in courses.iter().zip(p.cells.iter()) {
            let Some(due) = st.due else { continue };
            out.push(DueTraining {
                user_id: p.row.user_id,
                name: p.row.name.clone(),
                email: p.row.email.clone(),
                course_id: course.id,
                title: version.title.clone(),
                version_id: version.id,
                due,
                overdue: st.state == "overdue",
            });
        }
    }
    Ok(out)
}

/// Reminders written per transaction: one commit per mail would make the
/// first run of a large organisation a few thousand disk syncs.
const REMINDER_BATCH: usize = 200;

/// Mails each person their due and overdue trainings: one reminder per
/// course version, kind and due date, ever (a unique row written with the
/// mail in one transaction), so restarts and several nodes send nothing
/// twice. What was sent before is read once and skipped; a row another
/// node wrote meanwhile is not inserted (`ON CONFLICT DO NOTHING`) and its
/// mail not queued.
pub async fn send_reminders(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    public_url: &str,
) -> AppResult<u32> {
    use crate::entities::{memberships, training_reminders, users};
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{OnConflict, Query};
    use std::collections::HashSet;
    use training_reminders::Column as R;
    let mut sent = 0;
    for org in organisations::Entity::find().all(db).await? {
        let due = due_trainings(db, org.id, now).await?;
        if due.is_empty() {
            continue;
        }
        let done: HashSet<(i32, i32, i32, String, NaiveDate)> = training_reminders::Entity::find()
            .select_only()
            .columns([R::UserId, R::CourseId, R::VersionId, R::Kind, R::DueDate])
            .filter(R::OrgId.eq(org.id))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let kind = |d: &DueTraining| if d.overdue { "overdue" } else { "due" };
        let open: Vec<DueTraining> = due
            .into_iter()
            .filter(|d| {
                !done.contains(&(
                    d.user_id,
                    d.course_id,
                    d.version_id,
                    kind(d).to_owned(),
                    d.due,
                ))
            })
            .collect();
        if open.is_empty() {
            continue;
        }
        let locales: HashMap<i32, String> = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::Locale])
            .filter(
                users::Column::Id.in_subquery(
                    Query::select()
                        .column(memberships::Column::UserId)
                        .from(memberships::Entity)
                        .and_where(memberships::Column::OrgId.eq(org.id))
                        .to_owned(),
                ),
            )
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for batch in open.chunks(REMINDER_BATCH) {
            let txn = db.begin().await?;
            for d in batch {
                let claimed = training_reminders::Entity::insert(training_reminders::ActiveModel {
                    org_id: Set(org.id),
                    user_id: Set(d.user_id),
                    course_id: Set(d.course_id),
                    version_id: Set(d.version_id),
                    kind: Set(kind(d).to_owned()),
                    due_date: Set(d.due),
                    sent_at: Set(now),
                    ..Default::default()
                })
                .on_conflict(
                    OnConflict::columns([
                        R::UserId,
                        R::CourseId,
                        R::VersionId,
                        R::Kind,
                        R::DueDate,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
                if claimed == 0 {
                    continue;
                }
                let locale = locales
                    .get(&d.user_id)
                    .map(|l| crate::mail::Locale::parse_lenient(l))
                    .unwrap_or_default();
                let mail = reminder_mail(locale, &org.legal_name, d, public_url);
                crate::mail::service::enqueue(
                    &txn,
                    now,
                    Some(org.id),
                    "training_reminder",
                    &d.email,
                    &mail,
                )
                .await?;
                sent += 1;
            }
            txn.commit().await?;
        }
    }
    Ok(sent)
}

fn reminder_mail(
    locale: crate::mail::Locale,
    org_name: &str,
    d: &DueTraining,
    public_url: &str,
) -> crate::mail::Mail {
    let due = d.due.format("%d.%m.%Y").to_string();
    let link = format!("{public_url}/schulungen");
    let (subject, body) = match (locale, d.overdue) {
        (crate::mail::Locale::De, false) => (
            format!("Schulung „{}“ bis {due}", d.title),
            format!(
                "Guten Tag {},\n\nbitte schließen Sie die Schulung „{}“ bei {org_name} bis zum {due} ab. Sie dauert etwa 20 Minuten und kann unterbrochen werden.",
                d.name, d.title
            ),
        ),
        (crate::mail::Locale::De, true) => (
            format!("Überfällig: Schulung „{}“", d.title),
            format!(
                "Guten Tag {},\n\ndie Schulung „{}“ bei {org_name} war bis zum {due} fällig und ist noch nicht abgeschlossen. Bitte holen Sie sie bald nach.",
                d.name, d.title
            ),
        ),
        (crate::mail::Locale::En, false) => (
            format!("Training \"{}\" due by {due}", d.title),
            format!(
                "Hello {},\n\nplease complete the training \"{}\" at {org_name} by {due}. It takes about 20 minutes and can be paused.",
                d.name, d.title
            ),
        ),
        (crate::mail::Locale::En, true) => (
            format!("Overdue: training \"{}\"", d.title),
            format!(
                "Hello {},\n\nthe training \"{}\" at {org_name} was due on {due} and is not completed yet. Please catch up soon.",
                d.name, d.title
            ),
        ),
    };
    crate::mail::templates::simple(locale, subject, &body, &link)
}
/// The overview as CSV: one row per person, one column per course, and the pledge.
pub fn csv(o: &TrainingOverview) -> String {
    use crate::pledges::service::csv_field;
    let mut out = String::from("Name;E-Mail;Rolle");
    for (_, title, version) in &o.courses {
        out.push(';');
        out.push_str(&csv_field(&format!("{title} (Version {version})")));
    }
    out.push_str(";Verpflichtung\n");
    for r in &o.rows {
        out.push_str(&format!(
            "{};{};{}",
            csv_field(&r.name),
            csv_field(&r.email),
            csv_field(&r.role)
        ));
        for c in &r.cells {
            let state = match c.state.as_str() {
                "done" => "geschult",
                "overdue" => "überfällig",
                "failed" => "nicht bestanden",
                _ => "fällig",
            };
            out.push(';');
            out.push_str(&match (&c.date, c.version, &c.due) {
                (Some(d), Some(v), None) => format!("{state} (v{v} am {d})"),
                (Some(d), Some(v), Some(due)) => format!("{state} bis {due} (zuletzt v{v} am {d})"),
                (_, _, Some(due)) => format!("{state} bis {due}"),
                _ => state.to_owned(),
            });
        }
        out.push_str(&format!(
            ";{}\n",
            match r.pledge.as_str() {
                "signed" => "verpflichtet",
                "outdated" => "ältere Fassung",
                _ => "fehlt",
            }
        ));
    }
    out
}
