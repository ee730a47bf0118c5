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
    TransactionTrait,
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
    pub provider_id: i32,
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
    /// A signed-in person confirms their pledge with a fresh login at the
    /// provider instead of a password (they have none).
    ConfirmPledge(PledgeIntent),
    /// A signed-in person links this provider's identity to their account.
    Link { user_id: i32 },
}

/// A pledge signature waiting for its confirmation: checked before leaving
/// for the provider, kept in the server-side session, signed on return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PledgeIntent {
    pub user_id: i32,
    pub org_id: i32,
    pub text_id: i32,
    pub text_sha256: String,
    pub typed_name: String,
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
        provider_id: i32,
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
    pub user_id: i32,
    pub org_id: i32,
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

fn secret_context(org_id: i32) -> String {
    format!("nachweis oidc client secret for organisation {org_id}")
}

/// Checks an issuer URL as typed by an administrator or found in the
/// configuration file: an absolute https URL (http only on loopback),
/// at most 512 characters, without query or fragment.
pub fn parse_issuer(input: &str) -> AppResult<String> {
    let input = input.trim().trim_end_matches('/');
    let bad = |why: &str| {
        AppError::invalid(
            "issuer_url",
            format!(
                "Die Aussteller-URL ist ungültig: {why}. Beispiel: https://login.microsoftonline.com/<Tenant-ID>/v2.0"
            ),
        )
    };
    if input.is_empty() {
        return Err(bad("sie fehlt"));
    }
    if input.len() > 512 {
        return Err(bad("sie ist länger als 512 Zeichen"));
    }
    let url = openidconnect::url::Url::parse(input).map_err(|_| bad("keine URL"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad("sie muss mit https:// beginnen")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("der Rechnername fehlt"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad(
            "sie darf weder Anfrageteil, Fragment noch Zugangsdaten enthalten",
        ));
    }
    Ok(input.to_owned())
}

/// Lower-cased domains from a comma, space or newline separated list.
pub fn parse_domains(input: &str) -> AppResult<Vec<String>> {
    let domains: Vec<String> = input
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|d| d.trim().trim_start_matches('@').to_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    if domains.is_empty() {
        return Err(AppError::invalid(
            "allowed_domains",
            "Bitte geben Sie mindestens eine erlaubte E-Mail-Domain an (z. B. beispiel.de).",
        ));
    }
    for d in &domains {
        let ok = d.len() <= 253
            && d.contains('.')
            && d.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !ok {
            return Err(AppError::invalid(
                "allowed_domains",
                format!("„{d}“ ist keine Domain."),
            ));
        }
    }
    Ok(domains)
}

/// `group=role` lines; roles other than customer.
pub fn parse_role_mapping(input: &str) -> AppResult<Vec<(String, Role)>> {
    let mut out = Vec::new();
    for line in input.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((group, role)) = line.split_once('=') else {
            return Err(AppError::invalid(
                "role_mapping",
                format!("„{line}“: erwartet wird Gruppe=Rolle, z. B. nachweis-admins=admin."),
            ));
        };
        let role: Role = role
            .trim()
            .parse()
            .ok()
            .filter(|r: &Role| r.is_internal())
            .ok_or_else(|| {
                AppError::invalid(
                    "role_mapping",
                    format!(
                        "„{}“ ist keine Rolle für Mitarbeitende (admin, auditor, owner, staff).",
                        role.trim()
                    ),
                )
            })?;
        out.push((group.trim().to_owned(), role));
    }
    Ok(out)
}

pub async fn list(
    db: &DatabaseConnection,
    org_id: i32,
    public_url: &str,
) -> AppResult<Vec<ProviderView>> {
    let names: std::collections::HashMap<i32, String> = customers::Entity::find()
        .filter(customers::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(identity_providers::Entity::find()
        .filter(identity_providers::Column::OrgId.eq(org_id))
        .order_by_asc(identity_providers::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| ProviderView {
            start_url: format!("{public_url}/sso/{}/start", p.id),
            customer_name: p.customer_id.and_then(|c| names.get(&c).cloned()),
            id: p.id,
            customer_id: p.customer_id,
            name: p.name,
            issuer_url: p.issuer_url,
            client_id: p.client_id,
            has_secret: p.client_secret_enc.is_some(),
            scopes: p.scopes,
            allowed_domains: p.allowed_domains,
            required_claim: p.required_claim,
            default_role: p.default_role,
            role_mapping: p.role_mapping,
            enabled: p.enabled,
            source: p.source,
        })
        .collect())
}

/// A provider's fields after every check: what is stored.
struct Checked {
    name: String,
    issuer: String,
    client_id: String,
    scopes: String,
    domains: String,
    required_claim: String,
    default_role: Role,
    role_mapping: String,
}

fn check(new: &NewProvider) -> AppResult<Checked> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::invalid(
            "name",
            "Bitte geben Sie einen Namen an (höchstens 120 Zeichen), z. B. „Microsoft Entra ID“.",
        ));
    }
    let issuer = parse_issuer(&new.issuer_url)?;
    let client_id = new.client_id.trim();
    if client_id.is_empty() || client_id.len() > 255 {
        return Err(AppError::invalid(
            "client_id",
            "Bitte geben Sie die Client-ID an, die der Anbieter vergeben hat.",
        ));
    }
    let domains = parse_domains(&new.allowed_domains)?;
    let scopes = normalise_scopes(&new.scopes)?;
    let required_claim = new.required_claim.trim();
    if required_claim.len() > 200 {
        return Err(AppError::invalid(
            "required_claim",
            "Der geforderte Claim ist zu lang (höchstens 200 Zeichen).",
        ));
    }
    let default_role: Role = if new.default_role.trim().is_empty() {
        Role::Staff
    } else {
        new.default_role
            .trim()
            .parse()
            .ok()
            .filter(|r: &Role| r.is_internal())
            .ok_or_else(|| {
                AppError::invalid(
                    "default_role",
                    "Als Standardrolle sind admin, auditor, owner oder staff möglich.",
                )
            })?
    };
    parse_role_mapping(&new.role_mapping)?;
    Ok(Checked {
        name: name.to_owned(),
        issuer,
        client_id: client_id.to_owned(),
        scopes,
        domains: domains.join(", "),
        required_claim: required_claim.to_owned(),
        default_role,
        role_mapping: new.role_mapping.trim().to_owned(),
    })
}

