//! Protokoll's plain route: the audit log as CSV, with the page's filter.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use tower_sessions::Session;

use crate::audit::{AuditEntry, AuditFilter};
use crate::error::AppError;
use crate::http::{Download, actor_or_login, csv, csv_rows};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/protokoll.csv", get(audit_csv))
}

/// Rows read per query while the file is written.
const CHUNK: u64 = 1000;

/// `GET /protokoll.csv?from&to&entity&action&actor` (admins and auditors):
/// every matching entry of the organisation, newest first, in the columns
/// of the page plus before and after in full. Written in parts of
/// [`CHUNK`] rows, so a long log never sits in memory as a whole.
async fn audit_csv(
    State(state): State<AppState>,
    session: Session,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let actor = match actor_or_login(&state, &session, "/protokoll").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if !actor.role.reads_audit_log() {
        return AppError::Forbidden.into_response();
    }
    let org = actor.org_id;
    let older = move |db: sea_orm::DatabaseConnection, filter: AuditFilter, before: Option<i64>| async move {
        crate::audit::service::list_older(&db, org, &filter, before, CHUNK).await
    };
    // The first part answers for the filter: a bad date is refused before
    // any byte of the file is sent.
    let first = match older(state.db.clone(), filter.clone(), None).await {
        Ok(rows) => rows,
        Err(e) => return e.into_response(),
    };
    let head = csv(&HEADER, std::iter::empty::<Vec<String>>());
    // Each next part starts below the last row written (not at an offset),
    // so rows written meanwhile neither repeat nor push rows out.
    let parts = futures::stream::unfold(Some(first), move |rows| {
        let (db, filter) = (state.db.clone(), filter.clone());
        async move {
            let rows = rows?;
            let last = rows.last()?.seq;
            let text = csv_rows(rows.iter().map(row));
            let next = match rows.len() as u64 == CHUNK {
                false => Some(Vec::new()),
                true => match older(db, filter, Some(last)).await {
                    Ok(more) => Some(more),
                    Err(e) => return Some((Err(e), None)),
                },
            };
            Some((Ok(text), next))
        }
    });
    let body = futures::stream::iter([Ok::<_, AppError>(head)])
        .chain(parts)
        .map(|part| part.map_err(std::io::Error::other));
    Download::csv("Protokoll.csv").respond(axum::body::Body::from_stream(body))
}

const HEADER: [&str; 8] = [
    "Nr.",
    "Zeit",
    "Person",
    "Objekt",
    "Objekt-Nr.",
    "Aktion",
    "Vorher",
    "Nachher",
];

fn row(e: &AuditEntry) -> Vec<String> {
    vec![
        e.seq.to_string(),
        e.at.to_string(),
        e.actor.clone(),
        e.entity_label(),
        e.entity_id.clone(),
        e.action_label(),
        e.before.clone().unwrap_or_default(),
        e.after.clone().unwrap_or_default(),
    ]
}
