//! The audit log (Eingabekontrolle): who changed what, when, before and after.
//! Written in the same transaction as the change; hash-chained so that
//! `nachweis audit verify` detects tampering. The page that reads it is
//! the feature `protocol`.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod batch;
#[cfg(feature = "ssr")]
pub mod service;

/// One row of the audit log as shown to admins and auditors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: crate::format::LocalTime,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Filters of the audit page; empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub entity: String,
    pub action: String,
    pub actor: String,
    /// First and last day (`YYYY-MM-DD`, German time), both included.
    pub from: String,
    pub to: String,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditLogPage {
    pub entries: Vec<AuditEntry>,
    /// 1-based.
    pub page: u64,
    /// Older entries follow on the next page.
    pub more: bool,
}

/// The result of checking the chain, as an organisation's admins and
/// auditors are told it: the chain is shared by the whole installation, so
/// a break in another organisation's row is named by its number only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainCheck {
    /// Every row up to `up_to` recomputed, and every signed document's
    /// anchor found in the chain.
    Intact { up_to: i64 },
    /// The first broken row; `finding` only where the row (or the document
    /// anchoring it) is the organisation's own.
    Broken { seq: i64, finding: Option<String> },
}

/// Rows per page of `/protokoll`.
pub const PAGE_SIZE: u64 = 100;

/// What the log's entities are called on the page, in the order of the filter.
pub const ENTITIES: &[(&str, &str)] = &[
    ("measure", "Maßnahme"),
    ("category", "Kategorie"),
    ("evidence", "Nachweis"),
    ("annex", "Anlage"),
    ("anlage2", "Anlage 2 (Unterauftragsverarbeiter)"),
    ("review_cycle", "Prüfzyklus"),
    ("review_item", "Bewertung"),
    ("review_finding", "Korrekturmaßnahme"),
    ("subprocessor", "Unterauftragsverarbeiter"),
    ("attestation", "Nachweis eines Unterauftragsverarbeiters"),
    ("subprocessor_notice", "Mitteilung an Kunden"),
    ("customer", "Kunde"),
    ("pledge_text", "Verpflichtungstext"),
    ("avv_text", "AVV-Vertragstext"),
    ("pledge", "Verpflichtung"),
    ("training_course", "Schulungskurs"),
    ("training", "Schulung"),
    ("membership", "Mitgliedschaft"),
    ("invitation", "Einladung"),
    ("user", "Person"),
    ("user_identity", "Anmeldung über Anmeldedienst"),
    ("identity_provider", "Anmeldedienst"),
    ("login_link", "Anmeldelink"),
    ("session", "Anmeldung"),
    ("organisation", "Organisation"),
    ("outbox", "Postausgang"),
    ("contract", "AVV-Abschluss"),
];

/// What the log's actions are called on the page.
pub const ACTIONS: &[(&str, &str)] = &[
    ("create", "angelegt"),
    ("update", "geändert"),
    ("new_version", "neue Fassung"),
    ("amend", "ergänzt"),
    ("rename", "umbenannt"),
    ("reorder", "umsortiert"),
    ("delete", "gelöscht"),
    ("purge", "Datei endgültig gelöscht"),
    ("publish", "veröffentlicht"),
    ("offer", "angeboten"),
    ("accept", "angenommen"),
    ("download", "heruntergeladen"),
    ("sign", "unterschrieben"),
    ("open", "eröffnet"),
    ("close", "abgeschlossen"),
    ("save", "zwischengespeichert"),
    ("submit", "eingereicht"),
    ("passed", "bestanden"),
    ("failed", "nicht bestanden"),
    ("issue", "ausgestellt"),
    ("revoke", "widerrufen"),
    ("enable", "aktiviert"),
    ("disable", "deaktiviert"),
    ("link", "verknüpft"),
    ("relies_on", "stützt sich darauf"),
    ("no_longer_relies_on", "stützt sich nicht mehr darauf"),
    ("objection", "Einspruch"),
    ("add_contact", "Kontakt hinzugefügt"),
    ("particulars", "Angaben zur Verarbeitung geändert"),
    ("remove_contact", "Kontakt entfernt"),
    ("review_cadence", "Prüfintervall geändert"),
    ("rules", "Regeln geändert"),
    ("requested", "angefordert"),
    ("retry", "erneut versucht"),
    ("session", "Sitzung"),
    ("login_failed", "Anmeldung fehlgeschlagen"),
    ("import-intro", "Einleitung importiert"),
];

fn label_of(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

impl AuditEntry {
    /// The entity in German (an unknown code as it is).
    pub fn entity_label(&self) -> String {
        label_of(ENTITIES, &self.entity).map_or_else(|| self.entity.clone(), str::to_owned)
    }

    /// The action in German (an unknown code as it is).
    pub fn action_label(&self) -> String {
        label_of(ACTIONS, &self.action).map_or_else(|| self.action.clone(), str::to_owned)
    }

    /// The page where the changed object is, if it has one.
    pub fn href(&self) -> Option<String> {
        let id = self.entity_id.parse::<i64>().ok();
        Some(match (self.entity.as_str(), id) {
            ("measure", Some(id)) => format!("/massnahmen/{id}"),
            ("category", Some(id)) => format!("/massnahmen?anordnen=1#kategorie-{id}"),
            ("review_cycle", Some(id)) => format!("/pruefungen/{id}"),
            ("review_item", Some(id)) => format!("/pruefungen/bewertung/{id}"),
            ("subprocessor", Some(id)) => format!("/unterauftragsverarbeiter#sub-{id}"),
            ("annex", _) => "/anlage".to_owned(),
            ("anlage2", _) => "/unterauftragsverarbeiter#anlage2".to_owned(),
            ("customer", _) => "/kunden".to_owned(),
            ("membership" | "invitation", _) => "/mitglieder".to_owned(),
            ("organisation", _) => "/organisation".to_owned(),
            ("pledge_text" | "pledge", _) => "/verpflichtungen".to_owned(),
            ("avv_text", _) => "/avv".to_owned(),
            ("contract", _) => "/avv-abschluss".to_owned(),
            ("training_course", _) => "/schulungen/kurse".to_owned(),
            ("training", _) => "/schulungen/uebersicht".to_owned(),
            ("identity_provider", _) => "/anmeldedienste".to_owned(),
            ("outbox", _) => "/postausgang".to_owned(),
            ("subprocessor_notice" | "attestation", _) => "/unterauftragsverarbeiter".to_owned(),
            _ => return None,
        })
    }
}
