//! The register's downloads: `/verzeichnis.pdf`, `.xlsx` and `.csv`
//! (admins and auditors).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use super::service::{self, Format};
use crate::error::AppError;
use crate::http::{Caching, Download, actor_or_login};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/verzeichnis/{file}", get(download))
}

/// `/verzeichnis/art30.pdf` (or `.xlsx`, `.csv`): generated on request,
/// never cached.
async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
) -> Response {
    let Some(format) = file.strip_prefix("art30.").and_then(Format::parse) else {
        return AppError::NotFound("Die Datei".into()).into_response();
    };
    let actor = match actor_or_login(&state, &session, &format!("/verzeichnis/{file}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let bytes = match service::export(&state.db, &state.signing, &actor, format, state.now()).await
    {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let day = crate::format::german_day(state.now());
    let name = format!("Verzeichnis-Art30-Abs2-{day}");
    match format {
        Format::Pdf => Download::pdf(format!("{name}.pdf"))
            .caching(Caching::NoStore)
            .respond(bytes),
        Format::Csv => Download::csv(format!("{name}.csv")).respond(bytes),
        Format::Xlsx => Download::xlsx(format!("{name}.xlsx")).respond(bytes),
    }
}
