//! The OpenID Connect flow: discovery, authorisation with PKCE and nonce,
//! the callback for sign-in, pledge confirmation and account linking.

use super::*;
use crate::entities::BeginWrite;

pub(super) async fn provider(
    db: &DatabaseConnection,
    id: ProviderId,
) -> Result<identity_providers::Model, SsoError> {
    identity_providers::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|p| p.enabled)
        .ok_or(SsoError::UnknownProvider)
}

pub(super) async fn discover(
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
            tracing::warn!(provider = %p.id, issuer = %p.issuer_url, "OIDC discovery: {why}");
            SsoError::ProviderUnavailable(why)
        })
}

pub(super) fn client_secret(
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
                    provider = %p.id,
                    "the stored client secret does not open with this instance secret"
                );
                SsoError::Internal(AppError::Unavailable(
                    "Das gespeicherte Client-Geheimnis lässt sich nicht entschlüsseln.".into(),
                ))
            }),
    }
}

pub(super) fn redirect_url(state: &AppState) -> Result<RedirectUrl, SsoError> {
    RedirectUrl::new(format!("{}{CALLBACK_PATH}", state.public_url))
        .map_err(|e| SsoError::Internal(AppError::internal(e)))
}

/// Starts a sign-in: returns the provider URL to send the browser to and
/// what the session must remember until it comes back.
pub async fn begin(
    state: &AppState,
    provider_id: ProviderId,
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
) -> AppResult<Vec<(ProviderId, String)>> {
    let ids: Vec<ProviderId> = user_identities::Entity::find()
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

/// Starts a fresh login at the provider to confirm an act of the signed-in
/// person (`kind` names the feature that finishes it, `data` what it needs
/// for that, `back` where the browser returns): the provider is asked to
/// authenticate the person again (`prompt=login`, `max_age=0`) whatever
/// session it has, and the answer must say so (`auth_time`).
pub async fn begin_confirmation(
    state: &AppState,
    actor: &Actor,
    provider_id: ProviderId,
    kind: &str,
    data: impl Serialize,
    back: &str,
) -> Result<(String, Pending), SsoError> {
    let data = serde_json::to_value(data).map_err(AppError::internal)?;
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
        Some(back),
        Some(&actor.email),
        Purpose::Confirm(Intent {
            user_id: actor.user_id,
            org_id: actor.org_id,
            kind: kind.to_owned(),
            data,
        }),
    )
    .await
}

pub(super) async fn authorize(
    state: &AppState,
    provider_id: ProviderId,
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

/// A confirmed act and the provider that confirmed it.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub intent: Intent,
    pub provider_name: String,
    /// The person's subject (`sub`) at the provider.
    pub subject: String,
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
    let Purpose::Confirm(intent) = pending.purpose.clone() else {
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
        subject: identity.subject.to_string(),
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
    provider_id: ProviderId,
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
    provider_id: ProviderId,
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
    let txn = state.db.begin_write().await?;
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
                AuditEvent::new(&actor.audit(), "user_identity", row.id.to_string(), "link")
                    .in_org(p.org_id)
                    .after(json!({ "provider": p.name, "email": identity.email })),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(p.name.clone())
}

/// A refused link, in the audit log for the DPO.
pub(super) async fn refuse_link(
    state: &AppState,
    p: &identity_providers::Model,
    actor: &Actor,
    reason: String,
) -> Result<String, SsoError> {
    audit_refusal(state, p, Some(&actor.email), &reason).await?;
    Err(SsoError::Refused(reason))
}
