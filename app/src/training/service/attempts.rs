//! Attempts: what a person has to do, starting, saving and submitting.

use super::*;
use crate::entities::BeginWrite;

pub async fn mine<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<MyTraining> {
    let courses = match actor.role.must_sign_pledge() {
        true => Courses::load(db, actor.org_id).await?,
        false => Courses::default(),
    };
    mine_with(db, actor, now, &courses).await
}

/// What [`mine`] shows for `actor`, with the organisation's courses
/// already read. Auditors take no trainings here.
async fn mine_with<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor: &Actor,
    now: DateTime<Utc>,
    courses: &Courses,
) -> AppResult<MyTraining> {
    if !actor.role.must_sign_pledge() {
        return Ok(MyTraining {
            takes_part: false,
            courses: Vec::new(),
            certificates: Vec::new(),
        });
    }
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
    let progress = Progress::of_person(&attempts, &completions);
    let titles: HashMap<CourseId, String> = courses
        .courses
        .iter()
        .map(|c| (c.id, c.title.clone()))
        .collect();
    Ok(MyTraining {
        takes_part: true,
        courses: my_courses(actor, now, courses, &progress),
        certificates: completions
            .iter()
            .map(|c| CertificateView {
                id: c.id,
                title: titles.get(&c.course_id).cloned().unwrap_or_default(),
                version: c.version,
                finished_at: crate::format::LocalTime::of(c.finished_at),
                score: c.score,
                max_score: c.max_score,
            })
            .collect(),
    })
}

/// The person's courses with where they stand, from progress read with
/// them (see [`Progress::load`]); empty for those who take no trainings.
pub fn my_courses(
    actor: &Actor,
    now: DateTime<Utc>,
    courses: &Courses,
    progress: &Progress,
) -> Vec<MyCourse> {
    if !actor.role.must_sign_pledge() {
        return Vec::new();
    }
    let current = &courses.current;
    let attempts: Vec<&AttemptHead> = progress
        .attempts()
        .filter(|a| a.user_id == actor.user_id)
        .collect();
    // Newest first.
    let passes: Vec<(CourseId, &super::standings::Pass)> = progress
        .passes()
        .rev()
        .filter(|(u, _, _)| *u == actor.user_id)
        .map(|(_, c, p)| (*c, p))
        .collect();
    let course_models = &courses.courses;
    // The same rule as the DPO's overview: when each course is due for
    // this person (joining, a failure, or a pass running out).
    let joined = actor.joined;
    let today = crate::format::german_day(now);
    let mut out = Vec::new();
    for (course_id, v) in current {
        let open = attempts
            .iter()
            .rev()
            .find(|a| a.course_id == *course_id && a.finished_at.is_none());
        let last_finished = attempts
            .iter()
            .rev()
            .find(|a| a.course_id == *course_id && a.finished_at.is_some());
        let newest_pass = passes.iter().find(|(c, _)| c == course_id).map(|(_, p)| *p);
        let state = if open.is_some() {
            CourseState::InProgress
        } else if newest_pass.is_some_and(|c| c.version_id == v.id) {
            CourseState::Passed
        } else if last_finished.is_some_and(|a| a.passed == Some(false)) {
            CourseState::Failed
        } else if newest_pass.is_some() {
            CourseState::Outdated
        } else {
            CourseState::Open
        };
        let due = course_models.iter().find(|c| c.id == *course_id).map(|c| {
            let last_failure = attempts
                .iter()
                .filter(|a| a.course_id == *course_id && a.passed == Some(false))
                .filter_map(|a| a.finished_at)
                .max();
            super::standings::standing(
                c,
                v,
                joined.unwrap_or(c.created_at),
                newest_pass,
                last_failure,
                today,
            )
        });
        out.push(MyCourse {
            due: due.as_ref().and_then(|s| s.due),
            overdue: due.is_some_and(|s| s.state == CellState::Overdue),
            course_id: *course_id,
            title: v.title.clone(),
            version: v.version,
            state: state.to_owned(),
            attempt_id: open.map(|a| a.id),
            passed_at: newest_pass.map(|c| crate::format::german_day(c.finished_at)),
            completion_id: newest_pass.map(|c| c.id),
        });
    }
    out.sort_by_key(|c| c.course_id);
    out
}

/// Starts the current version of a course, or returns the unfinished attempt.
pub async fn start(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    course_id: CourseId,
) -> AppResult<AttemptId> {
    if !actor.role.must_sign_pledge() {
        return Err(AppError::Forbidden);
    }
    let txn = db.begin_write().await?;
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
pub(super) async fn own_attempt(
    db: &DatabaseConnection,
    actor: &Actor,
    id: AttemptId,
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

pub(super) fn answers_of(a: &training_attempts::Model) -> Vec<Vec<usize>> {
    serde_json::from_str(&a.answers).unwrap_or_default()
}

pub async fn attempt(
    db: &DatabaseConnection,
    actor: &Actor,
    id: AttemptId,
) -> AppResult<AttemptView> {
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
    pub version_id: CourseVersionId,
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
        completion_id: CompletionId,
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
    signing: &crate::pdf::keys::SigningSetup,
    now: DateTime<Utc>,
    actor: &Actor,
    attempt_id: AttemptId,
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
    let txn = db.begin_write().await?;
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
        AuditEvent::new(
            &actor.audit(),
            "training",
            a.id.to_string(),
            if passed { "passed" } else { "failed" },
        )
        .in_org(actor.org_id)
        .after(json!({
            "course_id": a.course_id, "version": v.version, "sha256": v.sha256,
            "score": score, "max_score": max,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(outcome)
}
