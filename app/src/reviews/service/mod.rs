//! Review cycles, assessments, findings and actions, the signed report, and
//! the figures for the dashboard, the digest and the command line.
//!
//! Every write checks the cycle's state inside its transaction and moves an
//! assessment only with an update that names the state and version it read:
//! two people deciding at once, or a decision racing the cycle's closing,
//! leave one winner and a clear refusal for the other.

use crate::ids::{CycleId, OrgId, ReviewItemId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    CycleSummary, CycleView, EventView, EvidenceChoice, FindingView, ItemRow, ItemState, ItemView,
    MeasureChoice, MeasureReview, ReviewDashboard, ReviewDue, ReviewResult, ReviewsOverview, Step,
    next_state,
};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::{CycleStatus, FindingStatus, MeasureStatus, Role};
use crate::entities::{
    evidence, measure_owners, measures, memberships, organisations, review_cycles, review_events,
    review_findings, review_item_evidence, review_items, users,
};
use crate::error::{AppError, AppResult};
use crate::format::{LocalTime, german_datetime};
use crate::format::{german_date as german, german_day as today, iso_date as iso, parse_date};
use crate::ids::{CategoryId, MeasureId, UserId};
use crate::pdf::typeset::Template;
use crate::state::AppState;
use crate::toms::MeasureRef;
use crate::toms::PersonRef;

pub const SIGNATURE_REASON: &str = "Bericht über die Wirksamkeitsprüfung der TOM";
const MAX_TEXT: usize = 10_000;

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/review-report.typ", include_str!("../report.typ")))
}

/// Admins, owners and auditors read reviews; staff and customers do not.
fn can_read(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Owner | Role::Auditor)
}

fn text_field(field: &str, label: &str, s: &str, required: bool) -> AppResult<String> {
    let s = s.replace("\r\n", "\n").trim().to_owned();
    if required && s.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("Bitte füllen Sie „{label}“ aus."),
        ));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("„{label}“ ist zu lang (höchstens {MAX_TEXT} Zeichen)."),
        ));
    }
    Ok(s)
}

fn closed_refusal() -> AppError {
    AppError::Refused(
        "Der Prüfzyklus ist abgeschlossen und gesperrt. Korrekturen sind nur als dokumentierte Ergänzung oder in einem neuen Prüfzyklus möglich."
            .into(),
    )
}

/// Display names by user id. Takes a collected list: an iterator of
/// closures held across the await would make the future not `Send`.
async fn names<C: ConnectionTrait>(db: &C, ids: Vec<UserId>) -> AppResult<HashMap<UserId, String>> {
    let ids: Vec<UserId> = ids
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

async fn cycle<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: CycleId,
) -> AppResult<review_cycles::Model> {
    review_cycles::Entity::find_by_id(id)
        .filter(review_cycles::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Prüfzyklus".into()))
}

async fn item<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: ReviewItemId,
) -> AppResult<review_items::Model> {
    review_items::Entity::find_by_id(id)
        .filter(review_items::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Bewertung".into()))
}

async fn items_of<C: ConnectionTrait>(
    db: &C,
    cycle_id: CycleId,
) -> AppResult<Vec<review_items::Model>> {
    Ok(review_items::Entity::find()
        .filter(review_items::Column::CycleId.eq(cycle_id))
        .order_by_asc(review_items::Column::Id)
        .all(db)
        .await?)
}

/// Whether `user` owns the measure.
async fn owns<C: ConnectionTrait>(
    db: &C,
    measure_id: MeasureId,
    user_id: UserId,
) -> AppResult<bool> {
    Ok(measure_owners::Entity::find()
        .filter(measure_owners::Column::MeasureId.eq(measure_id))
        .filter(measure_owners::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

/// Admins assess every measure; owners only their own.
async fn may_assess<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    measure_id: MeasureId,
) -> AppResult<bool> {
    Ok(match actor.role {
        Role::Admin => true,
        Role::Owner => owns(db, measure_id, actor.user_id).await?,
        _ => false,
    })
}

fn result_of(i: &review_items::Model) -> Option<ReviewResult> {
    i.result.as_deref().and_then(ReviewResult::parse)
}

fn summary(
    c: &review_cycles::Model,
    items: &[review_items::Model],
    today: NaiveDate,
) -> CycleSummary {
    let count = |s: ItemState| items.iter().filter(|i| i.state == s).count();
    CycleSummary {
        id: c.id,
        title: c.title.clone(),
        due_date: c.due_date,
        status: c.status,
        total: items.len(),
        approved: count(ItemState::Approved),
        submitted: count(ItemState::Submitted),
        open: count(ItemState::Pending) + count(ItemState::Returned),
        overdue: c.status == CycleStatus::Open && c.due_date < today,
        opened_at: LocalTime::of(c.opened_at),
        closed_at: c.closed_at.map(LocalTime::of),
    }
}

async fn event<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &Actor,
    cycle: &review_cycles::Model,
    item_id: Option<ReviewItemId>,
    kind: &str,
    comment: &str,
) -> AppResult<()> {
    review_events::ActiveModel {
        org_id: Set(cycle.org_id),
        cycle_id: Set(cycle.id),
        item_id: Set(item_id),
        kind: Set(kind.to_owned()),
        actor_id: Set(Some(actor.user_id)),
        actor_label: Set(actor.display_name.chars().take(300).collect()),
        comment: Set(comment.to_owned()),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn event_label(kind: &str) -> &'static str {
    match kind {
        "open" => "Prüfzyklus eröffnet",
        "submit" => "Bewertung eingereicht",
        "return" => "Zurückgegeben",
        "approve" => "Freigegeben",
        "close" => "Prüfzyklus abgeschlossen",
        "amend" => "Ergänzung nach Abschluss",
        _ => "Änderung",
    }
}

fn event_views(
    events: &[review_events::Model],
    labels: &HashMap<ReviewItemId, String>,
) -> Vec<EventView> {
    events
        .iter()
        .map(|e| EventView {
            kind: e.kind.clone(),
            label: event_label(&e.kind).to_owned(),
            actor: e.actor_label.clone(),
            at: LocalTime::of(e.at),
            comment: e.comment.clone(),
            item_id: e.item_id,
            measure: e.item_id.and_then(|i| labels.get(&i).cloned()),
        })
        .collect()
}

mod assess;
mod open;
mod read;
mod report;
pub use assess::*;
pub use open::*;
pub use read::*;
pub use report::*;
