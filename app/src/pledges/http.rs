//! Pledges' plain routes: the signed copy as PDF, the DPO's overview as
//! CSV, and signing confirmed by a fresh single sign-on.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use super::service;
use crate::auth::service::actor_for_session;
use crate::error::AppError;
use crate::http::{Download, actor_or_login, with_query};
use crate::sso::http::{failure, leave_for};
use crate::sso::service::{self as sso, Pending, SsoError};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/verpflichtung/{file}", get(pledge_pdf))
        .route("/verpflichtung/sso", post(pledge_start))
        .route("/verpflichtungen.csv", get(pledge_csv))
}

/// A signed pledge's PDF copy, byte for byte as stored at signing.
async fn pledge_pdf(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file
        .strip_suffix(".pdf")
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return AppError::NotFound("Die Datei".into()).into_response();
    };
    let actor = match actor_or_login(&state, &session, &format!("/verpflichtung/{id}.pdf")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match service::pdf(&state.db, &actor, id).await {
        Ok(row) => Download::pdf(format!(
            "Verpflichtung-Fassung-{}-{}.pdf",
            row.version, row.id
        ))
        .sha256(row.pdf_sha256)
        .respond(row.pdf),
        Err(e) => e.into_response(),
    }
}

/// The DPO's overview as CSV (admins and auditors).
async fn pledge_csv(State(state): State<AppState>, session: Session) -> Response {
    let actor = match actor_or_login(&state, &session, "/verpflichtungen").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match service::overview(&state.db, &actor).await {
        Ok(o) => Download::csv("Verpflichtungen.csv").respond(service::csv(&o.rows)),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct PledgeForm {
    text_id: i32,
    #[serde(default)]
    text_sha256: String,
    #[serde(default)]
    typed_name: String,
    #[serde(default)]
    confirm: String,
    provider_id: i32,
}

/// `POST /verpflichtung/sso`: a person without a password signs the pledge
/// and confirms it with a fresh login at their identity provider. The
/// signing is checked first (a mistake goes back to the form), then kept
/// in the session while the browser is at the provider.
async fn pledge_start(
    State(state): State<AppState>,
    session: Session,
    axum::Form(form): axum::Form<PledgeForm>,
) -> Response {
    let actor = match actor_or_login(&state, &session, "/verpflichtung").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let signing = service::Signing {
        text_id: form.text_id,
        text_sha256: form.text_sha256,
        typed_name: form.typed_name,
        confirmed: !form.confirm.trim().is_empty(),
    };
    if let Err(e) = service::check(&state, &actor, &signing).await {
        return match e {
            AppError::Invalid { .. } => back_to_pledge(&e),
            e => e.into_response(),
        };
    }
    let intent = sso::PledgeIntent {
        user_id: actor.user_id,
        org_id: actor.org_id,
        text_id: signing.text_id,
        text_sha256: signing.text_sha256.trim().to_owned(),
        typed_name: signing.typed_name,
    };
    let (url, pending) =
        match sso::begin_confirmation(&state, &actor, form.provider_id, intent).await {
            Ok(x) => x,
            Err(e) => return failure(e),
        };
    leave_for(&session, &state, pending, url).await
}

/// The pledge page again, with what was wrong with the signing.
fn back_to_pledge(e: &AppError) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            with_query("/verpflichtung", "fehler", &e.to_string()),
        )],
    )
        .into_response()
}

/// Back from the provider with a confirmation: checks it belongs to the
/// person signed in here, then signs (every pledge check runs again).
pub(crate) async fn confirm_pledge(
    state: &AppState,
    session: &Session,
    client: service::Client,
    pending: Pending,
    code: &str,
) -> Response {
    let actor = match actor_for_session(state, session).await {
        Ok(a) => a,
        // The session ended while the person was away: nothing is signed.
        Err(_) => return failure(SsoError::InvalidState),
    };
    let confirmed = match sso::finish_confirmation(state, &actor, pending, code).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let signing = service::Signing {
        text_id: confirmed.intent.text_id,
        text_sha256: confirmed.intent.text_sha256,
        typed_name: confirmed.intent.typed_name,
        confirmed: true,
    };
    match service::sign(
        state,
        &actor,
        signing,
        service::Confirmation::FreshSso {
            provider_name: confirmed.provider_name,
        },
        client,
    )
    .await
    {
        Ok(id) => {
            tracing::info!(
                user = actor.user_id,
                signature = id,
                "pledge signed, confirmed by SSO"
            );
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, "/verpflichtung")],
            )
                .into_response()
        }
        Err(e @ AppError::Invalid { .. }) => back_to_pledge(&e),
        Err(e) => e.into_response(),
    }
}
