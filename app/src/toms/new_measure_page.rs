//! The form for a new measure.

use leptos::prelude::*;

use crate::ids::CategoryId;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{CreateMeasure, list_categories};
use crate::domain::MeasureStatus;
use crate::ui::{ErrorView, FieldError, FormError, Loading, invalid};

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
                            // After a refused post the form shows what was typed.
                            let kept = crate::ui::kept::kept(<CreateMeasure as server_fn::ServerFn>::PATH);
                            let was = move |field: &str| kept.as_ref().and_then(|k| k.get(field)).map(str::to_owned);
                            let pre = was("category_id").and_then(|c| c.parse().ok()).or_else(preselected);
                            let status = was("status");
                            let failed = move |field: &str| create.value().with_untracked(|v| invalid(v, field));
                            view! {
                                <FormError value=create.value() />
                                <p class="hint">"Pflichtfelder sind mit * markiert."</p>
                                <ActionForm action=create attr:class="form">
                                    <label for="category_id" class="required">"Kategorie"</label>
                                    <select
                                        id="category_id"
                                        name="category_id"
                                        required
                                        aria-invalid=failed("category_id").then_some("true")
                                        aria-describedby=failed("category_id").then_some("category_id-error")
                                    >
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
                                    <FieldError value=create.value() field="category_id" />
                                    <label for="title">"Kurztitel (optional)"</label>
                                    <input
                                        id="title"
                                        name="title"
                                        value=was("title")
                                        maxlength="200"
                                        aria-invalid=failed("title").then_some("true")
                                        aria-describedby=failed("title").then_some("title-error")
                                    />
                                    <FieldError value=create.value() field="title" />
                                    <label for="body" class="required">"Beschreibung der Maßnahme"</label>
                                    <crate::ui::TextArea id="body" name="body" rows=8 required=true value=was("body").unwrap_or_default() invalid=failed("body") />
                                    <FieldError value=create.value() field="body" />
                                    <p class="hint">"Absätze durch eine Leerzeile trennen. So erscheint der Text in der Anlage."</p>
                                    <label for="status">"Status"</label>
                                    <select id="status" name="status">
                                        {MeasureStatus::ALL
                                            .iter()
                                            .copied()
                                            .filter(|s| *s != MeasureStatus::Retired)
                                            .map(|s| view! { <option value=s.as_str() selected=status.as_deref() == Some(s.as_str())>{s.label()}</option> })
                                            .collect_view()}
                                    </select>
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
