//! Organisation rows, memberships and invitations.

use crate::entities::BeginWrite;
use crate::ids::{CustomerId, InvitationId, OrgId, UserId};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::*;
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::Actor;
use crate::domain::{EmailAddress, ShortName, check_new_password, parse_legal_name};
use crate::entities::{invitations, memberships, organisations, users};
use crate::error::{AppError, AppResult};

const INVITATION_DAYS: i64 = 14;

fn text_field(field: &str, label: &str, input: &str, max: usize) -> AppResult<String> {
    let s = input.replace("\r\n", "\n").trim().to_owned();
    if s.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{label} darf höchstens {max} Zeichen lang sein."),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::invalid(
            field,
            format!("{label} enthält unzulässige Steuerzeichen."),
        ));
    }
    Ok(s)
}

pub struct ProfileInput {
    legal_name: String,
    display_short: String,
    address: String,
    dpo_contact: String,
    intro_text: String,
    /// The annex states per section when it was last reviewed.
    pub annex_review_dates: bool,
}

impl ProfileInput {
    pub fn parse(
        legal_name: &str,
        display_short: &str,
        address: &str,
        dpo_contact: &str,
        intro_text: &str,
    ) -> AppResult<Self> {
        Ok(Self {
            legal_name: parse_legal_name(legal_name)?,
            display_short: text_field("display_short", "Die Kurzbezeichnung", display_short, 60)?,
            address: text_field("address", "Die Anschrift", address, 1000)?,
            dpo_contact: text_field(
                "dpo_contact",
                "Der Kontakt des Datenschutzbeauftragten",
                dpo_contact,
                1000,
            )?,
            intro_text: text_field("intro_text", "Der Einleitungstext", intro_text, 10_000)?,
            annex_review_dates: false,
        })
    }
}

fn profile_json(o: &organisations::Model) -> serde_json::Value {
    json!({
        "legal_name": o.legal_name, "display_short": o.display_short, "address": o.address,
        "dpo_contact": o.dpo_contact, "intro_text": o.intro_text,
        "annex_review_dates": o.annex_review_dates,
    })
}

/// Creates an organisation with the default Art. 32 catalogue.
pub async fn create_org<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &AuditActor,
    short: &ShortName,
    legal_name: &str,
) -> AppResult<organisations::Model> {
    let legal_name = parse_legal_name(legal_name)?;
    if organisations::Entity::find()
        .filter(organisations::Column::ShortName.eq(short.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "short_name",
            format!("Das Kürzel „{}“ ist schon vergeben.", short.as_str()),
        ));
    }
    let org = organisations::ActiveModel {
        short_name: Set(short.as_str().to_owned()),
        legal_name: Set(legal_name),
        display_short: Set(String::new()),
        address: Set(String::new()),
        dpo_contact: Set(String::new()),
        intro_text: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    crate::toms::service::create_default_catalogue(db, now, org.id).await?;
    record(
        db,
        now,
        AuditEvent::new(actor, "organisation", org.id.to_string(), "create")
            .in_org(org.id)
            .after(json!({ "short_name": org.short_name, "legal_name": org.legal_name })),
    )
    .await?;
    Ok(org)
}

pub async fn find_by_short<C: ConnectionTrait>(
    db: &C,
    short: &str,
) -> AppResult<organisations::Model> {
    organisations::Entity::find()
        .filter(organisations::Column::ShortName.eq(short))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Die Organisation „{short}“")))
}

pub async fn add_membership<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &AuditActor,
    org_id: OrgId,
    user_id: UserId,
    role: Role,
) -> AppResult<()> {
    if memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "email",
            "Diese Person ist bereits Mitglied der Organisation.",
        ));
    }
    memberships::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    record(
        db,
        now,
        AuditEvent::new(actor, "membership", user_id.to_string(), "create")
            .in_org(org_id)
            .after(json!({ "role": role })),
    )
    .await
}

