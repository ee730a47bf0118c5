//! `/unterauftragsverarbeiter`: the subprocessors with their attestations
//! and the measures relying on them; admins add and edit. Also the small
//! panel on a measure's page that links it to subprocessors.

use crate::format::german_date;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    AddAttestation, AttestationKind, LinkMeasure, PublishAnlage2, RemoveAttestation, Safeguard,
    SaveSubprocessor, SubStatus, SubprocessorView, get_anlage2, get_reliance, list_subprocessors,
};
use crate::ids::{MeasureId, SubprocessorId};
use crate::ui::{ErrorView, FormError, Loading, Saved};

#[derive(Clone, Copy)]
struct Edits {
    save: ServerAction<SaveSubprocessor>,
    add: ServerAction<AddAttestation>,
    remove: ServerAction<RemoveAttestation>,
}

#[component]
pub fn SubprocessorsPage(
    /// What the page shows below the list (the route adds the notices panel,
    /// whose choices are the subprocessors: it reloads on [`ListVersion`]).
    /// Rendered once, outside the list's `Suspense`, so that its resources
    /// are created once.
    children: Children,
) -> impl IntoView {
    let edits = Edits {
        save: ServerAction::new(),
        add: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                edits.save.version().get(),
                edits.add.version().get(),
                edits.remove.version().get(),
            )
        },
        |_| list_subprocessors(),
    );
    provide_context(ListVersion(Signal::derive(move || {
        (
            edits.save.version().get(),
            edits.add.version().get(),
            edits.remove.version().get(),
        )
    })));
    // After a save the server leads back to the card with `?gespeichert=ID`.
    let query = leptos_router::hooks::use_query_map();
    let saved = move || {
        query.with(|q| {
            q.get("gespeichert")
                .and_then(|v| v.parse::<SubprocessorId>().ok())
        })
    };
    view! {
        <Title text="Unterauftragsverarbeiter" />
        <section class="page wide">
            <h1>"Unterauftragsverarbeiter"</h1>
            <p class="lead">
                "Wer Daten in Ihrem Auftrag verarbeitet, wo, mit welcher Garantie für Drittländer, und mit welchen Nachweisen (z. B. ISO/IEC 27001). Maßnahmen, die auf den Maßnahmen eines Unterauftragsverarbeiters beruhen, nennen ihn in der Anlage."
            </p>
            <FormError value=edits.save.value() unlinked=true />
            <FormError value=edits.add.value() unlinked=true />
            <FormError value=edits.remove.value() unlinked=true />
            <Suspense fallback=Loading>
                {move || {
                    Suspend::new(async move {
                    match data.await {
                        Ok(list) => {
                            let can_edit = list.can_edit;
                            view! {
                                {list.items.is_empty().then(|| view! { <p class="muted">"Noch keine Unterauftragsverarbeiter erfasst."</p> })}
                                {list.items.into_iter().map(|s| { let saved = saved() == Some(s.id); view! { <Sub s can_edit edits saved /> } }).collect_view()}
                                {can_edit.then(|| view! {
                                    <details class="card">
                                        <summary>"Unterauftragsverarbeiter hinzufügen"</summary>
                                        <SubForm s=None edits />
                                    </details>
                                })}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                    })
                }}
            </Suspense>
            <Anlage2Panel />
            {children()}
        </section>
    }
}

/// Anlage 2 of the AVV: its published versions with what each changed,
/// what the next would change, and (admins) the button that publishes it.
#[component]
fn Anlage2Panel() -> impl IntoView {
    let publish = ServerAction::<PublishAnlage2>::new();
    let data = Resource::new(move || publish.version().get(), |_| get_anlage2());
    let query = leptos_router::hooks::use_query_map();
    let published = move || query.with_untracked(|q| q.get("anlage2"));
    view! {
        <section class="card" id="anlage2" data-test="anlage2">
            <h2>"Anlage 2 zum AVV"</h2>
            <p class="muted">
                "Die Liste der aktiven Unterauftragsverarbeiter für Ihre Kunden: versioniert, signiert und unveränderlich wie die TOM-Anlage. Kunden finden die aktuelle Version im Kundenportal."
            </p>
            <FormError value=publish.value() unlinked=true />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => {
                            let confirmed = published()
                                .and_then(|v| o.versions.iter().find(|x| x.version.to_string() == v))
                                .map(|x| view! { <Saved text=format!("Veröffentlicht – Version {}", x.version) /> });
                            let first = o.versions.is_empty();
                            let next = o.versions.len() + 1;
                            view! {
                                {confirmed}
                                {(!o.notices_due.is_empty()).then(|| view! {
                                    <div class="notice" data-test="anlage2-notices-due">
                                        {o.notices_due.iter().map(|t| view! { <p>{t.clone()}</p> }).collect_view()}
                                    </div>
                                })}
                                {(!o.blocked.is_empty()).then(|| view! {
                                    <div class="notice notice-error" data-test="anlage2-blocked">
                                        {o.blocked.iter().map(|t| view! { <p>{t.clone()}</p> }).collect_view()}
                                    </div>
                                })}
                                {if o.pending.is_empty() {
                                    view! { <p data-test="anlage2-current">{if first { "Noch keine Version veröffentlicht; es gibt keinen aktiven Unterauftragsverarbeiter." } else { "Die veröffentlichte Version entspricht der Liste." }}</p> }.into_any()
                                } else {
                                    view! {
                                        <div data-test="anlage2-pending">
                                            <p>{if first { "Noch keine Version veröffentlicht. Version 1 nennt:" } else { "Seit der letzten Version geändert:" }}</p>
                                            <ul>{o.pending.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}</ul>
                                        </div>
                                    }.into_any()
                                }}
                                {(o.can_publish && !o.pending.is_empty()).then(|| view! {
                                    <ActionForm action=publish attr:class="inline">
                                        <button type="submit" class="button primary">
                                            {if first { "Anlage 2 veröffentlichen (Version 1)".to_owned() } else { format!("Version {next} veröffentlichen") }}
                                        </button>
                                    </ActionForm>
                                })}
                                {(!first).then(|| view! {
                                    <h3>"Veröffentlichte Versionen"</h3>
                                    <ul class="history" data-test="anlage2-versions">
                                        {o.versions.iter().map(|v| view! {
                                            <li data-test="anlage2-version">
                                                <p>
                                                    <a href=format!("/anlage2/v{}.pdf", v.version)>{format!("Version {}", v.version)}</a>
                                                    {format!(" · {} · {} · {} Unterauftragsverarbeiter", v.published_at, v.published_by, v.subprocessors.len())}
                                                </p>
                                                <p class="muted checksum">{format!("SHA-256 {}", v.sha256)}</p>
                                                <details>
                                                    <summary>"Was hat sich geändert?"</summary>
                                                    <ul>{v.changes.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}</ul>
                                                </details>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                })}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Changes whenever the subprocessor list was edited in this page: panels
/// below the list that show subprocessors reload on it.
#[derive(Clone, Copy)]
pub struct ListVersion(pub Signal<(usize, usize, usize)>);

#[component]
fn Sub(s: SubprocessorView, can_edit: bool, edits: Edits, saved: bool) -> impl IntoView {
    let id = s.id;
    view! {
        <section class="card subprocessor" id=format!("sub-{id}")>
            <h2>{s.name.clone()} " " <span class=format!("badge sub-{}", s.status.as_str())>{s.status.label()}</span></h2>
            {saved.then(|| view! { <crate::ui::Saved text=format!("Gespeichert – Version {}", s.version) /> })}
            <dl class="facts">
                <dt>"Leistung"</dt><dd>{s.service.clone()}</dd>
                <dt>"Anschrift"</dt><dd>{s.address.clone()}</dd>
                <dt>"Verarbeitungsorte"</dt><dd>{s.locations.clone()}</dd>
                <dt>"Drittlandübermittlung"</dt><dd>{s.safeguard.label()}</dd>
                <dt>"Kontakt"</dt><dd>{s.contact.clone()}</dd>
                <dt>"Zeitraum"</dt>
                <dd>{match (s.since, s.until) {
                    (None, None) => "–".to_owned(),
                    (Some(since), None) => format!("seit {}", german_date(since)),
                    (None, Some(until)) => format!("bis {}", german_date(until)),
                    (Some(since), Some(until)) => format!("{} bis {}", german_date(since), german_date(until)),
                }}</dd>
            </dl>
            <h3>"Nachweise (Zertifikate, Prüfberichte)"</h3>
            {s.attestations.is_empty().then(|| view! { <p class="muted">"Keine Nachweise erfasst."</p> })}
            <ul class="attestations">
                {s.attestations.iter().map(|a| {
                    let aid = a.id;
                    view! {
                        <li data-validity=a.validity.as_str()>
                            <strong>{a.kind.label()}</strong>
                            {(!a.issuer.is_empty()).then(|| format!(" · {}", a.issuer))}
                            {a.valid_until.map(|d| view! { " " <span class=format!("badge validity-{}", a.validity.as_str())>{format!("{} {}", a.validity.label(), german_date(d))}</span> })}
                            {(!a.scope.is_empty()).then(|| view! { <br /><small>{format!("Geltungsbereich: {}", a.scope)}</small> })}
                            {a.file_version_id.map(|v| view! { <br /><a href=format!("/nachweise/datei/{v}") rel="external">{a.file_name.clone().unwrap_or_default()}</a> })}
                            {can_edit.then(|| view! {
                                <form class="form upload inline-form" method="post" action="/nachweise/hochladen" enctype="multipart/form-data">
                                    <input type="hidden" name="attestation_id" value=aid.to_string() />
                                    <input type="hidden" name="valid_until" value=a.valid_until.map(|d| d.to_string()).unwrap_or_default() />
                                    <label for=format!("att-file-{aid}")>"Zertifikat/Bericht hochladen"</label>
                                    <input id=format!("att-file-{aid}") type="file" name="file" required />
                                    <button type="submit" class="button small">"Hochladen"</button>
                                </form>
                                <crate::ui::Confirm
                                    action="entfernen …"
                                    consequence="Dieser Nachweis erscheint dann nicht mehr beim Unterauftragsverarbeiter und im Portal; seine Dateien und das Protokoll bleiben erhalten."
                                >
                                    <ActionForm action=edits.remove attr:class="inline">
                                        <input type="hidden" name="id" value=aid.to_string() />
                                        <button type="submit" class="link danger">"Ja, entfernen"</button>
                                    </ActionForm>
                                </crate::ui::Confirm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {can_edit.then(|| view! {
                <details>
                    <summary>"Nachweis hinzufügen"</summary>
                    <ActionForm action=edits.add attr:class="form">
                        <input type="hidden" name="subprocessor_id" value=id.to_string() />
                        <label for=format!("att-kind-{id}")>"Art"</label>
                        <select id=format!("att-kind-{id}") name="kind">
                            {AttestationKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                        </select>
                        <label for=format!("att-issuer-{id}")>"Aussteller (Zertifizierungsstelle, Prüfer)"</label>
                        <input id=format!("att-issuer-{id}") name="issuer" />
                        <label for=format!("att-scope-{id}")>"Geltungsbereich"</label>
                        <input id=format!("att-scope-{id}") name="scope" />
                        <label for=format!("att-until-{id}")>"Gültig bis"</label>
                        <input id=format!("att-until-{id}") type="date" name="valid_until" />
                        <button type="submit" class="button">"Hinzufügen"</button>
                    </ActionForm>
                </details>
            })}
            <h3>"Maßnahmen, die darauf beruhen"</h3>
            {if s.measures.is_empty() {
                view! { <p class="muted">"Keine."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {s.measures.iter().map(|m| view! { <li><a href=format!("/massnahmen/{}", m.id)>{m.label.clone()}</a></li> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            {can_edit.then(|| view! {
                <details>
                    <summary>"Angaben bearbeiten"</summary>
                    <SubForm s=Some(s.clone()) edits />
                </details>
            })}
        </section>
    }
}

#[component]
fn SubForm(s: Option<SubprocessorView>, edits: Edits) -> impl IntoView {
    let key = s.as_ref().map_or("neu".to_owned(), |s| s.id.to_string());
    let v = |f: fn(&SubprocessorView) -> String| s.as_ref().map(f).unwrap_or_default();
    let status = s.as_ref().map_or(SubStatus::Active, |s| s.status);
    let safeguard = s.as_ref().map_or(Safeguard::Eu, |s| s.safeguard);
    let (id, version) = s
        .as_ref()
        .map_or((SubprocessorId(0), 0), |s| (s.id, s.version));
    // After a refused save, this form (and only this one) shows what was typed.
    let kept = crate::ui::kept::kept(<SaveSubprocessor as server_fn::ServerFn>::PATH)
        .filter(|k| k.get("id").unwrap_or("0") == id.to_string());
    let t = |field: &str, stored: String| crate::ui::kept::or_stored(&kept, field, stored);
    let (name, service, address, locations, contact, since, until) = (
        t("name", v(|s| s.name.clone())),
        t("service", v(|s| s.service.clone())),
        t("address", v(|s| s.address.clone())),
        t("locations", v(|s| s.locations.clone())),
        t("contact", v(|s| s.contact.clone())),
        t(
            "since",
            v(|s| s.since.map(|d| d.to_string()).unwrap_or_default()),
        ),
        t(
            "until",
            v(|s| s.until.map(|d| d.to_string()).unwrap_or_default()),
        ),
    );
    let safeguard = t("safeguard", safeguard.as_str().to_owned());
    let status = t("status", status.as_str().to_owned());
    view! {
        <ActionForm action=edits.save attr:class="form">
            <input type="hidden" name="id" value=id.to_string() />
            <input type="hidden" name="version" value=version.to_string() />
            <label for=format!("sp-name-{key}") class="required">"Name"</label>
            <input id=format!("sp-name-{key}") name="name" required pattern=crate::ui::NOT_BLANK value=name />
            <label for=format!("sp-service-{key}")>"Leistung"</label>
            <input id=format!("sp-service-{key}") name="service" value=service placeholder="z. B. Rechenzentrumsbetrieb, Hosting" />
            <label for=format!("sp-address-{key}")>"Anschrift"</label>
            <crate::ui::TextArea id=format!("sp-address-{key}") name="address" rows=2 value=address />
            <label for=format!("sp-loc-{key}")>"Verarbeitungsorte"</label>
            <input id=format!("sp-loc-{key}") name="locations" value=locations placeholder="z. B. Rechenzentren in Deutschland" />
            <label for=format!("sp-safeguard-{key}")>"Garantie bei Drittlandübermittlung"</label>
            <select id=format!("sp-safeguard-{key}") name="safeguard">
                {Safeguard::ALL.iter().map(|g| view! { <option value=g.as_str() selected=g.as_str() == safeguard>{g.label()}</option> }).collect_view()}
            </select>
            <label for=format!("sp-contact-{key}")>"Kontakt"</label>
            <input id=format!("sp-contact-{key}") name="contact" value=contact />
            <label for=format!("sp-status-{key}")>"Status"</label>
            <select id=format!("sp-status-{key}") name="status">
                {SubStatus::ALL.iter().map(|st| view! { <option value=st.as_str() selected=st.as_str() == status>{st.label()}</option> }).collect_view()}
            </select>
            <label for=format!("sp-since-{key}")>"Seit"</label>
            <input id=format!("sp-since-{key}") type="date" name="since" value=since />
            <label for=format!("sp-until-{key}")>"Bis"</label>
            <input id=format!("sp-until-{key}") type="date" name="until" value=until />
            <button type="submit" class="button primary">"Speichern"</button>
        </ActionForm>
    }
}

/// The reliance panel's data and action, created by the measure page at its
/// top (outside any `Suspend`, so it is fetched once per render).
#[derive(Clone, Copy)]
pub struct RelianceData {
    link: ServerAction<LinkMeasure>,
    data: Resource<Result<super::Reliance, crate::error::AppError>>,
}

impl RelianceData {
    pub fn new(measure: impl Fn() -> Option<MeasureId> + Send + Sync + 'static) -> Self {
        let link = ServerAction::<LinkMeasure>::new();
        let data = Resource::new(
            move || (measure(), link.version().get()),
            |(measure, _)| crate::ui::for_measure(measure, get_reliance),
        );
        Self { link, data }
    }
}

/// On a measure's page: the subprocessors it relies on.
#[component]
pub fn ReliancePanel(measure_id: MeasureId, data: RelianceData) -> impl IntoView {
    let RelianceData { link, data } = data;
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) if r.linked.is_empty() && (!r.can_edit || r.available.is_empty()) => ().into_any(),
                    Ok(r) => {
                        let can_edit = r.can_edit;
                        let show_form = can_edit && !r.available.is_empty();
                        let none = r.linked.is_empty();
                        view! {
                        <section class="reliance">
                            <h2>"Beruht auf Unterauftragsverarbeitern"</h2>
                            <FormError value=link.value() />
                            {none.then(|| view! { <p class="muted">"Keine."</p> })}
                            <ul>
                                {r.linked.into_iter().map(|s| view! {
                                    <li>
                                        <a href=format!("/unterauftragsverarbeiter#sub-{}", s.id)>{s.label.clone()}</a>
                                        {can_edit.then(|| view! {
                                            <ActionForm action=link attr:class="inline">
                                                <input type="hidden" name="measure_id" value=measure_id.to_string() />
                                                <input type="hidden" name="subprocessor_id" value=s.id.to_string() />
                                                <input type="hidden" name="unlink" value="true" />
                                                <button type="submit" class="link">"lösen"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }).collect_view()}
                            </ul>
                            {show_form.then(|| view! {
                                <ActionForm action=link attr:class="form inline-form">
                                    <input type="hidden" name="measure_id" value=measure_id.to_string() />
                                    <label for="reliance-add">"Beruht auf"</label>
                                    <select id="reliance-add" name="subprocessor_id" required>
                                        <crate::ui::ChooseOption />
                                        {r.available.into_iter().map(|s| view! { <option value=s.id.to_string()>{s.label}</option> }).collect_view()}
                                    </select>
                                    <button type="submit" class="button">"Verknüpfen"</button>
                                </ActionForm>
                            })}
                        </section>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ErrorView err=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
