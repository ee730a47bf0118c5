//! Anlage 2's plain route: a published version as PDF, for the
//! organisation's own people and its customers.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use crate::error::AppError;
use crate::http::{Download, actor_or_login};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/anlage2/{file}", get(version))
}

/// `/anlage2/v2.pdf`: every member of the organisation (customers
/// included) may read the list of its subprocessors; nobody else's.
async fn version(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
) -> Response {
    let Some(version) = file
        .strip_prefix('v')
        .and_then(|f| f.strip_suffix(".pdf"))
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return AppError::NotFound("Die Datei".into()).into_response();
    };
    let actor = match actor_or_login(&state, &session, &format!("/anlage2/{file}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match super::anlage2::pdf(&state.db, &actor, version).await {
        Ok((pdf, sha256)) => Download::pdf(format!("AVV-Anlage-2-Version-{version}.pdf"))
            .sha256(sha256)
            .respond(pdf),
        Err(e) => e.into_response(),
    }
}
