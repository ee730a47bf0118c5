//! Passwords (argon2id), login with throttling, the session's contents, and
//! the `require_*` guards every server function starts with.

use crate::entities::BeginWrite;
use crate::ids::{OrgId, UserId};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
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
    user_id: UserId,
    org_id: OrgId,
    /// Signed in through an organisation's identity provider: the session
    /// reaches that organisation only, never the person's other
    /// memberships (another organisation's admin runs that provider).
    #[serde(default)]
    sso_org: Option<OrgId>,
}

/// Whom a session's data signs in, if anyone: what the session store
/// copies into its own columns, so that it can read the person with the
/// session.
pub(crate) fn signed_in(
    data: &std::collections::HashMap<String, serde_json::Value>,
) -> Option<(UserId, OrgId)> {
    let d = SessionData::deserialize(data.get(SESSION_KEY)?).ok()?;
    Some((d.user_id, d.org_id))
}

/// Where the session store puts the person it read together with the
/// session, for this request only: it is never stored (the store drops it
/// before writing) and is used only if it is about the person the
/// session's data names.
pub(crate) const PERSON_KEY: &str = "nachweis.person";

/// One membership of a person as [`load_person`] reads it: the account's
/// lock, name and e-mail, the membership (organisation, role, customer,
/// since when) and the organisation's names.
pub(crate) type PersonRow = (
    bool,
    String,
    String,
    OrgId,
    String,
    Option<crate::ids::CustomerId>,
    DateTime<Utc>,
    String,
    String,
);

/// The rows of a person, read by the session store with the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PersonRows {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub rows: Vec<PersonRow>,
}

/// A person's name for comparing: spacing collapsed, lower case.
pub fn normalise_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The signed-in person acting in one organisation with one role, loaded
/// fresh from the database on every request (a removed membership or a
/// locked account takes effect at once).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    pub display_name: String,
    pub email: String,
    /// The session may act in this organisation only (single sign-on).
    pub single_org: bool,
    /// For a customer user: the customer (controller) they act for.
    pub customer_id: Option<crate::ids::CustomerId>,
    /// When the membership began (a course falls due from it); `None` for
    /// the system's own readers.
    pub joined: Option<DateTime<Utc>>,
}

impl Actor {
    /// Whether this person may read a personal record of `owner` (a pledge
    /// copy, a certificate): their own, or as the DPO or the auditor. Others
    /// are told it does not exist.
    pub fn reads_personal_record_of(&self, owner: UserId) -> bool {
        owner == self.user_id || matches!(self.role, Role::Admin | Role::Auditor)
    }

    /// The name this person typed to sign or accept something, with its
    /// spaces collapsed, if it is the account's name (case and spacing
    /// aside); otherwise the field error that names the account's name.
    pub fn typed_own_name(&self, typed: &str) -> AppResult<String> {
        let typed = typed.split_whitespace().collect::<Vec<_>>().join(" ");
        if normalise_name(&typed) != normalise_name(&self.display_name) {
            return Err(AppError::invalid(
                "typed_name",
                format!(
                    "Bitte geben Sie Ihren vollständigen Namen so ein, wie er in Ihrem Konto steht: „{}“.",
                    self.display_name
                ),
            ));
        }
        Ok(typed)
    }

    pub fn audit(&self) -> AuditActor {
        AuditActor {
            user_id: Some(self.user_id),
            label: self.email.clone(),
        }
    }
}

// Argon2 takes tens of milliseconds of CPU per hash: every hash and every
// verification runs on the blocking pool, never on a runtime thread, where
// it would stall every other request.

fn hash_password_now(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

fn verify_password_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, verified against when there is no hash
/// (unknown address, SSO-only account) so that every answer takes the same
/// time.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password_now("nachweis-dummy-password-never-used").unwrap_or_default())
}

/// The Argon2id hash of `password`, computed on the blocking pool.
pub async fn hash_password(password: &str) -> AppResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password_now(&password))
        .await
        .map_err(AppError::internal)?
}

