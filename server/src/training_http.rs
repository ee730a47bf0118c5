//! Training routes outside the server functions: the quiz form (answers come
//! as repeated `q<n>` fields, which a plain HTML form sends and server
//! functions do not take), certificate downloads and the overview as CSV.

use app::error::AppError;
use app::state::AppState;
use app::training::service::{Answers, Outcome};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::startup::{actor_or_login, error_response};

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /schulungen/durchgang/{id}`: `version_id`, `aktion` (`speichern` or
/// `abgeben`) and the answers. Browsers are sent back to the attempt page
/// (with the error or "saved" in the query); API clients asking for JSON
/// get the outcome or the error with its status.
pub async fn answer(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    Path(id): Path<i32>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let page = format!("/schulungen/durchgang/{id}");
    let actor = match actor_or_login(&state, &session, &page).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(version_id) = get("version_id").and_then(|v| v.parse::<i32>().ok()) else {
        return error_response(AppError::BadRequest("version_id fehlt".into()));
    };
    let submit = get("aktion") == Some("abgeben");
    let answers: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k.starts_with('q'))
        .cloned()
        .collect();
    let result = app::training::service::answer(
        &state.db,
        state.now(),
        &actor,
        id,
        Answers {
            version_id,
            fields: answers,
            submit,
        },
    )
    .await;
    if wants_json(&headers) {
        return match result {
            Ok(Outcome::Saved) => axum::Json(serde_json::json!({ "saved": true })).into_response(),
            Ok(Outcome::Passed {
                score,
                max,
                completion_id,
            }) => axum::Json(serde_json::json!({
                "passed": true, "score": score, "max": max, "completion_id": completion_id,
            }))
            .into_response(),
            Ok(Outcome::Failed { score, max }) => {
                axum::Json(serde_json::json!({ "passed": false, "score": score, "max": max }))
                    .into_response()
            }
            Err(e) => {
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, axum::Json(e)).into_response()
            }
        };
    }
    match result {
        Ok(Outcome::Saved) => Redirect::to(&format!("{page}?gespeichert=1")).into_response(),
        Ok(_) => Redirect::to(&page).into_response(),
        Err(AppError::NotFound(what)) => error_response(AppError::NotFound(what)),
        Err(e) => {
            Redirect::to(&format!("{page}?fehler={}", urlencode(&e.to_string()))).into_response()
        }
    }
}

/// `GET /schulungen/zertifikat/{id}.pdf`: the stored certificate.
pub async fn certificate(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file
        .strip_suffix(".pdf")
        .and_then(|v| v.parse::<i32>().ok())
    else {
        return error_response(AppError::NotFound("Die Datei".into()));
    };
    let actor = match actor_or_login(
        &state,
        &session,
        &format!("/schulungen/zertifikat/{id}.pdf"),
    )
    .await
    {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app::training::service::certificate_pdf(&state.db, &actor, id).await {
        Ok(row) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"Teilnahmebescheinigung-{}.pdf\"",
                        row.id
                    ),
                ),
                (header::ETAG, format!("\"{}\"", row.certificate_sha256)),
                (header::CACHE_CONTROL, "private, no-cache".to_owned()),
            ],
            row.certificate_pdf,
        )
            .into_response(),
        Err(e) => error_response(e),
    }
}

/// `GET /schulungen/uebersicht.csv` (admins and auditors).
pub async fn overview_csv(
    State(state): State<AppState>,
    session: tower_sessions::Session,
) -> Response {
    let actor = match actor_or_login(&state, &session, "/schulungen/uebersicht").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app::training::service::overview(&state.db, &actor, state.now()).await {
        Ok(o) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"Schulungsstand.csv\"".to_owned(),
                ),
            ],
            app::training::service::csv(&o),
        )
            .into_response(),
        Err(e) => error_response(e),
    }
}
