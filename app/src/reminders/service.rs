//! Computing what needs attention, and the daily digest job.
//!
//! The job runs once per organisation and day, whatever the number of nodes
//! and restarts: it inserts its `job_runs` row (unique per job, organisation
//! and day) in the same transaction as the digest mails it queues. The node
//! that commits first has done the day's work; every other one finds the key
//! taken and rolls back.

use crate::entities::BeginWrite;
use crate::ids::OrgId;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::{Attention, ExpiringEvidence, MeasureRef};
use crate::domain::Validity;
use crate::domain::{MeasureStatus, Role};
use crate::entities::{job_runs, measures, memberships, organisations, users};
use crate::error::AppResult;
use crate::ids::{MeasureId, UserId};
use crate::mail::Locale;

pub const DIGEST_JOB: &str = "digest";

/// Whom the attention lists are read as: the organisation's admin view, or
/// with `owner` that person's.
pub fn reader(org_id: OrgId, owner: Option<UserId>) -> crate::auth::service::Actor {
    crate::auth::service::Actor {
        user_id: owner.unwrap_or(UserId(0)),
        org_id,
        role: if owner.is_some() {
            Role::Owner
        } else {
            Role::Admin
        },
        display_name: String::new(),
        email: String::new(),
        single_org: true,
        customer_id: None,
        joined: None,
    }
}

/// The lists for an organisation; with `owner`, only that person's measures.
pub async fn attention(
    db: &DatabaseConnection,
    org_id: OrgId,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> AppResult<Attention> {
    let basis = crate::reviews::service::Basis::load(db, org_id).await?;
    let reviews =
        crate::reviews::service::review_state_in(db, &reader(org_id, owner), owner, now, &basis)
            .await?;
    let files = crate::evidence::service::Files::load(db, org_id).await?;
    // Only the organisation's lists name due trainings.
    let (courses, progress) = match owner {
        None => (
            crate::training::service::Courses::load(db, org_id).await?,
            crate::training::service::Progress::load(db, org_id, true, None).await?,
        ),
        Some(_) => Default::default(),
    };
    let read = Read {
        files: &files,
        catalogue: &basis.catalogue,
        courses: &courses,
        progress: &progress,
        contracts: true,
    };
    attention_with(db, org_id, owner, now, reviews, read).await
}

/// What [`attention_with`]'s caller has read already: the start page shows
/// these in several places and reads them once.
#[derive(Clone, Copy)]
pub struct Read<'a> {
    pub files: &'a crate::evidence::service::Files,
    pub catalogue: &'a crate::toms::service::Catalogue,
    /// The courses with their current versions; only the organisation's
    /// lists (no `owner`) look at them.
    pub courses: &'a crate::training::service::Courses,
    /// Everyone's passes and failures (`Progress::load` with `everyone`);
    /// like the courses, only for the organisation's lists.
    pub progress: &'a crate::training::service::Progress,
    /// Whether the customers' open contracts are wanted: only for those
    /// who read contracts (an owner's start page skips their five reads).
    pub contracts: bool,
}

/// [`attention`] with the review figures (as [`reader`] sees them) and
/// what else the caller has read already.
pub async fn attention_with<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    owner: Option<UserId>,
    now: DateTime<Utc>,
    reviews: crate::reviews::service::ReviewState,
    read: Read<'_>,
) -> AppResult<Attention> {
    let Read {
        files,
        catalogue,
        courses,
        progress,
        contracts,
    } = read;
    let today = crate::format::german_day(now);
    let cats = catalogue.titles();
    let all_measures: Vec<&measures::Model> = catalogue
        .measures
        .iter()
        .filter(|m| m.status != MeasureStatus::Retired)
        .collect();
    let owned: HashSet<MeasureId> = catalogue.owned();
    let mine: Option<HashSet<MeasureId>> = owner.map(|u| catalogue.owned_by(u));
    let in_scope = |id: MeasureId| mine.as_ref().is_none_or(|m| m.contains(&id));
    let reference = |m: &measures::Model| MeasureRef {
        id: m.id,
        label: crate::toms::label(&m.title, &m.body),
        category: cats.get(&m.category_id).cloned().unwrap_or_default(),
    };

    let best_evidence = files.best_by_measure(today);
    let by_id: HashMap<MeasureId, &measures::Model> =
        all_measures.iter().map(|m| (m.id, *m)).collect();

    let mut out = Attention::default();
    for e in files.present() {
        let validity = Validity::of(e.valid_until, today);
        let measure = e.measure_id.and_then(|id| by_id.get(&id).copied());
        if validity == Validity::Current || !e.measure_id.is_none_or(in_scope) {
            continue;
        }
        if mine.is_some() && e.measure_id.is_none() {
            continue;
        }
        out.evidence_expiring.push(ExpiringEvidence {
            evidence_id: e.id,
            title: e.title.clone(),
            measure_id: e.measure_id,
            measure: measure
                .map(|m| crate::toms::label(&m.title, &m.body))
                .unwrap_or_default(),
            valid_until: e.valid_until,
            validity,
        });
    }
    out.evidence_expiring.sort_by_key(|e| e.valid_until);
    if mine.is_none() {
        // Both lists name subprocessors: read once.
        let subs = crate::subprocessors::service::all_of(db, org_id).await?;
        out.attestations_expiring =
            crate::subprocessors::service::expiring_with(db, org_id, today, &subs).await?;
        if contracts {
            out.contracts_open = crate::contract::service::open_with(db, org_id, &subs).await?;
        }
        let soon = today + chrono::Duration::days(14);
        // Overdue ones are due before today, so before `soon` too.
        let mut due =
            crate::training::service::due_trainings_with(db, org_id, now, soon, courses, progress)
                .await?;
        due.sort_by(|a, b| a.due.cmp(&b.due).then(a.name.cmp(&b.name)));
        out.trainings_due = due
            .into_iter()
            .map(|d| super::TrainingDueRef {
                name: d.name,
                course: d.title,
                due: d.due,
                overdue: d.overdue,
            })
            .collect();
    }
    // Effectiveness reviews: due reviews, actions, flagged measures, waiting assessments.
    let soon = today + chrono::Duration::days(14);
    let cycle_due_soon = reviews.cycle_due_by(soon);
    let crate::reviews::service::ReviewState {
        due,
        actions,
        not_effective,
        waiting,
        ..
    } = reviews;
    out.reviews_due = due;
    out.actions_due = actions.into_iter().filter(|a| a.due_date <= soon).collect();
    out.not_effective = not_effective
        .into_iter()
        .filter(|m| in_scope(m.id))
        .collect();
    if owner.is_none() || cycle_due_soon {
        out.assessments_waiting = waiting;
    }
    for m in all_measures.iter().copied() {
        if !in_scope(m.id) {
            continue;
        }
        if mine.is_none() && !owned.contains(&m.id) {
            out.measures_without_owner.push(reference(m));
        }
        if m.status == MeasureStatus::Implemented
            && !Validity::counts(best_evidence.get(&m.id).copied())
        {
            out.implemented_without_evidence.push(reference(m));
        }
    }
    Ok(out)
}

