//! `/verpflichtung`: a member reads and signs the pledge; their signed
//! copies. `/verpflichtungen`: the DPO's overview and the text's versions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    Block, CLAUSES, MyPledge, PledgeOverview, PledgeState, PublishPledge, SignPledge,
    get_my_pledge, get_pledge_overview,
};
use crate::format::german_date;
use crate::ui::{ErrorView, FieldError, FormError, Loading, described_by_in, invalid};

enum Part {
    Heading(String),
    Paragraph(String),
    List(Vec<String>),
}

/// The text's blocks as HTML: consecutive list items form one list.
#[component]
pub fn Text(blocks: Vec<Block>) -> impl IntoView {
    let mut parts: Vec<Part> = Vec::new();
    for b in blocks {
        match (b.kind.as_str(), parts.last_mut()) {
            ("item", Some(Part::List(items))) => items.push(b.text),
            ("item", _) => parts.push(Part::List(vec![b.text])),
            ("heading", _) => parts.push(Part::Heading(b.text)),
            _ => parts.push(Part::Paragraph(b.text)),
        }
    }
    view! {
        <div class="pledge-text">
            {parts
                .into_iter()
                .map(|p| match p {
                    Part::Heading(h) => view! { <h3>{h}</h3> }.into_any(),
                    Part::Paragraph(t) => view! { <p>{t}</p> }.into_any(),
                    Part::List(items) => {
                        view! { <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul> }
                            .into_any()
                    }
                })
                .collect_view()}
        </div>
    }
}

