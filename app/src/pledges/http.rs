//! Pledges' plain routes: the signed copy as PDF, the DPO's overview as
//! CSV, and signing confirmed by a fresh single sign-on.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::service;
use crate::auth::service::Actor;
use crate::error::AppError;
use crate::http::{Download, actor_or_login, with_query};
use crate::ids::{PledgeTextId, ProviderId, SignatureId};
use crate::net::Client;
use crate::sso::http::{BoxedResponse, failure, leave_by_link};
use crate::sso::service::{self as sso, Confirmed};
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
        .and_then(|v| v.parse::<SignatureId>().ok())
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
    text_id: PledgeTextId,
    #[serde(default)]
    text_sha256: String,
    #[serde(default)]
    typed_name: String,
    #[serde(default)]
    confirm: String,
    provider_id: ProviderId,
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
    let intent = Intent {
        text_id: signing.text_id,
        text_sha256: signing.text_sha256.trim().to_owned(),
        typed_name: signing.typed_name,
    };
    let started = sso::begin_confirmation(
        &state,
        &actor,
        form.provider_id,
        CONFIRM_KIND,
        intent,
        "/verpflichtung",
    )
    .await;
    match started {
        Ok((url, pending)) => leave_by_link(&session, &state, pending, url).await,
        Err(e) => failure(e),
    }
}

/// The name under which the server registers [`confirmed`] with single
/// sign-on.
pub const CONFIRM_KIND: &str = "pledge";

/// A pledge signature waiting for its confirmation: checked before leaving
/// for the provider, kept in the server-side session, signed on return.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Intent {
    text_id: PledgeTextId,
    text_sha256: String,
    typed_name: String,
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

/// Back from the provider, confirmed as the person signed in here (single
/// sign-on checked that): signs, and every pledge check runs again.
pub fn confirmed(
    state: AppState,
    _session: Session,
    actor: Actor,
    confirmed: Confirmed,
    client: Client,
) -> BoxedResponse {
    Box::pin(async move { sign_confirmed(&state, &actor, confirmed, client).await })
}

async fn sign_confirmed(
    state: &AppState,
    actor: &Actor,
    confirmed: Confirmed,
    client: Client,
) -> Response {
    let Some(intent) = confirmed.intent.data::<Intent>() else {
        return failure(sso::SsoError::InvalidState);
    };
    let signing = service::Signing {
        text_id: intent.text_id,
        text_sha256: intent.text_sha256,
        typed_name: intent.typed_name,
        confirmed: true,
    };
    match service::sign(
        state,
        actor,
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
                user = %actor.user_id,
                signature = %id,
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
