//! `/avv` (admins edit, auditors read): the AVV text per language, its
//! versions with their checksums, and the form for a new version. One
//! language at a time (`?sprache=de|en`), so the page has one form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{AvvLanguage, LOCALES, SaveAvvText, get_avv_texts};
use crate::pledges::Text;
use crate::ui::{ErrorView, FieldError, FormError, Loading, Saved, described_by_in, invalid};

#[component]
pub fn AvvPage() -> impl IntoView {
    let save = ServerAction::<SaveAvvText>::new();
    let query = use_query_map();
    let locale = move || {
        query.with(|q| {
            q.get("sprache")
                .filter(|l| LOCALES.iter().any(|(k, _)| k == l))
                .unwrap_or_else(|| "de".to_owned())
        })
    };
    // After a save the server leads back with what happened.
    let outcome = move || query.with(|q| (q.get("gespeichert"), q.get("fassung")));
    let data = Resource::new(move || save.version().get(), |_| get_avv_texts());
    view! {
        <Title text="AVV-Vertragstext" />
        <section class="page wide">
            <h1>"Vertrag zur Auftragsverarbeitung (AVV)"</h1>
            <p class="lead">
                "Ihr Standardvertrag nach Art. 28 DSGVO, den Ihre Kunden als Verantwortliche mit Ihnen schließen. Er verweist auf Anlage 1 (technische und organisatorische Maßnahmen) und Anlage 2 (Unterauftragsverarbeiter). Jede Änderung ergibt eine neue Fassung mit eigener Prüfsumme; ein unveränderter Text ergibt keine."
            </p>
            {move || match outcome() {
                (Some(o), Some(v)) if o == "neu" => {
                    view! { <Saved text=format!("Gespeichert – Fassung {v}") /> }.into_any()
                }
                (Some(o), Some(v)) if o == "unveraendert" => {
                    view! { <Saved text=format!("Unverändert – es bleibt bei Fassung {v}. Eine neue Fassung entsteht nur, wenn sich Titel oder Text ändern.") /> }
                        .into_any()
                }
                _ => ().into_any(),
            }}
            <FormError value=save.value() prefix="avv-" />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(texts) => {
                            let here = locale();
                            let can_edit = texts.can_edit;
                            let lang = texts.languages.into_iter().find(|l| l.locale == here);
                            view! {
                                <Tabs here=here.clone() />
                                {lang.map(|lang| view! { <Language lang can_edit save /> })}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The languages as tabs that are links; the shown one is marked.
#[component]
fn Tabs(here: String) -> impl IntoView {
    view! {
            <nav class="tabs" aria-label="Sprache des Vertragstexts">
                {LOCALES
                    .iter()
                    .map(|(l, label)| {
                        view! {
                            <a
                                href=format!("/avv?sprache={l}")
                                aria-current=(here == *l).then_some("page")
                                hreflang=*l
                            >
                                {*label}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
    }
}

#[component]
fn Language(lang: AvvLanguage, can_edit: bool, save: ServerAction<SaveAvvText>) -> impl IntoView {
    let failed = move |field: &str| save.value().with(|v| invalid(v, field));
    let described = move |field: &str| save.value().with(|v| described_by_in(v, "avv-", field));
    let first = lang.current.is_none();
    let locale = lang.locale.clone();
    view! {
        <section id=format!("text-{}", lang.locale) lang=lang.locale.clone()>
            {match lang.current.clone() {
                Some(c) => {
                    view! {
                        <article class="card pledge" data-test="avv-current">
                            <h2>{c.title.clone()}</h2>
                            <p class="muted">
                                {format!("Fassung {} vom {}, von {} · SHA-256 ", c.version, c.created_at, c.created_by)}
                                <code class="hash">{c.sha256.clone()}</code>
                            </p>
                            <Text blocks=c.blocks.clone() />
                        </article>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <p class="notice" data-test="avv-none">
                            {format!(
                                "Für „{}“ gibt es noch keine Fassung. Nachweis schlägt unten einen eigenen Text vor, der Art. 28 Abs. 3 DSGVO Punkt für Punkt folgt (a bis h). Prüfen Sie ihn mit Ihrer Rechtsberatung, passen Sie ihn an und speichern Sie ihn als Fassung 1.",
                                lang.label,
                            )}
                        </p>
                    }
                        .into_any()
                }
            }}
            {(!lang.history.is_empty()).then(|| view! {
                <h2>"Fassungen"</h2>
                <table class="table">
                    <thead>
                        <tr><th scope="col">"Fassung"</th><th scope="col">"Gespeichert"</th><th scope="col">"Von"</th><th scope="col">"SHA-256"</th></tr>
                    </thead>
                    <tbody>
                        {lang.history.iter().map(|(v, sha, at, by)| view! {
                            <tr data-test="avv-version">
                                <td>{*v}</td>
                                <td>{at.to_string()}</td>
                                <td>{by.clone()}</td>
                                <td><code class="hash">{sha.clone()}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {can_edit.then(|| view! {
                <details class="card" open=first || save.value().with_untracked(|v| matches!(v, Some(Err(_))))>
                    <summary>{if first { "Vorschlag prüfen und als Fassung 1 speichern" } else { "Neue Fassung festlegen" }}</summary>
                    <p class="muted">"Eine neue Fassung gilt für Verträge, die ab jetzt angeboten werden. Bereits geschlossene Verträge bleiben unverändert gültig."</p>
                    <p class="hint">"Pflichtfelder sind mit * markiert. Markdown: Absätze, ## Überschriften, - Aufzählungen."</p>
                    <ActionForm action=save attr:class="form">
                        <input type="hidden" name="locale" value=locale.clone() />
                        <label for="avv-title" class="required">"Titel"</label>
                        <input
                            id="avv-title"
                            name="title"
                            required
                            pattern=crate::ui::NOT_BLANK
                            value={crate::ui::typed::<SaveAvvText>("title", lang.draft_title.clone())}
                            aria-invalid=move || failed("title").then_some("true")
                            aria-describedby=move || described("title")
                        />
                        <FieldError value=save.value() field="title" prefix="avv-" />
                        <label for="avv-body" class="required">"Vertragstext"</label>
                        <FieldError value=save.value() field="body" prefix="avv-" />
                        <crate::ui::TextArea
                            id="avv-body"
                            name="body"
                            rows=24
                            required=true
                            value={crate::ui::typed::<SaveAvvText>("body", lang.draft_body.clone())}
                            invalid=Signal::derive(move || failed("body"))
                        />
                        <button type="submit" class="button primary">"Fassung speichern"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}
