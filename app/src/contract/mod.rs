//! The AVV as one document per customer (an aggregator: it reads the AVV
//! text, the customer's particulars, the published TOM annex and Anlage 2),
//! offered by the DPO and concluded electronically by the customer in the
//! portal (Art. 28(9) GDPR: "in writing, including in electronic form").

mod page;
pub use page::{ContractsPage, PortalContractPanel};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::format::LocalTime;
use crate::ids::{CustomerId, OfferId, ProviderId};
use crate::pledges::Block;

#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;

/// One offer of the contract to a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferInfo {
    pub id: OfferId,
    /// 1, 2, … per customer.
    pub number: i32,
    pub text_version: i32,
    pub anlage1_version: i32,
    pub anlage2_version: i32,
    pub offered_at: LocalTime,
    pub offered_by: String,
    /// SHA-256 of the sealed offer: the document the customer accepts.
    pub sha256: String,
}

/// A customer's acceptance of an offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptanceInfo {
    pub accepted_at: LocalTime,
    pub typed_name: String,
    pub function: String,
    /// How it was confirmed, in German.
    pub method: String,
    /// SHA-256 of the concluded contract's PDF.
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContractStanding {
    /// Never offered.
    NotOffered,
    /// Offered, never accepted.
    Offered,
    /// The newest offer is accepted.
    Accepted,
    /// An earlier offer is accepted (and stays valid); a newer one waits.
    Outdated,
}

impl ContractStanding {
    pub fn label(self) -> &'static str {
        match self {
            Self::NotOffered => "nicht angeboten",
            Self::Offered => "angeboten",
            Self::Accepted => "abgeschlossen",
            Self::Outdated => "veraltet",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Self::NotOffered => "badge",
            Self::Offered => "badge avv-offered",
            Self::Accepted => "badge avv-accepted",
            Self::Outdated => "badge avv-outdated",
        }
    }
}

/// One customer's contract in the DPO's overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractRow {
    pub customer_id: CustomerId,
    pub customer_name: String,
    /// Particulars still missing, by label; the offer waits for them.
    pub missing: Vec<String>,
    pub standing: ContractStanding,
    pub newest: Option<OfferInfo>,
    /// The newest accepted offer and its acceptance: the contract in force.
    pub concluded: Option<(OfferInfo, AcceptanceInfo)>,
    /// The text or the particulars changed since the newest offer.
    pub changed: bool,
}

/// A customer whose contract waits for something (start page, digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractDue {
    pub customer_id: CustomerId,
    pub customer_name: String,
    /// Not offered, offered or outdated.
    pub standing: ContractStanding,
    /// When the newest offer was made, if any.
    pub since: Option<LocalTime>,
}

impl ContractDue {
    /// "Kanzlei Beispiel: angeboten seit 01.12.2026 10:00".
    pub fn line(&self, de: bool) -> String {
        let since = self.since.map(|s| s.to_string()).unwrap_or_default();
        match (self.standing, de) {
            (ContractStanding::Offered, true) => {
                format!(
                    "{}: angeboten seit {since}, noch nicht angenommen",
                    self.customer_name
                )
            }
            (ContractStanding::Offered, false) => {
                format!(
                    "{}: offered since {since}, not yet accepted",
                    self.customer_name
                )
            }
            (ContractStanding::Outdated, true) => format!(
                "{}: veraltet, das neue Angebot vom {since} ist noch nicht angenommen",
                self.customer_name
            ),
            (ContractStanding::Outdated, false) => format!(
                "{}: outdated, the new offer of {since} is not yet accepted",
                self.customer_name
            ),
            (_, true) => format!("{}: noch kein AVV angeboten", self.customer_name),
            (_, false) => format!("{}: no AVV offered yet", self.customer_name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractOverview {
    pub rows: Vec<ContractRow>,
    pub can_offer: bool,
}

/// The offer waiting for the customer, with the text as offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOffer {
    pub offer: OfferInfo,
    pub title: String,
    pub blocks: Vec<Block>,
    /// (label, text).
    pub particulars: Vec<(String, String)>,
    pub subprocessors: Vec<String>,
    /// (version, SHA-256).
    pub anlage1: (i32, String),
    pub anlage2: (i32, String),
}

/// The portal's contract section for a customer user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalContract {
    pub customer_name: String,
    pub pending: Option<PendingOffer>,
    pub concluded: Option<(OfferInfo, AcceptanceInfo)>,
    pub display_name: String,
    pub has_password: bool,
    /// Providers the person can confirm with instead of a password.
    pub sso: Vec<(ProviderId, String)>,
}

/// Every customer's contract (admins and auditors).
#[server(endpoint = "contract/overview")]
pub async fn get_contracts() -> Result<ContractOverview, AppError> {
    let (state, actor) = crate::auth::require_signed_in().await?;
    service::overview(&state.db, &actor).await
}

/// Offers the contract to one customer (admins): sealed and stored.
#[server(endpoint = "contract/offer")]
pub async fn offer_contract(customer_id: CustomerId) -> Result<i32, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let number = service::offer(
        &state.db,
        &state.signing,
        &state.public_url,
        &actor,
        customer_id,
        state.now(),
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/avv-abschluss?angeboten={number}#kunde-{customer_id}"
    ));
    Ok(number)
}

/// The contract section of the portal (customer users; `None` otherwise).
#[server(endpoint = "contract/portal")]
pub async fn get_portal_contract() -> Result<Option<PortalContract>, AppError> {
    let (state, actor) = crate::auth::require_signed_in().await?;
    service::for_portal(&state.db, &actor).await
}

/// Accepts the offered contract, confirmed with the account's password.
/// `sha256` is the hash of the document the person read (a newer offer
/// meanwhile is refused with 409), `typed_name` their full name,
/// `function` their function at the controller.
#[server(endpoint = "contract/accept")]
pub async fn accept_contract(
    offer_id: OfferId,
    sha256: String,
    typed_name: String,
    #[server(default)] function: String,
    password: String,
    #[server(default)] confirm: String,
) -> Result<OfferId, AppError> {
    let (state, actor) = crate::auth::require_signed_in().await?;
    let parts: axum::http::request::Parts = leptos_axum::extract()
        .await
        .map_err(crate::error::AppError::internal)?;
    let client = crate::net::Client::from_request(&parts);
    let id = service::accept(
        &state,
        &actor,
        service::Acceptance {
            offer_id,
            sha256,
            typed_name,
            function,
            confirmed: !confirm.trim().is_empty(),
        },
        service::Confirmation::Password(password),
        client,
    )
    .await?;
    leptos_axum::redirect("/portal?avv=angenommen#avv");
    Ok(id)
}
