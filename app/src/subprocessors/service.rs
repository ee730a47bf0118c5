//! Subprocessors, attestations and measure links; every query names the
//! actor's organisation, every change is audited in its transaction.

use crate::entities::BeginWrite;
use crate::ids::{EvidenceId, EvidenceVersionId, OrgId};
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    JoinType, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{
    AttestationKind, AttestationView, MeasureLink, Reliance, Safeguard, SubStatus,
    SubprocessorLink, SubprocessorList, SubprocessorView,
};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::Validity;
use crate::entities::{
    attestations, evidence_versions, measure_subprocessors, measures, subprocessors,
};
use crate::error::{AppError, AppResult};
use crate::ids::{AttestationId, MeasureId, SubprocessorId};

fn date(field: &str, s: &str) -> AppResult<Option<NaiveDate>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .map(Some)
        .map_err(|_| AppError::invalid(field, format!("„{s}“ ist kein Datum (TT.MM.JJJJ).")))
}

/// The fields of a subprocessor, checked.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub address: String,
    pub service: String,
    pub locations: String,
    pub safeguard: Safeguard,
    pub contact: String,
    pub status: SubStatus,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl Input {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        address: &str,
        service: &str,
        locations: &str,
        safeguard: &str,
        contact: &str,
        status: &str,
        since: &str,
        until: &str,
    ) -> AppResult<Self> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::invalid(
                "name",
                "Bitte geben Sie den Namen an (höchstens 200 Zeichen).",
            ));
        }
        let since = date("since", since)?;
        let until = date("until", until)?;
        if let (Some(s), Some(u)) = (since, until)
            && u < s
        {
            return Err(AppError::invalid("until", "„Bis“ liegt vor „seit“."));
        }
        Ok(Self {
            name: name.to_owned(),
            address: address.trim().to_owned(),
            service: service.trim().to_owned(),
            locations: locations.trim().to_owned(),
            safeguard: safeguard.parse()?,
            contact: contact.trim().to_owned(),
            status: status.parse()?,
            since,
            until,
        })
    }
}

async fn find<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: SubprocessorId,
) -> AppResult<subprocessors::Model> {
    subprocessors::Entity::find_by_id(id)
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Unterauftragsverarbeiter".into()))
}

fn snapshot(m: &subprocessors::Model) -> serde_json::Value {
    json!({
        "name": m.name, "address": m.address, "service": m.service, "locations": m.locations,
        "safeguard": m.safeguard, "contact": m.contact, "status": m.status,
        "since": m.since, "until": m.until,
    })
}

