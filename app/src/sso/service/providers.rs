//! Identity providers: the admins' list, adding, checking, enabling, the
//! sync from the configuration file, and discovery by e-mail domain.

use super::*;
use crate::entities::BeginWrite;
use crate::ids::{CustomerId, OrgId, ProviderId};

pub(super) fn secret_context(org_id: OrgId) -> String {
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
    org_id: OrgId,
    public_url: &str,
) -> AppResult<Vec<ProviderView>> {
    let names: std::collections::HashMap<CustomerId, String> = customers::Entity::find()
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
pub(super) struct Checked {
    name: String,
    issuer: String,
    client_id: String,
    scopes: String,
    domains: String,
    required_claim: String,
    default_role: Role,
    role_mapping: String,
}

pub(super) fn check(new: &NewProvider) -> AppResult<Checked> {
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
pub(super) fn audit_view(row: &identity_providers::Model) -> serde_json::Value {
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
pub async fn add(state: &AppState, actor: &Actor, new: &NewProvider) -> AppResult<ProviderId> {
    let now = state.now();
    let c = check(new)?;
    check_issuer_address(state, &c.issuer).await?;
    let txn = state.db.begin_write().await?;
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
        AuditEvent::new(
            &actor.audit(),
            "identity_provider",
            row.id.to_string(),
            "create",
        )
        .in_org(actor.org_id)
        .after(audit_view(&row)),
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
    let txn = state.db.begin_write().await?;
    let mut report = SyncReport::default();
    let mut keep: Vec<ProviderId> = Vec::new();
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
            AuditEvent::new(&actor, "identity_provider", row.id.to_string(), action)
                .in_org(row.org_id)
                .before_opt(before)
                .after(audit_view(&row)),
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
            AuditEvent::new(&actor, "identity_provider", id.to_string(), "disable")
                .in_org(org_id)
                .after(json!({ "reason": "no longer in the configuration file" })),
        )
        .await?;
        report.disabled += 1;
    }
    txn.commit().await?;
    Ok(report)
}

pub async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    id: ProviderId,
    enabled: bool,
) -> AppResult<()> {
    let txn = state.db.begin_write().await?;
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
        AuditEvent::new(
            &actor.audit(),
            "identity_provider",
            id.to_string(),
            if enabled { "enable" } else { "disable" },
        )
        .in_org(actor.org_id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub(super) fn normalise_scopes(input: &str) -> AppResult<String> {
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

/// Enabled providers whose allowed domains include `domain`: (id, name).
pub async fn providers_for_domain(
    db: &DatabaseConnection,
    domain: &str,
) -> AppResult<Vec<(ProviderId, String)>> {
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
