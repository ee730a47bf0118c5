//! Standings: who is trained on what, the DPO's overview and its CSV.

use super::*;
use crate::ids::{CompletionId, CourseId, CourseVersionId, OrgId, UserId};

/// A completion as the standing needs it: the columns, not the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct Pass {
    pub id: CompletionId,
    pub version_id: CourseVersionId,
    pub version: i32,
    pub finished_at: DateTime<Utc>,
}

impl From<&training_completions::Model> for Pass {
    fn from(c: &training_completions::Model) -> Pass {
        Pass {
            id: c.id,
            version_id: c.version_id,
            version: c.version,
            finished_at: c.finished_at,
        }
    }
}

/// One completion read for [`Progress`]: whose, of which course, the pass.
#[derive(sea_orm::FromQueryResult)]
struct PassRow {
    user_id: UserId,
    course_id: CourseId,
    #[sea_orm(nested)]
    pass: Pass,
}

/// An attempt as standings need it: no answers, no quiz layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct AttemptHead {
    pub user_id: UserId,
    pub course_id: CourseId,
    pub id: AttemptId,
    pub finished_at: Option<DateTime<Utc>>,
    pub passed: Option<bool>,
}

/// Who has passed and failed what: the columns standings need, read once
/// per request and shared (the start page shows the person's own courses
/// and everyone's due trainings from the same two statements).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Completions, oldest first.
    passes: Vec<(UserId, CourseId, Pass)>,
    /// Finished failed attempts, and every attempt of the person read for.
    attempts: Vec<AttemptHead>,
}

impl Progress {
    /// With `everyone`, every person's completions and failed attempts
    /// (the organisation's lists); with `person`, all of that person's
    /// attempts too. Without `everyone`, only the person's.
    pub async fn load<C: sea_orm::ConnectionTrait>(
        db: &C,
        org_id: OrgId,
        everyone: bool,
        person: Option<UserId>,
    ) -> AppResult<Progress> {
        use sea_orm::sea_query::Condition;
        use sea_orm::{QuerySelect, QueryTrait};
        use training_attempts::Column as A;
        use training_completions::Column as P;
        let failed = Condition::all()
            .add(A::Passed.eq(false))
            .add(A::FinishedAt.is_not_null());
        let which = match (everyone, person) {
            (true, None) => failed,
            (true, Some(p)) => Condition::any().add(failed).add(A::UserId.eq(p)),
            (false, Some(p)) => Condition::all().add(A::UserId.eq(p)),
            (false, None) => return Ok(Progress::default()),
        };
        let passes = training_completions::Entity::find()
            .select_only()
            .columns([
                P::UserId,
                P::CourseId,
                P::Id,
                P::VersionId,
                P::Version,
                P::FinishedAt,
            ])
            .filter(P::OrgId.eq(org_id))
            .apply_if(person.filter(|_| !everyone), |q, p| {
                q.filter(P::UserId.eq(p))
            })
            .order_by_asc(P::FinishedAt)
            .order_by_asc(P::Id)
            .into_model::<PassRow>()
            .all(db)
            .await?;
        let attempts = training_attempts::Entity::find()
            .select_only()
            .columns([A::UserId, A::CourseId, A::Id, A::FinishedAt, A::Passed])
            .filter(A::OrgId.eq(org_id))
            .filter(which)
            .order_by_asc(A::Id)
            .into_model::<AttemptHead>()
            .all(db)
            .await?;
        Ok(Progress {
            passes: passes
                .into_iter()
                .map(|r| (r.user_id, r.course_id, r.pass))
                .collect(),
            attempts,
        })
    }

    /// Completions, oldest first: (person, course, pass).
    pub(super) fn passes(&self) -> impl DoubleEndedIterator<Item = &(UserId, CourseId, Pass)> {
        self.passes.iter()
    }

    /// The attempts read, in the order they were started.
    pub(super) fn attempts(&self) -> impl DoubleEndedIterator<Item = &AttemptHead> {
        self.attempts.iter()
    }

