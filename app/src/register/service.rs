//! Puts the Art. 30(2) register together and writes it as PDF, XLSX and CSV.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Serialize;

use crate::auth::service::Actor;
use crate::domain::{Safeguard, SubStatus};
use crate::entities::organisations;
use crate::error::{AppError, AppResult};
use crate::ids::OrgId;
use crate::pdf::keys::SigningSetup;
use crate::pdf::typeset::Template;

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/register.typ", include_str!("register.typ")))
}

const SIGNATURE_REASON: &str = "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 Abs. 2 DSGVO)";

/// The columns of the spreadsheet and the CSV, in order.
pub const COLUMNS: [&str; 10] = [
    "Verantwortlicher",
    "Kontakt des Verantwortlichen",
    "Vertreter / Weisungsberechtigte",
    "Datenschutzbeauftragte(r) des Verantwortlichen",
    "Auftragsverarbeiter",
    "Kontakt des Auftragsverarbeiters",
    "Datenschutzbeauftragte(r) des Auftragsverarbeiters",
    "Kategorien von Verarbeitungen",
    "Übermittlungen in Drittländer und Garantien",
    "Technische und organisatorische Maßnahmen (Art. 32 Abs. 1)",
];

/// One controller's entry (Art. 30(2)(a) to (d)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub controller: String,
    pub controller_contact: String,
    pub instructors: String,
    pub controller_dpo: String,
    pub processor: String,
    pub processor_contact: String,
    pub processor_dpo: String,
    pub categories: String,
    pub transfers: String,
    pub measures: String,
}

impl Entry {
    /// The cells in the order of [`COLUMNS`].
    pub fn cells(&self) -> [&str; 10] {
        [
            &self.controller,
            &self.controller_contact,
            &self.instructors,
            &self.controller_dpo,
            &self.processor,
            &self.processor_contact,
            &self.processor_dpo,
            &self.categories,
            &self.transfers,
            &self.measures,
        ]
    }
}

/// The whole register.
#[derive(Debug, Clone, Serialize)]
pub struct Register {
    pub org_name: String,
    /// German date and time it was generated.
    pub generated: String,
    pub entries: Vec<Entry>,
    /// The published TOM annex it refers to: (version, stand, SHA-256).
    pub annex: Option<(i32, String, String)>,
    /// "3.1 Zutrittskontrolle", in document order.
    pub sections: Vec<String>,
}

fn or_missing(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        "nicht angegeben".to_owned()
    } else {
        s.to_owned()
    }
}

