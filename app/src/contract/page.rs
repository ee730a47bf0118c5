//! `/avv-abschluss` (admins offer, auditors read): every customer's
//! contract, offered, concluded or outdated; and the portal's panel in
//! which a customer user reads the offered contract and accepts it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    AcceptContract, AcceptanceInfo, ContractRow, ContractStanding, OfferContract, OfferInfo,
    PendingOffer, PortalContract, get_contracts,
};
use crate::error::AppError;
use crate::pledges::Text;
use crate::ui::{
    ErrorSummary, ErrorView, FieldError, FormError, Loading, Saved, described_by_in, invalid,
};

#[component]
pub fn ContractsPage() -> impl IntoView {
    let offer = ServerAction::<OfferContract>::new();
    let data = Resource::new(move || offer.version().get(), |_| get_contracts());
    let query = use_query_map();
    let offered = move || query.with(|q| q.get("angeboten"));
    view! {
        <Title text="AVV-Abschluss" />
        <section class="page wide">
            <h1>"AVV-Abschluss mit Ihren Kunden"</h1>
            <p class="lead">
                "Jeder Kunde erhält den Vertrag zur Auftragsverarbeitung als ein gesiegeltes Dokument: Ihr aktueller Vertragstext mit seinen Angaben zur Verarbeitung, Anlage 1 (TOM) und Anlage 2 (Unterauftragsverarbeiter). Er nimmt ihn im Kundenportal an (Art. 28 Abs. 9 DSGVO). Ändern sich danach Vertragstext oder Angaben, erhält er automatisch ein neues Angebot; der geschlossene Vertrag gilt weiter, bis er das neue annimmt."
            </p>
            {move || offered().map(|n| view! { <Saved text=format!("Angeboten – Angebot {n}. Der Kunde findet es im Kundenportal unter „AVV zur Annahme“.") /> })}
            <p>
                <a href="/avv-abschluss.csv" rel="external">"Übersicht als CSV herunterladen"</a>
            </p>
            <section class="card" id="verzeichnis" aria-labelledby="verzeichnis-heading">
                <h2 id="verzeichnis-heading">"Verzeichnis nach Art. 30 Abs. 2 DSGVO"</h2>
                <p>
                    "Ihr Verzeichnis der Verarbeitungstätigkeiten als Auftragsverarbeiter, erzeugt aus denselben Daten: je Verantwortlichem Namen und Kontakte beider Seiten und ihrer Datenschutzbeauftragten, die Kategorien der Verarbeitung, Übermittlungen in Drittländer mit ihren Garantien und die TOM (Anlage 1 mit Version und Gliederung). Fragt eine Aufsichtsbehörde danach (Art. 30 Abs. 4), laden Sie es hier herunter."
                </p>
                <p class="actions">
                    <a href="/verzeichnis/art30.pdf" rel="external">"Signiertes PDF"</a>
                    " · "
                    <a href="/verzeichnis/art30.xlsx" rel="external">"Tabelle (XLSX)"</a>
                    " · "
                    <a href="/verzeichnis/art30.csv" rel="external">"CSV"</a>
                </p>
            </section>
            <FormError value=offer.value() unlinked=true />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) if o.rows.is_empty() => view! {
                            <p class="muted">"Noch keine Kunden. Legen Sie sie auf der Seite „Kunden“ an."</p>
                        }.into_any(),
                        Ok(o) => {
                            let can_offer = o.can_offer;
                            view! {
                                <ul class="cards contracts">
                                    {o.rows.into_iter().map(|row| view! { <Row row can_offer offer /> }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Row(row: ContractRow, can_offer: bool, offer: ServerAction<OfferContract>) -> impl IntoView {
    let id = row.customer_id;
    let complete = row.missing.is_empty();
    let may_offer =
        can_offer && complete && matches!(row.standing, ContractStanding::NotOffered) | row.changed;
    let button = if row.newest.is_some() {
        "Neues Angebot jetzt erstellen"
    } else {
        "AVV anbieten"
    };
    let newest = row.newest.clone();
    let concluded = row.concluded.clone();
    let pending = newest
        .clone()
        .filter(|n| concluded.as_ref().is_none_or(|(c, _)| c.id != n.id));
    view! {
        <li class="card" id=format!("kunde-{id}") data-test="contract-row">
            <h2>
                {row.customer_name.clone()} " "
                <span class=row.standing.class() data-test="contract-standing">{row.standing.label()}</span>
            </h2>
            {concluded.map(|(o, a)| view! { <Concluded o a /> })}
            {pending.map(|o| view! {
                <p>
                    {format!(
                        "Angebot {} vom {} (Vertragstext Fassung {}, Anlage 1 Version {}, Anlage 2 Version {}) wartet auf die Annahme. ",
                        o.number, o.offered_at, o.text_version, o.anlage1_version, o.anlage2_version
                    )}
                    <a href=format!("/avv-abschluss/{}/angebot.pdf", o.id) rel="external">"Angebot ansehen (PDF)"</a>
                </p>
            })}
            {(!complete).then(|| view! {
                <p class="muted">
                    {format!("Bevor der AVV angeboten werden kann, fehlen noch: {}. ", row.missing.join(", "))}
                    <a href=format!("/kunden#kunde-{id}")>"Angaben ergänzen"</a>
                </p>
            })}
            {(complete && row.changed).then(|| view! {
                <p class="warning-text">
                    "Vertragstext oder Angaben haben sich seit dem letzten Angebot geändert. Nachweis erstellt das neue Angebot in Kürze von selbst; Sie können es auch jetzt erstellen."
                </p>
            })}
            <p class="actions">
                {complete.then(|| view! {
                    <a href=format!("/kunden/{id}/avv-entwurf.pdf") rel="external">"Entwurf ansehen (PDF)"</a>
                })}
                {may_offer.then(|| view! {
                    <ActionForm action=offer attr:class="inline">
                        <input type="hidden" name="customer_id" value=id.to_string() />
                        <button type="submit" class="button primary">{button}</button>
                    </ActionForm>
                })}
            </p>
        </li>
    }
}

/// The contract in force: which offer, by whom, when, and the download.
#[component]
fn Concluded(o: OfferInfo, a: AcceptanceInfo) -> impl IntoView {
    view! {
        <p data-test="contract-concluded">
            {format!(
                "Abgeschlossen: Angebot {} (Vertragstext Fassung {}), angenommen am {} von {} ({}), bestätigt durch {}. ",
                o.number, o.text_version, a.accepted_at, a.typed_name, a.function, a.method
            )}
            <a href=format!("/avv-abschluss/{}/vertrag.pdf", o.id) rel="external">"Geschlossenen Vertrag herunterladen (PDF)"</a>
            <br />
            <small class="hash">{format!("SHA-256 {}", a.sha256)}</small>
        </p>
    }
}

/// The portal's contract section: nothing for people who are not a
/// customer's users or whose customer was never offered the contract.
#[component]
pub fn PortalContractPanel(
    data: Resource<Result<Option<PortalContract>, AppError>>,
    accept: ServerAction<AcceptContract>,
) -> impl IntoView {
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(c)) => view! { <Panel c accept /> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <ErrorView err=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Panel(c: PortalContract, accept: ServerAction<AcceptContract>) -> impl IntoView {
    let query = use_query_map();
    let accepted = query.with_untracked(|q| q.get("avv").is_some_and(|v| v == "angenommen"));
    let refused = query.with_untracked(|q| q.get("fehler"));
    let pending = c.pending.clone();
    view! {
        <section class="card contract" id="avv" aria-labelledby="avv-heading" data-test="portal-contract">
            <h2 id="avv-heading">{if pending.is_some() { "AVV zur Annahme" } else { "Ihr Vertrag zur Auftragsverarbeitung" }}</h2>
            {accepted.then(|| view! { <Saved text="Angenommen – der Vertrag ist geschlossen. Sie können ihn unten herunterladen." /> })}
            {c.concluded.clone().map(|(o, a)| view! {
                <p data-test="contract-concluded">
                    {format!(
                        "Geschlossen: Angebot {} (Vertragstext Fassung {}), angenommen am {} von {} ({}). ",
                        o.number, o.text_version, a.accepted_at, a.typed_name, a.function
                    )}
                    <a href=format!("/avv-abschluss/{}/vertrag.pdf", o.id) rel="external">"Geschlossenen Vertrag herunterladen (PDF)"</a>
                    <br />
                    <small class="hash">{format!("SHA-256 {}", a.sha256)}</small>
                </p>
            })}
            {pending.map(|p| {
                let still = c.concluded.is_some();
                view! {
                    {refused.map(|e| view! { <ErrorSummary title="Nicht angenommen:">{e}</ErrorSummary> })}
                    <Offer p c=c.clone() still accept />
                }
            })}
        </section>
    }
}

#[component]
fn Offer(
    p: PendingOffer,
    c: PortalContract,
    still: bool,
    accept: ServerAction<AcceptContract>,
) -> impl IntoView {
    let o = p.offer.clone();
    let id = o.id;
    let sha = o.sha256.clone();
    let read = view! {
        <label class="check">
            <input id="avv-confirm" type="checkbox" name="confirm" value="ja" required />
            {format!(" Ich habe den Vertrag mit seinen Anlagen gelesen und nehme ihn für {} an; ich bin dazu berechtigt.", c.customer_name)}
        </label>
        <FieldError value=accept.value() field="confirm" prefix="avv-" />
        <label for="avv-typed_name" class="required">"Ihr vollständiger Name"</label>
        <input
            id="avv-typed_name"
            name="typed_name"
            required
            pattern=crate::ui::NOT_BLANK
            autocomplete="name"
            placeholder=c.display_name.clone()
            aria-invalid=move || accept.value().with(|v| invalid(v, "typed_name")).then_some("true")
            aria-describedby=move || accept.value().with(|v| described_by_in(v, "avv-", "typed_name"))
        />
        <FieldError value=accept.value() field="typed_name" prefix="avv-" />
        <label for="avv-function" class="required">"Ihre Funktion beim Verantwortlichen"</label>
        <input
            id="avv-function"
            name="function"
            required
            pattern=crate::ui::NOT_BLANK
            autocomplete="organization-title"
            placeholder="z. B. Geschäftsführerin"
            aria-invalid=move || accept.value().with(|v| invalid(v, "function")).then_some("true")
            aria-describedby=move || accept.value().with(|v| described_by_in(v, "avv-", "function"))
        />
        <FieldError value=accept.value() field="function" prefix="avv-" />
    };
    let confirm = if c.has_password {
        view! {
            <FormError value=accept.value() prefix="avv-" />
            <ActionForm action=accept attr:class="form">
                <input type="hidden" name="offer_id" value=id.to_string() />
                <input type="hidden" name="sha256" value=sha.clone() />
                {read}
                <label for="avv-password">"Ihr Kennwort zur Bestätigung"</label>
                <input id="avv-password" name="password" type="password" required autocomplete="current-password" />
                <button type="submit" class="button primary">"Vertrag verbindlich annehmen"</button>
            </ActionForm>
        }
            .into_any()
    } else if let Some((first, only)) = c.sso.first().cloned() {
        // No password: a fresh login at the person's provider confirms it is
        // them. A plain form: the browser leaves for the provider.
        let several = c.sso.len() > 1;
        let providers = c.sso.clone();
        view! {
            <form class="form" method="post" action="/avv-abschluss/sso">
                <input type="hidden" name="offer_id" value=id.to_string() />
                <input type="hidden" name="sha256" value=sha.clone() />
                {read}
                {if several {
                    view! {
                        <label for="avv-provider">"Bestätigen über"</label>
                        <select id="avv-provider" name="provider_id">
                            {providers.into_iter().map(|(pid, name)| view! { <option value=pid.to_string()>{name}</option> }).collect_view()}
                        </select>
                    }.into_any()
                } else {
                    view! { <input type="hidden" name="provider_id" value=first.to_string() /> }.into_any()
                }}
                <p class="muted">{if several {
                    "Sie melden sich dort erneut an; danach ist der Vertrag angenommen.".to_owned()
                } else {
                    format!("Sie melden sich bei {only} erneut an; danach ist der Vertrag angenommen.")
                }}</p>
                <button type="submit" class="button primary">"Mit Anmeldung bestätigen und annehmen"</button>
            </form>
        }
            .into_any()
    } else {
        view! {
            <p class="muted">"Ihr Konto hat weder ein Passwort noch einen Anmeldedienst, mit dem Sie die Annahme bestätigen könnten. Bitte wenden Sie sich an Ihren Ansprechpartner."</p>
        }
            .into_any()
    };
    view! {
        <p class="lead">
            {format!("Angebot {} vom {}: Vertragstext Fassung {}, Anlage 1 Version {}, Anlage 2 Version {}.", o.number, o.offered_at, o.text_version, p.anlage1.0, p.anlage2.0)}
            {still.then_some(" Ihr bisher geschlossener Vertrag gilt weiter, bis Sie dieses Angebot annehmen.")}
        </p>
        <p>
            <a href=format!("/avv-abschluss/{id}/angebot.pdf") rel="external">"Vollständiges Dokument lesen (PDF)"</a>
            <br />
            <small class="hash" data-test="offer-sha256">{format!("SHA-256 {}", o.sha256)}</small>
        </p>
        <article class="contract-text" aria-label="Vertragstext">
            <h3>{p.title.clone()}</h3>
            <Text blocks=p.blocks.clone() />
            <h3>"Angaben zur Verarbeitung"</h3>
            <dl>
                {p.particulars.iter().cloned().map(|(label, text)| view! { <dt>{label}</dt> <dd class="pre">{text}</dd> }).collect_view()}
                <dt>"Unterauftragsverarbeiter für Ihre Leistungen"</dt>
                <dd>{if p.subprocessors.is_empty() { "keine".to_owned() } else { p.subprocessors.join(", ") }}</dd>
            </dl>
            <h3>"Anlagen"</h3>
            <p>{format!("Anlage 1 (TOM): Version {}, SHA-256 {}", p.anlage1.0, p.anlage1.1)}</p>
            <p>{format!("Anlage 2 (Unterauftragsverarbeiter): Version {}, SHA-256 {}", p.anlage2.0, p.anlage2.1)}</p>
        </article>
        <h3>"Annehmen"</h3>
        {confirm}
    }
}
