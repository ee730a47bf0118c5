//! The annex's plain routes for the organisation's own people: the draft
//! and every published version as PDF.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use crate::error::AppError;
use crate::http::{Caching, Download, actor_or_login};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/anlage/entwurf.pdf", get(draft))
        .route("/anlage/{file}", get(version))
}

/// The version in a file name like `v3.pdf`.
pub fn version_of(file: &str) -> Result<i32, AppError> {
    file.strip_prefix('v')
        .and_then(|f| f.strip_suffix(".pdf"))
        .and_then(|v| v.parse::<i32>().ok())
        .ok_or_else(|| AppError::NotFound("Die Datei".into()))
}

/// The draft annex of the signed-in person's organisation (admins, owners,
/// auditors), shown in the browser and never stored.
async fn draft(State(state): State<AppState>, session: Session) -> Response {
    let actor = match actor_or_login(&state, &session, "/anlage/entwurf.pdf").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !actor.role.previews_annex() {
        return AppError::Forbidden.into_response();
    }
    match super::service::draft_pdf(&state.db, actor.org_id, state.now()).await {
        Ok(pdf) => Download::pdf("TOM-Anlage-Entwurf.pdf")
            .inline()
            .caching(Caching::NoStore)
            .respond(pdf),
        Err(e) => e.into_response(),
    }
}

/// A published version of the annex, `/anlage/v3.pdf` (internal roles).
async fn version(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
) -> Response {
    let version = match version_of(&file) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let actor = match actor_or_login(&state, &session, &format!("/anlage/{file}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !actor.role.is_internal() {
        return AppError::Forbidden.into_response();
    }
    match state.published.get(&state.db, actor.org_id, version).await {
        Ok(file) => {
            Download::pdf(format!("TOM-Anlage-Version-{version}.pdf")).respond(file.pdf.clone())
        }
        Err(e) => e.into_response(),
    }
}
