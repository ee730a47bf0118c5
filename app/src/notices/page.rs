//! The DPO's notices panel (on `/unterauftragsverarbeiter`) and the
//! customer's notices section in the portal.

use crate::format::german_date;
use leptos::prelude::*;

use super::{IssueNotice, NoticeView, ObjectToNotice, PortalNotice, list_notices};
use crate::ui::{ErrorView, FormError, Loading};

/// Notices to customers about new or replaced subprocessors, with the
/// objections per customer; admins issue new ones.
#[component]
pub fn NoticesPanel() -> impl IntoView {
    let issue = ServerAction::<IssueNotice>::new();
    let list = use_context::<crate::subprocessors::ListVersion>();
    let data = Resource::new(
        move || (issue.version().get(), list.map(|l| l.0.get())),
        |_| list_notices(),
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) => {
                        view! {
                            <section class="notices" id="mitteilungen">
                                <h2>"Mitteilungen an Kunden und Einsprüche"</h2>
                                <p class="muted">
                                    "Bevor ein Unterauftragsverarbeiter hinzukommt oder ersetzt wird, werden alle Kunden informiert und können innerhalb der Frist Einspruch einlegen (Art. 28 Abs. 2 DSGVO)."
                                </p>
                                {list.items.is_empty().then(|| view! { <p class="muted">"Noch keine Mitteilungen."</p> })}
                                {list.items.into_iter().map(|n| view! { <Notice n /> }).collect_view()}
                                {(list.can_issue && !list.subprocessors.is_empty()).then(|| {
                                    let subs = list.subprocessors.clone();
                                    view! {
                                        <details class="card">
                                            <summary>"Kunden über einen Unterauftragsverarbeiter informieren"</summary>
                                            <FormError value=issue.value() prefix="notice-" />
                                            <ActionForm action=issue attr:class="form">
                                                <label for="notice-subprocessor_id">"Geplanter Unterauftragsverarbeiter"</label>
                                                <select id="notice-subprocessor_id" name="subprocessor_id" required>
                                                    <crate::ui::ChooseOption />
                                                    {subs.iter().map(|(id, name, status)| view! { <option value=id.to_string()>{format!("{name} ({status})")}</option> }).collect_view()}
                                                </select>
                                                <label for="notice-replaces_id">"Ersetzt"</label>
                                                <select id="notice-replaces_id" name="replaces_id">
                                                    <option value="0">"– niemanden (zusätzlich) –"</option>
                                                    {subs.iter().map(|(id, name, _)| view! { <option value=id.to_string()>{name.clone()}</option> }).collect_view()}
                                                </select>
                                                <label for="notice-message">"Erläuterung für die Kunden"</label>
                                                <crate::ui::TextArea id="notice-message" name="message" rows=4 placeholder="z. B. Grund des Wechsels, Zeitpunkt, betroffene Leistungen" />
                                                <label for="notice-deadline">"Einspruchsfrist bis einschließlich"</label>
                                                <input id="notice-deadline" type="date" name="deadline" value=list.default_deadline.to_string() />
                                                <button type="submit" class="button primary">"Mitteilung an alle Kunden senden"</button>
                                            </ActionForm>
                                        </details>
                                    }
                                })}
                            </section>
                        }
                            .into_any()
                    }
                    // Owners and staff do not see notices; the panel stays away.
                    Err(crate::error::AppError::Forbidden) => ().into_any(),
                    Err(e) => view! { <ErrorView err=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Notice(n: NoticeView) -> impl IntoView {
    let state = if n.open {
        format!("Einspruchsfrist läuft bis {}", german_date(n.deadline))
    } else {
        format!("Einspruchsfrist endete am {}", german_date(n.deadline))
    };
    let heading = match &n.replaces {
        None => format!("Neuer Unterauftragsverarbeiter: {}", n.subprocessor),
        Some(r) => format!("{} ersetzt {}", n.subprocessor, r),
    };
    let objections = n.objections.len();
    view! {
        <section class="card notice" id=format!("mitteilung-{}", n.id) data-test="notice">
            <h3>
                {heading} " "
                <span class=if n.open { "badge notice-open" } else { "badge notice-closed" }>{state}</span>
            </h3>
            <p class="muted">
                {format!(
                    "Mitgeteilt am {} von {} an {} Kontaktpersonen.",
                    n.issued_at,
                    n.issued_by,
                    n.recipients,
                )}
            </p>
            {(!n.message.is_empty()).then(|| view! { <p class="notice-message">{n.message.clone()}</p> })}
            <h4>{format!("Einsprüche ({objections})")}</h4>
            {(objections == 0).then(|| view! { <p class="muted">"Keine."</p> })}
            <ul class="objections" data-test="objections">
                {n.objections.into_iter().map(|o| view! {
                    <li>
                        <strong>{o.customer}</strong>
                        {format!(" · {} · {}", o.at, o.by)}
                        <blockquote>{o.reason}</blockquote>
                    </li>
                }).collect_view()}
            </ul>
            {(!n.without_objection.is_empty()).then(|| view! {
                <p class="muted">{format!("Ohne Einspruch: {}", n.without_objection.join(", "))}</p>
            })}
        </section>
    }
}

/// The portal's section of notices, with the objection form while the
/// deadline runs. Plain forms, so it works without JavaScript too.
#[component]
pub fn PortalNotices(
    /// Created by the portal page: its data's notices, then after an
    /// objection `portal_notices` again.
    data: Resource<Result<Vec<PortalNotice>, crate::error::AppError>>,
    object: ServerAction<ObjectToNotice>,
) -> impl IntoView {
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section class="portal-notices" aria-label="Mitteilungen zu Unterauftragsverarbeitern">
                            <h2>"Mitteilungen zu Unterauftragsverarbeitern"</h2>
                            <FormError value=object.value() unlinked=true />
                            {list.into_iter().map(|n| view! { <PortalNoticeCard n object /> }).collect_view()}
                        </section>
                    }
                        .into_any(),
                    Err(e) => view! { <ErrorView err=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PortalNoticeCard(n: PortalNotice, object: ServerAction<ObjectToNotice>) -> impl IntoView {
    let id = n.id;
    let heading = match &n.replaces {
        None => format!("Geplant: {}", n.subprocessor),
        Some(r) => format!("Geplant: {} ersetzt {}", n.subprocessor, r),
    };
    let deadline = if n.open {
        format!(
            "Einspruch möglich bis einschließlich {}",
            german_date(n.deadline)
        )
    } else {
        format!("Einspruchsfrist endete am {}", german_date(n.deadline))
    };
    view! {
        <section class="card notice" id=format!("mitteilung-{id}") data-test="notice">
            <h3>{heading}</h3>
            <p class="muted">{format!("Mitgeteilt am {} · {}", n.issued_at, deadline)}</p>
            <dl class="facts">
                <dt>"Leistung"</dt><dd>{n.service.clone()}</dd>
                <dt>"Verarbeitungsorte"</dt><dd>{n.locations.clone()}</dd>
                <dt>"Drittlandübermittlung"</dt><dd>{n.safeguard.clone()}</dd>
                <dt>"Nachweise"</dt>
                <dd>
                    {if n.attestations.is_empty() {
                        "keine angegeben".to_owned()
                    } else {
                        n.attestations
                            .iter()
                            .map(|a| if a.valid_until.is_none() {
                                a.kind.clone()
                            } else {
                                format!("{} (gültig bis {})", a.kind, a.valid_until.map(german_date).unwrap_or_default())
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    }}
                </dd>
            </dl>
            {(!n.message.is_empty()).then(|| view! { <p class="notice-message">{n.message.clone()}</p> })}
            {n.objection.clone().map(|o| view! {
                <div class="objection-done" role="status" data-test="objection-done">
                    <p><strong>{format!("Ihr Unternehmen hat am {} Einspruch eingelegt ({}).", o.at, o.by)}</strong></p>
                    <blockquote>{o.reason}</blockquote>
                </div>
            })}
            {n.can_object.then(|| view! {
                <details>
                    <summary>"Einspruch einlegen"</summary>
                    <ActionForm action=object attr:class="form">
                        <input type="hidden" name="notice_id" value=id.to_string() />
                        <label for=format!("objection-{id}")>"Begründung des Einspruchs"</label>
                        <crate::ui::TextArea id=format!("objection-{id}") name="reason" rows=4 required=true />
                        <button type="submit" class="button primary">"Einspruch senden"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}
