//! The contract's plain routes: the draft for one customer, the sealed offer
//! and the concluded contract as PDF, and acceptance confirmed by a fresh
//! single sign-on.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::service::{self, Which};
use crate::auth::service::Actor;
use crate::error::AppError;
use crate::http::{Caching, Download, actor_or_login, with_query};
use crate::ids::{CustomerId, OfferId, ProviderId};
use crate::net::Client;
use crate::sso::http::{BoxedResponse, failure, leave_by_link};
use crate::sso::service::{self as sso, Confirmed};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kunden/{id}/avv-entwurf.pdf", get(draft))
        .route("/avv-abschluss/{id}/angebot.pdf", get(offer_pdf))
        .route("/avv-abschluss/{id}/vertrag.pdf", get(concluded_pdf))
        .route("/avv-abschluss/sso", post(accept_start))
        .route("/avv-abschluss.csv", get(overview_csv))
}

/// `/kunden/3/avv-entwurf.pdf`: the contract as it would be offered now
/// (admins and auditors of the customer's organisation), never stored.
async fn draft(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let Ok(customer) = id.parse::<CustomerId>() else {
        return AppError::NotFound("Der Kunde".into()).into_response();
    };
    let back = format!("/kunden/{id}/avv-entwurf.pdf");
    let actor = match actor_or_login(&state, &session, &back).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match service::draft(&state.db, &actor, customer, state.now()).await {
        Ok(pdf) => Download::pdf(format!("AVV-Entwurf-Kunde-{customer}.pdf"))
            .inline()
            .caching(Caching::NoStore)
            .respond(pdf),
        Err(e) => e.into_response(),
    }
}

async fn offer_pdf(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    stored(&state, &session, &id, Which::Offer).await
}

async fn concluded_pdf(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    stored(&state, &session, &id, Which::Concluded).await
}

/// A stored contract PDF, byte for byte as sealed.
async fn stored(state: &AppState, session: &Session, id: &str, which: Which) -> Response {
    let Ok(offer) = id.parse::<OfferId>() else {
        return AppError::NotFound("Der Vertrag".into()).into_response();
    };
    let file = match which {
        Which::Offer => "angebot",
        Which::Concluded => "vertrag",
    };
    let back = format!("/avv-abschluss/{offer}/{file}.pdf");
    let actor = match actor_or_login(state, session, &back).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match service::pdf(&state.db, &actor, offer, which).await {
        Ok((number, pdf, sha256)) => {
            let name = match which {
                Which::Offer => format!("AVV-Angebot-{number}.pdf"),
                Which::Concluded => format!("AVV-abgeschlossen-Angebot-{number}.pdf"),
            };
            Download::pdf(name).inline().sha256(sha256).respond(pdf)
        }
        Err(e) => e.into_response(),
    }
}

/// The overview as CSV (admins and auditors).
async fn overview_csv(State(state): State<AppState>, session: Session) -> Response {
    let actor = match actor_or_login(&state, &session, "/avv-abschluss").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match service::overview(&state.db, &actor).await {
        Ok(o) => Download::csv("AVV-Abschluss.csv").respond(service::csv(&o.rows)),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct AcceptForm {
    offer_id: OfferId,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    typed_name: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    confirm: String,
    provider_id: ProviderId,
}

/// The name under which the server registers [`confirmed`] with single
/// sign-on.
pub const CONFIRM_KIND: &str = "contract";

/// An acceptance waiting for its confirmation at the provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Intent {
    offer_id: OfferId,
    sha256: String,
    typed_name: String,
    function: String,
}

/// `POST /avv-abschluss/sso`: a customer user without a password accepts
/// the contract and confirms it with a fresh login at their provider. The
/// acceptance is checked first (a mistake goes back to the portal), then
/// kept in the session while the browser is at the provider.
async fn accept_start(
    State(state): State<AppState>,
    session: Session,
    axum::Form(form): axum::Form<AcceptForm>,
) -> Response {
    let actor = match actor_or_login(&state, &session, "/portal").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let acceptance = service::Acceptance {
        offer_id: form.offer_id,
        sha256: form.sha256.trim().to_owned(),
        typed_name: form.typed_name,
        function: form.function,
        confirmed: !form.confirm.trim().is_empty(),
    };
    if let Err(e) = service::check(&state.db, &actor, &acceptance).await {
        return match e {
            AppError::Invalid { .. } | AppError::Refused(_) => back_to_portal(&e),
            e => e.into_response(),
        };
    }
    let intent = Intent {
        offer_id: acceptance.offer_id,
        sha256: acceptance.sha256,
        typed_name: acceptance.typed_name,
        function: acceptance.function,
    };
    match sso::begin_confirmation(
        &state,
        &actor,
        form.provider_id,
        CONFIRM_KIND,
        intent,
        "/portal",
    )
    .await
    {
        Ok((url, pending)) => leave_by_link(&session, &state, pending, url).await,
        Err(e) => failure(e),
    }
}

/// The portal again, with what was wrong with the acceptance.
fn back_to_portal(e: &AppError) -> Response {
    let mut to = with_query("/portal", "fehler", &e.to_string());
    if let Some(field) = e.field() {
        to = with_query(&to, "feld", field);
    }
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("{to}#avv"))],
    )
        .into_response()
}

/// Back from the provider, confirmed as the person signed in here: accepts,
/// and every check runs again.
pub fn confirmed(
    state: AppState,
    _session: Session,
    actor: Actor,
    confirmed: Confirmed,
    client: Client,
) -> BoxedResponse {
    Box::pin(async move { accept_confirmed(&state, &actor, confirmed, client).await })
}

async fn accept_confirmed(
    state: &AppState,
    actor: &Actor,
    confirmed: Confirmed,
    client: Client,
) -> Response {
    let Some(intent) = confirmed.intent.data::<Intent>() else {
        return failure(sso::SsoError::InvalidState);
    };
    let acceptance = service::Acceptance {
        offer_id: intent.offer_id,
        sha256: intent.sha256,
        typed_name: intent.typed_name,
        function: intent.function,
        confirmed: true,
    };
    let confirmation = service::Confirmation::FreshSso {
        provider_name: confirmed.provider_name,
        subject: confirmed.subject,
    };
    match service::accept(state, actor, acceptance, confirmation, client).await {
        Ok(id) => {
            tracing::info!(user = %actor.user_id, offer = %id, "contract accepted, confirmed by SSO");
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, "/portal?avv=angenommen#avv")],
            )
                .into_response()
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_))) => back_to_portal(&e),
        Err(e) => e.into_response(),
    }
}
