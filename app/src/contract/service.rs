//! Puts the AVV together for one customer: the organisation's current
//! contract text, the customer's particulars, Anlage 1 (the current
//! published TOM annex, by version and SHA-256, with its section headings)
//! and Anlage 2 (the current published list, cut to this customer's
//! subprocessors), then the closing protocol.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::auth::service::Actor;
use crate::customers::PARTICULARS;
use crate::entities::{avv_texts, organisations, subprocessor_lists, subprocessors};
use crate::error::{AppError, AppResult};
use crate::ids::CustomerId;
use crate::pdf::typeset::Template;
use crate::pledges::Block;
use crate::subprocessors::anlage2::{Entry, Snapshot};

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/contract.typ", include_str!("contract.typ")))
}

#[derive(Serialize)]
struct Party {
    name: String,
    address: String,
    dpo: String,
}

#[derive(Serialize)]
struct Particular {
    label: &'static str,
    text: String,
}

#[derive(Serialize)]
struct Anlage1 {
    version: i32,
    stand: String,
    sha256: String,
    /// "3.1 Zutrittskontrolle", in document order.
    sections: Vec<String>,
}

#[derive(Serialize)]
struct Anlage2 {
    version: i32,
    sha256: String,
    entries: Vec<Entry>,
}

/// The template's data.
#[derive(Serialize)]
struct Document {
    title: String,
    draft: bool,
    text_version: i32,
    processor: Party,
    controller: Party,
    blocks: Vec<Block>,
    particulars: Vec<Particular>,
    anlage1: Anlage1,
    anlage2: Anlage2,
    protocol: String,
}

/// The contract as it would be offered to `customer` now, as a draft PDF
/// (unsigned, marked "ENTWURF") for the organisation's admins and
/// auditors. Refused, naming what is missing, while the particulars are
/// incomplete, no contract text is set, or Anlage 1 or Anlage 2 (with this
/// customer's subprocessors) is not published.
pub async fn draft(
    db: &DatabaseConnection,
    actor: &Actor,
    customer: CustomerId,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    if !actor.role.reads_contracts() {
        return Err(AppError::Forbidden);
    }
    let org_id = actor.org_id;
    let (c, particulars) = crate::customers::service::one(db, org_id, customer).await?;
    let missing = particulars.missing();
    if !missing.is_empty() {
        return Err(AppError::Refused(format!(
            "Für den AVV mit {} fehlen noch diese Angaben zur Verarbeitung: {}.",
            c.name,
            missing.join(", ")
        )));
    }
    let text = avv_texts::Entity::find()
        .filter(avv_texts::Column::OrgId.eq(org_id))
        .filter(avv_texts::Column::Locale.eq("de"))
        .order_by_desc(avv_texts::Column::Version)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::Refused(
                "Es ist noch kein AVV-Vertragstext festgelegt (Seite „AVV-Vertragstext“).".into(),
            )
        })?;
    let annex = crate::annex::publish::list(db, org_id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            AppError::Refused(
                "Es ist noch keine TOM-Anlage veröffentlicht; der AVV verweist auf sie als Anlage 1."
                    .into(),
            )
        })?;
    let snapshot = crate::annex::publish::snapshot(db, org_id, annex.version).await?;
    let list = subprocessor_lists::Entity::find()
        .filter(subprocessor_lists::Column::OrgId.eq(org_id))
        .order_by_desc(subprocessor_lists::Column::Version)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::Refused(
                "Es ist noch keine Anlage 2 (Unterauftragsverarbeiter) veröffentlicht.".into(),
            )
        })?;
    let published: Snapshot = serde_json::from_str(&list.snapshot).map_err(AppError::internal)?;
    let names: Vec<String> = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .filter(subprocessors::Column::Id.is_in(particulars.subprocessors.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.name.trim().to_owned())
        .collect();
    let mut entries = Vec::with_capacity(names.len());
    for name in &names {
        match published.entries.iter().find(|e| &e.name == name) {
            Some(e) => entries.push(e.clone()),
            None => {
                return Err(AppError::Refused(format!(
                    "{name} steht in keiner veröffentlichten Anlage 2; veröffentlichen Sie zuerst die nächste Version der Anlage 2."
                )));
            }
        }
    }
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let document = Document {
        title: text.title.clone(),
        draft: true,
        text_version: text.version,
        processor: Party {
            name: org.legal_name.clone(),
            address: org.address.clone(),
            dpo: org.dpo_contact.clone(),
        },
        controller: Party {
            name: c.name.clone(),
            address: String::new(),
            dpo: particulars.controller_dpo.clone(),
        },
        blocks: crate::pledges::service::blocks(&text.body),
        particulars: PARTICULARS
            .iter()
            .map(|(field, label, _)| Particular {
                label,
                text: particulars.text(field).trim().to_owned(),
            })
            .collect(),
        anlage1: Anlage1 {
            version: annex.version,
            stand: annex.stand.clone(),
            sha256: annex.sha256.clone(),
            sections: snapshot
                .annex
                .sections
                .iter()
                .map(|s| format!("{} {}", s.number, s.title))
                .collect(),
        },
        anlage2: Anlage2 {
            version: list.version,
            sha256: list.sha256.clone(),
            entries,
        },
        protocol: "Entwurf: Dieser Vertrag ist noch nicht angeboten und nicht angenommen. Nach der Annahme im Kundenportal stehen hier Name und Funktion der annehmenden Person, der Zeitpunkt und die Prüfsumme des angenommenen Dokuments.".into(),
    };
    let day = crate::format::german_day(now);
    let ident = format!("nachweis-avv-entwurf/{org_id}/{customer}");
    let data = serde_json::to_vec(&document).map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        use chrono::Datelike;
        let date = (day.year(), day.month() as u8, day.day() as u8);
        crate::pdf::typeset::typeset(template(), data, Some(date), ident)
            .map(|r| r.pdf)
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}
