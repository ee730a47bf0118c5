//! Reviews' plain routes: opening a cycle and assessing a measure with a
//! form post (browsers without JavaScript, scripts asking for JSON), and
//! the report as PDF.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{self, post};

use super::service::{self, Assessment, FindingInput, OpenInput};
use crate::error::AppError;
use crate::http::{Done, Download, Fields, actor_or_login, form_answer, with_query};
use crate::http::{field_ids as ids, form_field as get};
use crate::ids::{CycleId, ReviewItemId};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pruefungen/neu", post(open))
        .route("/pruefungen/bewertung/{id}", post(assess))
        .route("/pruefungen/{id}/bericht.pdf", routing::get(report))
}

/// `POST /pruefungen/neu`: `title`, `due_date`, `method`, `scope` (`all` or
/// `subset`) and, for a subset, repeated `m` (measure ids).
async fn open(
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
        service::open_cycle(&state.db, state.now(), &actor, input, &state.public_url).await
    }
    .await;
    let done = result.map(|id| Done {
        json: serde_json::json!({ "cycle_id": id }),
        then: with_query(
            &format!("/pruefungen/{id}"),
            "ok",
            "Der Prüfzyklus ist eröffnet; die Verantwortlichen wurden per E-Mail gebeten, ihre Maßnahmen zu bewerten.",
        ),
    });
    form_answer(&headers, "/pruefungen", done)
}

/// `POST /pruefungen/bewertung/{id}`: `version`, `result`, `tested`,
/// `rationale`, `state_of_art`, repeated `evidence`, an optional finding
/// (`finding_description`, `finding_action`, `finding_due_date`,
/// `finding_owner_id`) and `aktion` (`speichern` or `einreichen`).
async fn assess(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    Path(id): Path<ReviewItemId>,
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
        service::assess(&state.db, state.now(), &actor, id, input).await
    }
    .await;
    let message = if submit {
        "Die Bewertung ist zur Freigabe eingereicht."
    } else {
        "Der Entwurf ist gespeichert."
    };
    let done = result.map(|s| Done {
        json: serde_json::json!({ "state": s.as_str() }),
        then: with_query(&page, "ok", message),
    });
    form_answer(&headers, &page, done)
}

/// `GET /pruefungen/{id}/bericht.pdf` (admins and auditors): the signed
/// report; a draft while the cycle is open.
async fn report(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<CycleId>,
) -> Response {
    let actor = match actor_or_login(&state, &session, &format!("/pruefungen/{id}")).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match service::report_for(&state, &actor, id).await {
        Ok((pdf, name)) => Download::pdf(name).respond(pdf),
        Err(e) => e.into_response(),
    }
}
