//! The contract's plain route: the draft for one customer as PDF.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use crate::error::AppError;
use crate::http::{Caching, Download, actor_or_login};
use crate::ids::CustomerId;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/kunden/{id}/avv-entwurf.pdf", get(draft))
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
    match super::service::draft(&state.db, &actor, customer, state.now()).await {
        Ok(pdf) => Download::pdf(format!("AVV-Entwurf-Kunde-{customer}.pdf"))
            .inline()
            .caching(Caching::NoStore)
            .respond(pdf),
        Err(e) => e.into_response(),
    }
}
