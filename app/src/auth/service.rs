//! Passwords (argon2id), login with throttling, the session's contents, and
//! the `require_*` guards every server function starts with.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;

use super::{CurrentUser, OrgChoice};
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::domain::{EmailAddress, Role};
use crate::entities::{login_throttle, memberships, organisations, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

const SESSION_KEY: &str = "nachweis.auth";
/// Failed attempts per address before the throttle starts.
const FREE_FAILURES: i32 = 5;
/// Failures older than this are forgotten.
const FAILURE_WINDOW_SECS: i64 = 15 * 60;

/// What the session cookie stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionData {
    user_id: i32,
    org_id: i32,
}

/// The signed-in person acting in one organisation with one role, loaded
/// fresh from the database on every request (a removed membership or a
/// locked account takes effect at once).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i32,
    pub org_id: i32,
    pub role: Role,
    pub display_name: String,
    pub email: String,
}

impl Actor {
    pub fn audit(&self) -> AuditActor {
        AuditActor {
            user_id: Some(self.user_id),
            label: self.email.clone(),
        }
    }
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the address is
/// unknown so that unknown and known addresses take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("nachweis-dummy-password-never-used").unwrap_or_default())
}

pub async fn session() -> AppResult<Session> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(AppError::internal)
}

/// Seconds to wait before the next attempt is allowed, if throttled.
fn throttle_wait(failures: i32, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<u64> {
    if failures < FREE_FAILURES {
        return None;
    }
    let exp = (failures - FREE_FAILURES).min(6) as u32;
    let wait = 2i64.pow(exp) * 15; // 15 s, 30 s, … up to 16 min
    let elapsed = (now - last).num_seconds();
    (elapsed < wait).then(|| (wait - elapsed) as u64)
}

pub async fn login(
    state: &AppState,
    session: &Session,
    email: &str,
    password: &str,
) -> AppResult<()> {
    let now = state.now();
    // Same answer for malformed, unknown, wrong and locked.
    let key = email.trim().to_lowercase();
    let throttle = login_throttle::Entity::find_by_id(key.clone())
        .one(&state.db)
        .await?;
    let throttle =
        throttle.filter(|t| (now - t.last_failure_at).num_seconds() < FAILURE_WINDOW_SECS);
    if let Some(t) = &throttle
        && let Some(wait) = throttle_wait(t.failures, t.last_failure_at, now)
    {
        return Err(AppError::Throttled(wait));
    }

    let user = match EmailAddress::parse(email) {
        Ok(e) => {
            users::Entity::find()
                .filter(users::Column::Email.eq(e.as_str()))
                .one(&state.db)
                .await?
        }
        Err(_) => None,
    };
    let ok = match &user {
        Some(u) => {
            let hash = u.password_hash.as_deref().unwrap_or(dummy_hash());
            verify_password(password, hash) && u.password_hash.is_some() && !u.locked
        }
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    };
    let membership = match (&user, ok) {
        (Some(u), true) => first_membership(&state.db, u.id).await?,
        _ => None,
    };

    let txn = state.db.begin().await?;
    let (Some(u), Some(m)) = (user.filter(|_| ok), membership) else {
        let failures = throttle.map(|t| t.failures).unwrap_or(0) + 1;
        note_failure(&txn, &key, failures, now).await?;
        record(
            &txn,
            now,
            AuditEvent {
                org_id: None,
                actor: &AuditActor::system("anonymous"),
                entity: "session",
                entity_id: key.chars().take(64).collect(),
                action: "login_failed",
                before: None,
                after: Some(json!({ "failures": failures })),
            },
        )
        .await?;
        txn.commit().await?;
        return Err(AppError::LoginFailed);
    };
    login_throttle::Entity::delete_by_id(key).exec(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent {
            org_id: Some(m.org_id),
            actor: &AuditActor {
                user_id: Some(u.id),
                label: u.email.clone(),
            },
            entity: "session",
            entity_id: u.id.to_string(),
            action: "login",
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;

    // A fresh session id at login: a planted id never becomes a signed-in one.
    session.cycle_id().await?;
    session
        .insert(
            SESSION_KEY,
            SessionData {
                user_id: u.id,
                org_id: m.org_id,
            },
        )
        .await?;
    Ok(())
}

/// Counts a failed password for `key` (the lower-case address) towards the throttle.
async fn note_failure<C: ConnectionTrait>(
    db: &C,
    key: &str,
    failures: i32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    login_throttle::Entity::insert(login_throttle::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(failures),
        last_failure_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(login_throttle::Column::Key)
            .update_columns([
                login_throttle::Column::Failures,
                login_throttle::Column::LastFailureAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Asks a signed-in person for their password again (to sign a pledge, say).
/// Wrong passwords count towards the same throttle as failed logins, so this
/// is no way around it. People without a password (SSO only) are told so.
pub async fn confirm_password(state: &AppState, actor: &Actor, password: &str) -> AppResult<()> {
    let now = state.now();
    let key = actor.email.to_lowercase();
    let throttle = login_throttle::Entity::find_by_id(key.clone())
        .one(&state.db)
        .await?
        .filter(|t| (now - t.last_failure_at).num_seconds() < FAILURE_WINDOW_SECS);
    if let Some(t) = &throttle
        && let Some(wait) = throttle_wait(t.failures, t.last_failure_at, now)
    {
        return Err(AppError::Throttled(wait));
    }
    let user = users::Entity::find_by_id(actor.user_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let Some(hash) = user.password_hash.as_deref() else {
        return Err(AppError::invalid(
            "password",
            "Ihr Konto hat kein Passwort, weil Sie sich über einen Anmeldedienst anmelden. Bitte wenden Sie sich an den Datenschutzbeauftragten.",
        ));
    };
    if verify_password(password, hash) {
        return Ok(());
    }
    note_failure(
        &state.db,
        &key,
        throttle.map(|t| t.failures).unwrap_or(0) + 1,
        now,
    )
    .await?;
    Err(AppError::invalid("password", "Das Passwort ist falsch."))
}

/// Signs the session in as `user_id` acting in `org_id`, with a fresh
/// session id (a planted id never becomes a signed-in one). Used by the
/// single sign-on callback after its own checks.
pub async fn start_session(session: &Session, user_id: i32, org_id: i32) -> AppResult<()> {
    session.cycle_id().await?;
    session
        .insert(SESSION_KEY, SessionData { user_id, org_id })
        .await?;
    Ok(())
}

async fn first_membership(
    db: &DatabaseConnection,
    user_id: i32,
) -> AppResult<Option<memberships::Model>> {
    Ok(memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .order_by_asc(memberships::Column::Id)
        .one(db)
        .await?)
}

pub async fn logout(state: &AppState, session: &Session) -> AppResult<()> {
    if let Some(data) = session.get::<SessionData>(SESSION_KEY).await? {
        let txn = state.db.begin().await?;
        let label = users::Entity::find_by_id(data.user_id)
            .one(&txn)
            .await?
            .map(|u| u.email)
            .unwrap_or_default();
        record(
            &txn,
            state.now(),
            AuditEvent {
                org_id: Some(data.org_id),
                actor: &AuditActor {
                    user_id: Some(data.user_id),
                    label,
                },
                entity: "session",
                entity_id: data.user_id.to_string(),
                action: "logout",
                before: None,
                after: None,
            },
        )
        .await?;
        txn.commit().await?;
    }
    session.flush().await?;
    Ok(())
}

pub async fn switch_org(state: &AppState, session: &Session, org_id: i32) -> AppResult<()> {
    let (_, actor) = require_signed_in().await?;
    let m = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(actor.user_id))
        .filter(memberships::Column::OrgId.eq(org_id))
        .one(&state.db)
        .await?;
    if m.is_none() {
        return Err(AppError::NotFound("Die Organisation".into()));
    }
    session
        .insert(
            SESSION_KEY,
            SessionData {
                user_id: actor.user_id,
                org_id,
            },
        )
        .await?;
    Ok(())
}

/// Loads the actor for a session's user and organisation.
pub async fn load_actor<C: ConnectionTrait>(
    db: &C,
    user_id: i32,
    org_id: i32,
) -> AppResult<Option<Actor>> {
    let Some(user) = users::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(None);
    };
    if user.locked {
        return Ok(None);
    }
    let Some(m) = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .filter(memberships::Column::OrgId.eq(org_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Actor {
        user_id,
        org_id,
        role: m.role.parse().map_err(AppError::internal)?,
        display_name: user.display_name,
        email: user.email,
    }))
}

/// The actor a session stands for; an unknown user, a locked account or a
/// removed membership ends the session.
pub async fn actor_for_session(state: &AppState, session: &Session) -> AppResult<Actor> {
    let Some(data) = session.get::<SessionData>(SESSION_KEY).await? else {
        return Err(AppError::Unauthenticated);
    };
    match load_actor(&state.db, data.user_id, data.org_id).await? {
        Some(actor) => Ok(actor),
        None => {
            session.flush().await?;
            Err(AppError::Unauthenticated)
        }
    }
}

/// Any signed-in person with a membership in the session's organisation.
pub async fn require_signed_in() -> AppResult<(AppState, Actor)> {
    let state = expect_context::<AppState>();
    let session = session().await?;
    let actor = actor_for_session(&state, &session).await?;
    Ok((state, actor))
}

/// A member of the organisation's own staff (any role but customer).
pub async fn require_internal() -> AppResult<(AppState, Actor)> {
    let (state, actor) = require_signed_in().await?;
    if !actor.role.is_internal() {
        return Err(AppError::Forbidden);
    }
    Ok((state, actor))
}

/// The organisation's admin (DPO).
pub async fn require_admin() -> AppResult<(AppState, Actor)> {
    let (state, actor) = require_signed_in().await?;
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    Ok((state, actor))
}

pub async fn current_user(db: &DatabaseConnection, actor: &Actor) -> AppResult<CurrentUser> {
    let ms = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(actor.user_id))
        .order_by_asc(memberships::Column::OrgId)
        .all(db)
        .await?;
    let os = organisations::Entity::find()
        .filter(organisations::Column::Id.is_in(ms.iter().map(|m| m.org_id)))
        .all(db)
        .await?;
    let orgs: Vec<OrgChoice> = ms
        .into_iter()
        .filter_map(|m| {
            let o = os.iter().find(|o| o.id == m.org_id)?;
            Some(OrgChoice {
                id: o.id,
                short_name: o.short_name.clone(),
                legal_name: o.legal_name.clone(),
                role: m.role.parse().ok()?,
            })
        })
        .collect();
    let org = orgs
        .iter()
        .find(|o| o.id == actor.org_id)
        .cloned()
        .ok_or(AppError::Unauthenticated)?;
    Ok(CurrentUser {
        user_id: actor.user_id,
        display_name: actor.display_name.clone(),
        email: actor.email.clone(),
        org,
        orgs,
    })
}

/// Only local absolute paths are followed after login (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/login") =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Creates a person with a password (CLI, demo, accepted invitation).
pub async fn create_user<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &AuditActor,
    email: &EmailAddress,
    display_name: &str,
    password: Option<&str>,
) -> AppResult<users::Model> {
    if users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "email",
            "Für diese E-Mail-Adresse gibt es bereits ein Konto.",
        ));
    }
    let hash = match password {
        Some(p) => Some(hash_password(p)?),
        None => None,
    };
    let user = users::ActiveModel {
        email: Set(email.as_str().to_owned()),
        display_name: Set(crate::domain::parse_display_name(display_name)?),
        password_hash: Set(hash),
        locked: Set(false),
        locale: Set("de".to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    record(
        db,
        now,
        AuditEvent {
            org_id: None,
            actor,
            entity: "user",
            entity_id: user.id.to_string(),
            action: "create",
            before: None,
            after: Some(json!({ "email": user.email, "display_name": user.display_name })),
        },
    )
    .await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_grows_and_expires() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(throttle_wait(4, t0, t0), None);
        assert_eq!(throttle_wait(5, t0, t0), Some(15));
        assert_eq!(throttle_wait(6, t0, t0), Some(30));
        assert_eq!(
            throttle_wait(5, t0, t0 + chrono::Duration::seconds(16)),
            None
        );
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/massnahmen")), "/massnahmen");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
    }
}
