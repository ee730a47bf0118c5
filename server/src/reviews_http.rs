//! Review routes outside the server functions: opening a cycle and
//! submitting an assessment (their checkbox lists repeat a field name, which
//! a plain HTML form sends and server functions do not take), and the report
//! download. Browsers are sent back to the page with the outcome in the
//! query; API clients asking for JSON get it with its status.

use app::error::AppError;
use app::reviews::service::{Assessment, FindingInput, OpenInput};
use app::state::AppState;
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

type Fields = Vec<(String, String)>;

fn get<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn ids(fields: &Fields, name: &str) -> Result<Vec<i32>, AppError> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| {
            v.trim()
                .parse::<i32>()
                .map_err(|_| AppError::BadRequest(format!("{name}: keine Nummer")))
        })
        .collect()
}

fn answer(
    json: bool,
    result: Result<serde_json::Value, AppError>,
    ok: String,
    back: &str,
) -> Response {
    if json {
        return match result {
            Ok(v) => axum::Json(v).into_response(),
            Err(e) => {
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, axum::Json(e)).into_response()
            }
        };
    }
    match result {
        Ok(_) => Redirect::to(&ok).into_response(),
        Err(AppError::NotFound(what)) => error_response(AppError::NotFound(what)),
        Err(e) => {
            Redirect::to(&format!("{back}?fehler={}", urlencode(&e.to_string()))).into_response()
        }
    }
}

/// `POST /pruefungen/neu`: `title`, `due_date`, `method`, `scope` (`all` or
/// `subset`) and, for a subset, repeated `m` (measure ids).
pub async fn open(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let actor = match actor_or_login(&state, &session, "/pruefungen").await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let result = async {
        let measures = if get(&fields, "scope") == "subset" {
            Some(ids(&fields, "m")?)
        } else {
            None
        };
        let input = OpenInput {
            title: get(&fields, "title").to_owned(),
            due_date: get(&fields, "due_date").to_owned(),
            method: get(&fields, "method").to_owned(),
            measures,
        };
        app::reviews::service::open_cycle(&state.db, state.now(), &actor, input, &state.public_url)
            .await
    }
    .await;
    let ok = match &result {
        Ok(id) => format!(
            "/pruefungen/{id}?ok={}",
            urlencode(
                "Der Prüfzyklus ist eröffnet; die Verantwortlichen wurden per E-Mail gebeten, ihre Maßnahmen zu bewerten."
            )
        ),
        Err(_) => String::new(),
    };
    answer(
        wants_json(&headers),
        result.map(|id| serde_json::json!({ "cycle_id": id })),
        ok,
        "/pruefungen",
    )
}

/// `POST /pruefungen/bewertung/{id}`: `version`, `result`, `tested`,
/// `rationale`, `state_of_art`, repeated `evidence`, an optional finding
/// (`finding_description`, `finding_action`, `finding_due_date`,
/// `finding_owner_id`) and `aktion` (`speichern` or `einreichen`).
pub async fn assess(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    Path(id): Path<i32>,
    axum::Form(fields): axum::Form<Fields>,
) -> Response {
    let page = format!("/pruefungen/bewertung/{id}");
    let actor = match actor_or_login(&state, &session, &page).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let submit = get(&fields, "aktion") == "einreichen";
    let result = async {
        let version = get(&fields, "version")
            .parse::<i32>()
            .map_err(|_| AppError::BadRequest("version fehlt".into()))?;
        let input = Assessment {
            version,
            result: get(&fields, "result").to_owned(),
            tested: get(&fields, "tested").to_owned(),
            rationale: get(&fields, "rationale").to_owned(),
            state_of_art: get(&fields, "state_of_art").to_owned(),
            evidence: ids(&fields, "evidence")?,
            finding: FindingInput::optional(
                get(&fields, "finding_description"),
                get(&fields, "finding_action"),
                get(&fields, "finding_due_date"),
                get(&fields, "finding_owner_id"),
            )?,
            submit,
        };
        app::reviews::service::assess(&state.db, state.now(), &actor, id, input).await
    }
    .await;
    let message = if submit {
        "Die Bewertung ist zur Freigabe eingereicht."
    } else {
        "Der Entwurf ist gespeichert."
    };
    answer(
        wants_json(&headers),
        result.map(|s| serde_json::json!({ "state": s.as_str() })),
        format!("{page}?ok={}", urlencode(message)),
        &page,
    )
}

/// `GET /pruefungen/{id}/bericht.pdf` (admins and auditors): the signed
/// report; a draft while the cycle is open.
pub async fn report(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<i32>,
) -> Response {
    let actor = match actor_or_login(&state, &session, &format!("/pruefungen/{id}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match app::reviews::service::report_for(&state, &actor, id).await {
        Ok((pdf, name)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (header::CACHE_CONTROL, "private, no-cache".to_owned()),
                (
                    header::HeaderName::from_static("x-content-type-options"),
                    "nosniff".to_owned(),
                ),
            ],
            pdf,
        )
            .into_response(),
        Err(e) => error_response(e),
    }
}
