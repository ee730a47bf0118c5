//! The annex page: draft preview, changes since the last publication,
//! publishing, and every published version for download.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{AnnexChange, AnnexOverview, PublicationInfo, PublishAnnex, get_annex_overview};
use crate::ui::{CopyButton, ErrorView, FormError, Loading};

#[component]
pub fn AnnexPage() -> impl IntoView {
    let publish = ServerAction::<PublishAnnex>::new();
    let data = Resource::new(move || publish.version().get(), |_| get_annex_overview());
    view! {
        <Title text="Anlage TOM" />
        <section class="page wide">
            <h1>"Anlage „Technische und organisatorische Maßnahmen“"</h1>
            <p class="lead">
                "Die Anlage zum Auftragsverarbeitungsvertrag entsteht aus allen umgesetzten Maßnahmen des Katalogs. Jede Veröffentlichung ist eine unveränderliche, signierte Version mit Stand-Datum."
            </p>
            <p>
                <a class="button" href="/anlage/entwurf.pdf" rel="external" target="_blank">
                    "Entwurf als PDF ansehen"
                </a>
            </p>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => view! { <Overview o publish /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Overview(o: AnnexOverview, publish: ServerAction<PublishAnnex>) -> impl IntoView {
    // After publishing, the server leads back here with the new version
    // in the address; the confirmation names it as it is stored.
    let query = use_query_map();
    let just_published = query
        .with_untracked(|q| q.get("veroeffentlicht"))
        .and_then(|v| v.parse::<i32>().ok())
        .and_then(|v| o.publications.iter().find(|p| p.version == v).cloned());
    let heading = match o.last_version {
        Some(v) => format!("Änderungen seit Version {v}"),
        None => "Noch keine Version veröffentlicht".to_owned(),
    };
    let summary = match (o.last_version, o.unchanged) {
        (None, _) => format!(
            "Die erste Version wird {} umgesetzte Maßnahmen enthalten.",
            o.measure_count
        ),
        (Some(_), true) => {
            "Keine Änderungen: der Entwurf entspricht der zuletzt veröffentlichten Version."
                .to_owned()
        }
        (Some(_), false) => format!(
            "{} geänderte Maßnahmen{}.",
            o.changes.len(),
            if o.other_changes.is_empty() {
                String::new()
            } else {
                format!("; außerdem: {}", o.other_changes.join(", "))
            }
        ),
    };
    view! {
        <h2>{heading}</h2>
        <p id="change-summary" data-test="change-summary">{summary}</p>
        {(!o.changes.is_empty()).then(|| view! { <ChangeList changes=o.changes.clone() /> })}
        {(!o.not_effective.is_empty())
            .then(|| {
                view! {
                    <div class="notice warning" role="note" data-test="annex-not-effective">
                        <p>
                            "Diese Maßnahmen wurden in der Wirksamkeitsprüfung als nicht (voll) wirksam bewertet; eine Korrekturmaßnahme ist noch offen. Die Anlage verspricht sie trotzdem – prüfen Sie, ob der Text noch zutrifft:"
                        </p>
                        <ul>
                            {o
                                .not_effective
                                .iter()
                                .map(|m| view! { <li><a href=format!("/massnahmen/{}", m.id)>{format!("{}: {}", m.category, m.label)}</a></li> })
                                .collect_view()}
                        </ul>
                    </div>
                }
            })}
        {o
            .key_self_signed
            .then(|| {
                view! {
                    <p class="notice warning" role="note">
                        "Es ist kein Signaturzertifikat hinterlegt. Nachweis signiert mit einem selbst ausgestellten Zertifikat Ihrer Organisation: Die Signatur beweist, dass die Datei unverändert ist, aber der PDF-Reader Ihrer Kunden zeigt „Unterzeichner nicht vertrauenswürdig“, bis der Betrieb ein Zertifikat einer anerkannten Stelle konfiguriert."
                    </p>
                }
            })}
        {o
            .pdfa_problem
            .clone()
            .map(|why| {
                view! {
                    <p class="notice warning" role="note" id="pdfa-problem">
                        {format!(
                            "Der Entwurf lässt sich nicht als PDF/A-2b (Format für die Langzeitarchivierung) erzeugen; veröffentlicht würde ein gewöhnliches PDF. Ursache: {why}",
                        )}
                    </p>
                }
            })}
        {o
            .can_publish
            .then(|| {
                view! {
                    <ActionForm action=publish attr:class="form" attr:id="publish-form">
                        <FormError value=publish.value() />
                        {just_published
                            .map(|p| {
                                view! {
                                    <p class="notice success" role="status">
                                        {format!("Version {} mit Stand {} wurde veröffentlicht und signiert.", p.version, p.stand)}
                                    </p>
                                }
                            })}
                        <button type="submit" class="button primary" disabled=o.unchanged>
                            "Neue Version veröffentlichen"
                        </button>
                    </ActionForm>
                }
            })}
        <h2>"Veröffentlichte Versionen"</h2>
        {if o.publications.is_empty() {
            view! { <p class="muted">"Noch keine."</p> }.into_any()
        } else {
            view! { <PublicationTable list=o.publications /> }.into_any()
        }}
    }
}

#[component]
fn ChangeList(changes: Vec<AnnexChange>) -> impl IntoView {
    view! {
        <ul class="annex-changes">
            {changes
                .into_iter()
                .map(|c| {
                    let moved = c.old_section.clone().map(|s| format!(" (vorher {s})"));
                    view! {
                        <li class=format!("change {:?}", c.kind).to_lowercase()>
                            <strong>{c.kind.label()}</strong>
                            " · "
                            {c.section}
                            {moved}
                            {c.old_text.map(|t| view! { <del class="old">{t}</del> })}
                            {c.new_text.map(|t| view! { <ins class="new">{t}</ins> })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn PublicationTable(list: Vec<PublicationInfo>) -> impl IntoView {
    view! {
        <table class="table publications">
            <thead>
                <tr>
                    <th>"Version"</th>
                    <th>"Stand"</th>
                    <th>"Veröffentlicht"</th>
                    <th>"Signiert von"</th>
                    <th>"SHA-256"</th>
                    <th>"PDF"</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|p| {
                        let href = format!("/anlage/v{}.pdf", p.version);
                        let kb = format!("{} KB", (p.size + 1023) / 1024);
                        let by = publisher_line(&p);
                        view! {
                            <tr data-test="publication">
                                <td>{p.version}</td>
                                <td>{p.stand}</td>
                                <td>{by}</td>
                                <td>
                                    {p.signer}
                                    {p.self_signed.then(|| view! { <span class="badge">"selbst ausgestellt"</span> })}
                                    {(!p.pdfa).then(|| view! { <span class="badge warning">"kein PDF/A"</span> })}
                                </td>
                                <td>
                                    <code class="hash">{p.sha256.clone()}</code>
                                    <CopyButton text=p.sha256 label="Prüfsumme kopieren".to_owned() />
                                </td>
                                <td>
                                    <a href=href rel="external">
                                        "Herunterladen"
                                    </a>
                                    " "
                                    <span class="muted">{kb}</span>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// When and by whom: "durch die Kommandozeile" rather than "· cli" for a
/// publication made with `nachweis annex publish`.
fn publisher_line(p: &crate::annex::PublicationInfo) -> String {
    match p.published_by.as_str() {
        "" => p.published_at.to_string(),
        "cli" => format!("{} · über die Kommandozeile", p.published_at),
        by => format!("{} · {by}", p.published_at),
    }
}
