//! The portal's plain route: a published annex for any member of the
//! organisation, customers included.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_sessions::Session;

use crate::annex::http::version_of;
use crate::annex::publish;
use crate::http::{Download, actor_or_login};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/portal/anlage/{file}", get(annex))
}

/// The stored bytes, an ETag (the SHA-256) for conditional GETs, and every
/// delivered download in the audit log (Weitergabekontrolle).
async fn annex(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let version = match version_of(&file) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let actor = match actor_or_login(&state, &session, &format!("/portal/anlage/{file}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let file = match state.published.get(&state.db, actor.org_id, version).await {
        Ok(file) => file,
        Err(e) => return e.into_response(),
    };
    // A download counts in the log only when the person made it here: a
    // navigation another site started (Sec-Fetch-Site cross-site or
    // same-site) could otherwise add download records at will. Such a
    // request is sent to the portal page, where one click downloads.
    if matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site" | "same-site")
    ) {
        return Redirect::to("/portal").into_response();
    }
    let download =
        Download::pdf(format!("TOM-Anlage-Version-{version}.pdf")).sha256(file.sha256.clone());
    if download.unchanged_for(&headers) {
        return download.not_modified();
    }
    // The bytes are at hand: only what can be delivered is logged.
    if let Err(e) = publish::log_download(&state.audit, state.now(), &actor, &file).await {
        return e.into_response();
    }
    download.respond(file.pdf.clone())
}