/// Whether `password` matches `hash`, checked on the blocking pool. Without
/// a hash the check runs against a dummy (the same time) and fails.
pub async fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password_now(&password, &h),
        None => {
            let _ = verify_password_now(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

pub async fn session() -> AppResult<Session> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(AppError::internal)
}

/// Seconds to wait before the next attempt is allowed, if throttled.
#[cfg(test)]
fn throttle_wait(failures: i32, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<u64> {
    throttle_wait_after(FREE_FAILURES, failures, last, now)
}

/// The same with `free` attempts before the first wait.
fn throttle_wait_after(
    free: i32,
    failures: i32,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<u64> {
    if failures < free {
        return None;
    }
    let exp = (failures - free).min(6) as u32;
    let wait = 2i64.pow(exp) * 15; // 15 s, 30 s, … up to 16 min
    let elapsed = (now - last).num_seconds();
    (elapsed < wait).then(|| (wait - elapsed) as u64)
}

/// Attempts from one client address before its waits start: enough for an
/// office behind one NAT, far too few to try passwords across accounts.
const CLIENT_FREE_FAILURES: i32 = 30;

/// The throttle keys of an attempt: the address (only a well-formed one:
/// anything else cannot be an account) and the client's network address.
fn throttle_keys(email: &str, client: Option<std::net::IpAddr>) -> Vec<(String, i32)> {
    let mut keys = Vec::new();
    if let Ok(e) = EmailAddress::parse(email) {
        keys.push((e.as_str().to_owned(), FREE_FAILURES));
    }
    if let Some(ip) = client {
        // One IPv6 client has a whole /64 to choose addresses from.
        let key = match ip {
            std::net::IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            v4 => format!("ip:{v4}"),
        };
        keys.push((key, CLIENT_FREE_FAILURES));
    }
    keys
}

/// Counts an attempt under `key` before the password is checked, so that
/// parallel attempts cannot all pass one check: each must win a
/// compare-and-set on the counter it read, and once the counter reaches
/// the throttle every further attempt is refused without a password check.
/// `Err(seconds)` when throttled.
async fn reserve_attempt<C: ConnectionTrait>(
    db: &C,
    key: &str,
    free: i32,
    now: DateTime<Utc>,
) -> AppResult<Result<(), u64>> {
    use sea_orm::sea_query::{Expr, OnConflict};
    for _ in 0..8 {
        match login_throttle::Entity::find_by_id(key.to_owned())
            .one(db)
            .await?
        {
            None => {
                let inserted = login_throttle::Entity::insert(login_throttle::ActiveModel {
                    key: Set(key.to_owned()),
                    failures: Set(1),
                    last_failure_at: Set(now),
                })
                .on_conflict(
                    OnConflict::column(login_throttle::Column::Key)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
                if inserted == 1 {
                    return Ok(Ok(()));
                }
            }
            Some(t) => {
                let expired = (now - t.last_failure_at).num_seconds() >= FAILURE_WINDOW_SECS;
                let counted = if expired { 0 } else { t.failures };
                if let Some(wait) = throttle_wait_after(free, counted, t.last_failure_at, now) {
                    return Ok(Err(wait));
                }
                let won = login_throttle::Entity::update_many()
                    .col_expr(login_throttle::Column::Failures, Expr::value(counted + 1))
                    .col_expr(login_throttle::Column::LastFailureAt, Expr::value(now))
                    .filter(login_throttle::Column::Key.eq(key))
                    .filter(login_throttle::Column::Failures.eq(t.failures))
                    .exec(db)
                    .await?;
                if won.rows_affected == 1 {
                    return Ok(Ok(()));
                }
            }
        }
    }
    // Lost the race eight times in a row: this key is being hammered.
    Ok(Err(1))
}

/// Takes back a counted attempt that turned out to be the right password.
async fn refund_attempt<C: ConnectionTrait>(db: &C, key: &str) -> AppResult<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::col(login_throttle::Column::Failures).sub(1),
        )
        .filter(login_throttle::Column::Key.eq(key))
        .filter(login_throttle::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Reserves an attempt under every key; throttled under any, none is tried.
async fn reserve_all(
    db: &DatabaseConnection,
    keys: &[(String, i32)],
    now: DateTime<Utc>,
) -> AppResult<()> {
    for (key, free) in keys {
        if let Err(wait) = reserve_attempt(db, key, *free, now).await? {
            return Err(AppError::Throttled(wait));
        }
    }
    Ok(())
}

/// Forgets throttle rows older than the window (the hourly sweep).
pub async fn sweep_throttle(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<u64> {
    let cutoff = now - chrono::Duration::seconds(FAILURE_WINDOW_SECS);
    Ok(login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::LastFailureAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn login(
    state: &AppState,
    session: &Session,
    client: Option<std::net::IpAddr>,
    email: &str,
    password: &str,
) -> AppResult<()> {
    let now = state.now();
    // Same answer for malformed, unknown, wrong and locked. Counted first,
    // checked second: parallel guesses cannot outrun the throttle.
    let keys = throttle_keys(email, client);
    reserve_all(&state.db, &keys, now).await?;

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
        Some(u) => verify_password(password, u.password_hash.as_deref()).await && !u.locked,
        None => verify_password(password, None).await,
    };
    let membership = match (&user, ok) {
        (Some(u), true) => first_membership(&state.db, u.id).await?,
        _ => None,
    };

    let txn = state.db.begin_write().await?;
    let (Some(u), Some(m)) = (user.filter(|_| ok), membership) else {
        let failures = match keys.first() {
            Some((key, _)) => login_throttle::Entity::find_by_id(key.clone())
                .one(&txn)
                .await?
                .map_or(0, |t| t.failures),
            None => 0,
        };
        let label: String = email.trim().to_lowercase().chars().take(64).collect();
        record(
            &txn,
            now,
            AuditEvent::new(
                &AuditActor::system("anonymous"),
                "session",
                label,
                "login_failed",
            )
            .after(json!({ "failures": failures })),
        )
        .await?;
        txn.commit().await?;
        return Err(AppError::LoginFailed);
    };
    // The right password: this address starts afresh; the client's count
    // gives back the attempt.
    for (key, _) in &keys {
        if key.starts_with("ip:") {
            refund_attempt(&txn, key).await?;
        } else {
            login_throttle::Entity::delete_by_id(key.clone())
                .exec(&txn)
                .await?;
        }
    }
    record(
        &txn,
        now,
        AuditEvent::new(
            &AuditActor {
                user_id: Some(u.id),
                label: u.email.clone(),
            },
            "session",
            u.id.to_string(),
            "login",
        )
        .in_org(m.org_id),
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
                sso_org: None,
            },
        )
        .await?;
    Ok(())
}

/// Asks a signed-in person for their password again (to sign a pledge, say).
/// Attempts count towards the same throttle as logins, so this is no way
/// around it. People without a password (SSO only) are told so.
pub async fn confirm_password(state: &AppState, actor: &Actor, password: &str) -> AppResult<()> {
    let now = state.now();
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
    let keys = throttle_keys(&actor.email, None);
    reserve_all(&state.db, &keys, now).await?;
    if verify_password(password, Some(hash)).await {
        for (key, _) in &keys {
            login_throttle::Entity::delete_by_id(key.clone())
                .exec(&state.db)
                .await?;
        }
        return Ok(());
    }
    Err(AppError::invalid("password", "Das Passwort ist falsch."))
}

/// How a session was signed in, for [`start_session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedInBy {
    /// Proof the person holds the account (password, one-time mail link):
    /// every membership is reachable.
    Account,
    /// An organisation's identity provider: that organisation only.
    Provider { org_id: OrgId },
}

/// Signs the session in as `user_id` acting in `org_id`, with a fresh
/// session id (a planted id never becomes a signed-in one). Used by the
/// single sign-on callback and the login links after their own checks.
pub async fn start_session(
    session: &Session,
    user_id: UserId,
    org_id: OrgId,
    by: SignedInBy,
) -> AppResult<()> {
    let sso_org = match by {
        SignedInBy::Account => None,
        SignedInBy::Provider {
            org_id: provider_org,
        } => {
            if provider_org != org_id {
                return Err(AppError::Forbidden);
            }
            Some(provider_org)
        }
    };
    session.cycle_id().await?;
    session
        .insert(
            SESSION_KEY,
            SessionData {
                user_id,
                org_id,
                sso_org,
            },
        )
        .await?;
    Ok(())
}

async fn first_membership(
    db: &DatabaseConnection,
    user_id: UserId,
) -> AppResult<Option<memberships::Model>> {
    Ok(memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user_id))
        .order_by_asc(memberships::Column::Id)
        .one(db)
        .await?)
}

/// Who the session is signed in as, and in which organisation, from the
/// session alone (no database read; whether the account is still valid is
/// [`actor_for_session`]'s question).
pub async fn session_owner(session: &Session) -> Option<(UserId, OrgId)> {
    session
        .get::<SessionData>(SESSION_KEY)
        .await
        .ok()
        .flatten()
        .map(|d| (d.user_id, d.org_id))
}

pub async fn logout(state: &AppState, session: &Session) -> AppResult<()> {
    if let Some(data) = session.get::<SessionData>(SESSION_KEY).await? {
        let txn = state.db.begin_write().await?;
        let label = users::Entity::find_by_id(data.user_id)
            .one(&txn)
            .await?
            .map(|u| u.email)
            .unwrap_or_default();
        record(
            &txn,
            state.now(),
            AuditEvent::new(
                &AuditActor {
                    user_id: Some(data.user_id),
                    label,
                },
                "session",
                data.user_id.to_string(),
                "logout",
            )
            .in_org(data.org_id),
        )
        .await?;
        txn.commit().await?;
    }
    session.flush().await?;
    Ok(())
}

pub async fn switch_org(state: &AppState, session: &Session, org_id: OrgId) -> AppResult<()> {
    let (_, actor) = require_signed_in().await?;
    let data = session
        .get::<SessionData>(SESSION_KEY)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if data.sso_org.is_some_and(|o| o != org_id) {
        // Not reachable with this sign-in: the same answer as no membership.
        return Err(AppError::NotFound("Die Organisation".into()));
    }
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
                sso_org: data.sso_org,
            },
        )
        .await?;
    Ok(())
}