/// The membership a sign-in from outside (SSO, login link) may use or create.
///
/// With `customer_id` the person signs in as that customer's employee: an
/// existing membership must be a customer one of the same (or no) customer;
/// without it, as the organisation's staff: an existing membership must be
/// internal. A missing membership is created with `new_role` (customer
/// sign-ins always as `customer`). Returns `Err(role)` with the existing
/// role when the membership may not be used this way.
#[allow(clippy::too_many_arguments)]
pub async fn admit_member<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &AuditActor,
    org_id: OrgId,
    user_id: UserId,
    customer_id: Option<CustomerId>,
    new_role: Role,
    via: &str,
) -> AppResult<Result<Role, Role>> {
    let existing = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    if let Some(m) = existing {
        let role: Role = m.role.parse().map_err(AppError::internal)?;
        let fits = match customer_id {
            Some(c) => role == Role::Customer && m.customer_id.is_none_or(|mc| mc == c),
            None => role.is_internal(),
        };
        if !fits {
            return Ok(Err(role));
        }
        if customer_id.is_some() && m.customer_id.is_none() {
            let mut active: memberships::ActiveModel = m.into();
            active.customer_id = Set(customer_id);
            active.update(db).await?;
        }
        return Ok(Ok(role));
    }
    let role = if customer_id.is_some() {
        Role::Customer
    } else {
        new_role
    };
    memberships::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        role: Set(role.as_str().to_owned()),
        customer_id: Set(customer_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    record(
        db,
        now,
        AuditEvent::new(actor, "membership", user_id.to_string(), "create")
            .in_org(org_id)
            .after(json!({ "role": role, "customer_id": customer_id, "via": via })),
    )
    .await?;
    Ok(Ok(role))
}

pub async fn profile(db: &DatabaseConnection, actor: &Actor) -> AppResult<OrgProfile> {
    let o = organisations::Entity::find_by_id(actor.org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    Ok(OrgProfile {
        short_name: o.short_name,
        legal_name: o.legal_name,
        display_short: o.display_short,
        address: o.address,
        dpo_contact: o.dpo_contact,
        intro_text: o.intro_text,
        annex_review_dates: o.annex_review_dates,
        can_edit: actor.role.is_admin(),
    })
}

pub async fn update_profile(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    input: ProfileInput,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let o = organisations::Entity::find_by_id(actor.org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let before = profile_json(&o);
    let mut am: organisations::ActiveModel = o.into();
    am.legal_name = Set(input.legal_name);
    am.display_short = Set(input.display_short);
    am.address = Set(input.address);
    am.dpo_contact = Set(input.dpo_contact);
    am.intro_text = Set(input.intro_text);
    am.annex_review_dates = Set(input.annex_review_dates);
    am.updated_at = Set(now);
    let after = am.update(&txn).await?;
    let after = profile_json(&after);
    if after != before {
        record(
            &txn,
            now,
            AuditEvent::new(
                &actor.audit(),
                "organisation",
                actor.org_id.to_string(),
                "update",
            )
            .in_org(actor.org_id)
            .before(before)
            .after(after),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn members(db: &DatabaseConnection, actor: &Actor) -> AppResult<MembersView> {
    let ms = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(actor.org_id))
        .all(db)
        .await?;
    let people = users::Entity::find()
        .filter(users::Column::Id.is_in(ms.iter().map(|m| m.user_id)))
        .all(db)
        .await?;
    let mut members: Vec<Member> = ms
        .iter()
        .filter_map(|m| {
            let u = people.iter().find(|u| u.id == m.user_id)?;
            Some(Member {
                user_id: u.id,
                display_name: u.display_name.clone(),
                email: u.email.clone(),
                role: m.role.parse().ok()?,
            })
        })
        .collect();
    members.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    let invitations = invitations::Entity::find()
        .filter(invitations::Column::OrgId.eq(actor.org_id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .order_by_desc(invitations::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|i| {
            Some(PendingInvitation {
                id: i.id,
                email: i.email,
                role: i.role.parse().ok()?,
                expires_at: crate::format::LocalTime::of(i.expires_at),
            })
        })
        .collect();
    Ok(MembersView {
        members,
        invitations,
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates an invitation and queues its mail in the same transaction;
/// returns the link (only the token's hash is stored).
pub async fn invite(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    email: &EmailAddress,
    role: Role,
    locale: crate::mail::Locale,
    public_url: &str,
) -> AppResult<String> {
    let txn = db.begin_write().await?;
    if let Some(u) = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?
    {
        let member = memberships::Entity::find()
            .filter(memberships::Column::OrgId.eq(actor.org_id))
            .filter(memberships::Column::UserId.eq(u.id))
            .one(&txn)
            .await?;
        if member.is_some() {
            return Err(AppError::invalid(
                "email",
                "Diese Person ist bereits Mitglied der Organisation.",
            ));
        }
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let inv = invitations::ActiveModel {
        org_id: Set(actor.org_id),
        email: Set(email.as_str().to_owned()),
        role: Set(role.as_str().to_owned()),
        token_hash: Set(token_hash(&token)),
        invited_by: Set(actor.user_id),
        expires_at: Set(now + Duration::days(INVITATION_DAYS)),
        accepted_at: Set(None),
        locale: Set(locale.as_str().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "invitation", inv.id.to_string(), "create")
            .in_org(actor.org_id)
            .after(json!({ "email": inv.email, "role": role, "locale": locale })),
    )
    .await?;
    let org = organisations::Entity::find_by_id(actor.org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let link = format!("{public_url}/einladung/{token}");
    let mail = super::mails::invitation(
        locale,
        &org.legal_name,
        &actor.display_name,
        role,
        &link,
        &crate::format::german_datetime(inv.expires_at),
    );
    crate::mail::service::enqueue(
        &txn,
        now,
        Some(actor.org_id),
        "invitation",
        &inv.email,
        &mail,
    )
    .await?;
    txn.commit().await?;
    Ok(link)
}

pub async fn revoke_invitation(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: InvitationId,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let inv = invitations::Entity::find_by_id(id)
        .filter(invitations::Column::OrgId.eq(actor.org_id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Einladung".into()))?;
    invitations::Entity::delete_by_id(inv.id).exec(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "invitation", inv.id.to_string(), "revoke")
            .in_org(actor.org_id)
            .before(json!({ "email": inv.email, "role": inv.role })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Changes a member's role, or removes the membership (`None`). The last
/// admin can be neither demoted nor removed.
pub async fn change_role(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: UserId,
    role: Option<Role>,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let m = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(actor.org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Das Mitglied".into()))?;
    if m.role == Role::Admin.as_str() && role != Some(Role::Admin) {
        let admins = memberships::Entity::find()
            .filter(memberships::Column::OrgId.eq(actor.org_id))
            .filter(memberships::Column::Role.eq(Role::Admin.as_str()))
            .all(&txn)
            .await?
            .len();
        if admins <= 1 {
            return Err(AppError::invalid(
                "role",
                "Die Organisation braucht mindestens eine/n Admin.",
            ));
        }
    }
    let before = json!({ "role": m.role });
    match role {
        Some(r) => {
            let mut am: memberships::ActiveModel = m.into();
            am.role = Set(r.as_str().to_owned());
            am.update(&txn).await?;
        }
        None => {
            crate::entities::measure_owners::Entity::delete_many()
                .filter(crate::entities::measure_owners::Column::OrgId.eq(actor.org_id))
                .filter(crate::entities::measure_owners::Column::UserId.eq(user_id))
                .exec(&txn)
                .await?;
            memberships::Entity::delete_by_id(m.id).exec(&txn).await?;
        }
    }
    record(
        &txn,
        now,
        AuditEvent::new(
            &actor.audit(),
            "membership",
            user_id.to_string(),
            if role.is_some() { "update" } else { "delete" },
        )
        .in_org(actor.org_id)
        .before(before)
        .after_opt(role.map(|r| json!({ "role": r }))),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn open_invitation<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    token: &str,
) -> AppResult<invitations::Model> {
    let not_found = || {
        AppError::NotFound("Die Einladung (abgelaufen, bereits angenommen oder widerrufen)".into())
    };
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(token_hash(token)))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .ok_or_else(not_found)
}

pub async fn invitation_info(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    token: &str,
) -> AppResult<InvitationInfo> {
    let inv = open_invitation(db, now, token).await?;
    let org = organisations::Entity::find_by_id(inv.org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    Ok(InvitationInfo {
        org_name: org.legal_name,
        email: inv.email,
        role: inv.role.parse().map_err(AppError::internal)?,
        signed_in_as: None,
    })
}

/// Who joined where by accepting an invitation.
#[derive(Debug, Clone, Copy)]
pub struct Joined {
    pub user_id: UserId,
    pub org_id: OrgId,
}

/// Accepts an invitation. A signed-in person joins with their account,
/// which must be the invited address; nobody's password is checked here
/// (that was a way to guess one without the login throttle). Signed out, a
/// new account is created; an address that has an account is asked to
/// sign in first.
pub async fn accept_invitation(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    token: &str,
    signed_in: Option<&crate::auth::service::Actor>,
    display_name: &str,
    password: &str,
) -> AppResult<Joined> {
    let txn = db.begin_write().await?;
    let inv = open_invitation(&txn, now, token).await?;
    let email = EmailAddress::parse(&inv.email)?;
    let actor = AuditActor::system(email.as_str());
    let existing = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?;
    let user = match (signed_in, existing) {
        // A session from an organisation's identity provider reaches that
        // organisation only; joining another one through it would lift that.
        (Some(me), Some(u)) if u.id == me.user_id && me.single_org && inv.org_id != me.org_id => {
            return Err(AppError::invalid(
                "token",
                "Sie sind über den Anmeldedienst einer anderen Organisation angemeldet. Melden Sie sich mit Ihrem Passwort oder einem Anmeldelink an, um diese Einladung anzunehmen.",
            ));
        }
        (Some(me), Some(u)) if u.id == me.user_id => u,
        (Some(me), _) => {
            return Err(AppError::invalid(
                "token",
                format!(
                    "Diese Einladung gilt für {}, Sie sind als {} angemeldet. Melden Sie sich ab und öffnen Sie den Link erneut.",
                    email.as_str(),
                    me.email
                ),
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::invalid(
                "password",
                "Bitte melden Sie sich zuerst an (Link „Ich habe schon ein Konto“) und nehmen Sie die Einladung dann an.",
            ));
        }
        (None, None) => {
            check_new_password(password)?;
            let u = crate::auth::service::create_user(
                &txn,
                now,
                &actor,
                &email,
                display_name,
                Some(password),
            )
            .await?;
            // The new account speaks the language the invitation was written in.
            let mut am: users::ActiveModel = u.into();
            am.locale = Set(inv.locale.clone());
            am.update(&txn).await?
        }
    };
    let role: Role = inv.role.parse().map_err(AppError::internal)?;
    add_membership(&txn, now, &actor, inv.org_id, user.id, role).await?;
    let org_id = inv.org_id;
    let mut am: invitations::ActiveModel = inv.into();
    am.accepted_at = Set(Some(now));
    am.update(&txn).await?;
    txn.commit().await?;
    Ok(Joined {
        user_id: user.id,
        org_id,
    })
}
