//! Admission: verifying the ID token and its claims, and who may enter
//! with which role (domains, required claims, role mapping, existing accounts).

use super::*;
use crate::entities::BeginWrite;
use crate::ids::{OrgId, UserId};

/// Domains an organisation's provider may claim. A domain belongs to the
/// providers of one organisation only, so no provider of another
/// organisation is offered to its people (`/sso`) or signs them in. A
/// domain that members of another organisation already use is claimed only
/// with the operator's approval: a provider in the configuration file.
pub(super) async fn claim_domains<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
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
        let users_there: Vec<UserId> = users::Entity::find()
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
pub(super) struct Identity {
    pub(super) subject: String,
    pub(super) email: String,
    pub(super) name: Option<String>,
    /// Every claim of the (verified) ID token.
    pub(super) claims: serde_json::Value,
}

pub(super) async fn verify(
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
pub(super) fn raw_claims(jwt: &str) -> serde_json::Value {
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

pub(super) fn claim_values(claims: &serde_json::Value, name: &str) -> Option<Vec<String>> {
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
pub(super) async fn admit(
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
    let txn = state.db.begin_write().await?;
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
        AuditEvent::new(
            &AuditActor {
                user_id: Some(user.id),
                label: user.email.clone(),
            },
            "session",
            user.id.to_string(),
            "login",
        )
        .in_org(p.org_id)
        .after(json!({ "method": "sso", "provider": p.name })),
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

pub(super) fn mapped_role(p: &identity_providers::Model, claims: &serde_json::Value) -> Role {
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
pub(super) async fn audit_refusal(
    state: &AppState,
    p: &identity_providers::Model,
    email: Option<&str>,
    reason: &str,
) -> Result<(), SsoError> {
    let txn = state.db.begin_write().await?;
    record(
        &txn,
        state.now(),
        AuditEvent::new(
            &AuditActor::system(&format!("sso:{}", p.id)),
            "sso",
            p.id.to_string(),
            "login_refused",
        )
        .in_org(p.org_id)
        .after(json!({
            "provider": p.name,
            "email": email.map(|e| e.chars().take(254).collect::<String>()),
            "reason": reason,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