/// The register of `org_id` as it stands at `now` (admins and auditors; the
/// command line reads it as the organisation's auditor).
pub async fn build(
    db: &DatabaseConnection,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<Register> {
    if !actor.role.reads_contracts() {
        return Err(AppError::Forbidden);
    }
    let org_id = actor.org_id;
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let customers = crate::customers::service::list(db, org_id).await?;
    let subs: BTreeMap<_, _> = crate::subprocessors::service::for_org(db, org_id, now)
        .await?
        .into_iter()
        .filter(|s| s.status != SubStatus::Terminated)
        .map(|s| (s.id, s))
        .collect();
    let annex = crate::annex::publish::list(db, org_id)
        .await?
        .into_iter()
        .next();
    let sections: Vec<String> = match &annex {
        Some(a) => crate::annex::publish::snapshot(db, org_id, a.version)
            .await?
            .annex
            .sections
            .iter()
            .map(|s| format!("{} {}", s.number, s.title))
            .collect(),
        None => Vec::new(),
    };
    let measures = match &annex {
        Some(a) => format!(
            "Anlage 1 zum AVV (TOM) Version {} vom {}, SHA-256 {}: {}",
            a.version,
            a.stand,
            a.sha256,
            sections.join("; ")
        ),
        None => "Noch keine TOM-Anlage veröffentlicht.".to_owned(),
    };
    let entries = customers
        .iter()
        .map(|c| {
            let p = &c.particulars;
            let contact = c
                .contacts
                .iter()
                .map(|k| format!("{} <{}>", k.name, k.email))
                .collect::<Vec<_>>()
                .join("; ");
            let mut categories = Vec::new();
            for (label, text) in [
                ("Gegenstand", &p.subject),
                ("Art und Zweck", &p.purpose),
                ("Leistungen", &p.services),
                ("Datenarten", &p.data_types),
                ("Betroffene", &p.data_subjects),
            ] {
                if !text.trim().is_empty() {
                    categories.push(format!("{label}: {}", text.trim()));
                }
            }
            let transfers: Vec<String> = p
                .subprocessors
                .iter()
                .filter_map(|id| subs.get(id))
                .filter(|s| s.safeguard != Safeguard::Eu)
                .map(|s| {
                    format!(
                        "{} ({}): {}",
                        s.name.trim(),
                        or_missing(&s.locations),
                        s.safeguard.label()
                    )
                })
                .collect();
            Entry {
                controller: c.name.trim().to_owned(),
                controller_contact: or_missing(&contact),
                instructors: or_missing(&p.instructors),
                controller_dpo: or_missing(&p.controller_dpo),
                processor: org.legal_name.trim().to_owned(),
                processor_contact: or_missing(&org.address),
                processor_dpo: or_missing(&org.dpo_contact),
                categories: if categories.is_empty() {
                    "nicht angegeben".to_owned()
                } else {
                    categories.join("\n")
                },
                transfers: if transfers.is_empty() {
                    "keine".to_owned()
                } else {
                    transfers.join("\n")
                },
                measures: measures.clone(),
            }
        })
        .collect();
    Ok(Register {
        org_name: org.legal_name.clone(),
        generated: format!("{} (deutsche Zeit)", crate::format::german_datetime(now)),
        entries,
        annex: annex.map(|a| (a.version, a.stand, a.sha256)),
        sections,
    })
}

/// The register as CSV: one row per controller (formulas defused).
pub fn csv(r: &Register) -> String {
    crate::http::csv(&COLUMNS, r.entries.iter().map(|e| e.cells().to_vec()))
}

/// The register as an XLSX workbook: the sheet "Verzeichnis" with the same
/// rows as the CSV (every cell a string, never a formula).
pub fn xlsx(r: &Register) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_text_wrap();
    let wrap = Format::new().set_text_wrap();
    let sheet = book.add_worksheet();
    sheet.set_name("Verzeichnis").map_err(AppError::internal)?;
    for (col, title) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet
            .write_string_with_format(0, col, *title, &bold)
            .map_err(AppError::internal)?;
        sheet
            .set_column_width(col, 36)
            .map_err(AppError::internal)?;
    }
    for (row, e) in r.entries.iter().enumerate() {
        for (col, cell) in e.cells().iter().enumerate() {
            sheet
                .write_string_with_format(row as u32 + 1, col as u16, *cell, &wrap)
                .map_err(AppError::internal)?;
        }
    }
    sheet.set_freeze_panes(1, 1).map_err(AppError::internal)?;
    book.save_to_buffer().map_err(AppError::internal)
}

/// The register as a PDF sealed with the organisation's signature.
pub async fn pdf(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    org_id: OrgId,
    r: &Register,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let identity = setup.identity(db, &org, now).await?;
    let details = crate::pdf::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: SIGNATURE_REASON.to_owned(),
        location: crate::pdf::sign::location(&org),
        time: now,
    };
    let ident = format!("nachweis-verzeichnis/{org_id}/{}", now.timestamp());
    crate::pdf::typeset_signed(
        template(),
        r,
        crate::format::german_day(now),
        ident,
        identity,
        details,
    )
    .await
}

/// The formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Xlsx,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pdf" => Some(Self::Pdf),
            "xlsx" => Some(Self::Xlsx),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// The register in one format.
pub async fn export(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    actor: &Actor,
    format: Format,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    let r = build(db, actor, now).await?;
    match format {
        Format::Csv => Ok(csv(&r).into_bytes()),
        Format::Xlsx => xlsx(&r),
        Format::Pdf => pdf(db, setup, actor.org_id, &r, now).await,
    }
}