/// A signed-in person as a request sees them: the actor, and the
/// organisations they may switch to (only the actor's own for a
/// single-organisation session).
#[derive(Debug, Clone)]
pub struct Person {
    pub actor: Actor,
    pub orgs: Vec<OrgChoice>,
}

/// The person acting in `org_id`, read with one statement: the account,
/// every membership and its organisation's names. `None` for an unknown or
/// locked account or without a membership in `org_id`.
pub async fn load_person<C: ConnectionTrait>(
    db: &C,
    user_id: UserId,
    org_id: OrgId,
    single_org: bool,
) -> AppResult<Option<Person>> {
    use sea_orm::{JoinType, QuerySelect, RelationDef};
    let to_user: RelationDef = memberships::Entity::belongs_to(users::Entity)
        .from(memberships::Column::UserId)
        .to(users::Column::Id)
        .into();
    let to_org: RelationDef = memberships::Entity::belongs_to(organisations::Entity)
        .from(memberships::Column::OrgId)
        .to(organisations::Column::Id)
        .into();
    let rows: Vec<PersonRow> = memberships::Entity::find()
        .select_only()
        .columns([
            users::Column::Locked,
            users::Column::DisplayName,
            users::Column::Email,
        ])
        .columns([
            memberships::Column::OrgId,
            memberships::Column::Role,
            memberships::Column::CustomerId,
            memberships::Column::CreatedAt,
        ])
        .columns([
            organisations::Column::ShortName,
            organisations::Column::LegalName,
        ])
        .join(JoinType::InnerJoin, to_user)
        .join(JoinType::InnerJoin, to_org)
        .filter(memberships::Column::UserId.eq(user_id))
        .order_by_asc(memberships::Column::OrgId)
        .into_tuple()
        .all(db)
        .await?;
    person_of(user_id, org_id, single_org, rows)
}

