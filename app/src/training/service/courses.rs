//! Courses: writing a version (text, quiz, images), the rules, the list.

use super::*;
use crate::entities::BeginWrite;
use crate::ids::{CourseId, OrgId, UserId};

/// Creates a course (`course` is `None`) or a new version of one. The source
/// is parsed and checked first; nothing is stored if it is wrong.
#[allow(clippy::too_many_arguments)]
pub async fn save_course(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    org_id: OrgId,
    user_id: Option<UserId>,
    audit: &AuditActor,
    course: Option<CourseId>,
    title: &str,
    source: &str,
    pass_percent: i32,
) -> AppResult<CourseId> {
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
    let txn = db.begin_write().await?;
    let (course, previous) = match course {
        None => {
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
        }
        Some(course_id) => {
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
        }
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
    .map_err(|e| AppError::unless_unique(e, AppError::Conflict))?;
    if course.title != title {
        let mut active: training_courses::ActiveModel = course.clone().into();
        active.title = Set(title.to_owned());
        active.update(&txn).await?;
    }
    record(
        &txn,
        now,
        AuditEvent::new(
            audit,
            "training_course",
            course.id.to_string(),
            if version == 1 {
                "create"
            } else {
                "new_version"
            },
        )
        .in_org(org_id)
        .after(json!({
            "title": row.title, "version": row.version, "pass_percent": row.pass_percent,
            "sha256": row.sha256,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(course.id)
}

pub async fn save_rules(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    course_id: CourseId,
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
    let txn = db.begin_write().await?;
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
        AuditEvent::new(
            &actor.audit(),
            "training_course",
            course_id.to_string(),
            "rules",
        )
        .in_org(actor.org_id)
        .before(before)
        .after(json!({
            "interval_months": interval_months, "new_staff_days": new_staff_days,
            "retry_days": retry_days,
        })),
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
                created_at: crate::format::german_day(v.created_at),
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
