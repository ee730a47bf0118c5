//! The audit log for admins and auditors, filterable by entity, action and actor.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::list_audit;
use crate::audit::AuditFilter;
use crate::ui::{ErrorView, Loading};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        query.with(|q| AuditFilter {
            entity: q.get("entity").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            actor: q.get("actor").unwrap_or_default(),
        })
    };
    let rows = Resource::new(filter, list_audit);
    view! {
        <Title text="Protokoll" />
        <section class="page wide">
            <h1>"Protokoll (Eingabekontrolle)"</h1>
            <p class="lead">"Jede Änderung mit Person, Zeitpunkt, vorher und nachher. Die Einträge sind miteinander verkettet; Manipulationen erkennt „nachweis audit verify“."</p>
            // The filter only for whom the log loaded: no form below a refusal.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    rows.await
                        .is_ok()
                        .then(|| {
                            view! {
                                <form method="get" class="form filters">
                                    <label for="f-entity">"Objekt"</label>
                                    <select id="f-entity" name="entity">
                                        {[("", "alle"), ("measure", "Maßnahme"), ("category", "Kategorie"), ("membership", "Mitgliedschaft"), ("invitation", "Einladung"), ("organisation", "Organisation"), ("session", "Anmeldung"), ("user", "Person")]
                                            .into_iter()
                                            .map(|(v, l)| view! { <option value=v selected=move || filter().entity == v>{l}</option> })
                                            .collect_view()}
                                    </select>
                                    <label for="f-action">"Aktion"</label>
                                    <input id="f-action" name="action" value=move || filter().action placeholder="z. B. update" />
                                    <label for="f-actor">"Person"</label>
                                    <input id="f-actor" name="actor" value=move || filter().actor placeholder="E-Mail enthält …" />
                                    <button type="submit" class="button">
                                        "Filtern"
                                    </button>
                                </form>
                            }
                        })
                })}
            </Suspense>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"Keine Einträge."</p> }.into_any(),
                        Ok(list) => {
                            view! {
                                <table class="table audit">
                                    <thead>
                                        <tr>
                                            <th>"#"</th>
                                            <th>"Zeit"</th>
                                            <th>"Person"</th>
                                            <th>"Objekt"</th>
                                            <th>"Aktion"</th>
                                            <th>"Vorher / nachher"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|r| {
                                                view! {
                                                    <tr>
                                                        <td>{r.seq}</td>
                                                        <td>{r.at.to_string()}</td>
                                                        <td>{r.actor}</td>
                                                        <td>{format!("{} {}", r.entity, r.entity_id)}</td>
                                                        <td>{r.action}</td>
                                                        <td>
                                                            <details>
                                                                <summary>"Details"</summary>
                                                                <pre>{r.before.unwrap_or_else(|| "—".into())}</pre>
                                                                <pre>{r.after.unwrap_or_else(|| "—".into())}</pre>
                                                            </details>
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
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
