//! `/portal`: the customer's view of the current annex and subprocessors.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{PortalView, get_portal};
use crate::annex::PublicationInfo;
use crate::ui::{ErrorView, Loading};

fn german(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] => format!("{d}.{m}.{y}"),
        _ => iso.to_owned(),
    }
}

#[component]
pub fn PortalPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_portal());
    view! {
        <Title text="Kundenportal" />
        <section class="page portal">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <Portal v /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Portal(v: PortalView) -> impl IntoView {
    view! {
        <h1>"Technische und organisatorische Maßnahmen"</h1>
        <p class="lead">
            {format!("Anlage zur Vereinbarung zur Auftragsverarbeitung mit {}", v.org_name)}
        </p>
        {match v.current {
            None => view! { <p class="muted">"Es wurde noch keine Version der Anlage veröffentlicht."</p> }.into_any(),
            Some(c) => view! { <Current c /> }.into_any(),
        }}
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
                                        <a href=format!("/portal/anlage/v{}.pdf", p.version)>
                                            {format!("Version {} (Stand {})", p.version, p.stand)}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        <h2>"Unterauftragsverarbeiter"</h2>
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
                                            <li>
                                                {a.kind}
                                                {(!a.issuer.is_empty()).then(|| format!(" ({})", a.issuer))}
                                                {(!a.valid_until.is_empty()).then(|| view! { " " <span class=format!("badge validity-{}", a.validity.as_str())>{format!("{} {}", a.validity.label(), german(&a.valid_until))}</span> })}
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
fn Current(c: PublicationInfo) -> impl IntoView {
    view! {
        <section class="card current-annex">
            <h2>{format!("Aktuelle Fassung: Version {} · Stand {}", c.version, c.stand)}</h2>
            <p>
                <a class="button primary" href=format!("/portal/anlage/v{}.pdf", c.version)>
                    "Signierte Anlage herunterladen (PDF)"
                </a>
            </p>
            <dl class="facts">
                <dt>"Veröffentlicht"</dt>
                <dd>{c.published_at.clone()}</dd>
                <dt>"Signiert von"</dt>
                <dd>{c.signer.clone()}</dd>
                <dt>"SHA-256"</dt>
                <dd class="hash">{c.sha256.clone()}</dd>
            </dl>
            <p class="muted">
                "Ihr PDF-Programm prüft die digitale Signatur. Die Prüfsumme (SHA-256) weist nach, dass Ihre Datei genau diese Fassung ist."
            </p>
        </section>
    }
}