/// What the audit log keeps of a provider: never the secret, only whether there is one.
fn audit_view(row: &identity_providers::Model) -> serde_json::Value {
    json!({
        "name": row.name, "issuer_url": row.issuer_url, "client_id": row.client_id,
        "customer_id": row.customer_id, "allowed_domains": row.allowed_domains,
        "scopes": row.scopes, "required_claim": row.required_claim,
        "default_role": row.default_role, "role_mapping": row.role_mapping,
        "enabled": row.enabled, "source": row.source,
        "email_verified_optional": row.email_verified_optional,
        "client_secret": row.client_secret_enc.is_some(),
    })
}

/// Adds a provider after checking every field; nothing is stored if one is wrong.
pub async fn add(state: &AppState, actor: &Actor, new: &NewProvider) -> AppResult<i32> {
    let now = state.now();
    let c = check(new)?;
    check_issuer_address(state, &c.issuer).await?;
    let txn = state.db.begin().await?;
    claim_domains(&txn, actor.org_id, &c.domains, false).await?;
    if let Some(customer_id) = new.customer_id {
        customers::Entity::find_by_id(customer_id)
            .filter(customers::Column::OrgId.eq(actor.org_id))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::NotFound("Der Kunde".into()))?;
    }
    let secret = match new.client_secret.trim() {
        "" => None,
        s => Some(
            state
                .signing
                .secret
                .seal(&secret_context(actor.org_id), s.as_bytes())?,
        ),
    };
    let row = identity_providers::ActiveModel {
        org_id: Set(actor.org_id),
        customer_id: Set(new.customer_id),
        name: Set(c.name),
        issuer_url: Set(c.issuer),
        client_id: Set(c.client_id),
        client_secret_enc: Set(secret),
        scopes: Set(c.scopes),
        allowed_domains: Set(c.domains),
        required_claim: Set(c.required_claim),
        default_role: Set(c.default_role.as_str().to_owned()),
        role_mapping: Set(c.role_mapping),
        enabled: Set(true),
        source: Set(SOURCE_ADMIN.to_owned()),
        email_verified_optional: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "identity_provider",
            entity_id: row.id.to_string(),
            action: "create",
            before: None,
            after: Some(audit_view(&row)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Entered in the admin UI.
pub const SOURCE_ADMIN: &str = "admin";
/// Given in the configuration file; changed only there.
pub const SOURCE_CONFIG: &str = "config";

/// A provider from the configuration file (`[[sso.providers]]`).
#[derive(Clone, Default)]
pub struct ConfiguredProvider {
    /// Short name of the organisation.
    pub org: String,
    /// Name of the customer whose people sign in with it; `None`: the organisation's staff.
    pub customer: Option<String>,
    /// The fields as in the admin UI; `customer_id` is ignored (see `customer`).
    pub fields: NewProvider,
    pub enabled: bool,
    /// The provider sends no `email_verified` (Entra ID); the operator vouches.
    pub email_verified_optional: bool,
}

impl std::fmt::Debug for ConfiguredProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredProvider")
            .field("org", &self.org)
            .field("customer", &self.customer)
            .field("name", &self.fields.name)
            .field("issuer_url", &self.fields.issuer_url)
            .field("client_id", &self.fields.client_id)
            .field("client_secret", &"<redacted>")
            .field("enabled", &self.enabled)
            .field("email_verified_optional", &self.email_verified_optional)
            .finish()
    }
}

/// What a sync changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Configured earlier, missing from the file now: disabled, not deleted
    /// (the people who signed in with it keep their history).
    pub disabled: u32,
}

