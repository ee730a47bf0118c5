//! Importing an existing TOM document: paste, check the mapping, import.
//! The page is server-rendered; the workbench (file, text, mapping) is an
//! island, the one part of it that needs the browser.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{ApplyImport, ImportPreview, PreviewImport};
use crate::ui::FormError;

#[component]
pub fn ImportPage() -> impl IntoView {
    view! {
        <Title text="TOM-Dokument importieren" />
        <section class="page wide">
            <p class="crumbs">
                <a href="/massnahmen">"Maßnahmenkatalog"</a>
            </p>
            <h1>"Bestehendes TOM-Dokument importieren"</h1>
            <p class="lead">
                "Fügen Sie Ihre bisherige Anlage als Text oder Markdown ein (aus Word: alles markieren, kopieren). Überschriften wie „Zutrittskontrolle“, „a) Zugangskontrolle“ oder „Input control“ werden nach ihrer Bedeutung den Kategorien zugeordnet; jeder Absatz und jeder Aufzählungspunkt wird eine Maßnahme. Sie prüfen die Zuordnung, bevor etwas gespeichert wird."
            </p>
            <noscript>
                <p class="notice warning">
                    "Die Vorschau der Zuordnung braucht JavaScript. Ohne JavaScript importieren Sie mit „nachweis tom import“ auf dem Server."
                </p>
            </noscript>
            <ImportWorkbench />
        </section>
    }
}

/// The text (pasted or loaded from a file), its mapping and the import.
#[island]
fn ImportWorkbench() -> impl IntoView {
    let preview = ServerAction::<PreviewImport>::new();
    let apply = ServerAction::<ApplyImport>::new();
    let text = RwSignal::new(String::new());
    let file_error = RwSignal::new(None::<String>);
    // The file picker needs the browser; without JavaScript the text is pasted.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    view! {
            <ActionForm action=preview attr:class="form" attr:id="import-preview-form">
                <Show when=move || mounted.get()>
                    <label for="import-file">"Datei laden (Markdown oder Text)"</label>
                    <input
                        id="import-file"
                        type="file"
                        accept=".md,.markdown,.txt,text/plain,text/markdown"
                        on:change=move |ev| load_file(ev, text, file_error)
                    />
                    {move || file_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                </Show>
                <label for="import-text">"Text des Dokuments"</label>
                <textarea
                    id="import-text"
                    name="text"
                    rows="14"
                    required
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
                <FormError value=preview.value() />
                <button type="submit" class="button">
                    "Zuordnung anzeigen"
                </button>
            </ActionForm>
            {move || {
                preview
                    .value()
                    .get()
                    .and_then(|r| r.ok())
                    .map(|p| view! { <Mapping p text=text.get_untracked() apply /> })
            }}
            {move || {
                apply
                    .value()
                    .get()
                    .and_then(|r| r.ok())
                    .map(|s| {
                        view! {
                            <div class="notice success" role="status" id="import-done" data-test="import-done">
                                <p>
                                    {format!(
                                        "{} Maßnahmen importiert{}{}.",
                                        s.measures,
                                        if s.intro { ", Einleitungstext übernommen" } else { "" },
                                        if s.skipped > 0 { format!(", {} Abschnitte bewusst nicht übernommen", s.skipped) } else { String::new() },
                                    )}
                                </p>
                                <ul>
                                    {s
                                        .per_category
                                        .into_iter()
                                        .map(|(label, n)| view! { <li>{format!("{label}: {n}")}</li> })
                                        .collect_view()}
                                </ul>
                                <p>
                                    <a href="/massnahmen">"Zum Maßnahmenkatalog"</a>
                                </p>
                            </div>
                        }
                    })
            }}
    }
}

/// Reads the chosen file into the text field (in the browser).
#[allow(unused_variables)]
fn load_file(ev: leptos::ev::Event, text: RwSignal<String>, error: RwSignal<Option<String>>) {
    #[cfg(feature = "hydrate")]
    {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|list| list.get(0)) else {
            return;
        };
        if file.size() > 1024.0 * 1024.0 {
            error.set(Some(
                "Die Datei ist größer als 1 MB. Eine TOM-Anlage als Text ist viel kleiner: bitte als Markdown oder reinen Text speichern.".into(),
            ));
            return;
        }
        error.set(None);
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(value) => text.set(value.as_string().unwrap_or_default()),
                Err(_) => error.set(Some("Die Datei konnte nicht gelesen werden.".into())),
            }
        });
    }
}

#[component]
fn Mapping(p: ImportPreview, text: String, apply: ServerAction<ApplyImport>) -> impl IntoView {
    let options = p.options.clone();
    view! {
        <h2>"Zuordnung prüfen"</h2>
        {if p.unmapped > 0 {
            view! {
                <p class="notice warning" role="alert" id="unmapped-count" data-test="unmapped-count">
                    {format!(
                        "{} Abschnitt(e) ließen sich keiner Kategorie zuordnen. Sie sind unten markiert: bitte wählen Sie eine Kategorie oder „Nicht übernehmen“.",
                        p.unmapped,
                    )}
                </p>
            }
                .into_any()
        } else {
            view! { <p>"Alle Abschnitte wurden zugeordnet. Prüfen Sie die Zuordnung und importieren Sie."</p> }.into_any()
        }}
        <ActionForm action=apply attr:class="form" attr:id="import-apply-form" attr:data-test="import-apply-form">
            <input type="hidden" name="text" value=text />
            <table class="table import">
                <thead>
                    <tr>
                        <th>"Überschrift im Dokument"</th>
                        <th>"Text"</th>
                        <th>"Übernehmen als"</th>
                    </tr>
                </thead>
                <tbody>
                    {p
                        .rows
                        .into_iter()
                        .map(|r| {
                            let name = format!("targets[{}]", r.index);
                            let class = if r.unmapped { "unmapped" } else if r.after_end { "after-end" } else { "" };
                            let test = r.unmapped.then_some("unmapped");
                            let heading = if r.after_end {
                                "nach dem Stand-Vermerk".to_owned()
                            } else if r.heading.is_empty() {
                                "vor der ersten Überschrift".to_owned()
                            } else {
                                r.heading.clone()
                            };
                            let current = r.target.clone();
                            view! {
                                <tr class=class data-test=test>
                                    <td>{heading}</td>
                                    <td>{r.text}</td>
                                    <td>
                                        <select name=name aria-label="Ziel">
                                            <option value="" selected=current.is_empty()>
                                                "– bitte wählen –"
                                            </option>
                                            {options
                                                .iter()
                                                .map(|o| {
                                                    view! {
                                                        <option value=o.value.clone() selected=o.value == current>
                                                            {o.label.clone()}
                                                        </option>
                                                    }
                                                })
                                                .collect_view()}
                                        </select>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <FormError value=apply.value() />
            <button type="submit" class="button primary">
                "Importieren"
            </button>
        </ActionForm>
    }
}
