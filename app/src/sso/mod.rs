//! Single sign-on through OpenID Connect: customers' people sign in with
//! their own company's identity provider and land in the customer portal;
//! the organisation's staff can sign in through the company IdP (Microsoft
//! Entra ID, Keycloak, Authentik, …). Administrators manage the providers at
//! `/anmeldedienste`; the flow itself runs in the server's `/sso` routes.

mod page;
pub use page::ProvidersPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ids::{CustomerId, ProviderId};

/// The browser side: discovery, start, callback, linking.
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;

/// A provider as the admin page shows it; the client secret never leaves
/// the server, only whether one is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderView {
    pub id: ProviderId,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub name: String,
    pub issuer_url: String,
    pub client_id: String,
    pub has_secret: bool,
    pub scopes: String,
    pub allowed_domains: String,
    pub required_claim: String,
    pub default_role: String,
    pub role_mapping: String,
    pub enabled: bool,
    pub source: String,
    /// The link that starts a sign-in with this provider.
    pub start_url: String,
}

/// What an administrator enters for a new provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewProvider {
    /// `None`: for the organisation's own staff.
    pub customer_id: Option<CustomerId>,
    pub name: String,
    pub issuer_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: String,
    pub allowed_domains: String,
    pub required_claim: String,
    pub default_role: String,
    pub role_mapping: String,
}

/// The providers and the redirect URI to register at each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvidersOverview {
    pub redirect_uri: String,
    pub providers: Vec<ProviderView>,
    /// Customers to choose from: (id, name).
    pub customers: Vec<(CustomerId, String)>,
}

#[server(endpoint = "sso/providers")]
pub async fn list_providers() -> Result<ProvidersOverview, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let customers = crate::customers::service::list(&state.db, actor.org_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(ProvidersOverview {
        redirect_uri: format!("{}{}", state.public_url, service::CALLBACK_PATH),
        providers: service::list(&state.db, actor.org_id, &state.public_url).await?,
        customers,
    })
}

/// `customer` is a customer id, or empty for the organisation's own staff.
#[server(endpoint = "sso/providers/add")]
#[allow(clippy::too_many_arguments)]
pub async fn add_provider(
    #[server(default)] customer: String,
    name: String,
    issuer_url: String,
    client_id: String,
    #[server(default)] client_secret: String,
    #[server(default)] scopes: String,
    allowed_domains: String,
    #[server(default)] required_claim: String,
    #[server(default)] default_role: String,
    #[server(default)] role_mapping: String,
) -> Result<ProviderId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let customer_id = match customer.trim() {
        "" => None,
        c => Some(
            c.parse::<CustomerId>()
                .map_err(|_| AppError::invalid("customer", "Unbekannter Kunde."))?,
        ),
    };
    service::add(
        &state,
        &actor,
        &NewProvider {
            customer_id,
            name,
            issuer_url,
            client_id,
            client_secret,
            scopes,
            allowed_domains,
            required_claim,
            default_role,
            role_mapping,
        },
    )
    .await
}

#[server(endpoint = "sso/providers/enable")]
pub async fn set_provider_enabled(id: ProviderId, enabled: bool) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::set_enabled(&state, &actor, id, enabled).await
}
