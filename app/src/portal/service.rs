//! What the portal shows, read for one organisation.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::{PortalAttestation, PortalSubprocessor, PortalView};
use crate::entities::organisations;
use crate::error::{AppError, AppResult};
use crate::subprocessors::SubStatus;

pub async fn overview(
    db: &DatabaseConnection,
    org_id: i32,
    now: DateTime<Utc>,
) -> AppResult<PortalView> {
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let mut versions = crate::annex::publish::list(db, org_id).await?.into_iter();
    let current = versions.next();
    let subprocessors = crate::subprocessors::service::for_org(db, org_id, now)
        .await?
        .into_iter()
        .filter(|s| s.status != SubStatus::Terminated)
        .map(|s| PortalSubprocessor {
            name: s.name,
            service: s.service,
            locations: s.locations,
            safeguard: s.safeguard.label().to_owned(),
            status: s.status.label().to_owned(),
            attestations: s
                .attestations
                .into_iter()
                .map(|a| PortalAttestation {
                    kind: a.kind.label().to_owned(),
                    issuer: a.issuer,
                    valid_until: a.valid_until,
                    validity: a.validity,
                })
                .collect(),
        })
        .collect();
    Ok(PortalView {
        org_name: org.legal_name,
        current,
        earlier: versions.collect(),
        subprocessors,
    })
}
