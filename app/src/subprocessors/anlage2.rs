//! Anlage 2 of the AVV: the organisation's subprocessors as a publication
//! of its own, versioned, signed and immutable like the TOM annex (Anlage
//! 1). A version holds what customers are told of each active
//! subprocessor: name, address, service, where it processes, the safeguard
//! of third-country transfers and its current attestations. An unchanged
//! list makes no version; each version says what changed since the last.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Anlage2Overview, Anlage2Version, SubStatus};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::Validity;
use crate::entities::{BeginWrite, organisations, subprocessor_lists};
use crate::error::{AppError, AppResult};
use crate::format::{german_date, german_datetime, german_day};
use crate::ids::OrgId;
use crate::pdf::keys::SigningSetup;
use crate::pdf::typeset::Template;

/// The reason the PDF signature states.
const SIGNATURE_REASON: &str = "Anlage 2 zum AVV: Unterauftragsverarbeiter";

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/anlage2.typ", include_str!("anlage2.typ")))
}

/// One subprocessor as Anlage 2 names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub address: String,
    pub service: String,
    pub locations: String,
    pub safeguard: String,
    pub attestations: String,
}

/// What a version was rendered from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub entries: Vec<Entry>,
}

/// The template's data.
#[derive(Serialize)]
struct Document<'a> {
    org_name: &'a str,
    version: i32,
    stand: String,
    intro: String,
    none_text: &'static str,
    entries: &'a [Entry],
}

fn or_dash(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        "–".to_owned()
    } else {
        text.to_owned()
    }
}

/// The list as it would be published now: the active subprocessors, by
/// name, with the attestations that have not expired.
pub async fn current(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: DateTime<Utc>,
) -> AppResult<Snapshot> {
    let entries = super::service::for_org(db, org_id, now)
        .await?
        .into_iter()
        .filter(|s| s.status == SubStatus::Active)
        .map(|s| {
            let attestations: Vec<String> =
                s.attestations
                    .iter()
                    .filter(|a| a.validity != Validity::Expired)
                    .map(|a| {
                        let mut words = a.kind.label().to_owned();
                        let issuer = a.issuer.trim();
                        match (issuer.is_empty(), a.valid_until) {
                            (false, Some(d)) => words
                                .push_str(&format!(" ({issuer}, gültig bis {})", german_date(d))),
                            (false, None) => words.push_str(&format!(" ({issuer})")),
                            (true, Some(d)) => {
                                words.push_str(&format!(" (gültig bis {})", german_date(d)))
                            }
                            (true, None) => {}
                        }
                        words
                    })
                    .collect();
            Entry {
                name: s.name.trim().to_owned(),
                address: or_dash(&s.address),
                service: or_dash(&s.service),
                locations: or_dash(&s.locations),
                safeguard: s.safeguard.label().to_owned(),
                attestations: or_dash(&attestations.join("; ")),
            }
        })
        .collect();
    Ok(Snapshot { entries })
}

/// What changed from `before` to `now`, one line per subprocessor.
pub fn changes(before: &Snapshot, now: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for e in &now.entries {
        match before.entries.iter().find(|b| b.name == e.name) {
            None => out.push(format!("Neu: {}", e.name)),
            Some(b) if b != e => {
                let fields: Vec<&str> = [
                    (b.address != e.address, "Anschrift"),
                    (b.service != e.service, "Leistung"),
                    (b.locations != e.locations, "Ort der Verarbeitung"),
                    (b.safeguard != e.safeguard, "Drittlandübermittlung"),
                    (b.attestations != e.attestations, "Nachweise"),
                ]
                .into_iter()
                .filter_map(|(changed, label)| changed.then_some(label))
                .collect();
                out.push(format!("Geändert: {} ({})", e.name, fields.join(", ")));
            }
            Some(_) => {}
        }
    }
    for b in &before.entries {
        if !now.entries.iter().any(|e| e.name == b.name) {
            out.push(format!("Entfällt: {}", b.name));
        }
    }
    out
}

/// The published versions without their bytes, oldest first.
async fn versions(
    db: &DatabaseConnection,
    org_id: OrgId,
) -> AppResult<Vec<(i32, DateTime<Utc>, String, String, bool, Snapshot)>> {
    let rows = subprocessor_lists::Entity::find()
        .filter(subprocessor_lists::Column::OrgId.eq(org_id))
        .select_only()
        .columns([
            subprocessor_lists::Column::Version,
            subprocessor_lists::Column::PublishedAt,
            subprocessor_lists::Column::PublishedByLabel,
            subprocessor_lists::Column::Sha256,
            subprocessor_lists::Column::SelfSigned,
            subprocessor_lists::Column::Snapshot,
        ])
        .order_by_asc(subprocessor_lists::Column::Version)
        .into_tuple::<(i32, DateTime<Utc>, String, String, bool, String)>()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(v, at, by, sha, self_signed, snapshot)| {
            let snapshot: Snapshot = serde_json::from_str(&snapshot).map_err(AppError::internal)?;
            Ok((v, at, by, sha, self_signed, snapshot))
        })
        .collect()
}

