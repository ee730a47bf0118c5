//! `/portal`: the customer's view of the current annex and subprocessors.

use crate::format::german_date;
use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::hooks::use_query_map;

use super::{PortalView, SinceLastVisit, compare_versions, get_portal};
use crate::annex::{AnnexChange, PublicationInfo};
use crate::error::AppError;
use crate::ui::{CopyButton, ErrorView, Loading};

#[component]
pub fn PortalPage() -> impl IntoView {
    // Every resource of the page is created here, once; the views inside the
    // `Suspend` below are built again on each of its runs and must not fetch.
    let data = Resource::new(|| (), |_| get_portal());
    // The notices come with the portal's data (one fetch, which reads the
    // subprocessors once); after an objection they are fetched on their own.
    let object = ServerAction::<crate::notices::ObjectToNotice>::new();
    let notices = Resource::new(
        move || object.version().get(),
        move |objected| async move {
            if objected == 0 {
                data.await.map(|v| v.notices)
            } else {
                crate::notices::portal_notices().await
            }
        },
    );
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name).and_then(|v| v.parse::<i32>().ok()));
    let compared = Resource::new(
        move || (param("von"), param("bis")),
        |(from, to)| async move {
            match (from, to) {
                (Some(from), Some(to)) => Some(compare_versions(from, to).await),
                _ => None,
            }
        },
    );
    let accept = ServerAction::<crate::contract::AcceptContract>::new();
    let contract = Resource::new(
        move || accept.version().get(),
        |_| crate::contract::get_portal_contract(),
    );
    let panels = Panels {
        notices,
        object,
        compared,
        contract,
        accept,
    };
    view! {
        <Title text="Kundenportal" />
        <section class="page portal">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <Portal v panels /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The page's resources that parts of the portal show.
#[derive(Clone, Copy)]
struct Panels {
    notices: Resource<Result<Vec<crate::notices::PortalNotice>, AppError>>,
    object: ServerAction<crate::notices::ObjectToNotice>,
    compared: Resource<Option<Result<Vec<AnnexChange>, AppError>>>,
    contract: Resource<Result<Option<crate::contract::PortalContract>, AppError>>,
    accept: ServerAction<crate::contract::AcceptContract>,
}

#[component]
fn Portal(v: PortalView, panels: Panels) -> impl IntoView {
    view! {
        <h1>"Technische und organisatorische Maßnahmen"</h1>
        <p class="lead">
            {format!("Anlage zur Vereinbarung zur Auftragsverarbeitung mit {}", v.org_name)}
        </p>
        <crate::contract::PortalContractPanel data=panels.contract accept=panels.accept />
        {v.since_last_visit.clone().map(|s| view! { <SinceLast s current=v.current.as_ref().map_or(0, |c| c.version) /> })}
        {
            let mut all: Vec<i32> = v.current.iter().chain(v.earlier.iter()).map(|p| p.version).collect();
            all.sort_unstable();
            match v.current.clone() {
                None => view! { <p class="muted">"Es wurde noch keine Version der Anlage veröffentlicht."</p> }.into_any(),
                Some(c) => view! { <Current c org=v.org_name.clone() /> {(all.len() > 1).then(|| view! { <Compare versions=all.clone() result=panels.compared /> })} }.into_any(),
            }
        }
        {(!v.earlier.is_empty())
            .then(|| {
                view! {
                    <h2>"Frühere Versionen"</h2>
                    <ul class="versions">
                        {v.earlier
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <li>
                                        <a href=format!("/portal/anlage/v{}.pdf", p.version) rel="external">
                                            {format!("Version {} (Stand {})", p.version, p.stand)}
                                        </a>
                                        {(p.version > 1)
                                            .then(|| {
                                                view! {
                                                    " · "
                                                    <a href=format!("/portal?von={}&bis={}#vergleich", p.version - 1, p.version) data-test="what-changed">
                                                        "Was hat sich geändert?"
                                                    </a>
                                                }
                                            })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        <crate::notices::PortalNotices data=panels.notices object=panels.object />
        <section class="card dpo-contact" data-test="dpo-contact">
            <h2>"Fragen zum Datenschutz"</h2>
            {if v.dpo_contact.trim().is_empty() {
                view! { <p class="muted">{format!("{} hat noch keinen Kontakt für Datenschutzfragen hinterlegt.", v.org_name)}</p> }.into_any()
            } else {
                view! {
                    <p>{format!("Ihr Ansprechpartner bei {} für Datenschutz und diese Anlage:", v.org_name)}</p>
                    <p class="pre">{v.dpo_contact.clone()}</p>
                }
                    .into_any()
            }}
        </section>
        <h2>"Unterauftragsverarbeiter"</h2>
        {v.anlage2.clone().map(|(version, sha256)| view! {
            <p data-test="portal-anlage2">
                "Anlage 2 zum AVV (die signierte Liste): "
                <a href=format!("/anlage2/v{version}.pdf")>{format!("Version {version} herunterladen (PDF)")}</a>
            </p>
            <p class="muted checksum">{format!("SHA-256 {sha256}")}</p>
        })}
        {v.subprocessors.is_empty().then(|| view! { <p class="muted">"Keine."</p> })}
        <ul class="portal-subprocessors">
            {v.subprocessors
                .into_iter()
                .map(|s| {
                    view! {
                        <li>
                            <strong>{s.name}</strong>
                            {format!(" · {} · {}", s.service, s.status)}
                            <br />
                            <small>{format!("Verarbeitungsorte: {} · {}", s.locations, s.safeguard)}</small>
                            <ul>
                                {s.attestations
                                    .into_iter()
                                    .map(|a| {
                                        view! {
                                            <li data-test="attestation">
                                                {a.kind}
                                                {(!a.issuer.is_empty()).then(|| format!(", ausgestellt von {}", a.issuer))}
                                                {a
                                                    .valid_until
                                                    .map(|d| {
                                                        let text = match a.validity {
                                                            crate::domain::Validity::Expired => format!("abgelaufen am {}", german_date(d)),
                                                            _ => format!("gültig bis {}", german_date(d)),
                                                        };
                                                        view! { " " <span class=format!("badge validity-{}", a.validity.as_str())>{text}</span> }
                                                    })}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn Current(c: PublicationInfo, org: String) -> impl IntoView {
    let file = format!("anlage-v{}.pdf", c.version);
    view! {
        <section class="card current-annex">
            <h2>{format!("Aktuelle Fassung: Version {} · Stand {}", c.version, c.stand)}</h2>
            <p>
                <a class="button primary" href=format!("/portal/anlage/v{}.pdf", c.version) rel="external">
                    "Signierte Anlage herunterladen (PDF)"
                </a>
            </p>
            <dl class="facts">
                <dt>"Veröffentlicht"</dt>
                <dd>{c.published_at.to_string()}</dd>
                <dt>"Signiert von"</dt>
                <dd data-test="signer">{c.signer_name()}</dd>
                <dt>"Prüfsumme (SHA-256)"</dt>
                <dd>
                    <code class="hash" data-test="sha256">{c.sha256.clone()}</code>
                    <CopyButton text=c.sha256.clone() label="Prüfsumme kopieren".to_owned() />
                </dd>
            </dl>
            <details class="signature-help" data-test="signature-help">
                <summary>"Was bedeutet die Signatur, und wie prüfe ich die Datei?"</summary>
                {if c.self_signed {
                    view! {
                        <p>
                            {format!(
                                "{org} hat diese Fassung digital signiert. Das Zertifikat dafür hat {org} selbst ausgestellt, nicht eine öffentliche Zertifizierungsstelle. Ihr PDF-Programm meldet deshalb etwa „Gültigkeit der Unterschrift ist unbekannt“ oder „Unterzeichner nicht vertrauenswürdig“. Das heißt nicht, dass die Datei verändert wurde: Es sagt nur, dass Ihr Programm den Aussteller nicht kennt.",
                            )}
                        </p>
                    }
                        .into_any()
                } else {
                    view! {
                        <p>
                            {format!(
                                "{org} hat diese Fassung digital signiert, mit einem Zertifikat einer anerkannten Stelle. Ihr PDF-Programm zeigt die Signatur als gültig an, solange die Datei unverändert ist.",
                            )}
                        </p>
                    }
                        .into_any()
                }}
                <p>
                    "Sicher prüfen Sie die Datei mit ihrer Prüfsumme: Stimmt die Prüfsumme Ihrer Datei mit der oben angezeigten überein, ist es genau diese Fassung, Zeichen für Zeichen."
                </p>
                <ul>
                    <li>
                        "Windows (Eingabeaufforderung): "
                        <code>{format!("certutil -hashfile {file} SHA256")}</code>
                    </li>
                    <li>
                        "macOS und Linux (Terminal): "
                        <code>{format!("shasum -a 256 {file}")}</code>
                    </li>
                </ul>
            </details>
        </section>
    }
}

#[component]
fn SinceLast(s: SinceLastVisit, current: i32) -> impl IntoView {
    let heading = format!("Seit Ihrem letzten Besuch am {}", s.visited_at);
    let body = if current == 0 || s.version_then == current {
        view! { <p>"Keine neue Fassung der Anlage."</p> }.into_any()
    } else if s.version_then == 0 {
        view! { <p>{format!("Inzwischen wurde die Anlage veröffentlicht (Version {current}).")}</p> }.into_any()
    } else {
        view! {
            <p>{format!("Neue Fassung: Version {} statt Version {}.", current, s.version_then)}</p>
            <Changes changes=s.changes />
        }
        .into_any()
    };
    view! {
        <section class="card since-last-visit" aria-label="Änderungen seit Ihrem letzten Besuch">
            <h2>{heading}</h2>
            {body}
        </section>
    }
}

/// Any two versions side by side: a plain GET form (`?von=1&bis=3`), so it
/// works without JavaScript too.
#[component]
fn Compare(
    versions: Vec<i32>,
    result: Resource<Option<Result<Vec<AnnexChange>, AppError>>>,
) -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name).and_then(|v| v.parse::<i32>().ok()));
    let newest = versions.last().copied().unwrap_or(1);
    let oldest = versions.first().copied().unwrap_or(1);
    let options = move |selected: i32| {
        versions
            .iter()
            .map(|v| view! { <option value=v.to_string() selected=*v == selected>{format!("Version {v}")}</option> })
            .collect_view()
    };
    let from_default = param("von").unwrap_or(if newest > oldest { newest - 1 } else { oldest });
    let to_default = param("bis").unwrap_or(newest);
    view! {
        <section class="card compare" id="vergleich">
            <h2>"Versionen vergleichen"</h2>
            <form method="get" action="/portal" class="form inline-form">
                <label for="cmp-from">"Von"</label>
                <select id="cmp-from" name="von">{options(from_default)}</select>
                <label for="cmp-to">"Bis"</label>
                <select id="cmp-to" name="bis">{options(to_default)}</select>
                <button type="submit" class="button">"Vergleichen"</button>
            </form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match result.await {
                        None => ().into_any(),
                        Some(Ok(changes)) => view! {
                            <h3>{move || format!("Von Version {} zu Version {}", param("von").unwrap_or_default(), param("bis").unwrap_or_default())}</h3>
                            <Changes changes />
                        }
                            .into_any(),
                        Some(Err(e)) => view! { <ErrorView err=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Changes(changes: Vec<AnnexChange>) -> impl IntoView {
    if changes.is_empty() {
        return view! { <p class="muted">"Die Maßnahmen sind unverändert."</p> }.into_any();
    }
    view! {
        <ul class="changes">
            {changes
                .into_iter()
                .map(|c| {
                    let kind = c.kind.label();
                    let moved = c.old_section.clone().map(|o| format!(" (vorher {o})"));
                    view! {
                        <li class=format!("change change-{}", kind.to_lowercase())>
                            <span class="badge">{kind}</span>
                            " "
                            <strong>{c.section.clone()}</strong>
                            {moved}
                            {c.old_text.clone().filter(|_| c.new_text.is_some() && c.old_text != c.new_text).map(|t| view! { <div class="old"><del>{t}</del></div> })}
                            <div>{c.new_text.clone().or(c.old_text.clone()).unwrap_or_default()}</div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
        .into_any()
}
