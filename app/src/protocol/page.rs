//! The audit log for admins and auditors: entries in German, linked to
//! what they changed, filtered by date range, person, object and action
//! (GET parameters: bookmarkable, no JavaScript needed), a page at a time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{audit_page, verify_chain};
use crate::audit::{ACTIONS, AuditFilter, ChainCheck, ENTITIES};
use crate::ui::{ErrorView, Loading};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        query.with(|q| AuditFilter {
            entity: q.get("entity").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            actor: q.get("actor").unwrap_or_default(),
            from: q.get("from").unwrap_or_default(),
            to: q.get("to").unwrap_or_default(),
        })
    };
    let page = move || {
        query.with(|q| {
            q.get("seite")
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(1)
                .max(1)
        })
    };
    let rows = Resource::new(move || (filter(), page()), |(f, p)| audit_page(f, p));
    // "Kette prüfen" is a link (`?pruefen=1`): the same without JavaScript,
    // and the result stands on the page it was asked from.
    let check = Resource::new(
        move || query.with(|q| q.get("pruefen").is_some()),
        |asked| async move {
            match asked {
                true => verify_chain().await.map(Some),
                false => Ok(None),
            }
        },
    );
    view! {
        <Title text="Protokoll" />
        <section class="page wide">
            <h1>"Protokoll (Eingabekontrolle)"</h1>
            <p class="lead">"Jede Änderung mit Person, Zeitpunkt, vorher und nachher."</p>
            // The filter only for whom the log loaded: no form below a refusal.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    rows.await
                        .is_ok()
                        .then(|| {
                            let f = filter();
                            view! {
                                <p class="hint">
                                    "Die Einträge sind fortlaufend nummeriert und miteinander verkettet, über alle Organisationen dieser Installation hinweg: Lücken in den Nummern sind Einträge anderer Organisationen. „Kette prüfen“ rechnet jeden Eintrag nach und zeigt, ob seit dem Schreiben etwas verändert, entfernt oder eingefügt wurde."
                                </p>
                                <p class="actions">
                                    <a class="button" href=check_href(&f) data-test="verify-chain">
                                        "Kette prüfen"
                                    </a>
                                    <a class="button" href=csv_href(&f) download data-test="audit-csv">
                                        "Als CSV herunterladen"
                                    </a>
                                </p>
                                <form method="get" action="/protokoll" class="form filters" role="search">
                                    <label for="f-from">"Von"</label>
                                    <input id="f-from" name="from" type="date" value=f.from.clone() />
                                    <label for="f-to">"Bis"</label>
                                    <input id="f-to" name="to" type="date" value=f.to.clone() />
                                    <label for="f-entity">"Objekt"</label>
                                    <select id="f-entity" name="entity">
                                        <option value="" selected=f.entity.is_empty()>"alle"</option>
                                        {ENTITIES
                                            .iter()
                                            .map(|(v, l)| view! { <option value=*v selected=f.entity == *v>{*l}</option> })
                                            .collect_view()}
                                    </select>
                                    <label for="f-action">"Aktion"</label>
                                    <select id="f-action" name="action">
                                        <option value="" selected=f.action.is_empty()>"alle"</option>
                                        {ACTIONS
                                            .iter()
                                            .map(|(v, l)| view! { <option value=*v selected=f.action == *v>{*l}</option> })
                                            .collect_view()}
                                    </select>
                                    <label for="f-actor">"Person"</label>
                                    <input id="f-actor" name="actor" value=f.actor.clone() placeholder="E-Mail enthält …" />
                                    <button type="submit" class="button">
                                        "Filtern"
                                    </button>
                                </form>
                            }
                        })
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match check.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(result)) => view! { <ChainResult result /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e /> }.into_any(),
                    }
                })}
            </Suspense>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(p) if p.entries.is_empty() => view! { <p class="muted">"Keine Einträge."</p> }.into_any(),
                        Ok(p) => {
                            let here = filter();
                            let link = move |page: u64| page_href(&here, page);
                            view! {
                                <table class="table audit">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Nr."</th>
                                            <th scope="col">"Zeit"</th>
                                            <th scope="col">"Person"</th>
                                            <th scope="col">"Objekt"</th>
                                            <th scope="col">"Aktion"</th>
                                            <th scope="col">"Vorher / nachher"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {p
                                            .entries
                                            .into_iter()
                                            .map(|r| {
                                                let object = format!("{} {}", r.entity_label(), r.entity_id);
                                                let object = match r.href() {
                                                    Some(href) => view! { <a href=href>{object}</a> }.into_any(),
                                                    None => view! { <span>{object}</span> }.into_any(),
                                                };
                                                view! {
                                                    <tr data-test="audit-row">
                                                        <td>{r.seq}</td>
                                                        <td>{r.at.to_string()}</td>
                                                        <td>{r.actor.clone()}</td>
                                                        <td>{object}</td>
                                                        <td>{r.action_label()}</td>
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
                                <nav class="pager" aria-label="Seiten">
                                    {(p.page > 1).then(|| view! { <a class="button" href=link(p.page - 1) rel="prev">"Neuere Einträge"</a> })}
                                    <span>{format!("Seite {}", p.page)}</span>
                                    {p.more.then(|| view! { <a class="button" href=link(p.page + 1) rel="next" data-test="older">"Ältere Einträge"</a> })}
                                </nav>
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

/// What checking the chain found, read out when it appears.
#[component]
fn ChainResult(result: ChainCheck) -> impl IntoView {
    match result {
        ChainCheck::Intact { up_to } => view! {
            <div class="notice success" role="status" data-test="chain-result">
                <p>
                    <strong>"Die Kette ist unverändert."</strong>
                    {format!(" Alle Einträge bis Nr. {up_to} wurden nachgerechnet, und jedes signierte Dokument (Anlagen, Prüfberichte, Zertifikate, Verpflichtungen) verweist auf einen Eintrag, den die Kette hat.")}
                </p>
            </div>
        }
        .into_any(),
        ChainCheck::Broken { seq, finding } => {
            let finding = finding.unwrap_or_else(|| {
                "Der Eintrag gehört nicht zu Ihrer Organisation. Der Betrieb dieser Installation kann ihn mit „nachweis audit verify“ untersuchen.".to_owned()
            });
            view! {
                <div class="notice notice-error" role="alert" data-test="chain-result">
                    <p>
                        <strong>{format!("Die Kette ist ab Eintrag Nr. {seq} nicht mehr intakt.")}</strong>
                        " "
                        {finding}
                    </p>
                    <p>"Einträge davor sind bestätigt. Bitte informieren Sie den Betrieb; bis zur Klärung gelten Einträge ab dieser Nummer als unsicher."</p>
                </div>
            }
            .into_any()
        }
    }
}

/// `/protokoll` with the filter and `pruefen=1`.
fn check_href(f: &AuditFilter) -> String {
    let here = page_href(f, 1);
    let sep = if here.contains('?') { '&' } else { '?' };
    format!("{here}{sep}pruefen=1")
}

/// `/protokoll.csv` with the filter.
fn csv_href(f: &AuditFilter) -> String {
    page_href(f, 1).replacen("/protokoll", "/protokoll.csv", 1)
}

/// `/protokoll` with the filter and page `page`.
fn page_href(f: &AuditFilter, page: u64) -> String {
    use crate::format::query_value;
    let mut parts: Vec<String> = [
        ("from", &f.from),
        ("to", &f.to),
        ("entity", &f.entity),
        ("action", &f.action),
        ("actor", &f.actor),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("{k}={}", query_value(v.trim())))
    .collect();
    if page > 1 {
        parts.push(format!("seite={page}"));
    }
    match parts.is_empty() {
        true => "/protokoll".to_owned(),
        false => format!("/protokoll?{}", parts.join("&")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filter() {
        let f = AuditFilter {
            entity: "measure".into(),
            actor: "dpo@".into(),
            ..Default::default()
        };
        assert_eq!(
            page_href(&f, 2),
            "/protokoll?entity=measure&actor=dpo%40&seite=2"
        );
        assert_eq!(page_href(&AuditFilter::default(), 1), "/protokoll");
        assert_eq!(csv_href(&f), "/protokoll.csv?entity=measure&actor=dpo%40");
        assert_eq!(check_href(&AuditFilter::default()), "/protokoll?pruefen=1");
    }
}