/// The versions (newest first, each with what it changed) and what the
/// next version would change, for the organisation's own people.
pub async fn overview(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<Anlage2Overview> {
    if !actor.role.is_internal() {
        return Err(AppError::Forbidden);
    }
    let published = versions(db, actor.org_id).await?;
    let current = current(db, actor.org_id, now).await?;
    let empty = Snapshot::default();
    let mut out = Vec::with_capacity(published.len());
    let mut before = &empty;
    for (version, at, by, sha256, self_signed, snapshot) in &published {
        out.push(Anlage2Version {
            version: *version,
            published_at: german_datetime(*at),
            published_by: by.clone(),
            sha256: sha256.clone(),
            self_signed: *self_signed,
            subprocessors: snapshot.entries.iter().map(|e| e.name.clone()).collect(),
            changes: changes(before, snapshot),
        });
        before = snapshot;
    }
    out.reverse();
    let (notices_due, blocked) = notices(db, actor.org_id, before, now).await?;
    Ok(Anlage2Overview {
        pending: changes(before, &current),
        versions: out,
        can_publish: actor.role.is_admin(),
        notices_due,
        blocked,
    })
}

/// What the subprocessor notices mean for Anlage 2: a notice whose
/// objection deadline has passed while `published` (the newest version)
/// does not name its subprocessor calls for the next version; an objection
/// holds the change back for the customer who objected.
async fn notices(
    db: &DatabaseConnection,
    org_id: OrgId,
    published: &Snapshot,
    now: DateTime<Utc>,
) -> AppResult<(Vec<String>, Vec<String>)> {
    use crate::entities::{customers, notice_objections, subprocessor_notices, subprocessors};
    let today = german_day(now);
    let notices = subprocessor_notices::Entity::find()
        .filter(subprocessor_notices::Column::OrgId.eq(org_id))
        .order_by_asc(subprocessor_notices::Column::Deadline)
        .all(db)
        .await?;
    if notices.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let subs: std::collections::HashMap<_, _> = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let objections = notice_objections::Entity::find()
        .filter(notice_objections::Column::OrgId.eq(org_id))
        .order_by_asc(notice_objections::Column::CreatedAt)
        .all(db)
        .await?;
    let customers: std::collections::HashMap<_, _> = customers::Entity::find()
        .filter(customers::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut due = Vec::new();
    let mut blocked = Vec::new();
    for n in &notices {
        let Some(sub) = subs.get(&n.subprocessor_id) else {
            continue;
        };
        let name = sub.name.trim();
        let listed = published.entries.iter().any(|e| e.name == name);
        if today > n.deadline && !listed && sub.status != SubStatus::Terminated {
            due.push(if sub.status == SubStatus::Active {
                format!(
                    "Die Einspruchsfrist der Mitteilung über {name} ist am {} abgelaufen: Veröffentlichen Sie die nächste Version der Anlage 2.",
                    german_date(n.deadline)
                )
            } else {
                format!(
                    "Die Einspruchsfrist der Mitteilung über {name} ist am {} abgelaufen: Setzen Sie {name} auf „aktiv“ und veröffentlichen Sie die nächste Version der Anlage 2.",
                    german_date(n.deadline)
                )
            });
        }
        for o in objections.iter().filter(|o| o.notice_id == n.id) {
            let customer = customers.get(&o.customer_id).map_or("", String::as_str);
            blocked.push(format!(
                "{customer} hat der Mitteilung über {name} widersprochen: Für diesen Kunden gilt eine Anlage 2 mit {name} erst, wenn der Einspruch geklärt ist."
            ));
        }
    }
    Ok((due, blocked))
}

/// Renders, signs and stores the next version (admins). An unchanged list
/// is refused; nothing is stored unless all of it succeeded.
pub async fn publish(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<i32> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let org_id = actor.org_id;
    let snapshot = current(db, org_id, now).await?;
    let published = versions(db, org_id).await?;
    let last = published.last().map(|(v, .., s)| (*v, s));
    if let Some((v, s)) = last
        && *s == snapshot
    {
        return Err(AppError::Refused(format!(
            "Seit Version {v} hat sich an den Unterauftragsverarbeitern nichts geändert; eine neue Version wäre mit ihr identisch. Es wurde nichts veröffentlicht."
        )));
    }
    let version = last.map_or(1, |(v, _)| v + 1);
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let day = german_day(now);
    let document = Document {
        org_name: &org.legal_name,
        version,
        stand: german_date(day),
        intro: format!(
            "{} setzt für die Verarbeitung im Auftrag die folgenden Unterauftragsverarbeiter ein. Jeder von ihnen ist nach Art. 28 Abs. 4 DSGVO vertraglich auf dieselben Datenschutzpflichten verpflichtet, wie sie im Vertrag über die Auftragsverarbeitung festgelegt sind.",
            org.legal_name
        ),
        none_text: "Derzeit werden keine Unterauftragsverarbeiter eingesetzt.",
        entries: &snapshot.entries,
    };
    // Resolved before the transaction: on SQLite the pool's connection may
    // be the one holding the write lock.
    let identity = setup.identity(db, &org, now).await?;
    let self_signed = identity.self_signed;
    let signer_subject = identity.identity.leaf().tbs_certificate.subject.to_string();
    let details = crate::pdf::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: SIGNATURE_REASON.to_owned(),
        location: crate::pdf::sign::location(&org),
        time: now,
    };
    let ident = format!("nachweis-anlage2/{org_id}/{version}");
    let pdf =
        crate::pdf::typeset_signed(template(), &document, day, ident, identity, details).await?;
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let by = actor.audit();

    let txn = db.begin_write().await?;
    // A concurrent publication wins; this one stops.
    let newest = subprocessor_lists::Entity::find()
        .filter(subprocessor_lists::Column::OrgId.eq(org_id))
        .select_only()
        .column_as(subprocessor_lists::Column::Version.max(), "max")
        .into_tuple::<Option<i32>>()
        .one(&txn)
        .await?
        .flatten();
    if newest != last.map(|(v, _)| v) {
        return Err(AppError::Refused(
            "Gerade wurde eine andere Version der Anlage 2 veröffentlicht. Bitte prüfen Sie die Liste erneut.".into(),
        ));
    }
    subprocessor_lists::ActiveModel {
        org_id: Set(org_id),
        version: Set(version),
        published_at: Set(now),
        published_by: Set(by.user_id),
        published_by_label: Set(by.label.clone()),
        snapshot: Set(serde_json::to_string(&snapshot).map_err(AppError::internal)?),
        pdf: Set(pdf),
        sha256: Set(sha256.clone()),
        signer_subject: Set(signer_subject),
        self_signed: Set(self_signed),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        // Two publications at once (on PostgreSQL both pass the check
        // above): the unique version index lets one win.
        AppError::unless_unique(
            e,
            AppError::Refused(
                "Gerade wurde eine andere Version der Anlage 2 veröffentlicht. Bitte prüfen Sie die Liste erneut.".into(),
            ),
        )
    })?;
    record(
        &txn,
        now,
        AuditEvent::new(&by, "anlage2", version.to_string(), "publish")
            .in_org(org_id)
            .after(serde_json::json!({
                "version": version,
                "sha256": sha256,
                "subprocessors": snapshot.entries.len(),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(version)
}

/// A published version's signed PDF and its SHA-256, for the
/// organisation's own people and its customers.
pub async fn pdf(
    db: &DatabaseConnection,
    actor: &Actor,
    version: i32,
) -> AppResult<(Vec<u8>, String)> {
    subprocessor_lists::Entity::find()
        .filter(subprocessor_lists::Column::OrgId.eq(actor.org_id))
        .filter(subprocessor_lists::Column::Version.eq(version))
        .select_only()
        .columns([
            subprocessor_lists::Column::Pdf,
            subprocessor_lists::Column::Sha256,
        ])
        .into_tuple::<(Vec<u8>, String)>()
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Version {version} der Anlage 2")))
}

/// The newest version's number and SHA-256, if any (the portal's link).
pub async fn latest<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Option<(i32, String)>> {
    Ok(subprocessor_lists::Entity::find()
        .filter(subprocessor_lists::Column::OrgId.eq(org_id))
        .select_only()
        .columns([
            subprocessor_lists::Column::Version,
            subprocessor_lists::Column::Sha256,
        ])
        .order_by_desc(subprocessor_lists::Column::Version)
        .into_tuple::<(i32, String)>()
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, locations: &str) -> Entry {
        Entry {
            name: name.to_owned(),
            address: "–".to_owned(),
            service: "Hosting".to_owned(),
            locations: locations.to_owned(),
            safeguard: "keine Drittlandübermittlung (EU/EWR)".to_owned(),
            attestations: "–".to_owned(),
        }
    }

    #[test]
    fn changes_name_new_changed_and_gone_subprocessors() {
        let before = Snapshot {
            entries: vec![entry("A GmbH", "Berlin"), entry("B AG", "Köln")],
        };
        let now = Snapshot {
            entries: vec![entry("A GmbH", "Frankfurt"), entry("C SE", "Wien")],
        };
        assert_eq!(
            changes(&before, &now),
            vec![
                "Geändert: A GmbH (Ort der Verarbeitung)",
                "Neu: C SE",
                "Entfällt: B AG",
            ]
        );
        assert!(changes(&now, &now).is_empty());
    }
}
