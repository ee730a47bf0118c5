//! The evidence of a measure on its page: the files with validity and
//! versions, the upload form (an island: a progress bar when JavaScript
//! runs; a plain multipart form without), editing, hiding and, for admins,
//! purging.

use leptos::prelude::*;

use super::{
    DeleteEvidence, EvidenceView, MeasureEvidence, PurgeEvidence, UpdateEvidence, format_size,
    list_evidence,
};
use crate::error::AppError;
use crate::ids::{EvidenceId, MeasureId};
use crate::ui::{ErrorView, FormError, Loading};

#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateEvidence>,
    delete: ServerAction<DeleteEvidence>,
    purge: ServerAction<PurgeEvidence>,
}

/// The panel's list and the actions it reloads after. The page creates it
/// at its top, outside any `Suspend`, so the list is fetched once per render.
#[derive(Clone, Copy)]
pub struct EvidenceData {
    data: Resource<Result<MeasureEvidence, AppError>>,
    actions: Actions,
}

impl EvidenceData {
    /// `measure` is the measure whose evidence to list (none: not found).
    pub fn new(measure: impl Fn() -> Option<MeasureId> + Send + Sync + 'static) -> Self {
        let actions = Actions {
            update: ServerAction::new(),
            delete: ServerAction::new(),
            purge: ServerAction::new(),
        };
        let data = Resource::new(
            move || {
                (
                    measure(),
                    actions.update.version().get(),
                    actions.delete.version().get(),
                    actions.purge.version().get(),
                )
            },
            |(measure, ..)| crate::ui::for_measure(measure, list_evidence),
        );
        Self { data, actions }
    }
}

