//! Training routes outside the server functions: the quiz form (answers come
//! as repeated `q<n>` fields, which a plain HTML form sends and server
//! functions do not take), certificate downloads and the overview as CSV.

use app::error::AppError;
use app::state::AppState;
use app::training::service::{Answers, Outcome};
use axum::extract::{Path, Query, State};
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
        &state.signing,
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

/// `GET /schulungen/bild/{version}/{evidence}`: an image a course version
/// shows, streamed from evidence storage, for members who may read courses.
pub async fn image(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    Path((version_id, evidence_id)): Path<(i32, i32)>,
) -> Response {
    let actor = match app::auth::service::actor_for_session(&state, &session).await {
        Ok(a) => a,
        Err(e) => return error_response(e),
    };
    let v = match app::training::service::course_image(&state.db, &actor, version_id, evidence_id)
        .await
    {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    let etag = format!("\"{}\"", v.sha256);
    let cache = [
        (header::ETAG, etag.clone()),
        // Private: the session decides who sees it; an hour, then revalidated.
        (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let stream = match state.evidence.store.open(&v.sha256).await {
        Ok(s) => s,
        Err(e) => {
            return error_response(AppError::internal(format!(
                "evidence blob {}: {e}",
                v.sha256
            )));
        }
    };
    (
        [
            (header::CONTENT_TYPE, v.content_type.clone()),
            (header::CONTENT_LENGTH, v.size.to_string()),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        cache,
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// What the CSV lists: the overview page's filter and search, if given.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    zeigen: String,
    #[serde(default)]
    suche: String,
}

/// `GET /schulungen/uebersicht.csv` (admins and auditors): every matching
/// person, not one page.
pub async fn overview_csv(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Query(q): Query<CsvQuery>,
) -> Response {
    let actor = match actor_or_login(&state, &session, "/schulungen/uebersicht").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let query = app::training::OverviewQuery {
        show: app::training::Show::parse(&q.zeigen),
        search: q.suche,
        page: None,
    };
    match app::training::service::overview(&state.db, &actor, state.now(), &query).await {
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
