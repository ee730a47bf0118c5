//! Who is signed in, in which organisation, with which role; login, logout,
//! and the session store.

#[cfg(feature = "ssr")]
mod batch;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session_store;
#[cfg(feature = "ssr")]
pub use service::{Actor, require_admin, require_internal, require_signed_in};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::error::AppError;
use crate::ids::{OrgId, UserId};

/// An organisation the signed-in person belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgChoice {
    pub id: OrgId,
    pub short_name: String,
    pub legal_name: String,
    pub role: Role,
}

/// The signed-in person as the UI sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub org: OrgChoice,
    pub orgs: Vec<OrgChoice>,
}

/// The signed-in person, or `None`.
#[server(endpoint = "auth/me")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    match service::require_person().await {
        Ok((_, person)) => service::current_user(person).map(Some),
        Err(AppError::Unauthenticated) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Signs in with e-mail and password, then redirects to `next` (a local path).
#[server(endpoint = "auth/login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    let session = service::session().await?;
    let parts: axum::http::request::Parts = leptos_axum::extract()
        .await
        .map_err(crate::error::AppError::internal)?;
    let client = parts
        .extensions
        .get::<crate::net::ClientAddr>()
        .map(|a| a.0);
    service::login(&state, &session, client, &email, &password).await?;
    leptos_axum::redirect(&service::safe_next(&state.public_url, next.as_deref()));
    Ok(())
}

/// Ends the session.
#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    let session = service::session().await?;
    service::logout(&state, &session).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Switches the current organisation (only to one the person belongs to).
#[server(endpoint = "auth/switch-org")]
pub async fn switch_org(org_id: OrgId) -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    let session = service::session().await?;
    service::switch_org(&state, &session, org_id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The signed-in person; pages that sign someone in call [`Auth::refresh`].
#[derive(Clone, Copy)]
pub struct Auth {
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
    epoch: RwSignal<u32>,
}

impl Auth {
    pub fn new(
        user: Resource<Result<Option<CurrentUser>, AppError>>,
        epoch: RwSignal<u32>,
    ) -> Self {
        Self { user, epoch }
    }

    /// Reloads who is signed in (after a login in the hydrated app).
    pub fn refresh(&self) {
        self.epoch.update(|n| *n += 1);
    }

    /// Calls [`Auth::refresh`] whenever `action` succeeds.
    pub fn refresh_on_success<T, S>(self, value: S)
    where
        T: Send + Sync + Clone + 'static,
        S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    {
        Effect::new(move |_| {
            if matches!(value.get(), Some(Ok(_))) {
                self.refresh();
            }
        });
    }
}
