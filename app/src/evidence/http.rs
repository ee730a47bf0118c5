//! Evidence over HTTP: the streaming upload (multipart, from the browser's
//! form or a script) and the download. Neither holds a file in memory: the
//! upload is hashed and counted chunk by chunk into a staging file (see
//! [`super::upload`]), the download streams from the store.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::UploadResult;
use super::service::{self, Meta, Target};
use super::sniff;
use super::upload::{Spooled, Spooler, default_title, store_and_record};
use crate::auth::service::{Actor, actor_for_session};
use crate::error::AppError;
use crate::http::{Action, ResultPage, json_error, status_of, wants_json, with_query};
use crate::ids::EvidenceVersionId;
use crate::state::AppState;

/// Largest text field of the form.
const MAX_FIELD: usize = 64 * 1024;
/// After the limit is hit, the rest of the body is read and discarded (so
/// the client gets to read the 413) up to this many bytes more.
const DRAIN: u64 = 256 * 1024 * 1024;

/// The download. The upload is separate: it streams and counts itself, so
/// the server adds it outside the general body limits.
pub fn routes() -> Router<AppState> {
    Router::new().route("/nachweise/datei/{id}", get(download))
}

/// `POST /nachweise/hochladen`, without a body limit of its own (see
/// [`routes`]).
pub fn upload_routes() -> Router<AppState> {
    Router::new().route(
        "/nachweise/hochladen",
        post(upload).layer(axum::extract::DefaultBodyLimit::disable()),
    )
}

/// An error as JSON (scripts, the hydrated page) or as a small page with
/// a way back (the form without JavaScript).
fn fail(e: AppError, json: bool) -> Response {
    if json {
        return json_error(e);
    }
    ResultPage {
        title: "Hochladen fehlgeschlagen",
        de: &e.to_string(),
        en: "The upload failed; the file was not stored.",
        action: Action::None,
        back: ("/massnahmen", "Zum Maßnahmenkatalog"),
    }
    .respond(status_of(&e))
}

/// `POST /nachweise/hochladen` (multipart): fields `measure_id` (new item)
/// or `evidence_id` (new version), `title`, `description`, `valid_from`,
/// `valid_until`, and `file`.
async fn upload(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let json = wants_json(&headers);
    let actor = match actor_for_session(&state, &session).await {
        Ok(a) => a,
        Err(e) => return fail(e, json),
    };
    if !actor.role.writes_evidence() {
        return fail(AppError::Forbidden, json);
    }
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => return fail(AppError::BadRequest(e.body_text()), json),
    };
    match receive(&state, &mut multipart).await {
        Ok((fields, Some(file))) => match finish(&state, &actor, fields, file).await {
            Ok(res) if json => (StatusCode::CREATED, axum::Json(res)).into_response(),
            Ok(res) => match res.measure_id {
                Some(m) => Redirect::to(&format!("/massnahmen/{m}#nachweise")).into_response(),
                None => Redirect::to("/unterauftragsverarbeiter").into_response(),
            },
            Err(e) => fail(e, json),
        },
        Ok((_, None)) => fail(
            AppError::invalid("file", "Bitte wählen Sie eine Datei aus."),
            json,
        ),
        Err(e) => fail(e, json),
    }
}

/// Reads the form: text fields into a map, the file into a staging file.
async fn receive(
    state: &AppState,
    multipart: &mut Multipart,
) -> Result<(HashMap<String, String>, Option<Spooled>), AppError> {
    let max = state.evidence.max_bytes;
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut fields = HashMap::new();
    let mut file: Option<Spooled> = None;
    let mut drained: Option<u64> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if let Some(d) = drained.as_mut() {
            // Over the limit already: discard the rest of the request.
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                *d += chunk.len() as u64;
                if *d > DRAIN {
                    break;
                }
            }
            continue;
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                value.extend_from_slice(&chunk);
                if value.len() > MAX_FIELD {
                    return Err(AppError::invalid(&name, "Dieses Feld ist zu lang."));
                }
            }
            let value = String::from_utf8(value)
                .map_err(|_| AppError::BadRequest(format!("field `{name}` is not UTF-8")))?;
            fields.insert(name, value);
            continue;
        }
        if file.is_some() {
            return Err(AppError::BadRequest("only one file per upload".into()));
        }
        let file_name = sniff::sanitize_file_name(field.file_name().unwrap_or_default());
        let mut spooler = Spooler::new(state.evidence.store.as_ref(), file_name).await?;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            if !spooler.write(&chunk, max).await? {
                drained = Some(spooler.size());
                break;
            }
        }
        if let Some(d) = drained.as_mut() {
            drop(spooler); // removes the partial file now
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                *d += chunk.len() as u64;
                if *d > max + DRAIN {
                    break;
                }
            }
            continue;
        }
        file = Some(spooler.finish().await?);
    }
    if drained.is_some() {
        return Err(AppError::TooLarge(format!(
            "Die Datei ist zu groß: Nachweise dürfen höchstens {} MB groß sein. Es wurde nichts gespeichert.",
            max / 1024 / 1024
        )));
    }
    Ok((fields, file))
}

