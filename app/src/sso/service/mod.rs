//! OpenID Connect sign-in (authorization code flow with PKCE, state and
//! nonce) with the `openidconnect` crate, and the identity providers an
//! administrator configures.
//!
//! What is checked, in order: the `state` belongs to a sign-in this browser
//! started (one use, ten minutes); the provider's discovery document names
//! the configured issuer; the code is exchanged with the PKCE verifier; the
//! ID token's signature (provider's JWKS), issuer, audience, expiry (one
//! minute of clock skew allowed), issue time and nonce; the access-token
//! hash; then our own rules: a verified e-mail address in an allowed domain
//! and, if configured, a required claim. Refusals are written to the audit
//! log for the DPO; nothing else is stored for them.

use crate::ids::{OrgId, ProviderId, UserId};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, LoginHint,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{NewProvider, ProviderView};
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::{EmailAddress, Role};
use crate::entities::{customers, identity_providers, user_identities, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long a started sign-in may take at the provider.
const PENDING_TTL_SECS: i64 = 10 * 60;
/// Tolerance between our clock and the provider's.
const CLOCK_SKEW_SECS: i64 = 60;
/// Sign-ins one browser may have open at once (several tabs).
const MAX_PENDING: usize = 4;
/// The path providers send people back to; register `<public_url>` + this.
pub const CALLBACK_PATH: &str = "/sso/callback";

/// What the browser's session remembers between leaving for the provider
/// and coming back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub provider_id: ProviderId,
    pub state: String,
    nonce: String,
    pkce_verifier: String,
    pub next: String,
    started_at: DateTime<Utc>,
    /// What the sign-in is for; sessions from before this field sign in.
    #[serde(default)]
    pub purpose: Purpose,
}

/// Why the browser went to the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// To sign in.
    #[default]
    SignIn,
    /// A signed-in person confirms an act of theirs (signing a pledge) with
    /// a fresh login at the provider instead of a password (they have none).
    Confirm(Intent),
    /// A signed-in person links this provider's identity to their account.
    Link { user_id: UserId },
}

/// An act waiting for its confirmation at the provider. The feature that
/// asked (`kind`) checked it before the browser left and finishes it on
/// return; single sign-on only proves who confirmed and keeps `data`, the
/// feature's own description of the act, in the server-side session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub user_id: UserId,
    pub org_id: OrgId,
    /// Which finisher in [`crate::sso::http::Confirmations`] completes it.
    pub kind: String,
    pub data: serde_json::Value,
}

impl Intent {
    /// The feature's own data back, as it was handed over.
    pub fn data<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.data.clone()).ok()
    }
}

impl Pending {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        (now - self.started_at).num_seconds() > PENDING_TTL_SECS
    }
}

/// Why a sign-in did not succeed. Each maps to a page that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoError {
    /// No such provider, or it is switched off.
    UnknownProvider,
    /// The `state` is missing, unknown, already used or too old.
    InvalidState,
    /// The provider sent the person back with an error (e.g. access denied).
    ProviderSaid(String),
    /// The provider cannot be reached or answers nonsense.
    ProviderUnavailable(String),
    /// The provider's answer failed a check (token, issuer, audience, nonce, …).
    Rejected(String),
    /// The identity is genuine but not allowed in (domain, claim, role).
    Refused(String),
    /// An account with this address exists and has not linked this
    /// provider's identity: the holder must link it while signed in.
    LinkRequired {
        provider_id: ProviderId,
        email: String,
    },
    Internal(AppError),
}

impl From<AppError> for SsoError {
    fn from(e: AppError) -> Self {
        Self::Internal(e)
    }
}

impl From<sea_orm::DbErr> for SsoError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

/// The person signed in by a provider.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    pub next: String,
}

/// The HTTP clients for providers: no redirects (a provider could steer
/// our requests elsewhere), ten seconds at most. The strict one resolves
/// names to public addresses only, so a name that turns private between
/// our check and the connection (DNS rebinding) is refused too.
fn http(allow_private: bool) -> &'static openidconnect::reqwest::Client {
    static STRICT: std::sync::OnceLock<openidconnect::reqwest::Client> = std::sync::OnceLock::new();
    static OPEN: std::sync::OnceLock<openidconnect::reqwest::Client> = std::sync::OnceLock::new();
    let build = |strict: bool| {
        let mut b = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        if strict {
            b = b.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        b.build().expect("HTTP client")
    };
    if allow_private {
        OPEN.get_or_init(|| build(false))
    } else {
        STRICT.get_or_init(|| build(true))
    }
}

/// A resolver that hands out public addresses only.
struct PublicOnly;

impl openidconnect::reqwest::dns::Resolve for PublicOnly {
    fn resolve(
        &self,
        name: openidconnect::reqwest::dns::Name,
    ) -> openidconnect::reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| crate::net::is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            Ok(Box::new(addrs.into_iter()) as openidconnect::reqwest::dns::Addrs)
        })
    }
}

/// Every request to a provider (discovery, keys, token, userinfo) goes
/// through here: unless the operator allowed private addresses, a URL
/// whose host is loopback, private or resolves to such is refused before
/// anything is sent.
struct Guarded {
    allow_private: bool,
}

impl<'c> openidconnect::AsyncHttpClient<'c> for Guarded {
    type Error = openidconnect::HttpClientError<openidconnect::reqwest::Error>;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, Self::Error>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            if !self.allow_private {
                let uri = request.uri();
                let host = uri.host().unwrap_or_default();
                let port = uri
                    .port_u16()
                    .unwrap_or(if uri.scheme_str() == Some("http") {
                        80
                    } else {
                        443
                    });
                crate::net::check_public_host(host, port)
                    .await
                    .map_err(openidconnect::HttpClientError::Other)?;
            }
            openidconnect::AsyncHttpClient::call(http(self.allow_private), request).await
        })
    }
}

fn guarded(state: &AppState) -> Guarded {
    Guarded {
        allow_private: state.net.sso_allow_private_addresses,
    }
}

/// Refuses an issuer on a private address unless the operator allowed it.
async fn check_issuer_address(state: &AppState, issuer: &str) -> AppResult<()> {
    if state.net.sso_allow_private_addresses {
        return Ok(());
    }
    let url = url::Url::parse(issuer)
        .map_err(|_| AppError::invalid("issuer_url", "Die Aussteller-URL ist ungültig."))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    crate::net::check_public_host(&host, port)
        .await
        .map_err(|why| {
            AppError::invalid(
                "issuer_url",
                format!("Der Anmeldedienst ist unter dieser Adresse nicht erlaubt: {why}."),
            )
        })
}

mod admission;
mod flow;
mod providers;
use admission::*;
pub use flow::*;
pub use providers::*;