/// Makes the stored providers of source "config" match the configuration
/// file: creates new ones, updates changed ones (matched by organisation and
/// name), disables those no longer configured. One transaction: a wrong entry
/// changes nothing and names itself in the error.
pub async fn sync_configured(
    state: &AppState,
    configured: &[ConfiguredProvider],
) -> AppResult<SyncReport> {
    use crate::entities::organisations;
    let now = state.now();
    let actor = AuditActor::system("configuration file");
    let txn = state.db.begin().await?;
    let mut report = SyncReport::default();
    let mut keep: Vec<i32> = Vec::new();
    for (i, entry) in configured.iter().enumerate() {
        let at = |e: AppError| {
            AppError::invalid(
                "sso.providers",
                format!(
                    "[[sso.providers]] Nr. {} („{}“): {e}",
                    i + 1,
                    entry.fields.name
                ),
            )
        };
        let c = check(&entry.fields).map_err(at)?;
        let org = organisations::Entity::find()
            .filter(organisations::Column::ShortName.eq(entry.org.trim()))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                at(AppError::NotFound(format!(
                    "Die Organisation „{}“",
                    entry.org
                )))
            })?;
        let customer_id = match &entry.customer {
            None => None,
            Some(name) => Some(
                customers::Entity::find()
                    .filter(customers::Column::OrgId.eq(org.id))
                    .filter(customers::Column::Name.eq(name.trim()))
                    .one(&txn)
                    .await?
                    .ok_or_else(|| at(AppError::NotFound(format!("Der Kunde „{name}“"))))?
                    .id,
            ),
        };
        if entry.enabled {
            claim_domains(&txn, org.id, &c.domains, true)
                .await
                .map_err(at)?;
        }
        let existing = identity_providers::Entity::find()
            .filter(identity_providers::Column::OrgId.eq(org.id))
            .filter(identity_providers::Column::Source.eq(SOURCE_CONFIG))
            .filter(identity_providers::Column::Name.eq(c.name.as_str()))
            .one(&txn)
            .await?;
        let secret_plain = entry.fields.client_secret.trim();
        // The stored secret is kept when it still opens to the configured one,
        // so an unchanged file changes nothing.
        let same_secret = |stored: &Option<Vec<u8>>| match (stored, secret_plain) {
            (None, "") => true,
            (Some(sealed), s) if !s.is_empty() => state
                .signing
                .secret
                .open(&secret_context(org.id), sealed)
                .is_some_and(|b| b == s.as_bytes()),
            _ => false,
        };
        let seal = || -> AppResult<Option<Vec<u8>>> {
            match secret_plain {
                "" => Ok(None),
                s => Ok(Some(
                    state
                        .signing
                        .secret
                        .seal(&secret_context(org.id), s.as_bytes())?,
                )),
            }
        };
        let (row, before, action) = match existing {
            Some(old) => {
                let unchanged = old.customer_id == customer_id
                    && old.issuer_url == c.issuer
                    && old.client_id == c.client_id
                    && old.scopes == c.scopes
                    && old.allowed_domains == c.domains
                    && old.required_claim == c.required_claim
                    && old.default_role == c.default_role.as_str()
                    && old.role_mapping == c.role_mapping
                    && old.enabled == entry.enabled
                    && old.email_verified_optional == entry.email_verified_optional
                    && same_secret(&old.client_secret_enc);
                keep.push(old.id);
                if unchanged {
                    report.unchanged += 1;
                    continue;
                }
                let before = audit_view(&old);
                let secret = if same_secret(&old.client_secret_enc) {
                    old.client_secret_enc.clone()
                } else {
                    seal()?
                };
                let mut active: identity_providers::ActiveModel = old.into();
                active.customer_id = Set(customer_id);
                active.issuer_url = Set(c.issuer);
                active.client_id = Set(c.client_id);
                active.client_secret_enc = Set(secret);
                active.scopes = Set(c.scopes);
                active.allowed_domains = Set(c.domains);
                active.required_claim = Set(c.required_claim);
                active.default_role = Set(c.default_role.as_str().to_owned());
                active.role_mapping = Set(c.role_mapping);
                active.enabled = Set(entry.enabled);
                active.email_verified_optional = Set(entry.email_verified_optional);
                report.updated += 1;
                (active.update(&txn).await?, Some(before), "update")
            }
            None => {
                let row = identity_providers::ActiveModel {
                    org_id: Set(org.id),
                    customer_id: Set(customer_id),
                    name: Set(c.name),
                    issuer_url: Set(c.issuer),
                    client_id: Set(c.client_id),
                    client_secret_enc: Set(seal()?),
                    scopes: Set(c.scopes),
                    allowed_domains: Set(c.domains),
                    required_claim: Set(c.required_claim),
                    default_role: Set(c.default_role.as_str().to_owned()),
                    role_mapping: Set(c.role_mapping),
                    enabled: Set(entry.enabled),
                    email_verified_optional: Set(entry.email_verified_optional),
                    source: Set(SOURCE_CONFIG.to_owned()),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                keep.push(row.id);
                report.created += 1;
                (row, None, "create")
            }
        };
        record(
            &txn,
            now,
            AuditEvent {
                org_id: Some(row.org_id),
                actor: &actor,
                entity: "identity_provider",
                entity_id: row.id.to_string(),
                action,
                before,
                after: Some(audit_view(&row)),
            },
        )
        .await?;
    }
    let gone = identity_providers::Entity::find()
        .filter(identity_providers::Column::Source.eq(SOURCE_CONFIG))
        .filter(identity_providers::Column::Enabled.eq(true))
        .filter(identity_providers::Column::Id.is_not_in(keep))
        .all(&txn)
        .await?;
    for old in gone {
        let (id, org_id) = (old.id, old.org_id);
        let mut active: identity_providers::ActiveModel = old.into();
        active.enabled = Set(false);
        active.update(&txn).await?;
        record(
            &txn,
            now,
            AuditEvent {
                org_id: Some(org_id),
                actor: &actor,
                entity: "identity_provider",
                entity_id: id.to_string(),
                action: "disable",
                before: None,
                after: Some(json!({ "reason": "no longer in the configuration file" })),
            },
        )
        .await?;
        report.disabled += 1;
    }
    txn.commit().await?;
    Ok(report)
}

