//! The start page: for owners the measures they are responsible for.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::auth::Auth;
use crate::format::german_date;
use crate::reminders::AttentionPreview;
use crate::toms::MeasureSummary;
use crate::ui::{ErrorView, Loading};

use super::{StartPanels, get_start};

#[component]
pub fn HomePage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    // Created here, once: never inside the `Suspend` below (see `StartPanels`).
    let panels = Resource::new(|| (), |_| get_start());
    view! {
        <Title text="Start" />
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    // A customer has one place here: the portal.
                    Ok(Some(u)) if !u.org.role.is_internal() => view! { <Redirect path="/portal" /> }.into_any(),
                    Ok(Some(u)) => match panels.await {
                        Ok(p) => view! { <InternalHome name=u.display_name org=u.org.legal_name p /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    },
                }
            })}
        </Suspense>
    }
}

#[component]
fn InternalHome(name: String, org: String, p: StartPanels) -> impl IntoView {
    let StartPanels {
        pledge_due,
        open_trainings,
        reviews,
        attention,
        mine,
    } = p;
    view! {
        <section class="page">
            <h1>{format!("Guten Tag, {name}")}</h1>
            <p class="lead">{org}</p>
            {pledge_due.then(|| view! { <crate::pledges::PledgeReminder /> })}
            <crate::training::OpenTrainings open=open_trainings />
            {reviews.map(|d| view! { <crate::reviews::MyReviews d /> })}
            {attention.map(|a| view! { <AttentionPanel a /> })}
            <h2>"Meine Maßnahmen"</h2>
            {if mine.is_empty() {
                view! {
                    <p class="muted">
                        "Ihnen sind derzeit keine Maßnahmen zugeordnet. "
                        <a href="/massnahmen">"Zum Maßnahmenkatalog"</a>
                    </p>
                }
                    .into_any()
            } else {
                view! { <MeasureList list=mine /> }.into_any()
            }}
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
                            {m.lacks_evidence().then(|| view! { <span class="badge validity-expired">"ohne gültigen Nachweis"</span> })}
                            {m.review_due
                                .then(|| view! {
                                    <span class="badge validity-expired">
                                        {format!("Prüfung fällig seit {}", m.next_review.map(german_date).unwrap_or_default())}
                                    </span>
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// What needs attention, with counts: the same lists as the daily digest.
#[component]
fn AttentionPanel(a: AttentionPreview) -> impl IntoView {
    let AttentionPreview { shown: a, totals } = a;
    let total = totals.sum();
    view! {
        <section class="card attention" data-test="attention">
            <h2>{format!("Handlungsbedarf ({total})")}</h2>
            {(total == 0).then(|| view! { <p class="muted">"Alles aktuell: keine ablaufenden Nachweise, jede Maßnahme hat Verantwortliche und einen gültigen Nachweis."</p> })}
            <AttentionList
                title="Nachweise, die ablaufen oder abgelaufen sind"
                test="expiring"
                total=totals.evidence_expiring
                more="/massnahmen"
                items=a
                    .evidence_expiring
                    .iter()
                    .map(|e| {
                        (
                            e.measure_id.map(|m| format!("/massnahmen/{m}#nachweise")).unwrap_or_default(),
                            format!("{} – {}", e.title, e.measure),
                            validity_badge(e.validity, e.valid_until),
                        )
                    })
                    .collect()
            />
            <AttentionList
                title="Nachweise von Unterauftragsverarbeitern, die ablaufen oder abgelaufen sind"
                test="attestations"
                total=totals.attestations_expiring
                more="/unterauftragsverarbeiter"
                items=a
                    .attestations_expiring
                    .iter()
                    .map(|e| {
                        (
                            format!("/unterauftragsverarbeiter#sub-{}", e.subprocessor_id),
                            format!("{}: {}", e.subprocessor, e.kind),
                            validity_badge(e.validity, e.valid_until),
                        )
                    })
                    .collect()
            />
            <AttentionList
                title="Maßnahmen ohne Verantwortliche"
                test="no-owner"
                total=totals.measures_without_owner
                more="/massnahmen?filter=ohne-verantwortliche"
                listed=true
                items=a
                    .measures_without_owner
                    .iter()
                    .map(|m| (format!("/massnahmen/{}", m.id), format!("{}: {}", m.category, m.label), None))
                    .collect()
            />
            <AttentionList
                title="Schulungen, die fällig oder überfällig sind"
                test="trainings"
                total=totals.trainings_due
                more="/schulungen/uebersicht"
                items=a
                    .trainings_due
                    .iter()
                    .map(|t| {
                        (
                            "/schulungen/uebersicht".to_owned(),
                            format!("{}: {}", t.name, t.course),
                            due_badge(t.overdue, t.due),
                        )
                    })
                    .collect()
            />
            <AttentionList
                title="Als nicht wirksam bewertete Maßnahmen"
                test="not-effective"
                total=totals.not_effective
                more="/pruefungen"
                items=a
                    .not_effective
                    .iter()
                    .map(|m| (format!("/massnahmen/{}", m.id), format!("{}: {}", m.category, m.label), Some(("expired", "nicht wirksam".to_owned()))))
                    .collect()
            />
            <AttentionList
                title="Korrekturmaßnahmen, die fällig oder überfällig sind"
                test="actions"
                total=totals.actions_due
                more="/pruefungen"
                items=a
                    .actions_due
                    .iter()
                    .map(|f| {
                        (
                            format!("/pruefungen/bewertung/{}", f.item_id),
                            format!("{}: {}", f.measure, f.action),
                            due_badge(f.overdue, f.due_date),
                        )
                    })
                    .collect()
            />
            <AttentionList
                title="Fällige Wirksamkeitsprüfungen"
                test="reviews-due"
                total=totals.reviews_due
                more="/massnahmen?filter=pruefung-faellig"
                listed=true
                items=a
                    .reviews_due
                    .iter()
                    .map(|d| (format!("/massnahmen/{}", d.measure_id), format!("{}: {}", d.category, d.label), Some(("expired", d.describe(true)))))
                    .collect()
            />
            <AttentionList
                title="Bewertungen, die auf Freigabe warten"
                test="assessments"
                total=totals.assessments_waiting
                more="/pruefungen"
                items=a
                    .assessments_waiting
                    .iter()
                    .map(|i| (format!("/pruefungen/bewertung/{}", i.id), format!("{}: {}", i.category, i.label), Some(("expiring", i.state.label().to_owned()))))
                    .collect()
            />
            <AttentionList
                title="Kunden ohne geschlossenen oder mit veraltetem AVV"
                test="contracts"
                total=totals.contracts_open
                more="/avv-abschluss"
                items=a
                    .contracts_open
                    .iter()
                    .map(|c| {
                        let badge = match c.standing {
                            crate::contract::ContractStanding::Outdated => ("expired", c.standing.label().to_owned()),
                            _ => ("expiring", c.standing.label().to_owned()),
                        };
                        (format!("/avv-abschluss#kunde-{}", c.customer_id), c.line(true), Some(badge))
                    })
                    .collect()
            />
            <AttentionList
                title="Umgesetzte Maßnahmen ohne gültigen Nachweis"
                test="no-evidence"
                total=totals.implemented_without_evidence
                more="/massnahmen?filter=ohne-nachweis"
                listed=true
                items=a
                    .implemented_without_evidence
                    .iter()
                    .map(|m| (format!("/massnahmen/{}#nachweise", m.id), format!("{}: {}", m.category, m.label), None))
                    .collect()
            />
        </section>
    }
}

type AttentionItem = (String, String, Option<(&'static str, String)>);

/// The badge of a file with a validity: "läuft ab" or "abgelaufen", and the day.
fn validity_badge(
    validity: crate::domain::Validity,
    until: Option<chrono::NaiveDate>,
) -> Option<(&'static str, String)> {
    Some((
        validity.as_str(),
        format!(
            "{} {}",
            validity.label(),
            until.map(german_date).unwrap_or_default()
        ),
    ))
}

/// The badge of something due on `day`: "fällig bis", or once it has
/// passed, "überfällig seit".
fn due_badge(overdue: bool, day: chrono::NaiveDate) -> Option<(&'static str, String)> {
    Some(match overdue {
        true => ("expired", format!("überfällig seit {}", german_date(day))),
        false => ("expiring", format!("fällig bis {}", german_date(day))),
    })
}

#[component]
fn AttentionList(
    title: &'static str,
    test: &'static str,
    items: Vec<AttentionItem>,
    /// The list's size before the start page cut it.
    total: usize,
    /// Where the whole list is.
    more: &'static str,
    /// `more` is the catalogue filtered to exactly this list: link it always.
    #[prop(optional)]
    listed: bool,
) -> impl IntoView {
    let hidden = total.saturating_sub(items.len());
    (total > 0).then(|| {
        view! {
            <details class="attention-list" data-test=test open=total <= 5>
                <summary>
                    {title} " " <span class="count">{total}</span>
                </summary>
                <ul>
                    {items
                        .into_iter()
                        .map(|(href, label, badge)| {
                            view! {
                                <li>
                                    <a href=href>{label}</a>
                                    {badge.map(|(class, text)| view! { " " <span class=format!("badge validity-{class}") data-test="validity">{text}</span> })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                {(hidden > 0).then(|| view! {
                    <p class="more" data-test="more">
                        <a href=more>{format!("… und {hidden} weitere")}</a>
                    </p>
                })}
                {(listed && hidden == 0).then(|| view! {
                    <p class="more" data-test="more">
                        <a href=more>"Im Maßnahmenkatalog zeigen"</a>
                    </p>
                })}
            </details>
        }
    })
}