    /// From one person's attempts and completions read whole.
    pub(super) fn of_person(
        attempts: &[training_attempts::Model],
        completions: &[training_completions::Model],
    ) -> Progress {
        let mut passes: Vec<_> = completions
            .iter()
            .map(|c| (c.user_id, c.course_id, Pass::from(c)))
            .collect();
        passes.sort_by_key(|(_, _, p)| (p.finished_at, p.id));
        Progress {
            passes,
            attempts: attempts
                .iter()
                .map(|a| AttemptHead {
                    user_id: a.user_id,
                    course_id: a.course_id,
                    id: a.id,
                    finished_at: a.finished_at,
                    passed: a.passed,
                })
                .collect(),
        }
    }
}

/// Where a person stands in one course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub state: CellState,
    /// When the course is (or was) due; `None` while done and not due soon.
    pub due: Option<NaiveDate>,
    /// Holds a pass of the current version that has not expired.
    pub valid: bool,
}

/// Announce a repeat this many days before it is due.
pub(super) const DUE_SOON_DAYS: i64 = 30;

/// The rules: a pass of the current version holds for `interval_months`;
/// it is due again from `DUE_SOON_DAYS` before. Without one, the course is
/// due `new_staff_days` after joining (or after the course or its current
/// version appeared, whichever is later), or `retry_days` after a failed
/// attempt.
pub fn standing(
    course: &training_courses::Model,
    current: &VersionHead,
    joined: DateTime<Utc>,
    newest_pass: Option<&Pass>,
    last_failure: Option<DateTime<Utc>>,
    today: NaiveDate,
) -> Standing {
    let day = |t: DateTime<Utc>| crate::format::german_day(t);
    let days = |n: i32| chrono::Duration::days(i64::from(n.max(0)));
    if let Some(c) = newest_pass.filter(|c| c.version_id == current.id) {
        let due = day(c.finished_at)
            .checked_add_months(chrono::Months::new(course.interval_months.max(1) as u32))
            .unwrap_or(NaiveDate::MAX);
        let valid = today <= due;
        return Standing {
            state: if !valid {
                CellState::Overdue
            } else if today + chrono::Duration::days(DUE_SOON_DAYS) >= due {
                CellState::Due
            } else {
                CellState::Done
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
            CellState::Overdue
        } else if failed_since_start.is_some() {
            CellState::Failed
        } else {
            CellState::Due
        },
        due: Some(due),
        valid: false,
    }
}

/// One person's standing in every course, with what the overview shows.
pub(super) struct PersonRow {
    row: crate::pledges::PledgeRow,
    cells: Vec<(Cell, Standing)>,
}

/// Courses (current versions) and every person who must train, with their
/// standing. Reads only the columns it needs: at 5,000 staff the stored
/// certificates and quiz answers would be most of the bytes.
/// With `pledges`, each person's pledge state too (the overview's column).
pub(super) async fn standings<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    today: NaiveDate,
    pledges: bool,
    courses: &Courses,
    progress: &Progress,
) -> AppResult<(Vec<(training_courses::Model, VersionHead)>, Vec<PersonRow>)> {
    let courses = courses.with_versions();
    let pledge_text = match pledges {
        true => crate::pledges::service::current(db, org_id).await?,
        false => None,
    };
    let members = crate::pledges::service::members(db, org_id).await?;
    let people =
        crate::pledges::service::rows_of(db, org_id, pledge_text.as_ref(), &members, pledges)
            .await?;
    // Newest completion per (person, course); completions come oldest first.
    let mut newest: HashMap<(UserId, CourseId), Pass> =
        HashMap::with_capacity(progress.passes.len());
    for (user_id, course_id, pass) in &progress.passes {
        newest.insert((*user_id, *course_id), *pass);
    }
    let mut last_failure: HashMap<(UserId, CourseId), DateTime<Utc>> = HashMap::new();
    for a in &progress.attempts {
        let Some(at) = a.finished_at.filter(|_| a.passed == Some(false)) else {
            continue;
        };
        let e = last_failure.entry((a.user_id, a.course_id)).or_insert(at);
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
                        members
                            .get(&p.user_id)
                            .map_or(course.created_at, |m| m.joined),
                        pass,
                        last_failure.get(&(p.user_id, course.id)).copied(),
                        today,
                    );
                    let cell = Cell {
                        state: st.state,
                        version: pass.map(|c| c.version),
                        date: pass.map(|c| crate::format::german_day(c.finished_at)),
                        completion_id: pass.map(|c| c.id),
                        due: st.due,
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
    let today = crate::format::german_day(now);
    let all = Courses::load(db, actor.org_id).await?;
    let progress = Progress::load(db, actor.org_id, true, None).await?;
    let (courses, people) = standings(db, actor.org_id, today, true, &all, &progress).await?;
    let total = people.len();
    let trained = people
        .iter()
        .filter(|p| !p.cells.is_empty() && p.cells.iter().all(|(_, st)| st.valid))
        .count();
    let signed = people
        .iter()
        .filter(|p| p.row.state == PledgeState::Signed)
        .count();
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
        can_manage: actor.role.is_admin(),
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
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub course_id: CourseId,
    pub title: String,
    pub version_id: CourseVersionId,
    pub due: NaiveDate,
    pub overdue: bool,
}

/// Every training of the organisation that is due (soon) or overdue.
pub async fn due_trainings(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: DateTime<Utc>,
) -> AppResult<Vec<DueTraining>> {
    due_trainings_until(db, org_id, now, NaiveDate::MAX).await
}

/// [`due_trainings`] due by `until` (overdue ones included): the lists
/// that show only the next days copy no one else's name.
pub async fn due_trainings_until<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    now: DateTime<Utc>,
    until: NaiveDate,
) -> AppResult<Vec<DueTraining>> {
    let courses = Courses::load(db, org_id).await?;
    let progress = Progress::load(db, org_id, true, None).await?;
    due_trainings_with(db, org_id, now, until, &courses, &progress).await
}