/// The target the form names: a new version of `evidence_id`, or a new
/// item on `measure_id` (titled after the file when no title is given).
fn target_from_fields(
    fields: &HashMap<String, String>,
    file_name: &str,
) -> Result<Target, AppError> {
    let get = |k: &str| fields.get(k).map(|s| s.trim()).unwrap_or("");
    if !get("evidence_id").is_empty() {
        let evidence_id = get("evidence_id")
            .parse()
            .map_err(|_| AppError::BadRequest("evidence_id is not a number".into()))?;
        let valid_until = if get("valid_until").is_empty() {
            None
        } else {
            Some(Meta::parse("x", "", "", get("valid_until"))?.valid_until)
        };
        return Ok(Target::Version {
            evidence_id,
            valid_until,
        });
    }
    let title = if get("title").is_empty() {
        default_title(file_name)
    } else {
        get("title").to_owned()
    };
    let meta = Meta::parse(
        &title,
        get("description"),
        get("valid_from"),
        get("valid_until"),
    )?;
    if !get("attestation_id").is_empty() {
        let attestation_id = get("attestation_id")
            .parse()
            .map_err(|_| AppError::BadRequest("attestation_id is not a number".into()))?;
        return Ok(Target::Attestation {
            attestation_id,
            meta,
        });
    }
    let measure_id = get("measure_id")
        .parse()
        .map_err(|_| AppError::invalid("measure_id", "Bitte wählen Sie eine Maßnahme."))?;
    Ok(Target::New {
        measure_id: Some(measure_id),
        meta,
    })
}

async fn finish(
    state: &AppState,
    actor: &Actor,
    fields: HashMap<String, String>,
    file: Spooled,
) -> Result<UploadResult, AppError> {
    let target = target_from_fields(&fields, file.file_name())?;
    store_and_record(
        &state.db,
        state.evidence.store.as_ref(),
        state.now(),
        &actor.audit(),
        actor.org_id,
        target,
        file,
    )
    .await
}

/// `GET /nachweise/datei/{version_id}`: always an attachment, with the
/// stored (sniffed) content type, never rendered by the browser.
async fn download(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<String>,
) -> Response {
    let actor = match actor_for_session(&state, &session).await {
        Ok(a) => a,
        Err(AppError::Unauthenticated) => {
            return Redirect::to(&with_query(
                "/login",
                "next",
                &format!("/nachweise/datei/{id}"),
            ))
            .into_response();
        }
        Err(e) => return json_error(e),
    };
    let Ok(version_id) = id.parse::<EvidenceVersionId>() else {
        return json_error(AppError::NotFound("Die Datei".into()));
    };
    let v = match service::downloadable(&state.db, &actor, version_id).await {
        Ok(v) => v,
        Err(e) => return json_error(e),
    };
    let stream = match state.evidence.store.open(&v.sha256).await {
        Ok(s) => s,
        Err(e) => {
            return json_error(AppError::internal(format!(
                "evidence blob {}: {e}",
                v.sha256
            )));
        }
    };
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, &v.content_type);
    set(h, header::CONTENT_LENGTH, &v.size.to_string());
    set(
        h,
        header::CONTENT_DISPOSITION,
        &sniff::content_disposition(&v.file_name),
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox",
    );
    set(h, header::CACHE_CONTROL, "private, no-store");
    set(h, header::ETAG, &format!("\"{}\"", v.sha256));
    res
}
