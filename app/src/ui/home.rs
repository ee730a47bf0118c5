//! The start page: for owners the measures they are responsible for.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::{Auth, ErrorView, Loading};
use crate::toms::{MeasureSummary, my_measures};

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    view! {
        <Title text="Start" />
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(e) => view! { <ErrorView err=e /> }.into_any(),
                    Ok(Some(u)) if !u.org.role.is_internal() => {
                        view! {
                            <section class="page narrow">
                                <h1>{format!("Willkommen, {}", u.display_name)}</h1>
                                <p>
                                    {format!(
                                        "Sie sind als Kunde von {} angemeldet. Hier finden Sie bald die jeweils gültige, signierte Anlage „Technische und organisatorische Maßnahmen“ zu Ihrem Auftragsverarbeitungsvertrag.",
                                        u.org.legal_name,
                                    )}
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(Some(u)) => view! { <InternalHome name=u.display_name org=u.org.legal_name /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn InternalHome(name: String, org: String) -> impl IntoView {
    let mine = Resource::new(|| (), |_| my_measures());
    view! {
        <section class="page">
            <h1>{format!("Guten Tag, {name}")}</h1>
            <p class="lead">{org}</p>
            <h2>"Meine Maßnahmen"</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match mine.await {
                        Ok(list) if list.is_empty() => {
                            view! {
                                <p class="muted">
                                    "Ihnen sind derzeit keine Maßnahmen zugeordnet. "
                                    <a href="/massnahmen">"Zum Maßnahmenkatalog"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <MeasureList list /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn MeasureList(list: Vec<MeasureSummary>) -> impl IntoView {
    view! {
        <ul class="measures">
            {list
                .into_iter()
                .map(|m| {
                    view! {
                        <li class="measure">
                            <a href=format!("/massnahmen/{}", m.id) class="measure-link">
                                {crate::toms::label(&m.title, &m.body)}
                            </a>
                            <span class=format!("badge status-{}", m.status.as_str())>{m.status.label()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