/// The person from their membership rows (ordered by organisation).
fn person_of(
    user_id: UserId,
    org_id: OrgId,
    single_org: bool,
    rows: Vec<PersonRow>,
) -> AppResult<Option<Person>> {
    let Some(own) = rows.iter().find(|r| r.3 == org_id) else {
        return Ok(None);
    };
    let (locked, display_name, email, _, role, customer_id, joined, _, _) = own.clone();
    if locked {
        return Ok(None);
    }
    let actor = Actor {
        user_id,
        org_id,
        role: role.parse().map_err(AppError::internal)?,
        display_name,
        email,
        single_org,
        customer_id,
        joined: Some(joined),
    };
    let orgs = rows
        .into_iter()
        .filter(|r| !single_org || r.3 == org_id)
        .filter_map(|(_, _, _, id, role, _, _, short_name, legal_name)| {
            Some(OrgChoice {
                id,
                short_name,
                legal_name,
                role: role.parse().ok()?,
            })
        })
        .collect();
    Ok(Some(Person { actor, orgs }))
}

/// The actor a session stands for; an unknown user, a locked account or a
/// removed membership ends the session.
pub async fn actor_for_session(state: &AppState, session: &Session) -> AppResult<Actor> {
    person_for_session(state, session).await.map(|p| p.actor)
}

