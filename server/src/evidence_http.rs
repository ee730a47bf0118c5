//! Evidence over HTTP: the streaming upload (multipart, from the browser's
//! form or a script) and the download. Neither holds a file in memory: the
//! upload is hashed and counted chunk by chunk into a staging file, the
//! download streams from the store.

use std::collections::HashMap;

use app::error::AppError;
use app::evidence::service::{self, Meta, StoredBlob, Target};
use app::evidence::sniff;
use app::evidence::store::Staged;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Bytes of the file kept for sniffing its type.
const HEAD: usize = 256 * 1024;
/// Largest text field of the form.
const MAX_FIELD: usize = 64 * 1024;
/// After the limit is hit, the rest of the body is read and discarded (so
/// the client gets to read the 413) up to this many bytes more.
const DRAIN: u64 = 256 * 1024 * 1024;

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// An error as JSON (scripts, the hydrated page) or as a small HTML page
/// with a way back (the form without JavaScript).
fn fail(e: AppError, json: bool) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if json {
        return (status, axum::Json(e)).into_response();
    }
    let msg = app::mail::templates::esc(&e.to_string());
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>Hochladen fehlgeschlagen · Nachweis</title></head>\
             <body><main><h1>Hochladen fehlgeschlagen</h1><p role=\"alert\">{msg}</p>\
             <p><a href=\"javascript:history.back()\">Zurück</a> · <a href=\"/massnahmen\">Zum Maßnahmenkatalog</a></p></main></body></html>"
        ),
    )
        .into_response()
}

/// An upload spooled to a staging file, hashed and counted.
pub struct Spooled {
    staged: Staged,
    sha256: String,
    size: u64,
    head: Vec<u8>,
    file_name: String,
}

/// `POST /nachweise/hochladen` (multipart): fields `measure_id` (new item)
/// or `evidence_id` (new version), `title`, `description`, `valid_from`,
/// `valid_until`, and `file`.
pub async fn upload(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let json = wants_json(&headers);
    let actor = match app::auth::service::actor_for_session(&state, &session).await {
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
        let staged = Staged::new_in(state.evidence.store.staging_dir());
        let mut out = tokio::fs::File::create(staged.path())
            .await
            .map_err(AppError::internal)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut head = Vec::with_capacity(HEAD.min(64 * 1024));
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            size += chunk.len() as u64;
            if size > max {
                drained = Some(size);
                break;
            }
            hasher.update(&chunk);
            if head.len() < HEAD {
                let take = (HEAD - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            out.write_all(&chunk).await.map_err(AppError::internal)?;
        }
        if let Some(d) = drained.as_mut() {
            drop(out);
            drop(staged); // removes the partial file now
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                *d += chunk.len() as u64;
                if *d > max + DRAIN {
                    break;
                }
            }
            continue;
        }
        out.flush().await.map_err(AppError::internal)?;
        out.sync_all().await.map_err(AppError::internal)?;
        file = Some(Spooled {
            staged,
            sha256: hex::encode(hasher.finalize()),
            size,
            head,
            file_name,
        });
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

/// The file name without its extension.
pub fn default_title(file_name: &str) -> String {
    file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem)
        .to_owned()
}

async fn finish(
    state: &AppState,
    actor: &app::auth::service::Actor,
    fields: HashMap<String, String>,
    file: Spooled,
) -> Result<app::evidence::UploadResult, AppError> {
    let target = target_from_fields(&fields, &file.file_name)?;
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

/// Checks the type and the target, moves the spooled file into the store,
/// then writes the rows: a row never exists without its file.
pub async fn store_and_record(
    db: &sea_orm::DatabaseConnection,
    store: &dyn app::evidence::store::BlobStore,
    now: chrono::DateTime<chrono::Utc>,
    actor: &app::audit::service::AuditActor,
    org_id: i32,
    target: Target,
    file: Spooled,
) -> Result<app::evidence::UploadResult, AppError> {
    let content_type = sniff::content_type(&file.head, &file.file_name)
        .map_err(|r| AppError::UnsupportedType(r.0))?;
    service::check_target(db, org_id, &target).await?;
    store
        .put_file(&file.sha256, file.staged.path())
        .await
        .map_err(AppError::internal)?;
    file.staged.keep();
    service::record_upload(
        db,
        now,
        actor,
        org_id,
        target,
        StoredBlob {
            sha256: file.sha256,
            size: file.size as i64,
            content_type: content_type.to_owned(),
            file_name: file.file_name,
        },
    )
    .await
}

/// Copies a local file into the staging area, hashing and counting it
/// (the command-line upload).
pub async fn spool_path(
    store: &dyn app::evidence::store::BlobStore,
    path: &std::path::Path,
    max: u64,
) -> Result<Spooled, AppError> {
    use tokio::io::AsyncReadExt;
    let mut input = tokio::fs::File::open(path)
        .await
        .map_err(|e| AppError::BadRequest(format!("{}: {e}", path.display())))?;
    let file_name = sniff::sanitize_file_name(&path.to_string_lossy());
    let staged = Staged::new_in(store.staging_dir());
    let mut out = tokio::fs::File::create(staged.path())
        .await
        .map_err(AppError::internal)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = input.read(&mut buf).await.map_err(AppError::internal)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > max {
            return Err(AppError::TooLarge(format!(
                "Die Datei ist zu groß: Nachweise dürfen höchstens {} MB groß sein.",
                max / 1024 / 1024
            )));
        }
        hasher.update(&buf[..n]);
        if head.len() < HEAD {
            let take = (HEAD - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        out.write_all(&buf[..n]).await.map_err(AppError::internal)?;
    }
    out.sync_all().await.map_err(AppError::internal)?;
    Ok(Spooled {
        staged,
        sha256: hex::encode(hasher.finalize()),
        size,
        head,
        file_name,
    })
}

/// `GET /nachweise/datei/{version_id}`: always an attachment, with the
/// stored (sniffed) content type, never rendered by the browser.
pub async fn download(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    Path(id): Path<String>,
) -> Response {
    let actor = match app::auth::service::actor_for_session(&state, &session).await {
        Ok(a) => a,
        Err(AppError::Unauthenticated) => {
            return Redirect::to(&format!("/login?next=/nachweise/datei/{id}")).into_response();
        }
        Err(e) => return fail(e, true),
    };
    let Ok(version_id) = id.parse::<i32>() else {
        return fail(AppError::NotFound("Die Datei".into()), true);
    };
    let v = match service::downloadable(&state.db, &actor, version_id).await {
        Ok(v) => v,
        Err(e) => return fail(e, true),
    };
    let stream = match state.evidence.store.open(&v.sha256).await {
        Ok(s) => s,
        Err(e) => {
            return fail(
                AppError::internal(format!("evidence blob {}: {e}", v.sha256)),
                true,
            );
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
