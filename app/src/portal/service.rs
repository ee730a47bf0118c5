//! What the portal shows, read for one organisation.

use crate::ids::{OrgId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::{PortalAttestation, PortalSubprocessor, PortalView, SinceLastVisit};
use crate::annex::AnnexChange;
use crate::auth::service::Actor;
use crate::domain::Validity;
use crate::entities::{organisations, portal_visits};
use crate::error::{AppError, AppResult};
use crate::subprocessors::SubStatus;

pub async fn overview(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<PortalView> {
    let (org_id, user_id) = (actor.org_id, actor.user_id);
    // The page's reads in one read transaction (see `BeginRead`); the
    // visit, which may write, after it on its own.
    use crate::entities::BeginRead;
    let txn = db.begin_read().await?;
    let org = organisations::Entity::find_by_id(org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let mut versions = crate::annex::publish::list(&txn, org_id).await?.into_iter();
    let current = versions.next();
    let today = crate::format::german_day(now);
    // Read once for the list below and for the notices.
    let subs = crate::subprocessors::service::for_portal(&txn, org_id).await?;
    let notices = crate::notices::service::for_portal_with(&txn, actor, now, &subs).await?;
    let anlage2 = crate::subprocessors::anlage2::latest(&txn, org_id).await?;
    txn.commit().await?;
    let subprocessors = subs
        .into_iter()
        .filter(|(s, _)| s.status != SubStatus::Terminated)
        .map(|(s, attestations)| PortalSubprocessor {
            name: s.name,
            service: s.service,
            locations: s.locations,
            safeguard: s.safeguard.label().to_owned(),
            status: s.status.label().to_owned(),
            attestations: attestations
                .into_iter()
                .map(|a| PortalAttestation {
                    kind: a.kind.for_customers().to_owned(),
                    issuer: a.issuer,
                    valid_until: a.valid_until,
                    validity: Validity::of(a.valid_until, today),
                })
                .collect(),
        })
        .collect();
    let current_version = current.as_ref().map_or(0, |c| c.version);
    let since_last_visit = match visit(db, org_id, user_id, current_version, now).await? {
        None => None,
        Some(last) => Some(SinceLastVisit {
            visited_at: crate::format::LocalTime::of(last.visited_at),
            version_then: last.last_version,
            changes: if last.last_version > 0 && last.last_version < current_version {
                compare(db, org_id, last.last_version, current_version).await?
            } else {
                Vec::new()
            },
        }),
    };
    Ok(PortalView {
        dpo_contact: org.dpo_contact,
        org_name: org.legal_name,
        current,
        earlier: versions.collect(),
        subprocessors,
        anlage2,
        since_last_visit,
        notices,
    })
}

/// Page views closer together than this are one visit: the stored visit is
/// not rewritten for each of them (a page view then writes nothing).
pub const VISIT_GAP: chrono::Duration = chrono::Duration::minutes(30);

/// Records this visit and returns the previous one. A view within
/// [`VISIT_GAP`] of the stored visit that shows the same annex version is
/// part of that visit and writes nothing.
async fn visit(
    db: &DatabaseConnection,
    org_id: OrgId,
    user_id: UserId,
    version: i32,
    now: DateTime<Utc>,
) -> AppResult<Option<portal_visits::Model>> {
    let last = portal_visits::Entity::find()
        .filter(portal_visits::Column::OrgId.eq(org_id))
        .filter(portal_visits::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    if last
        .as_ref()
        .is_some_and(|l| l.last_version == version && now - l.visited_at < VISIT_GAP)
    {
        return Ok(last);
    }
    portal_visits::Entity::insert(portal_visits::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        last_version: Set(version),
        visited_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::columns([
            portal_visits::Column::OrgId,
            portal_visits::Column::UserId,
        ])
        .update_columns([
            portal_visits::Column::LastVersion,
            portal_visits::Column::VisitedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(last)
}

/// Measure by measure, what changed from version `from` to version `to`.
pub async fn compare(
    db: &DatabaseConnection,
    org_id: OrgId,
    from: i32,
    to: i32,
) -> AppResult<Vec<AnnexChange>> {
    let before = crate::annex::publish::snapshot(db, org_id, from).await?;
    let after = crate::annex::publish::snapshot(db, org_id, to).await?;
    Ok(crate::annex::publish::changes(&before, &after).0)
}
