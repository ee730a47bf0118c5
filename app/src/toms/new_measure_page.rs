//! The form for a new measure.

use leptos::prelude::*;

use crate::ids::CategoryId;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{CreateMeasure, list_categories};
use crate::domain::MeasureStatus;
use crate::ui::{ErrorView, FormError, Loading};

#[component]
pub fn NewMeasurePage() -> impl IntoView {
    let create = ServerAction::<CreateMeasure>::new();
    let query = use_query_map();
    let preselected = move || {
        query.with(|q| {
            q.get("kategorie")
                .and_then(|v| v.parse::<CategoryId>().ok())
        })
    };
    let cats = Resource::new(|| (), |_| list_categories());
    view! {
        <Title text="Neue Maßnahme" />
        <section class="page narrow">
            <p class="crumbs">
                <a href="/massnahmen">"Maßnahmenkatalog"</a>
            </p>
            <h1>"Neue Maßnahme"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match cats.await {
                        Ok(cats) => {
                            let pre = preselected();
                            view! {
                                <ActionForm action=create attr:class="form">
                                    <label for="category_id">"Kategorie"</label>
                                    <select id="category_id" name="category_id" required>
                                        {cats
                                            .into_iter()
                                            .map(|c| {
                                                view! {
                                                    <option value=c.id.to_string() selected=pre == Some(c.id)>
                                                        {c.label}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <label for="title">"Kurztitel (optional)"</label>
                                    <input id="title" name="title" maxlength="200" />
                                    <label for="body">"Beschreibung der Maßnahme"</label>
                                    <crate::ui::TextArea id="body" name="body" rows=8 required=true />
                                    <p class="hint">"Absätze durch eine Leerzeile trennen. So erscheint der Text in der Anlage."</p>
                                    <label for="status">"Status"</label>
                                    <select id="status" name="status">
                                        {MeasureStatus::ALL
                                            .iter()
                                            .copied()
                                            .filter(|s| *s != MeasureStatus::Retired)
                                            .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
                                            .collect_view()}
                                    </select>
                                    <FormError value=create.value() />
                                    <button type="submit" class="button primary">
                                        "Anlegen"
                                    </button>
                                </ActionForm>
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