/// [`due_trainings_until`] with the courses and everyone's progress
/// already read.
pub async fn due_trainings_with<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    now: DateTime<Utc>,
    until: NaiveDate,
    courses: &Courses,
    progress: &Progress,
) -> AppResult<Vec<DueTraining>> {
    let today = crate::format::german_day(now);
    let (courses, people) = standings(db, org_id, today, false, courses, progress).await?;
    let mut out = Vec::new();
    for p in people {
        for ((course, version), (_, st)) in courses.iter().zip(p.cells.iter()) {
            let Some(due) = st.due.filter(|d| *d <= until) else {
                continue;
            };
            out.push(DueTraining {
                user_id: p.row.user_id,
                name: p.row.name.clone(),
                email: p.row.email.clone(),
                course_id: course.id,
                title: version.title.clone(),
                version_id: version.id,
                due,
                overdue: st.state == CellState::Overdue,
            });
        }
    }
    Ok(out)
}

/// The overview as CSV: one row per person, one column per course, and the pledge.
pub fn csv(o: &TrainingOverview) -> String {
    let courses: Vec<String> = o
        .courses
        .iter()
        .map(|(_, title, version)| format!("{title} (Version {version})"))
        .collect();
    let mut header = vec!["Name", "E-Mail", "Rolle"];
    header.extend(courses.iter().map(String::as_str));
    header.push("Verpflichtung");
    crate::http::csv(
        &header,
        o.rows.iter().map(|r| {
            let mut row = vec![r.name.clone(), r.email.clone(), r.role.clone()];
            row.extend(r.cells.iter().map(|c| {
                let state = c.state.label();
                let german = |d: &Option<NaiveDate>| d.map(crate::format::german_date);
                match (german(&c.date), c.version, german(&c.due)) {
                    (Some(d), Some(v), None) => format!("{state} (v{v} am {d})"),
                    (Some(d), Some(v), Some(due)) => {
                        format!("{state} bis {due} (zuletzt v{v} am {d})")
                    }
                    (_, _, Some(due)) => format!("{state} bis {due}"),
                    _ => state.to_owned(),
                }
            }));
            row.push(r.pledge.label().to_owned());
            row
        }),
    )
}