#[component]
pub fn PledgePage() -> impl IntoView {
    let sign = ServerAction::<SignPledge>::new();
    let data = Resource::new(move || sign.version().get(), |_| get_my_pledge());
    view! {
        <Title text="Verpflichtung auf die Vertraulichkeit" />
        <section class="page narrow">
            <h1>"Verpflichtung auf die Vertraulichkeit"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(p) => view! { <Mine p sign /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Mine(p: MyPledge, sign: ServerAction<SignPledge>) -> impl IntoView {
    // `?fehler=` is how the confirmation through a provider reports a mistake.
    let query = use_query_map();
    let Some(text) = p.current.clone() else {
        return view! {
            <p class="muted">"Ihre Organisation hat noch keinen Text der Verpflichtung festgelegt."</p>
        }
            .into_any();
    };
    let signed = p.signed.clone();
    let copies = p
        .signed
        .iter()
        .chain(p.earlier.iter())
        .cloned()
        .collect::<Vec<_>>();
    view! {
        {match &signed {
            Some(s) => view! {
                <div class="notice-ok" role="status">
                    <p><strong>{format!("Sie haben Fassung {} am {} unterschrieben.", s.version, s.signed_at)}</strong></p>
                </div>
            }.into_any(),
            None if p.must_sign => view! {
                <p class="lead">
                    {if p.earlier.is_empty() {
                        "Bitte lesen Sie den folgenden Text vollständig und unterschreiben Sie ihn am Ende.".to_owned()
                    } else {
                        format!("Der Text wurde geändert (jetzt Fassung {}). Bitte lesen und unterschreiben Sie die neue Fassung.", text.version)
                    }}
                </p>
            }.into_any(),
            None => view! { <p class="muted">"Für Ihre Rolle ist keine Unterschrift vorgesehen."</p> }.into_any(),
        }}
        <article class="card pledge" aria-label="Text der Verpflichtung">
            <h2>{text.title.clone()}</h2>
            <p class="muted">{format!("Fassung {} vom {} · SHA-256 {}", text.version, german_date(text.created_at), text.sha256)}</p>
            <Text blocks=text.blocks.clone() />
        </article>
        {(signed.is_none() && p.must_sign).then(|| {
            let id = text.id;
            let sha = text.sha256.clone();
            let read = view! {
                <label class="check">
                    <input id="pledge-confirm" type="checkbox" name="confirm" value="ja" required />
                    " Ich habe den Text vollständig gelesen und verpflichte mich entsprechend."
                </label>
                <FieldError value=sign.value() field="confirm" prefix="pledge-" />
                <label for="pledge-typed_name" class="required">"Ihr vollständiger Name"</label>
                <input
                    id="pledge-typed_name"
                    name="typed_name"
                    required
                    pattern=crate::ui::NOT_BLANK
                    autocomplete="name"
                    placeholder=p.display_name.clone()
                    aria-invalid=move || sign.value().with(|v| invalid(v, "typed_name")).then_some("true")
                    aria-describedby=move || sign.value().with(|v| described_by_in(v, "pledge-", "typed_name"))
                />
                <FieldError value=sign.value() field="typed_name" prefix="pledge-" />
            };
            let confirm = if p.has_password {
                view! {
                    <FormError value=sign.value() prefix="pledge-" />
                    <ActionForm action=sign attr:class="form">
                        <input type="hidden" name="text_id" value=id.to_string() />
                        <input type="hidden" name="text_sha256" value=sha />
                        {read}
                        <label for="pledge-password">"Ihr Kennwort zur Bestätigung"</label>
                        <input id="pledge-password" name="password" type="password" required autocomplete="current-password" />
                        <button type="submit" class="button primary">"Verbindlich unterschreiben"</button>
                    </ActionForm>
                }
                    .into_any()
            } else if let Some((first, _)) = p.sso.first().cloned() {
                // No password: a fresh login at the person's identity provider
                // confirms it is them. A plain form: the browser leaves for
                // the provider and comes back signed.
                let several = p.sso.len() > 1;
                let providers = p.sso.clone();
                let only = p.sso[0].1.clone();
                view! {
                    {move || query.with(|q| q.get("fehler")).map(|e| view! { <crate::ui::ErrorSummary>{e}</crate::ui::ErrorSummary> })}
                    <form class="form" method="post" action="/verpflichtung/sso">
                        <input type="hidden" name="text_id" value=id.to_string() />
                        <input type="hidden" name="text_sha256" value=sha />
                        {read}
                        {if several {
                            view! {
                                <label for="pledge-provider">"Bestätigen über"</label>
                                <select id="pledge-provider" name="provider_id">
                                    {providers.into_iter().map(|(pid, name)| view! { <option value=pid.to_string()>{name}</option> }).collect_view()}
                                </select>
                            }.into_any()
                        } else {
                            view! { <input type="hidden" name="provider_id" value=first.to_string() /> }.into_any()
                        }}
                        <p class="muted">{if several {
                            "Sie melden sich dort erneut an; danach ist die Verpflichtung unterschrieben.".to_owned()
                        } else {
                            format!("Sie melden sich bei {only} erneut an; danach ist die Verpflichtung unterschrieben.")
                        }}</p>
                        <button type="submit" class="button primary">"Mit Anmeldung bestätigen und unterschreiben"</button>
                    </form>
                }
                    .into_any()
            } else {
                view! {
                    <p class="muted">"Ihr Konto hat weder ein Passwort noch einen Anmeldedienst, mit dem Sie die Unterschrift bestätigen könnten. Bitte wenden Sie sich an den Datenschutzbeauftragten."</p>
                }
                    .into_any()
            };
            view! {
                <section class="card sign">
                    <h2>"Unterschreiben"</h2>
                    {confirm}
                </section>
            }
        })}
        {(!copies.is_empty()).then(|| view! {
            <h2>"Ihre unterschriebenen Fassungen"</h2>
            <ul class="pledge-copies">
                {copies.into_iter().map(|s| view! {
                    <li>
                        <a href=format!("/verpflichtung/{}.pdf", s.id) rel="external">{format!("Fassung {}, unterschrieben am {} (PDF)", s.version, s.signed_at)}</a>
                        <br /><small class="hash">{format!("SHA-256 {}", s.pdf_sha256)}</small>
                    </li>
                }).collect_view()}
            </ul>
        })}
    }
        .into_any()
}

/// On the start page: a reminder while the current text is unsigned.
#[component]
pub fn PledgeReminder() -> impl IntoView {
    view! {
        <section class="card attention pledge-reminder" data-test="pledge-reminder">
            <h2>"Verpflichtung auf die Vertraulichkeit"</h2>
            <p>"Bitte lesen und unterschreiben Sie die aktuelle Fassung."</p>
            <p><a class="button primary" href="/verpflichtung">"Jetzt lesen und unterschreiben"</a></p>
        </section>
    }
}

#[component]
pub fn PledgeAdminPage() -> impl IntoView {
    let publish = ServerAction::<PublishPledge>::new();
    let data = Resource::new(move || publish.version().get(), |_| get_pledge_overview());
    view! {
        <Title text="Verpflichtungen" />
        <section class="page wide">
            <h1>"Verpflichtungen auf die Vertraulichkeit"</h1>
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

fn state_label(state: PledgeState) -> &'static str {
    match state {
        PledgeState::Outdated => "ältere Fassung – neu zu unterschreiben",
        other => other.label(),
    }
}

#[component]
fn Overview(o: PledgeOverview, publish: ServerAction<PublishPledge>) -> impl IntoView {
    let first = o.current.is_none();
    let active_clauses: Vec<String> = o
        .current
        .as_ref()
        .map(|c| c.clauses.clone())
        .unwrap_or_default();
    let version = o.current.as_ref().map(|c| c.version);
    let published = publish.value().with_untracked(|v| matches!(v, Some(Ok(_))));
    view! {
        {(published && version.is_some()).then(|| view! {
            <crate::ui::Saved text=format!("Gespeichert – Fassung {} gilt jetzt und ist allen zur Unterschrift vorgelegt.", version.unwrap_or_default()) />
        })}
        <p class="lead summary" data-test="summary">{o.summary.clone()}</p>
        <p><a href="/verpflichtungen.csv" rel="external" download>"Übersicht als CSV herunterladen"</a></p>
        <table class="table pledge-matrix">
            <thead>
                <tr><th>"Name"</th><th>"Rolle"</th><th>"Stand"</th><th>"Unterschrieben"</th></tr>
            </thead>
            <tbody>
                {o.rows.into_iter().map(|r| view! {
                    <tr data-state=r.state.as_str()>
                        <td>{r.name.clone()}<br /><small>{r.email.clone()}</small></td>
                        <td>{r.role.clone()}</td>
                        <td><span class=format!("badge pledge-{}", r.state)>{state_label(r.state)}</span></td>
                        <td>
                            {match (r.signature_id, r.signed_at, r.signed_version) {
                                (Some(id), Some(at), Some(v)) => view! {
                                    <a href=format!("/verpflichtung/{id}.pdf") rel="external">{format!("Fassung {v}, {at}")}</a>
                                }.into_any(),
                                _ => view! { "–" }.into_any(),
                            }}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {o.current.clone().map(|t| view! {
            <details class="card">
                <summary>{format!("Aktueller Text: Fassung {} vom {}", t.version, german_date(t.created_at))}</summary>
                <Text blocks=t.blocks />
            </details>
        })}
        {o.can_edit.then(|| view! {
            <details class="card" open=first || publish.value().with_untracked(|v| matches!(v, Some(Err(_))))>
                <summary>{if first { "Text festlegen (Fassung 1)" } else { "Neue Fassung festlegen" }}</summary>
                <p class="muted">"Eine neue Fassung muss von allen erneut unterschrieben werden. Bisherige Unterschriften bleiben unverändert erhalten."</p>
                <FormError value=publish.value() prefix="pledge-" />
                <p class="hint">"Pflichtfelder sind mit * markiert."</p>
                <ActionForm action=publish attr:class="form">
                    <label for="pledge-title" class="required">"Titel"</label>
                    <input
                        id="pledge-title"
                        name="title"
                        required
                        pattern=crate::ui::NOT_BLANK
                        value={crate::ui::typed::<PublishPledge>("title", o.draft_title.clone())}
                        aria-invalid=move || publish.value().with(|v| invalid(v, "title")).then_some("true")
                        aria-describedby=move || publish.value().with(|v| described_by_in(v, "pledge-", "title"))
                    />
                    <FieldError value=publish.value() field="title" prefix="pledge-" />
                    <label for="pledge-body" class="required">"Text (Markdown: Absätze, ## Überschriften, - Aufzählungen)"</label>
                    <crate::ui::TextArea
                        id="pledge-body"
                        name="body"
                        rows=18
                        required=true
                        value={crate::ui::typed::<PublishPledge>("body", o.draft_body.clone())}
                        invalid=Signal::derive(move || publish.value().with(|v| invalid(v, "body")))
                    />
                    <FieldError value=publish.value() field="body" prefix="pledge-" />
                    <fieldset>
                        <legend>"Zusätzliche Klauseln"</legend>
                        {CLAUSES.iter().map(|(key, label)| {
                            let on = match crate::ui::kept::kept(<PublishPledge as server_fn::ServerFn>::PATH) {
                                Some(kept) => kept.get(key).is_some(),
                                None => active_clauses.iter().any(|k| k == key),
                            };
                            view! {
                                <label class="check">
                                    <input type="checkbox" name=*key value="ja" checked=on />
                                    " " {*label}
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                    <button type="submit" class="button primary">"Fassung festlegen"</button>
                </ActionForm>
            </details>
        })}
    }
}