#[component]
pub fn EvidencePanel(measure_id: MeasureId, data: EvidenceData) -> impl IntoView {
    let EvidenceData { data, actions } = data;
    view! {
        <section class="card evidence" id="nachweise" data-test="evidence">
            <h2>"Nachweise"</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <Panel d measure_id actions /> }.into_any(),
                        Err(AppError::Forbidden) => {
                            view! { <p class="muted">"Nachweise sehen Verantwortliche, Prüfer und die Datenschutzbeauftragten."</p> }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Panel(d: MeasureEvidence, measure_id: MeasureId, actions: Actions) -> impl IntoView {
    let can_write = d.can_write;
    let max = d.max_bytes;
    view! {
        <FormError value=actions.update.value() unlinked=true />
        <FormError value=actions.delete.value() unlinked=true />
        <FormError value=actions.purge.value() unlinked=true />
        {actions
            .update
            .value()
            .with_untracked(|v| matches!(v, Some(Ok(_))))
            .then(|| view! { <crate::ui::Saved text="Angaben zum Nachweis gespeichert." /> })}
        {if d.items.is_empty() {
            view! { <p class="muted">"Für diese Maßnahme ist noch kein Nachweis hinterlegt."</p> }.into_any()
        } else {
            view! {
                <ul class="evidence-list">
                    {d
                        .items
                        .into_iter()
                        .map(|e| view! { <Item e can_write actions max /> })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
        {can_write
            .then(|| {
                view! {
                    <details class="upload-new" open=false data-test="upload-new">
                        <summary>"Nachweis hochladen"</summary>
                        <UploadForm measure_id=Some(measure_id) evidence_id=None max />
                    </details>
                }
            })}
        {(!d.hidden.is_empty())
            .then(|| {
                view! {
                    <details class="hidden-evidence">
                        <summary>{format!("Gelöschte Nachweise ({})", d.hidden.len())}</summary>
                        <p class="muted">
                            "Gelöschte Nachweise sind ausgeblendet, ihre Dateien aber noch gespeichert. Endgültiges Entfernen löscht die Dateien; das Protokoll behält ihre Prüfsummen."
                        </p>
                        <ul>
                            {d
                                .hidden
                                .into_iter()
                                .map(|h| {
                                    view! {
                                        <li>
                                            {h.title.clone()}
                                            <crate::ui::Confirm
                                                action="Endgültig entfernen …"
                                                consequence="Die Dateien dieses Nachweises werden gelöscht und lassen sich nicht wiederherstellen; das Protokoll behält ihre Prüfsummen."
                                            >
                                                <ActionForm action=actions.purge attr:class="inline">
                                                    <input type="hidden" name="id" value=h.id.to_string() />
                                                    <button type="submit" class="link danger">"Ja, endgültig entfernen"</button>
                                                </ActionForm>
                                            </crate::ui::Confirm>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </details>
                }
            })}
    }
}

#[component]
fn Item(e: EvidenceView, can_write: bool, actions: Actions, max: u64) -> impl IntoView {
    let current = e.versions.first().cloned();
    let older: Vec<_> = e.versions.iter().skip(1).cloned().collect();
    let id = e.id;
    // A refused save of this item's form (and only this one: the kept input
    // names the item) reopens it with what was typed and the message at
    // its field.
    let kept = crate::ui::kept::kept(<UpdateEvidence as server_fn::ServerFn>::PATH)
        .filter(|k| k.get("id") == Some(id.to_string().as_str()));
    let refused = kept.is_some();
    let was = |field: &str, stored: String| crate::ui::kept::or_stored(&kept, field, stored);
    let error_at = move |field: &str| {
        actions.update.value().with_untracked(|v| match v {
            Some(Err(e)) if refused && e.field() == Some(field) => Some(e.to_string()),
            _ => None,
        })
    };
    let field_error = move |field: &str, input: String| {
        error_at(field).map(|message| {
            view! { <p class="field-error" id=format!("{input}-error") data-test="field-error">{message}</p> }
        })
    };
    let aria = move |field: &str, input: &str| {
        let bad = error_at(field).is_some();
        (bad.then_some("true"), bad.then(|| format!("{input}-error")))
    };
    let (title_in, desc_in, from_in, until_in) = (
        format!("ev-title-{id}"),
        format!("ev-desc-{id}"),
        format!("ev-from-{id}"),
        format!("ev-until-{id}"),
    );
    let title = was("title", e.title.clone());
    let description = was("description", e.description.clone());
    let valid_from = was(
        "valid_from",
        e.valid_from.map(|d| d.to_string()).unwrap_or_default(),
    );
    let valid_until = was(
        "valid_until",
        e.valid_until.map(|d| d.to_string()).unwrap_or_default(),
    );
    let (title_invalid, title_described) = aria("title", &title_in);
    let (from_invalid, from_described) = aria("valid_from", &from_in);
    let (until_invalid, until_described) = aria("valid_until", &until_in);
    view! {
        <li class="evidence-item" data-validity=e.validity.as_str() data-test="evidence-item">
            <div class="evidence-head">
                <strong>{e.title.clone()}</strong>
                <span class=format!("badge validity-{}", e.validity.as_str()) data-test="validity">{e.validity.label()}</span>
                {e.valid_until.map(|d| view! { <span class="muted">{format!("gültig bis {}", crate::format::german_date(d))}</span> })}
            </div>
            {(!e.description.is_empty()).then(|| view! { <p>{e.description.clone()}</p> })}
            {current
                .map(|v| {
                    view! {
                        <p class="evidence-file">
                            <a href=format!("/nachweise/datei/{}", v.id) download=v.file_name.clone()>{v.file_name.clone()}</a>
                            {format!(
                                " · {} · Version {} · {} am {}",
                                format_size(v.size),
                                v.version,
                                v.uploaded_by,
                                v.uploaded_at,
                            )}
                            <br />
                            <small class="hash" title="SHA-256">{format!("SHA-256 {}", v.sha256)}</small>
                        </p>
                    }
                })}
            {(!older.is_empty())
                .then(|| {
                    view! {
                        <details>
                            <summary>{format!("Frühere Versionen ({})", older.len())}</summary>
                            <ul>
                                {older
                                    .into_iter()
                                    .map(|v| {
                                        view! {
                                            <li>
                                                <a href=format!("/nachweise/datei/{}", v.id) download=v.file_name.clone()>{format!("Version {}: {}", v.version, v.file_name)}</a>
                                                {format!(" · {} · {}", format_size(v.size), v.uploaded_at)}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </details>
                    }
                })}
            {can_write
                .then(|| {
                    view! {
                        <details class="evidence-edit" open=refused>
                            <summary>"Bearbeiten, neue Version, löschen"</summary>
                            <ActionForm action=actions.update attr:class="form">
                                <input type="hidden" name="id" value=id.to_string() />
                                <label for=title_in.clone() class="required">"Titel"</label>
                                <input
                                    id=title_in.clone()
                                    name="title"
                                    value=title
                                    required
                                    pattern=crate::ui::NOT_BLANK
                                    aria-invalid=title_invalid
                                    aria-describedby=title_described
                                />
                                {field_error("title", title_in)}
                                <label for=desc_in.clone()>"Beschreibung"</label>
                                <crate::ui::TextArea id=desc_in.clone() name="description" rows=2 value=description invalid=error_at("description").is_some() />
                                {field_error("description", desc_in)}
                                <label for=from_in.clone()>"Gültig ab"</label>
                                <input id=from_in.clone() type="date" name="valid_from" value=valid_from aria-invalid=from_invalid aria-describedby=from_described />
                                {field_error("valid_from", from_in)}
                                <label for=until_in.clone()>"Gültig bis"</label>
                                <input id=until_in.clone() type="date" name="valid_until" value=valid_until aria-invalid=until_invalid aria-describedby=until_described />
                                {field_error("valid_until", until_in)}
                                <button type="submit" class="button">"Speichern"</button>
                            </ActionForm>
                            <h3>"Neue Version hochladen"</h3>
                            <UploadForm measure_id=None evidence_id=Some(id) max />
                            <crate::ui::Confirm
                                action="Nachweis löschen …"
                                consequence="Der Nachweis wird ausgeblendet und zählt nicht mehr für die Maßnahme; seine Dateien bleiben gespeichert, bis ihn jemand endgültig entfernt."
                            >
                                <ActionForm action=actions.delete attr:class="inline">
                                    <input type="hidden" name="id" value=id.to_string() />
                                    <button type="submit" class="link danger">"Ja, löschen"</button>
                                </ActionForm>
                            </crate::ui::Confirm>
                        </details>
                    }
                })}
        </li>
    }
}

/// The upload form, an island. Without JavaScript it posts multipart to
/// the upload route and comes back to the measure; with JavaScript it sends
/// the same form by XMLHttpRequest, shows the upload progress, and reloads
/// the page it is on (the measure, or a review item) once the file is in.
#[island]
fn UploadForm(
    measure_id: Option<MeasureId>,
    evidence_id: Option<EvidenceId>,
    max: u64,
) -> impl IntoView {
    let progress = RwSignal::new(None::<f64>);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let key = evidence_id.map_or("neu".to_owned(), |i| i.to_string());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            upload_with_progress(ev, progress, error, done);
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = ev;
        }
    };
    view! {
        <form
            class="form upload"
            method="post"
            action="/nachweise/hochladen"
            enctype="multipart/form-data"
            on:submit=on_submit
        >
            {measure_id.map(|m| view! { <input type="hidden" name="measure_id" value=m.to_string() /> })}
            {evidence_id.map(|e| view! { <input type="hidden" name="evidence_id" value=e.to_string() /> })}
            {measure_id
                .is_some()
                .then(|| {
                    view! {
                        <label for=format!("up-title-{key}")>"Titel"</label>
                        <input id=format!("up-title-{key}") name="title" required pattern=crate::ui::NOT_BLANK placeholder="z. B. Prüfbericht Rücksicherung 2026" />
                        <label for=format!("up-desc-{key}")>"Beschreibung"</label>
                        <crate::ui::TextArea id=format!("up-desc-{key}") name="description" rows=2 />
                        <label for=format!("up-from-{key}")>"Gültig ab"</label>
                        <input id=format!("up-from-{key}") type="date" name="valid_from" />
                    }
                })}
            <label for=format!("up-until-{key}")>"Gültig bis"</label>
            <input id=format!("up-until-{key}") type="date" name="valid_until" />
            <label for=format!("up-file-{key}")>
                {format!("Datei (PDF, PNG, JPEG, WebP, TXT, CSV, DOCX, XLSX, ODT, ODS, EML; höchstens {} MB)", max / 1024 / 1024)}
            </label>
            <input id=format!("up-file-{key}") type="file" name="file" required />
            <button type="submit" class="button primary">"Hochladen"</button>
            {move || {
                progress
                    .get()
                    .map(|p| {
                        view! {
                            <div class="upload-progress" role="status" data-test="upload-progress">
                                <progress max="100" value=format!("{p:.0}")></progress>
                                <span>{format!("{p:.0} %")}</span>
                            </div>
                        }
                    })
            }}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || done.get().map(|d| view! { <p class="notice" role="status">{d}</p> })}
        </form>
    }
}

#[cfg(feature = "hydrate")]
fn upload_with_progress(
    ev: leptos::ev::SubmitEvent,
    progress: RwSignal<Option<f64>>,
    error: RwSignal<Option<String>>,
    done: RwSignal<Option<String>>,
) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    let Ok(data) = web_sys::FormData::new_with_form(&form) else {
        return;
    };
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return;
    };
    if xhr.open("POST", "/nachweise/hochladen").is_err() {
        return;
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    error.set(None);
    done.set(None);
    progress.set(Some(0.0));

    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                progress.set(Some(e.loaded() / e.total() * 100.0));
            }
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();

    let xhr_done = xhr.clone();
    let on_end = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| {
        let status = xhr_done.status().unwrap_or(0);
        let body = xhr_done.response_text().ok().flatten().unwrap_or_default();
        progress.set(None);
        if (200..300).contains(&status) {
            form.reset();
            done.set(Some("Hochgeladen. Die Seite wird neu geladen …".to_owned()));
            // The lists around the island (evidence, a review's choices)
            // are server-rendered: the page comes again with the new file.
            let _ = leptos::prelude::window().location().reload();
        } else if status == 0 {
            error.set(Some(
                "Die Verbindung zum Server wurde unterbrochen. Bitte versuchen Sie es erneut."
                    .to_owned(),
            ));
        } else {
            let message = serde_json::from_str::<AppError>(&body)
                .map(|e| e.to_string())
                .unwrap_or(body);
            error.set(Some(message));
        }
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    on_end.forget();
    if xhr.send_with_opt_form_data(Some(&data)).is_err() {
        progress.set(None);
        error.set(Some("Die Datei konnte nicht gesendet werden.".to_owned()));
    }
}
