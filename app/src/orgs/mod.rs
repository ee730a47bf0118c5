//! Organisations: their profile (the annex's introduction), members with
//! roles, and invitations.

mod invitation_page;
mod members_page;
mod profile_page;
pub use invitation_page::InvitationPage;
pub use members_page::MembersPage;
pub use profile_page::ProfilePage;

/// The invitation mail.
#[cfg(feature = "ssr")]
pub mod mails;
#[cfg(feature = "ssr")]
pub mod service;

use crate::ids::{InvitationId, UserId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgProfile {
    pub short_name: String,
    pub legal_name: String,
    /// How the annex refers to the organisation ("nachfolgend ConRat").
    pub display_short: String,
    pub address: String,
    pub dpo_contact: String,
    pub intro_text: String,
    /// The annex states per section when its measures were last reviewed.
    pub annex_review_dates: bool,
    pub can_edit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingInvitation {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    pub expires_at: crate::format::LocalTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembersView {
    pub members: Vec<Member>,
    pub invitations: Vec<PendingInvitation>,
}

/// What an invitation link shows before it is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationInfo {
    pub org_name: String,
    pub email: String,
    pub role: Role,
    /// The address this browser is signed in with, if any. Whether the
    /// invited address has an account is not said: an admin of one
    /// organisation could otherwise probe any address.
    pub signed_in_as: Option<String>,
}

#[server(endpoint = "orgs/profile")]
pub async fn get_profile() -> Result<OrgProfile, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::profile(&state.db, &actor).await
}

#[server(endpoint = "orgs/profile/update")]
pub async fn update_profile(
    legal_name: String,
    display_short: String,
    address: String,
    dpo_contact: String,
    intro_text: String,
    #[server(default)] annex_review_dates: String,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let mut input = service::ProfileInput::parse(
        &legal_name,
        &display_short,
        &address,
        &dpo_contact,
        &intro_text,
    )?;
    input.annex_review_dates = !annex_review_dates.trim().is_empty();
    service::update_profile(&state.db, state.now(), &actor, input).await?;
    // A form comes back to the page, which confirms the save.
    leptos_axum::redirect("/organisation?gespeichert=1");
    Ok(())
}

#[server(endpoint = "orgs/members")]
pub async fn list_members() -> Result<MembersView, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::members(&state.db, &actor).await
}

/// Creates an invitation, sends it by mail (through the outbox) and returns
/// its link, so the admin can also pass it on another way.
#[server(endpoint = "orgs/invite")]
pub async fn invite_member(
    email: String,
    role: String,
    #[server(default)] locale: String,
) -> Result<String, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let email = crate::domain::EmailAddress::parse(&email)?;
    let role: Role = role.parse()?;
    let locale = crate::mail::Locale::parse_lenient(&locale);
    service::invite(
        &state.db,
        state.now(),
        &actor,
        &email,
        role,
        locale,
        &state.public_url,
    )
    .await
}

#[server(endpoint = "orgs/invitation/revoke")]
pub async fn revoke_invitation(id: InvitationId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::revoke_invitation(&state.db, state.now(), &actor, id).await
}

#[server(endpoint = "orgs/member/role")]
pub async fn change_role(user_id: UserId, role: String) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let role: Role = role.parse()?;
    service::change_role(&state.db, state.now(), &actor, user_id, Some(role)).await
}

#[server(endpoint = "orgs/member/remove")]
pub async fn remove_member(user_id: UserId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::change_role(&state.db, state.now(), &actor, user_id, None).await
}

/// Public: what the invitation link is for (no session needed; the token is the secret).
#[server(endpoint = "orgs/invitation")]
pub async fn get_invitation(token: String) -> Result<InvitationInfo, AppError> {
    let state = expect_context::<crate::state::AppState>();
    let mut info = service::invitation_info(&state.db, state.now(), &token).await?;
    let session = crate::auth::service::session().await?;
    info.signed_in_as = crate::auth::service::actor_for_session(&state, &session)
        .await
        .ok()
        .map(|a| a.email);
    Ok(info)
}

/// Accepts an invitation. Signed in: joins with the signed-in account,
/// which must be the invited address (no password is asked or checked).
/// Signed out: creates the account with the given name and password and
/// signs it in; an address that already has an account must sign in first.
#[server(endpoint = "orgs/invitation/accept")]
pub async fn accept_invitation(
    token: String,
    #[server(default)] display_name: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    let session = crate::auth::service::session().await?;
    let signed_in = match crate::auth::service::actor_for_session(&state, &session).await {
        Ok(actor) => Some(actor),
        Err(AppError::Unauthenticated) => None,
        Err(e) => return Err(e),
    };
    let joined = service::accept_invitation(
        &state.db,
        state.now(),
        &token,
        signed_in.as_ref(),
        &display_name,
        &password,
    )
    .await?;
    // A provider's session stays bound to its organisation (the service
    // refused any other).
    let by = match &signed_in {
        Some(me) if me.single_org => crate::auth::service::SignedInBy::Provider {
            org_id: joined.org_id,
        },
        _ => crate::auth::service::SignedInBy::Account,
    };
    crate::auth::service::start_session(&session, joined.user_id, joined.org_id, by).await?;
    leptos_axum::redirect("/");
    Ok(())
}