/// The person a session stands for (see [`actor_for_session`]).
pub async fn person_for_session(state: &AppState, session: &Session) -> AppResult<Person> {
    let Some(data) = session.get::<SessionData>(SESSION_KEY).await? else {
        return Err(AppError::Unauthenticated);
    };
    if data.sso_org.is_some_and(|o| o != data.org_id) {
        session.flush().await?;
        return Err(AppError::Unauthenticated);
    }
    let single_org = data.sso_org.is_some();
    // Read with the session by the store, if it could; else now.
    let preloaded = session
        .get::<PersonRows>(PERSON_KEY)
        .await
        .ok()
        .flatten()
        .filter(|p| p.user_id == data.user_id && p.org_id == data.org_id);
    let person = match preloaded {
        Some(p) => person_of(data.user_id, data.org_id, single_org, p.rows)?,
        None => load_person(&state.db, data.user_id, data.org_id, single_org).await?,
    };
    match person {
        Some(person) => Ok(person),
        None => {
            session.flush().await?;
            Err(AppError::Unauthenticated)
        }
    }
}

/// The person a request acts as, looked up once per request: a page's
/// server functions (the layout, each panel) share one lookup. The server
/// puts an empty one in every request's extensions (or one the login gate
/// already filled); a failed lookup is not kept.
#[derive(Clone, Default)]
pub struct RequestActor(std::sync::Arc<tokio::sync::OnceCell<Person>>);

impl RequestActor {
    /// One that already knows the person.
    pub fn known(person: Person) -> Self {
        Self(std::sync::Arc::new(tokio::sync::OnceCell::new_with(Some(
            person,
        ))))
    }
}

/// Any signed-in person with a membership in the session's organisation.
pub async fn require_signed_in() -> AppResult<(AppState, Actor)> {
    let (state, person) = require_person().await?;
    Ok((state, person.actor))
}

