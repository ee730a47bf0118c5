//! Customers (the controllers with an AVV) and their contact persons, who
//! are told by mail when a new version of the annex is published
//! (Art. 28(2), (3) GDPR).

mod page;
pub use page::CustomersPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ids::{ContactId, CustomerId, SubprocessorId};

/// The login links' pages in the browser.
#[cfg(feature = "ssr")]
pub mod http;
/// One-time login links for contact persons.
#[cfg(feature = "ssr")]
pub mod links;
#[cfg(feature = "ssr")]
pub mod service;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactView {
    pub id: ContactId,
    pub name: String,
    pub email: String,
    pub locale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerView {
    pub id: CustomerId,
    pub name: String,
    pub avv_reference: String,
    /// The day the data processing agreement was concluded, if known.
    pub avv_date: Option<chrono::NaiveDate>,
    pub contacts: Vec<ContactView>,
    #[serde(default)]
    pub particulars: Particulars,
}

/// The particulars of the processing for one customer (Art. 28(3) GDPR):
/// what its AVV states besides the standard text. Each is required before
/// the AVV can be offered ([`Particulars::missing`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Particulars {
    pub subject: String,
    pub purpose: String,
    pub data_types: String,
    pub data_subjects: String,
    pub services: String,
    pub instructors: String,
    pub controller_dpo: String,
    pub breach_deadline: String,
    /// The organisation's subprocessors this customer's services use.
    pub subprocessors: Vec<SubprocessorId>,
    /// The particulars were saved at least once, so the choice of
    /// subprocessors (which may be none) was made.
    pub chosen: bool,
}

/// The text particulars: (field, label, hint), in the order the contract
/// states them.
pub const PARTICULARS: [(&str, &str, &str); 8] = [
    (
        "subject",
        "Gegenstand und Dauer der Verarbeitung",
        "z. B. Betrieb der Web-Anwendung des Kunden für die Laufzeit des Hauptvertrags",
    ),
    (
        "purpose",
        "Art und Zweck der Verarbeitung",
        "z. B. Hosting, Speicherung, Sicherung, Wartung und Support",
    ),
    (
        "data_types",
        "Arten personenbezogener Daten",
        "z. B. Kontaktdaten, Vertragsdaten, Nutzungsdaten",
    ),
    (
        "data_subjects",
        "Kategorien betroffener Personen",
        "z. B. Kunden und Interessenten des Verantwortlichen, dessen Beschäftigte",
    ),
    (
        "services",
        "Erfasste Leistungen",
        "z. B. Hosting-Paket „Business“, Wartungsvertrag",
    ),
    (
        "instructors",
        "Weisungsberechtigte Personen des Verantwortlichen",
        "Name, Funktion, E-Mail",
    ),
    (
        "controller_dpo",
        "Datenschutzbeauftragte(r) des Verantwortlichen",
        "Name und Kontakt, oder „nicht benannt“",
    ),
    (
        "breach_deadline",
        "Frist für Meldungen von Datenschutzverletzungen",
        "z. B. unverzüglich, spätestens 24 Stunden nach Bekanntwerden",
    ),
];

impl Particulars {
    /// The text of one of [`PARTICULARS`]' fields.
    pub fn text(&self, field: &str) -> &str {
        match field {
            "subject" => &self.subject,
            "purpose" => &self.purpose,
            "data_types" => &self.data_types,
            "data_subjects" => &self.data_subjects,
            "services" => &self.services,
            "instructors" => &self.instructors,
            "controller_dpo" => &self.controller_dpo,
            "breach_deadline" => &self.breach_deadline,
            _ => "",
        }
    }

    /// What must still be filled in before the AVV can be offered, as labels.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = PARTICULARS
            .iter()
            .filter(|(field, _, _)| self.text(field).trim().is_empty())
            .map(|(_, label, _)| *label)
            .collect();
        if !self.chosen {
            out.push("Unterauftragsverarbeiter dieses Kunden");
        }
        out
    }
}

#[server(endpoint = "customers/list")]
pub async fn list_customers() -> Result<Vec<CustomerView>, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::list(&state.db, actor.org_id).await
}

#[server(endpoint = "customers/add")]
pub async fn add_customer(
    name: String,
    #[server(default)] avv_reference: String,
    #[server(default)] avv_date: String,
) -> Result<CustomerId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::add(
        &state.db,
        state.now(),
        &actor,
        &name,
        &avv_reference,
        &avv_date,
    )
    .await
}

#[server(endpoint = "customers/contact/add")]
pub async fn add_contact(
    customer_id: CustomerId,
    name: String,
    email: String,
    #[server(default)] locale: String,
) -> Result<ContactId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let email = crate::domain::EmailAddress::parse(&email)?;
    let locale = crate::mail::Locale::parse_lenient(&locale);
    service::add_contact(
        &state.db,
        state.now(),
        &actor,
        customer_id,
        &name,
        &email,
        locale,
    )
    .await
}

#[server(endpoint = "customers/contact/remove")]
pub async fn remove_contact(id: ContactId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::remove_contact(&state.db, state.now(), &actor, id).await
}

/// Asks for a one-time login link by mail. The answer is the same whether
/// or not the address is a registered customer contact.
#[server(endpoint = "auth/login-link")]
pub async fn request_login_link(email: String) -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    links::request(&state.db, state.now(), &state.public_url, &email).await?;
    leptos_axum::redirect("/login?anmeldelink=gesendet");
    Ok(())
}
