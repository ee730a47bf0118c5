//! Training's plain routes: answering an attempt without JavaScript, the
//! certificate, course images and the overview as CSV.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::service::{self, Answers, Outcome};
use super::{OverviewQuery, Show};
use crate::auth::service::actor_for_session;
use crate::error::AppError;
use crate::http::{Done, Download, actor_or_login, form_answer};
use crate::ids::{AttemptId, CompletionId, CourseVersionId, EvidenceId};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/schulungen/durchgang/{id}", post(answer))
        .route("/schulungen/zertifikat/{file}", get(certificate))
        .route("/schulungen/bild/{version}/{evidence}", get(image))
        .route("/schulungen/uebersicht.csv", get(overview_csv))
}

/// `POST /schulungen/durchgang/{id}`: `version_id`, `aktion` (`speichern` or
/// `abgeben`) and the answers. Browsers are sent back to the attempt page
/// (with the error or "saved" in the query); API clients asking for JSON
/// get the outcome or the error with its status.
async fn answer(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    Path(id): Path<AttemptId>,
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
    let Some(version_id) = get("version_id").and_then(|v| v.parse::<CourseVersionId>().ok()) else {
        return AppError::BadRequest("version_id fehlt".into()).into_response();
    };
    let submit = get("aktion") == Some("abgeben");
    let answers: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k.starts_with('q'))
        .cloned()
        .collect();
    let result = service::answer(
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
    let done = result.map(|outcome| match outcome {
        Outcome::Saved => Done {
            json: serde_json::json!({ "saved": true }),
            then: format!("{page}?gespeichert=1"),
        },
        Outcome::Passed {
            score,
            max,
            completion_id,
        } => Done {
            json: serde_json::json!({
                "passed": true, "score": score, "max": max, "completion_id": completion_id,
            }),
            then: page.clone(),
        },
        Outcome::Failed { score, max } => Done {
            json: serde_json::json!({ "passed": false, "score": score, "max": max }),
            then: page.clone(),
        },
    });
    form_answer(&headers, &page, done)
}

/// `GET /schulungen/zertifikat/{id}.pdf`: the stored certificate.
async fn certificate(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file
        .strip_suffix(".pdf")
        .and_then(|v| v.parse::<CompletionId>().ok())
    else {
        return AppError::NotFound("Die Datei".into()).into_response();
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
    match service::certificate_pdf(&state.db, &actor, id).await {
        Ok(row) => Download::pdf(format!("Teilnahmebescheinigung-{}.pdf", row.id))
            .sha256(row.certificate_sha256)
            .respond(row.certificate_pdf),
        Err(e) => e.into_response(),
    }
}

/// `GET /schulungen/bild/{version}/{evidence}`: an image a course version
/// shows, streamed from evidence storage, for members who may read courses.
async fn image(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    Path((version_id, evidence_id)): Path<(CourseVersionId, EvidenceId)>,
) -> Response {
    let actor = match actor_for_session(&state, &session).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let v = match service::course_image(&state.db, &actor, version_id, evidence_id).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
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
            return AppError::internal(format!("evidence blob {}: {e}", v.sha256)).into_response();
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
struct CsvQuery {
    #[serde(default)]
    zeigen: String,
    #[serde(default)]
    suche: String,
}

/// `GET /schulungen/uebersicht.csv` (admins and auditors): every matching
/// person, not one page.
async fn overview_csv(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Query(q): Query<CsvQuery>,
) -> Response {
    let actor = match actor_or_login(&state, &session, "/schulungen/uebersicht").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let query = OverviewQuery {
        show: Show::parse(&q.zeigen),
        search: q.suche,
        page: None,
    };
    match service::overview(&state.db, &actor, state.now(), &query).await {
        Ok(o) => Download::csv("Schulungsstand.csv").respond(service::csv(&o)),
        Err(e) => e.into_response(),
    }
}