/// The signed-in person with the organisations they may switch to.
pub async fn require_person() -> AppResult<(AppState, Person)> {
    let state = expect_context::<AppState>();
    let session = session().await?;
    let once = leptos_axum::extract::<axum::Extension<RequestActor>>()
        .await
        .ok();
    let person = match once {
        Some(axum::Extension(once)) => once
            .0
            .get_or_try_init(|| person_for_session(&state, &session))
            .await?
            .clone(),
        None => person_for_session(&state, &session).await?,
    };
    Ok((state, person))
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

/// The signed-in person as the UI sees them.
pub fn current_user(person: Person) -> AppResult<CurrentUser> {
    let Person { actor, orgs } = person;
    let org = orgs
        .iter()
        .find(|o| o.id == actor.org_id)
        .cloned()
        .ok_or(AppError::Unauthenticated)?;
    Ok(CurrentUser {
        user_id: actor.user_id,
        display_name: actor.display_name,
        email: actor.email,
        org,
        orgs,
    })
}

/// Where to go after a login: `next` if it is a path on this site, else
/// `/`. `next` is resolved against the public URL the way a browser would
/// resolve it, and only a same-origin result is followed. Control
/// characters, whitespace and backslashes are refused outright, also
/// percent-encoded: browsers drop a tab or line feed from a URL, which
/// turned `/\t/evil.example` into `//evil.example`, and a line feed in a
/// `Location` header is refused by the HTTP library.
pub fn safe_next(public_url: &str, next: Option<&str>) -> String {
    let home = "/".to_owned();
    let Some(n) = next else { return home };
    let decoded: String = percent_encoding::percent_decode_str(n)
        .decode_utf8_lossy()
        .into_owned();
    let bad = |s: &str| {
        s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    if n.is_empty()
        || n.len() > 2048
        || !n.starts_with('/')
        || n.starts_with("//")
        || decoded.starts_with("//")
        || bad(n)
        || bad(&decoded)
        || n.starts_with("/login")
    {
        return home;
    }
    let Ok(base) = url::Url::parse(public_url) else {
        return home;
    };
    match base.join(n) {
        Ok(target) if target.origin() == base.origin() => {
            let mut out = target.path().to_owned();
            if let Some(q) = target.query() {
                out.push('?');
                out.push_str(q);
            }
            if let Some(f) = target.fragment() {
                out.push('#');
                out.push_str(f);
            }
            // The answer is checked, not only the question: resolving dot
            // segments turns `/.//evil.example` into `//evil.example`, which
            // a browser reads as another host.
            if out.starts_with("//") || base.join(&out).map(|u| u.origin()) != Ok(base.origin()) {
                return home;
            }
            out
        }
        _ => home,
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
        Some(p) => Some(hash_password(p).await?),
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
        AuditEvent::new(actor, "user", user.id.to_string(), "create")
            .after(json!({ "email": user.email, "display_name": user.display_name })),
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
        let base = "https://nachweis.example";
        let next = |n: &str| safe_next(base, Some(n));
        assert_eq!(next("/massnahmen"), "/massnahmen");
        assert_eq!(next("/massnahmen/3?x=1#a"), "/massnahmen/3?x=1#a");
        assert_eq!(next("//evil.example"), "/");
        assert_eq!(next("https://evil.example"), "/");
        // Browsers drop tabs and line feeds from URLs: "/\t/evil" is "//evil".
        assert_eq!(next("/\t/evil.example"), "/");
        assert_eq!(next("/%09/evil.example"), "/");
        assert_eq!(next("/\n/evil.example"), "/");
        assert_eq!(next("/massnahmen\r\nSet-Cookie: x=1"), "/");
        assert_eq!(next("/\\evil.example"), "/");
        assert_eq!(next("/%5Cevil.example"), "/");
        assert_eq!(next("/%2F/evil.example"), "/");
        assert_eq!(next("/ /evil.example"), "/");
        // Dot segments resolve to "//evil.example" (found by the property
        // test below on CI).
        assert_eq!(next("/.//evil.example"), "/");
        assert_eq!(next("/..//evil.example"), "/");
        assert_eq!(next("/%2e//evil.example"), "/");
        assert_eq!(next("/a/..//evil.example"), "/");
        assert_eq!(next("/a/./b"), "/a/b");
        assert_eq!(next("/login?next=/x"), "/");
        assert_eq!(safe_next(base, None), "/");
    }

    /// Whatever comes in as `next`, the redirect stays on this site, also
    /// after a browser has dropped tabs and line feeds and read backslashes
    /// as slashes; and a plain local path is kept as it is.
    mod next_property {
        use super::super::safe_next;
        use proptest::prelude::*;

        const BASE: &str = "https://nachweis.example";

        fn stays_here(location: &str) -> bool {
            let base = url::Url::parse(BASE).unwrap();
            let browser: String = location
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .map(|c| if c == '\\' { '/' } else { c })
                .collect();
            location.starts_with('/')
                && !location.starts_with("//")
                && !location
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
                && base
                    .join(location)
                    .is_ok_and(|u| u.origin() == base.origin())
                && base
                    .join(&browser)
                    .is_ok_and(|u| u.origin() == base.origin())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]
            #[test]
            fn any_input_stays_on_the_site(n in prop_oneof![
                any::<String>(),
                "[/\\\\%a-z0-9:.@?#\t\n\r ]{0,24}",
                "/[/\\\\%09%0a%2f%5c\t]{0,6}[a-z.]{0,12}",
            ]) {
                let location = safe_next(BASE, Some(&n));
                prop_assert!(stays_here(&location), "{n:?} led to {location:?}");
            }

            #[test]
            fn local_paths_are_kept(n in "/[a-z0-9][a-z0-9/-]{0,30}") {
                prop_assume!(!n.starts_with("/login"));
                prop_assert_eq!(safe_next(BASE, Some(&n)), n);
            }
        }
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password_now("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password_now("correct horse battery", &h));
        assert!(!verify_password_now("wrong", &h));
    }
}