pub async fn save(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: SubprocessorId,
    version: i32,
    input: Input,
) -> AppResult<SubprocessorId> {
    let txn = db.begin_write().await?;
    let (row, before) = if id == SubprocessorId(0) {
        let row = subprocessors::ActiveModel {
            org_id: Set(actor.org_id),
            name: Set(input.name),
            address: Set(input.address),
            service: Set(input.service),
            locations: Set(input.locations),
            safeguard: Set(input.safeguard),
            contact: Set(input.contact),
            status: Set(input.status),
            since: Set(input.since),
            until: Set(input.until),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        (row, None)
    } else {
        let old = find(&txn, actor.org_id, id).await?;
        if old.version != version {
            return Err(AppError::Conflict);
        }
        let before = snapshot(&old);
        let mut am: subprocessors::ActiveModel = old.into();
        am.name = Set(input.name);
        am.address = Set(input.address);
        am.service = Set(input.service);
        am.locations = Set(input.locations);
        am.safeguard = Set(input.safeguard);
        am.contact = Set(input.contact);
        am.status = Set(input.status);
        am.since = Set(input.since);
        am.until = Set(input.until);
        am.version = Set(version + 1);
        am.updated_at = Set(now);
        (am.update(&txn).await?, Some(before))
    };
    record(
        &txn,
        now,
        AuditEvent::new(
            &actor.audit(),
            "subprocessor",
            row.id.to_string(),
            if before.is_none() { "create" } else { "update" },
        )
        .in_org(actor.org_id)
        .before_opt(before)
        .after(snapshot(&row)),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

#[allow(clippy::too_many_arguments)]
pub async fn add_attestation(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    subprocessor_id: SubprocessorId,
    kind: AttestationKind,
    issuer: &str,
    scope: &str,
    valid_until: &str,
) -> AppResult<AttestationId> {
    let valid_until = date("valid_until", valid_until)?;
    let txn = db.begin_write().await?;
    let sub = find(&txn, actor.org_id, subprocessor_id).await?;
    let row = attestations::ActiveModel {
        org_id: Set(actor.org_id),
        subprocessor_id: Set(sub.id),
        kind: Set(kind),
        issuer: Set(issuer.trim().chars().take(200).collect()),
        scope: Set(scope.trim().to_owned()),
        valid_until: Set(valid_until),
        evidence_id: Set(None),
        created_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "attestation", row.id.to_string(), "create").in_org(actor.org_id).after(json!({ "subprocessor": sub.name, "kind": row.kind, "issuer": row.issuer, "valid_until": row.valid_until })),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Checks that an attestation belongs to `org_id` (before an upload for it).
pub async fn check_attestation<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: AttestationId,
) -> AppResult<attestations::Model> {
    attestations::Entity::find_by_id(id)
        .filter(attestations::Column::OrgId.eq(org_id))
        .filter(attestations::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Nachweis des Unterauftragsverarbeiters".into()))
}

pub async fn remove_attestation(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: AttestationId,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let row = check_attestation(&txn, actor.org_id, id).await?;
    let before = json!({ "kind": row.kind, "issuer": row.issuer, "valid_until": row.valid_until });
    let mut am: attestations::ActiveModel = row.into();
    am.deleted_at = Set(Some(now));
    am.update(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "attestation", id.to_string(), "delete")
            .in_org(actor.org_id)
            .before(before),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn attestation_views(
    db: &DatabaseConnection,
    org_id: OrgId,
    today: NaiveDate,
) -> AppResult<HashMap<SubprocessorId, Vec<AttestationView>>> {
    let rows = attestations::Entity::find()
        .filter(attestations::Column::OrgId.eq(org_id))
        .filter(attestations::Column::DeletedAt.is_null())
        .order_by_asc(attestations::Column::Id)
        .all(db)
        .await?;
    let evidence_ids: Vec<EvidenceId> = rows.iter().filter_map(|r| r.evidence_id).collect();
    let mut files: HashMap<EvidenceId, (EvidenceVersionId, String)> = HashMap::new();
    for v in evidence_versions::Entity::find()
        .filter(evidence_versions::Column::OrgId.eq(org_id))
        .filter(evidence_versions::Column::EvidenceId.is_in(evidence_ids))
        .filter(evidence_versions::Column::PurgedAt.is_null())
        .order_by_asc(evidence_versions::Column::Version)
        .all(db)
        .await?
    {
        files.insert(v.evidence_id, (v.id, v.file_name));
    }
    let mut out: HashMap<SubprocessorId, Vec<AttestationView>> = HashMap::new();
    for r in rows {
        let file = r.evidence_id.and_then(|e| files.get(&e).cloned());
        out.entry(r.subprocessor_id)
            .or_default()
            .push(AttestationView {
                id: r.id,
                kind: r.kind,
                issuer: r.issuer,
                scope: r.scope,
                valid_until: r.valid_until,
                validity: Validity::of(r.valid_until, today),
                file_version_id: file.as_ref().map(|f| f.0),
                file_name: file.map(|f| f.1),
            });
    }
    Ok(out)
}

pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<SubprocessorList> {
    Ok(SubprocessorList {
        items: for_org(db, actor.org_id, now).await?,
        can_edit: actor.role.is_admin(),
    })
}

/// Every subprocessor of an organisation with attestations and measures.
pub async fn for_org(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: DateTime<Utc>,
) -> AppResult<Vec<SubprocessorView>> {
    let today = crate::format::german_day(now);
    let subs = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .order_by_asc(subprocessors::Column::Name)
        .all(db)
        .await?;
    let mut atts = attestation_views(db, org_id, today).await?;
    let links = measure_subprocessors::Entity::find()
        .filter(measure_subprocessors::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    let labels: HashMap<MeasureId, String> = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, crate::toms::label(&m.title, &m.body)))
        .collect();
    let items: Vec<SubprocessorView> = subs
        .into_iter()
        .map(|s| SubprocessorView {
            attestations: atts.remove(&s.id).unwrap_or_default(),
            measures: links
                .iter()
                .filter(|l| l.subprocessor_id == s.id)
                .map(|l| MeasureLink {
                    id: l.measure_id,
                    label: labels.get(&l.measure_id).cloned().unwrap_or_default(),
                })
                .collect(),
            id: s.id,
            name: s.name,
            address: s.address,
            service: s.service,
            locations: s.locations,
            safeguard: s.safeguard,
            contact: s.contact,
            status: s.status,
            since: s.since,
            until: s.until,
            version: s.version,
        })
        .collect();
    Ok(items)
}

/// A subprocessor with its current attestations, as customers see it
/// (portal, notices).
pub type ForCustomers = (subprocessors::Model, Vec<attestations::Model>);

/// Every subprocessor of an organisation (by name) with its attestations (by
/// id, deleted ones left out), in one statement: what the portal and its
/// notices show. Unlike [`for_org`], no evidence files and no measures.
pub async fn for_portal<C: ConnectionTrait>(db: &C, org_id: OrgId) -> AppResult<Vec<ForCustomers>> {
    let join: sea_orm::RelationDef = attestations::Entity::belongs_to(subprocessors::Entity)
        .from(attestations::Column::SubprocessorId)
        .to(subprocessors::Column::Id)
        .into();
    let rows = subprocessors::Entity::find()
        .join(
            JoinType::LeftJoin,
            join.rev().on_condition(move |_, _| {
                Condition::all()
                    .add(attestations::Column::OrgId.eq(org_id))
                    .add(attestations::Column::DeletedAt.is_null())
            }),
        )
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .order_by_asc(subprocessors::Column::Name)
        .order_by_asc(subprocessors::Column::Id)
        .order_by_asc(attestations::Column::Id)
        .select_also(attestations::Entity)
        .all(db)
        .await?;
    let mut out: Vec<ForCustomers> = Vec::new();
    for (sub, att) in rows {
        match out.last_mut() {
            Some((last, atts)) if last.id == sub.id => atts.extend(att),
            _ => out.push((sub, att.into_iter().collect())),
        }
    }
    Ok(out)
}

pub async fn reliance(
    db: &DatabaseConnection,
    actor: &Actor,
    measure_id: MeasureId,
) -> AppResult<Reliance> {
    measures::Entity::find_by_id(measure_id)
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Maßnahme".into()))?;
    let linked_ids: Vec<SubprocessorId> = measure_subprocessors::Entity::find()
        .filter(measure_subprocessors::Column::OrgId.eq(actor.org_id))
        .filter(measure_subprocessors::Column::MeasureId.eq(measure_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.subprocessor_id)
        .collect();
    let (linked, available): (Vec<_>, Vec<_>) = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(actor.org_id))
        .order_by_asc(subprocessors::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            (
                linked_ids.contains(&s.id),
                SubprocessorLink {
                    id: s.id,
                    label: s.name,
                },
            )
        })
        .partition(|(l, _)| *l);
    Ok(Reliance {
        linked: linked.into_iter().map(|(_, s)| s).collect(),
        available: available.into_iter().map(|(_, s)| s).collect(),
        can_edit: actor.role.is_admin(),
    })
}

pub async fn link(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    measure_id: MeasureId,
    subprocessor_id: SubprocessorId,
    on: bool,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    measures::Entity::find_by_id(measure_id)
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Maßnahme".into()))?;
    let sub = find(&txn, actor.org_id, subprocessor_id).await?;
    let existing = measure_subprocessors::Entity::find_by_id((measure_id, subprocessor_id))
        .one(&txn)
        .await?;
    match (on, existing) {
        (true, None) => {
            measure_subprocessors::ActiveModel {
                measure_id: Set(measure_id),
                subprocessor_id: Set(subprocessor_id),
                org_id: Set(actor.org_id),
            }
            .insert(&txn)
            .await?;
        }
        (false, Some(row)) => {
            measure_subprocessors::Entity::delete_by_id((row.measure_id, row.subprocessor_id))
                .exec(&txn)
                .await?;
        }
        _ => return Ok(()),
    }
    record(
        &txn,
        now,
        AuditEvent::new(
            &actor.audit(),
            "measure",
            measure_id.to_string(),
            if on {
                "relies_on"
            } else {
                "no_longer_relies_on"
            },
        )
        .in_org(actor.org_id)
        .after(json!({ "subprocessor": sub.name })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Per measure, the sentence the annex adds: the subprocessors it relies on
/// and their attestations valid on `today`.
pub async fn annex_notes<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    today: NaiveDate,
) -> AppResult<HashMap<MeasureId, String>> {
    let links = measure_subprocessors::Entity::find()
        .filter(measure_subprocessors::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    if links.is_empty() {
        return Ok(HashMap::new());
    }
    let subs: HashMap<SubprocessorId, subprocessors::Model> = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let atts = attestations::Entity::find()
        .filter(attestations::Column::OrgId.eq(org_id))
        .filter(attestations::Column::DeletedAt.is_null())
        .order_by_asc(attestations::Column::Id)
        .all(db)
        .await?;
    let mut notes: HashMap<MeasureId, Vec<String>> = HashMap::new();
    for l in links {
        let Some(sub) = subs.get(&l.subprocessor_id) else {
            continue;
        };
        if sub.status == SubStatus::Terminated {
            continue;
        }
        let current: Vec<String> = atts
            .iter()
            .filter(|a| {
                a.subprocessor_id == sub.id
                    && Validity::of(a.valid_until, today) != Validity::Expired
            })
            .map(|a| {
                let kind = a.kind;
                // "Other" says nothing; its scope names what it is.
                let mut s = if kind == AttestationKind::Other && !a.scope.is_empty() {
                    a.scope.clone()
                } else {
                    kind.label().to_owned()
                };
                if !a.issuer.is_empty() {
                    s.push_str(&format!(" ({})", a.issuer));
                }
                if let Some(d) = a.valid_until {
                    s.push_str(&format!(", gültig bis {}", d.format("%d.%m.%Y")));
                }
                s
            })
            .collect();
        let sentence = if current.is_empty() {
            format!("Unterauftragsverarbeiter: {}.", sub.name)
        } else {
            format!(
                "Unterauftragsverarbeiter: {}; Nachweis: {}.",
                sub.name,
                current.join("; ")
            )
        };
        notes.entry(l.measure_id).or_default().push(sentence);
    }
    Ok(notes.into_iter().map(|(k, v)| (k, v.join(" "))).collect())
}

/// Every subprocessor of the organisation, terminated ones included.
pub async fn all_of<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<subprocessors::Model>> {
    Ok(subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .all(db)
        .await?)
}

/// Attestations of active or planned subprocessors that expire within 30
/// days or have expired (for the dashboard and the digest).
pub async fn expiring<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    today: NaiveDate,
) -> AppResult<Vec<super::ExpiringAttestation>> {
    let subs = all_of(db, org_id).await?;
    expiring_with(db, org_id, today, &subs).await
}

/// [`expiring`] with the organisation's subprocessors ([`all_of`]) already read.
pub async fn expiring_with<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    today: NaiveDate,
    subs: &[subprocessors::Model],
) -> AppResult<Vec<super::ExpiringAttestation>> {
    let subs: HashMap<SubprocessorId, &subprocessors::Model> = subs
        .iter()
        .filter(|s| s.org_id == org_id && s.status != SubStatus::Terminated)
        .map(|s| (s.id, s))
        .collect();
    let mut out: Vec<_> = attestations::Entity::find()
        .filter(attestations::Column::OrgId.eq(org_id))
        .filter(attestations::Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|a| {
            let sub = subs.get(&a.subprocessor_id)?;
            let validity = Validity::of(a.valid_until, today);
            (validity != Validity::Current).then(|| super::ExpiringAttestation {
                subprocessor_id: sub.id,
                subprocessor: sub.name.clone(),
                kind: a.kind.label().to_owned(),
                valid_until: a.valid_until,
                validity,
            })
        })
        .collect();
    out.sort_by_key(|a| a.valid_until);
    Ok(out)
}

/// Links an uploaded certificate to its attestation (in the upload's transaction).
pub async fn attach_evidence<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    attestation_id: AttestationId,
    evidence_id: EvidenceId,
) -> AppResult<()> {
    let row = check_attestation(db, org_id, attestation_id).await?;
    let mut am: attestations::ActiveModel = row.into();
    am.evidence_id = Set(Some(evidence_id));
    am.update(db).await?;
    Ok(())
}