/// Whether the digest is due at `now`: from `hour` o'clock German time on.
pub fn due(now: DateTime<Utc>, hour: u32) -> bool {
    now.with_timezone(&chrono_tz::Europe::Berlin).hour() >= hour
}

/// What one run of the digest job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DigestRun {
    /// Organisations this node did the day's digest for.
    pub orgs: u32,
    /// Organisations another node (or an earlier run) had already done.
    pub already_done: u32,
    pub mails: u32,
}

/// Runs the day's digest for every organisation not yet done today.
pub async fn run_digest(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    node: &str,
    public_url: &str,
) -> AppResult<DigestRun> {
    let day = crate::format::german_day(now);
    let mut run = DigestRun::default();
    let done: HashSet<OrgId> = job_runs::Entity::find()
        .filter(job_runs::Column::Job.eq(DIGEST_JOB))
        .filter(job_runs::Column::Day.eq(day))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.org_id)
        .collect();
    for org in organisations::Entity::find().all(db).await? {
        if done.contains(&org.id) {
            run.already_done += 1;
            continue;
        }
        match digest_for_org(db, now, day, node, public_url, &org).await? {
            Some(mails) => {
                run.orgs += 1;
                run.mails += mails;
            }
            None => run.already_done += 1,
        }
    }
    Ok(run)
}

/// `None` when another node claimed the day first.
async fn digest_for_org(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    day: NaiveDate,
    node: &str,
    public_url: &str,
    org: &organisations::Model,
) -> AppResult<Option<u32>> {
    // Compose first (reads), then claim the day and queue in one transaction.
    let members = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org.id))
        .order_by_asc(memberships::Column::Id)
        .all(db)
        .await?;
    let mut outgoing = Vec::new();
    for m in members {
        let owner = match m.role.parse::<Role>() {
            Ok(Role::Admin) => None,
            Ok(Role::Owner) => Some(m.user_id),
            _ => continue,
        };
        let Some(user) = users::Entity::find_by_id(m.user_id).one(db).await? else {
            continue;
        };
        if user.locked {
            continue;
        }
        let attention = attention(db, org.id, owner, now).await?;
        if attention.is_empty() {
            continue;
        }
        let mail = super::digest::digest(
            Locale::parse_lenient(&user.locale),
            &org.legal_name,
            &user.display_name,
            &attention,
            public_url,
            &day.format("%d.%m.%Y").to_string(),
        );
        outgoing.push((user.email, mail));
    }
    let txn = db.begin_write().await?;
    let claimed = job_runs::ActiveModel {
        job: Set(DIGEST_JOB.to_owned()),
        org_id: Set(org.id),
        day: Set(day),
        node: Set(node.chars().take(80).collect()),
        ran_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    match claimed {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            // The key (job, org, day) is taken: another node or an earlier run did it.
            txn.rollback().await?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    }
    for (email, mail) in &outgoing {
        crate::mail::service::enqueue(&txn, now, Some(org.id), "digest", email, mail).await?;
    }
    txn.commit().await?;
    Ok(Some(outgoing.len() as u32))
}