pub async fn set_enabled(state: &AppState, actor: &Actor, id: i32, enabled: bool) -> AppResult<()> {
    let txn = state.db.begin().await?;
    let row = identity_providers::Entity::find_by_id(id)
        .filter(identity_providers::Column::OrgId.eq(actor.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Anmeldedienst".into()))?;
    if row.source == SOURCE_CONFIG {
        return Err(AppError::invalid(
            "id",
            "Dieser Anmeldedienst ist in der Konfigurationsdatei festgelegt; er wird dort geändert.",
        ));
    }
    if enabled && !row.enabled {
        claim_domains(&txn, actor.org_id, &row.allowed_domains, false).await?;
    }
    let mut active: identity_providers::ActiveModel = row.into();
    active.enabled = Set(enabled);
    active.update(&txn).await?;
    record(
        &txn,
        state.now(),
        AuditEvent {
            org_id: Some(actor.org_id),
            actor: &actor.audit(),
            entity: "identity_provider",
            entity_id: id.to_string(),
            action: if enabled { "enable" } else { "disable" },
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn normalise_scopes(input: &str) -> AppResult<String> {
    let mut scopes: Vec<&str> = input.split_whitespace().collect();
    if !scopes.contains(&"openid") {
        scopes.insert(0, "openid");
    }
    for s in ["email", "profile"] {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    let joined = scopes.join(" ");
    if joined.len() > 255 || !joined.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(AppError::invalid(
            "scopes",
            "Die Scopes sind ungültig (durch Leerzeichen getrennt, höchstens 255 Zeichen).",
        ));
    }
    Ok(joined)
}

async fn provider(db: &DatabaseConnection, id: i32) -> Result<identity_providers::Model, SsoError> {
    identity_providers::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| p.enabled)
        .ok_or(SsoError::UnknownProvider)
}

async fn discover(
    state: &AppState,
    p: &identity_providers::Model,
) -> Result<CoreProviderMetadata, SsoError> {
    let issuer = IssuerUrl::new(p.issuer_url.clone())
        .map_err(|_| SsoError::ProviderUnavailable("invalid issuer URL".into()))?;
    CoreProviderMetadata::discover_async(issuer, &guarded(state))
        .await
        .map_err(|e| {
            use openidconnect::DiscoveryError as D;
            let why = match &e {
                D::Request(openidconnect::HttpClientError::Other(refused)) => refused.clone(),
                D::Request(_) => "not reachable".to_owned(),
                D::Response(status, _, _) => format!("answered HTTP {status}"),
                D::Parse(_) => "answered with something that is not a discovery document".into(),
                D::Validation(v) => format!("discovery document failed validation: {v}"),
                other => other.to_string(),
            };
            tracing::warn!(provider = p.id, issuer = %p.issuer_url, "OIDC discovery: {why}");
            SsoError::ProviderUnavailable(why)
        })
}

fn client_secret(
    state: &AppState,
    p: &identity_providers::Model,
) -> Result<Option<ClientSecret>, SsoError> {
    match &p.client_secret_enc {
        None => Ok(None),
        Some(sealed) => state
            .signing
            .secret
            .open(&secret_context(p.org_id), sealed)
            .and_then(|b| String::from_utf8(b).ok())
            .map(|s| Some(ClientSecret::new(s)))
            .ok_or_else(|| {
                tracing::error!(
                    provider = p.id,
                    "the stored client secret does not open with this instance secret"
                );
                SsoError::Internal(AppError::Unavailable(
                    "Das gespeicherte Client-Geheimnis lässt sich nicht entschlüsseln.".into(),
                ))
            }),
    }
}

fn redirect_url(state: &AppState) -> Result<RedirectUrl, SsoError> {
    RedirectUrl::new(format!("{}{CALLBACK_PATH}", state.public_url))
        .map_err(|e| SsoError::Internal(AppError::internal(e)))
}

/// Starts a sign-in: returns the provider URL to send the browser to and
/// what the session must remember until it comes back.
pub async fn begin(
    state: &AppState,
    provider_id: i32,
    next: Option<&str>,
    login_hint: Option<&str>,
) -> Result<(String, Pending), SsoError> {
    authorize(state, provider_id, next, login_hint, Purpose::SignIn).await
}

/// The providers through which a signed-in person can confirm who they
/// are: the enabled ones of their organisation they have signed in with.
pub async fn confirmation_providers(
    db: &DatabaseConnection,
    actor: &Actor,
) -> AppResult<Vec<(i32, String)>> {
    let ids: Vec<i32> = user_identities::Entity::find()
        .filter(user_identities::Column::UserId.eq(actor.user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.provider_id)
        .collect();
    Ok(identity_providers::Entity::find()
        .filter(identity_providers::Column::Id.is_in(ids))
        .filter(identity_providers::Column::OrgId.eq(actor.org_id))
        .filter(identity_providers::Column::Enabled.eq(true))
        .order_by_asc(identity_providers::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

/// Starts a fresh login at the provider to confirm a pledge: the provider
/// is asked to authenticate the person again (`prompt=login`, `max_age=0`)
/// whatever session it has, and the answer must say so (`auth_time`).
pub async fn begin_confirmation(
    state: &AppState,
    actor: &Actor,
    provider_id: i32,
    intent: PledgeIntent,
) -> Result<(String, Pending), SsoError> {
    if !confirmation_providers(&state.db, actor)
        .await?
        .iter()
        .any(|(id, _)| *id == provider_id)
    {
        return Err(SsoError::UnknownProvider);
    }
    authorize(
        state,
        provider_id,
        Some("/verpflichtung"),
        Some(&actor.email),
        Purpose::ConfirmPledge(intent),
    )
    .await
}

async fn authorize(
    state: &AppState,
    provider_id: i32,
    next: Option<&str>,
    login_hint: Option<&str>,
    purpose: Purpose,
) -> Result<(String, Pending), SsoError> {
    let p = provider(&state.db, provider_id).await?;
    let metadata = discover(state, &p).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(p.client_id.clone()),
        client_secret(state, &p)?,
    )
    .set_redirect_uri(redirect_url(state)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in p.scopes.split_whitespace().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    if let Some(hint) = login_hint.filter(|h| !h.is_empty() && h.len() <= 254) {
        request = request.set_login_hint(LoginHint::new(hint.to_owned()));
    }
    if purpose != Purpose::SignIn {
        request = request
            .add_prompt(openidconnect::core::CoreAuthPrompt::Login)
            .set_max_age(Duration::ZERO);
    }
    let (url, csrf, nonce) = request.url();
    let default_next = if p.customer_id.is_some() {
        "/portal"
    } else {
        "/"
    };
    let next = match next {
        Some(n) if !n.is_empty() => crate::auth::service::safe_next(&state.public_url, Some(n)),
        _ => default_next.to_owned(),
    };
    Ok((
        url.to_string(),
        Pending {
            provider_id,
            state: csrf.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
            started_at: state.now(),
            purpose,
        },
    ))
}

/// Adds a started sign-in to the ones already open in this session.
pub fn remember(mut open: Vec<Pending>, pending: Pending, now: DateTime<Utc>) -> Vec<Pending> {
    open.retain(|p| !p.expired(now));
    open.push(pending);
    let excess = open.len().saturating_sub(MAX_PENDING);
    open.drain(..excess);
    open
}

/// Takes the sign-in the `state` belongs to out of the open ones (it can be
/// used once). Compared in constant time over SHA-256 digests.
pub fn take(open: &mut Vec<Pending>, state_param: &str, now: DateTime<Utc>) -> Option<Pending> {
    use sha2::{Digest, Sha256};
    let wanted = Sha256::digest(state_param.as_bytes());
    let pos = open
        .iter()
        .position(|p| Sha256::digest(p.state.as_bytes()) == wanted)?;
    let pending = open.remove(pos);
    (!pending.expired(now)).then_some(pending)
}

/// Finishes a sign-in: exchanges the code, checks the ID token and our
/// rules, and finds or creates the person and their membership.
pub async fn finish(state: &AppState, pending: Pending, code: &str) -> Result<SignedIn, SsoError> {
    if pending.purpose != Purpose::SignIn {
        return Err(SsoError::InvalidState);
    }
    let p = provider(&state.db, pending.provider_id).await?;
    let outcome = verify(state, &p, &pending, code).await;
    let identity = match outcome {
        Ok(identity) => identity,
        Err(e @ (SsoError::Refused(_) | SsoError::Rejected(_))) => {
            let reason = match &e {
                SsoError::Refused(r) | SsoError::Rejected(r) => r.clone(),
                _ => String::new(),
            };
            audit_refusal(state, &p, None, &reason).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    match admit(state, &p, &identity).await {
        Ok(mut signed_in) => {
            signed_in.next = pending.next;
            Ok(signed_in)
        }
        Err(SsoError::Refused(reason)) => {
            audit_refusal(state, &p, Some(&identity.email), &reason).await?;
            Err(SsoError::Refused(reason))
        }
        Err(e @ SsoError::LinkRequired { .. }) => {
            audit_refusal(
                state,
                &p,
                Some(&identity.email),
                "an account with this address exists; the identity is not linked to it",
            )
            .await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// A confirmed pledge intent and the provider that confirmed it.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub intent: PledgeIntent,
    pub provider_name: String,
}

/// Finishes a confirmation: the same checks as a sign-in, a login that
/// happened just now, and the identity must be the one this person signs in
/// with (another account at the same provider is refused). Nobody is signed
/// in or created here.
pub async fn finish_confirmation(
    state: &AppState,
    actor: &Actor,
    pending: Pending,
    code: &str,
) -> Result<Confirmed, SsoError> {
    let Purpose::ConfirmPledge(intent) = pending.purpose.clone() else {
        return Err(SsoError::InvalidState);
    };
    if intent.user_id != actor.user_id || intent.org_id != actor.org_id {
        return Err(SsoError::InvalidState);
    }
    let p = provider(&state.db, pending.provider_id).await?;
    let identity = match verify(state, &p, &pending, code).await {
        Ok(identity) => identity,
        Err(e @ (SsoError::Refused(_) | SsoError::Rejected(_))) => {
            if let SsoError::Refused(r) | SsoError::Rejected(r) = &e {
                audit_refusal(state, &p, Some(&actor.email), r).await?;
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let linked = user_identities::Entity::find()
        .filter(user_identities::Column::ProviderId.eq(p.id))
        .filter(user_identities::Column::Subject.eq(identity.subject.as_str()))
        .one(&state.db)
        .await?;
    if linked.is_none_or(|l| l.user_id != actor.user_id) {
        let reason = format!(
            "confirmation by {} at the provider, who is not the signed-in person",
            identity.email
        );
        audit_refusal(state, &p, Some(&actor.email), &reason).await?;
        return Err(SsoError::Refused(
            "someone else signed in at the provider".into(),
        ));
    }
    Ok(Confirmed {
        intent,
        provider_name: p.name,
    })
}

/// Starts linking a provider's identity to the signed-in person's account.
/// The provider must belong to the organisation the person acts in, and be
/// the kind of provider their membership signs in with (a customer's
/// provider for a customer's contact, the staff provider for staff). The
/// provider is asked for a fresh login.
pub async fn begin_link(
    state: &AppState,
    actor: &Actor,
    provider_id: i32,
) -> Result<(String, Pending), SsoError> {
    let p = link_target(state, actor, provider_id).await?;
    authorize(
        state,
        p.id,
        Some("/"),
        Some(&actor.email),
        Purpose::Link {
            user_id: actor.user_id,
        },
    )
    .await
}

/// The provider a signed-in person may link, or `UnknownProvider`.
pub async fn link_target(
    state: &AppState,
    actor: &Actor,
    provider_id: i32,
) -> Result<identity_providers::Model, SsoError> {
    let p = provider(&state.db, provider_id).await?;
    if p.org_id != actor.org_id || p.customer_id.is_some() != (actor.role == Role::Customer) {
        return Err(SsoError::UnknownProvider);
    }
    Ok(p)
}

/// Finishes a link: the same checks as a sign-in, a fresh login, the
/// provider's verified address must be the account's own, and the identity
/// may not belong to anyone else. Returns the provider's name.
pub async fn finish_link(
    state: &AppState,
    actor: &Actor,
    pending: Pending,
    code: &str,
) -> Result<String, SsoError> {
    let Purpose::Link { user_id } = pending.purpose else {
        return Err(SsoError::InvalidState);
    };
    if user_id != actor.user_id {
        return Err(SsoError::InvalidState);
    }
    let p = link_target(state, actor, pending.provider_id).await?;
    let identity = match verify(state, &p, &pending, code).await {
        Ok(identity) => identity,
        Err(SsoError::Refused(r) | SsoError::Rejected(r)) => {
            return refuse_link(state, &p, actor, r).await;
        }
        Err(e) => return Err(e),
    };
    if !identity.email.eq_ignore_ascii_case(&actor.email) {
        let reason = format!(
            "the provider signed in {}, not the account's address",
            identity.email
        );
        return refuse_link(state, &p, actor, reason).await;
    }
    let now = state.now();
    let txn = state.db.begin().await?;
    let linked = user_identities::Entity::find()
        .filter(user_identities::Column::ProviderId.eq(p.id))
        .filter(user_identities::Column::Subject.eq(identity.subject.as_str()))
        .one(&txn)
        .await?;
    match linked {
        Some(l) if l.user_id == actor.user_id => {}
        Some(_) => {
            drop(txn);
            let reason = "this identity is linked to another account".to_owned();
            return refuse_link(state, &p, actor, reason).await;
        }
        None => {
            let row = user_identities::ActiveModel {
                user_id: Set(actor.user_id),
                provider_id: Set(p.id),
                subject: Set(identity.subject.clone()),
                created_at: Set(now),
                last_login_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            record(
                &txn,
                now,
                AuditEvent {
                    org_id: Some(p.org_id),
                    actor: &actor.audit(),
                    entity: "user_identity",
                    entity_id: row.id.to_string(),
                    action: "link",
                    before: None,
                    after: Some(json!({ "provider": p.name, "email": identity.email })),
                },
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(p.name.clone())
}

/// A refused link, in the audit log for the DPO.
async fn refuse_link(
    state: &AppState,
    p: &identity_providers::Model,
    actor: &Actor,
    reason: String,
) -> Result<String, SsoError> {
    audit_refusal(state, p, Some(&actor.email), &reason).await?;
    Err(SsoError::Refused(reason))
}

/// Domains an organisation's provider may claim. A domain belongs to the
/// providers of one organisation only, so no provider of another
/// organisation is offered to its people (`/sso`) or signs them in. A
/// domain that members of another organisation already use is claimed only
/// with the operator's approval: a provider in the configuration file.
async fn claim_domains<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: i32,
    domains: &str,
    operator_approved: bool,
) -> AppResult<()> {
    use crate::entities::memberships;
    let wanted: Vec<&str> = domains
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let others = identity_providers::Entity::find()
        .filter(identity_providers::Column::OrgId.ne(org_id))
        .filter(identity_providers::Column::Enabled.eq(true))
        .all(db)
        .await?;
    for d in &wanted {
        if others
            .iter()
            .any(|o| o.allowed_domains.split(',').any(|x| x.trim() == *d))
        {
            return Err(AppError::invalid(
                "allowed_domains",
                format!(
                    "Die Domain {d} ist bereits einem Anmeldedienst einer anderen Organisation zugeordnet. Eine Domain gehört zu den Anmeldediensten einer einzigen Organisation."
                ),
            ));
        }
        if operator_approved {
            continue;
        }
        let suffix = format!("%@{d}");
        let users_there: Vec<i32> = users::Entity::find()
            .filter(users::Column::Email.like(suffix.as_str()))
            .all(db)
            .await?
            .into_iter()
            .filter(|u| u.email.ends_with(&format!("@{d}")))
            .map(|u| u.id)
            .collect();
        if users_there.is_empty() {
            continue;
        }
        let elsewhere = memberships::Entity::find()
            .filter(memberships::Column::UserId.is_in(users_there))
            .filter(memberships::Column::OrgId.ne(org_id))
            .one(db)
            .await?;
        if elsewhere.is_some() {
            return Err(AppError::invalid(
                "allowed_domains",
                format!(
                    "Adressen der Domain {d} gehören schon Mitgliedern einer anderen Organisation. Ein Anmeldedienst für diese Domain braucht die Freigabe des Betreibers der Instanz (Eintrag in der Konfigurationsdatei unter [[sso.providers]])."
                ),
            ));
        }
    }
    Ok(())
}

/// What the provider vouched for.
#[derive(Debug, Clone)]
struct Identity {
    subject: String,
    email: String,
    name: Option<String>,
    /// Every claim of the (verified) ID token.
    claims: serde_json::Value,
}

async fn verify(
    state: &AppState,
    p: &identity_providers::Model,
    pending: &Pending,
    code: &str,
) -> Result<Identity, SsoError> {
    let fresh = pending.purpose != Purpose::SignIn;
    if code.is_empty() || code.len() > 2048 {
        return Err(SsoError::InvalidState);
    }
    let metadata = discover(state, p).await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(p.client_id.clone()),
        client_secret(state, p)?,
    )
    .set_redirect_uri(redirect_url(state)?);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|_| SsoError::ProviderUnavailable("the provider has no token endpoint".into()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&guarded(state))
        .await
        .map_err(|e| {
            use openidconnect::RequestTokenError as R;
            match e {
                R::ServerResponse(r) => SsoError::Rejected(format!(
                    "the provider refused the code ({}): it was already used, has expired or belongs to another sign-in",
                    r.error()
                )),
                R::Request(_) => SsoError::ProviderUnavailable("token endpoint not reachable".into()),
                R::Parse(_, _) => SsoError::ProviderUnavailable(
                    "the token endpoint answered with something that is not a token response".into(),
                ),
                other => SsoError::ProviderUnavailable(other.to_string()),
            }
        })?;
    let id_token = token
        .id_token()
        .ok_or_else(|| SsoError::Rejected("the provider sent no ID token".into()))?;
    let now = state.now();
    let skew = chrono::Duration::seconds(CLOCK_SKEW_SECS);
    let verifier = client
        .id_token_verifier()
        .set_time_fn(move || now - skew)
        .set_issue_time_verifier_fn(move |iat| {
            if iat > now + skew {
                Err(format!("ID token issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .map_err(|e| SsoError::Rejected(format!("ID token: {e}")))?;
    if fresh {
        // A confirmation needs a login that happened after we asked for it;
        // a provider that ignored `prompt=login` answers with an old one.
        match claims.auth_time() {
            Some(at) if at >= pending.started_at - skew => {}
            Some(at) => {
                return Err(SsoError::Rejected(format!(
                    "the provider did not ask for the password again (last login {at})"
                )));
            }
            None => {
                return Err(SsoError::Rejected(
                    "the provider did not say when the person logged in (auth_time)".into(),
                ));
            }
        }
    }
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(|e| SsoError::Rejected(format!("ID token: {e}")))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| SsoError::Rejected(format!("ID token: {e}")))?;
        let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
            .map_err(|e| SsoError::Rejected(format!("access token hash: {e}")))?;
        if actual != *expected {
            return Err(SsoError::Rejected(
                "the access token does not belong to the ID token".into(),
            ));
        }
    }
    let subject = claims.subject().as_str().to_owned();
    if subject.is_empty() || subject.len() > 255 {
        return Err(SsoError::Rejected(
            "the ID token has an unusable subject".into(),
        ));
    }
    let mut email = claims.email().map(|e| e.as_str().to_owned());
    let mut verified = claims.email_verified();
    let mut name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned());
    if email.is_none() {
        // Some providers put the address only into the userinfo answer.
        if let Ok(request) =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
        {
            let info: openidconnect::core::CoreUserInfoClaims = request
                .request_async(&guarded(state))
                .await
                .map_err(|e| SsoError::ProviderUnavailable(format!("userinfo: {e}")))?;
            email = info.email().map(|e| e.as_str().to_owned());
            verified = info.email_verified();
            if name.is_none() {
                name = info
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str().to_owned());
            }
        }
    }
    let raw = raw_claims(&id_token.to_string());
    let Some(email) = email else {
        return Err(SsoError::Refused(
            "the provider did not tell us an e-mail address".into(),
        ));
    };
    // The provider must vouch for the address. Only a provider the operator
    // marked as one that never sends the claim (Entra ID) may leave it out;
    // an explicit `false` is refused from every provider.
    match verified {
        Some(true) => {}
        None if p.email_verified_optional => {}
        Some(false) => {
            return Err(SsoError::Refused(format!(
                "the e-mail address {email} is not verified at the provider"
            )));
        }
        None => {
            return Err(SsoError::Refused(format!(
                "the provider did not say that {email} is verified (email_verified)"
            )));
        }
    }
    Ok(Identity {
        subject,
        email,
        name,
        claims: raw,
    })
}

/// The payload of a JWT whose signature has been checked, as JSON.
fn raw_claims(jwt: &str) -> serde_json::Value {
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}

fn claim_values(claims: &serde_json::Value, name: &str) -> Option<Vec<String>> {
    match claims.get(name)? {
        serde_json::Value::Null | serde_json::Value::Bool(false) => None,
        serde_json::Value::String(s) if s.is_empty() => None,
        serde_json::Value::String(s) => Some(vec![s.clone()]),
        serde_json::Value::Array(a) => Some(
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
        ),
        other => Some(vec![other.to_string()]),
    }
}

/// Our own rules, then the person, identity and membership.
async fn admit(
    state: &AppState,
    p: &identity_providers::Model,
    identity: &Identity,
) -> Result<SignedIn, SsoError> {
    let email = EmailAddress::parse(&identity.email)
        .map_err(|_| SsoError::Refused(format!("„{}“ is not an e-mail address", identity.email)))?;
    let domain = email
        .as_str()
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or_default();
    let allowed: Vec<&str> = p.allowed_domains.split(',').map(str::trim).collect();
    if !allowed.contains(&domain) {
        return Err(SsoError::Refused(format!(
            "the e-mail domain {domain} is not allowed for this sign-in"
        )));
    }
    if let Some(required) = Some(p.required_claim.trim()).filter(|r| !r.is_empty()) {
        let (claim, value) = match required.split_once('=') {
            Some((c, v)) => (c.trim(), Some(v.trim())),
            None => (required, None),
        };
        let present = claim_values(&identity.claims, claim);
        let ok = match (present, value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(values), Some(v)) => values.iter().any(|x| x == v),
        };
        if !ok {
            return Err(SsoError::Refused(format!(
                "the required claim {required} is missing"
            )));
        }
    }
    let now = state.now();
    let txn = state.db.begin().await?;
    let system = AuditActor::system(&format!("sso:{}", p.id));
    let known = user_identities::Entity::find()
        .filter(user_identities::Column::ProviderId.eq(p.id))
        .filter(user_identities::Column::Subject.eq(identity.subject.as_str()))
        .one(&txn)
        .await?;
    let user = match &known {
        Some(k) => users::Entity::find_by_id(k.user_id).one(&txn).await?,
        None => {
            // An account with this address exists, but this identity was
            // never linked to it. The same address is no proof: whoever runs
            // the provider decides what it says. The account holder links
            // the identity themselves, signed in the way they sign in today.
            if users::Entity::find()
                .filter(users::Column::Email.eq(email.as_str()))
                .one(&txn)
                .await?
                .is_some()
            {
                return Err(SsoError::LinkRequired {
                    provider_id: p.id,
                    email: email.as_str().to_owned(),
                });
            }
            None
        }
    };
    let user = match user {
        Some(u) if u.locked => {
            return Err(SsoError::Refused(format!(
                "the account {} is locked",
                u.email
            )));
        }
        Some(u) => u,
        None => {
            let display = identity
                .name
                .clone()
                .filter(|n| crate::domain::parse_display_name(n).is_ok())
                .unwrap_or_else(|| email.as_str().to_owned());
            crate::auth::service::create_user(&txn, now, &system, &email, &display, None).await?
        }
    };
    match known {
        Some(k) => {
            let mut active: user_identities::ActiveModel = k.into();
            active.last_login_at = Set(now);
            active.update(&txn).await?;
        }
        None => {
            user_identities::ActiveModel {
                user_id: Set(user.id),
                provider_id: Set(p.id),
                subject: Set(identity.subject.clone()),
                created_at: Set(now),
                last_login_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    // A customer's provider never signs in staff, and the staff provider
    // never signs in a customer's people.
    let role = crate::orgs::service::admit_member(
        &txn,
        now,
        &system,
        p.org_id,
        user.id,
        p.customer_id,
        mapped_role(p, &identity.claims),
        &p.name,
    )
    .await?
    .map_err(|role| {
        SsoError::Refused(format!(
            "{} already has a {} membership that this sign-in may not use",
            email.as_str(),
            role.as_str()
        ))
    })?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(p.org_id),
            actor: &AuditActor {
                user_id: Some(user.id),
                label: user.email.clone(),
            },
            entity: "session",
            entity_id: user.id.to_string(),
            action: "login",
            before: None,
            after: Some(json!({ "method": "sso", "provider": p.name })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(SignedIn {
        user_id: user.id,
        org_id: p.org_id,
        role,
        next: String::new(),
    })
}

fn mapped_role(p: &identity_providers::Model, claims: &serde_json::Value) -> Role {
    let groups = claim_values(claims, "groups").unwrap_or_default();
    parse_role_mapping(&p.role_mapping)
        .unwrap_or_default()
        .into_iter()
        .find(|(g, _)| groups.contains(g))
        .map(|(_, r)| r)
        .or_else(|| p.default_role.parse().ok())
        .unwrap_or(Role::Staff)
}

/// A refused or rejected sign-in, for the DPO: who tried, through which
/// provider, and why. Nothing else is stored.
async fn audit_refusal(
    state: &AppState,
    p: &identity_providers::Model,
    email: Option<&str>,
    reason: &str,
) -> Result<(), SsoError> {
    let txn = state.db.begin().await?;
    record(
        &txn,
        state.now(),
        AuditEvent {
            org_id: Some(p.org_id),
            actor: &AuditActor::system(&format!("sso:{}", p.id)),
            entity: "sso",
            entity_id: p.id.to_string(),
            action: "login_refused",
            before: None,
            after: Some(json!({
                "provider": p.name,
                "email": email.map(|e| e.chars().take(254).collect::<String>()),
                "reason": reason,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Enabled providers whose allowed domains include `domain`: (id, name).
pub async fn providers_for_domain(
    db: &DatabaseConnection,
    domain: &str,
) -> AppResult<Vec<(i32, String)>> {
    let domain = domain.trim().to_lowercase();
    Ok(identity_providers::Entity::find()
        .filter(identity_providers::Column::Enabled.eq(true))
        .order_by_asc(identity_providers::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|p| p.allowed_domains.split(',').any(|d| d.trim() == domain))
        .map(|p| (p.id, p.name))
        .collect())
}
