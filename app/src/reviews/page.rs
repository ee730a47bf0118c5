//! `/pruefungen`: the review cycles, open actions and overdue reviews, and
//! the form to open a cycle. `/pruefungen/:id`: one cycle with its
//! assessments, findings and history. `/pruefungen/bewertung/:id`: one
//! assessment: the owner's form, evidence, findings, the DPO's decision.
//!
//! The opening and assessment forms are plain HTML forms (their checkbox
//! lists repeat a field name) posted to routes in `server/src/reviews_http.rs`,
//! so they work with and without JavaScript; the other steps are server
//! functions.

use crate::format::german_date;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    AddFinding, AmendReview, CloseCycle, CloseFinding, CycleStatus, CycleSummary, CycleView,
    DecideReview, EventView, FindingStatus, FindingView, ItemRow, ItemState, ItemView,
    ReviewDashboard, ReviewResult, ReviewsOverview, SetReviewCadence, get_cycle,
    get_measure_review, get_review_item, get_reviews,
};
use crate::ids::{CycleId, MeasureId, ReviewItemId};
use crate::ui::kept::kept;
use crate::ui::{
    ErrorView, FormError, Loading, Paragraphs, Refused, RefusedField, RefusedSummary, refused_at,
    refused_described_by,
};

fn result_class(r: Option<ReviewResult>) -> &'static str {
    match r {
        Some(ReviewResult::Effective) => "result-effective",
        Some(ReviewResult::PartiallyEffective) => "result-partial",
        Some(ReviewResult::NotEffective) => "result-not",
        Some(ReviewResult::NotApplicable) => "result-na",
        None => "result-none",
    }
}

/// A plain form's answer: the refusal (linked to its field where the
/// page's form has it: `targets` pairs field names with element ids) or
/// the confirmation.
fn query_notices(targets: &[(&'static str, &'static str)]) -> impl IntoView {
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("ok"));
    let targets: Vec<(&'static str, String)> = targets
        .iter()
        .map(|(f, id)| (*f, (*id).to_owned()))
        .collect();
    view! {
        {Refused::in_address().map(|refused| view! { <RefusedSummary refused targets /> })}
        {move || saved().map(|m| view! { <p class="notice-ok" role="status">{m}</p> })}
    }
}

/// The fields of the form that opens a cycle, and their ids.
const OPEN_FIELDS: &[(&str, &str)] = &[
    ("title", "cycle-title"),
    ("due_date", "cycle-due"),
    ("method", "cycle-method"),
    ("measures", "cycle-scope"),
];

/// The fields of the assessment form, and their ids.
const ASSESS_FIELDS: &[(&str, &str)] = &[
    ("result", "rev-result"),
    ("tested", "rev-tested"),
    ("rationale", "rev-rationale"),
    ("state_of_art", "rev-sota"),
    ("evidence", "rev-evidence"),
    ("finding_description", "finding_description"),
    ("finding_action", "finding_action"),
    ("finding_owner_id", "finding_owner_id"),
    ("finding_due_date", "finding_due_date"),
];

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let close = ServerAction::<CloseFinding>::new();
    let data = Resource::new(move || close.version().get(), |_| get_reviews());
    view! {
        <Title text="Wirksamkeitsprüfungen" />
        <section class="page">
            <h1>"Wirksamkeitsprüfungen"</h1>
            <p class="lead">
                "Regelmäßige Überprüfung, Bewertung und Evaluierung der Wirksamkeit der technischen und organisatorischen Maßnahmen (Art. 32 Abs. 1 lit. d DSGVO)."
            </p>
            {query_notices(OPEN_FIELDS)}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => view! { <Overview o close /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Overview(o: ReviewsOverview, close: ServerAction<CloseFinding>) -> impl IntoView {
    let has_open = o.cycles.iter().any(|c| c.status == CycleStatus::Open);
    view! {
        <h2>"Prüfzyklen"</h2>
        {if o.cycles.is_empty() {
            view! { <p class="muted">"Es wurde noch kein Prüfzyklus eröffnet."</p> }.into_any()
        } else {
            view! {
                <table class="table" data-test="cycles">
                    <thead>
                        <tr>
                            <th>"Prüfzyklus"</th>
                            <th>"Fällig bis"</th>
                            <th>"Stand"</th>
                            <th>"Freigegeben"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {o.cycles.iter().map(|c| view! { <CycleLine c=c.clone() /> }).collect_view()}
                    </tbody>
                </table>
            }
                .into_any()
        }}
        {(o.can_manage && !has_open).then(|| view! { <OpenForm o=o.clone() /> })}
        <h2>"Offene Korrekturmaßnahmen"</h2>
        <Findings list=o.actions.clone() evidence=Vec::new() close />
        <h2>"Fällige Prüfungen"</h2>
        {if o.due_reviews.is_empty() {
            view! { <p class="muted">"Keine: jede umgesetzte Maßnahme ist geprüft und innerhalb ihres Prüfintervalls."</p> }.into_any()
        } else {
            view! {
                <ul class="attention-list" data-test="overdue-reviews">
                    {o.due_reviews.iter().map(|d| view! {
                        <li>
                            <a href=format!("/massnahmen/{}", d.measure_id)>{format!("{}: {}", d.category, d.label)}</a>
                            " "
                            <span class="badge validity-expired">
                                {d.describe(true)}
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            }
                .into_any()
        }}
        {(!o.not_effective.is_empty()).then(|| view! {
            <h2>"Als nicht wirksam bewertete Maßnahmen"</h2>
            <ul class="attention-list" data-test="not-effective">
                {o.not_effective.iter().map(|m| view! {
                    <li><a href=format!("/massnahmen/{}", m.id)>{format!("{}: {}", m.category, m.label)}</a></li>
                }).collect_view()}
            </ul>
        })}
    }
}

#[component]
fn CycleLine(c: CycleSummary) -> impl IntoView {
    let status = if c.status == CycleStatus::Closed {
        format!(
            "abgeschlossen am {}",
            c.closed_at.map(|t| t.to_string()).unwrap_or_default()
        )
    } else if c.overdue {
        "offen, überfällig".to_owned()
    } else {
        "offen".to_owned()
    };
    view! {
        <tr>
            <td><a href=format!("/pruefungen/{}", c.id)>{c.title.clone()}</a></td>
            <td>{german_date(c.due_date)}</td>
            <td>{status}</td>
            <td>{format!("{} von {}", c.approved, c.total)}</td>
        </tr>
    }
}

#[component]
fn OpenForm(o: ReviewsOverview) -> impl IntoView {
    let mut groups: Vec<(String, Vec<super::MeasureChoice>)> = Vec::new();
    for m in o.measures {
        match groups.last_mut() {
            Some((c, list)) if *c == m.category => list.push(m),
            _ => groups.push((m.category.clone(), vec![m])),
        }
    }
    // A refused form comes back with what was typed and the message at its field.
    let refused = Refused::in_address();
    let kept = kept("/pruefungen/neu");
    let was = |field: &str| kept.as_ref().and_then(|k| k.get(field)).map(str::to_owned);
    let subset = was("scope").as_deref() == Some("subset");
    let chosen: Vec<String> = kept
        .as_ref()
        .map(|k| k.all("m").into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let field = |name: &'static str, id: &'static str| {
        (
            refused_at(&refused, name).then_some("true"),
            refused_described_by(&refused, name, id),
        )
    };
    let (title_invalid, title_described) = field("title", "cycle-title");
    let (due_invalid, due_described) = field("due_date", "cycle-due");
    let (scope_invalid, scope_described) = field("measures", "cycle-scope");
    view! {
        <section class="card">
            <h2>"Prüfzyklus eröffnen"</h2>
            <p class="hint">"Pflichtfelder sind mit * markiert."</p>
            <form class="form" method="post" action="/pruefungen/neu">
                <label for="cycle-title" class="required">"Titel"</label>
                <input
                    id="cycle-title"
                    name="title"
                    required
                    pattern=crate::ui::NOT_BLANK
                    value=was("title").unwrap_or(o.suggested_title)
                    aria-invalid=title_invalid
                    aria-describedby=title_described
                />
                <RefusedField refused=refused.clone() field="title" id="cycle-title" />
                <label for="cycle-due" class="required">"Fällig bis"</label>
                <input
                    id="cycle-due"
                    name="due_date"
                    type="date"
                    required
                    value=was("due_date").unwrap_or(o.suggested_due.to_string())
                    aria-invalid=due_invalid
                    aria-describedby=due_described
                />
                <RefusedField refused=refused.clone() field="due_date" id="cycle-due" />
                <label for="cycle-method">"Methode (leer lassen für den Standardtext)"</label>
                <crate::ui::TextArea id="cycle-method" name="method" rows=3 value=was("method").unwrap_or_default() />
                <fieldset id="cycle-scope" tabindex="-1" aria-invalid=scope_invalid aria-describedby=scope_described>
                    <legend>"Umfang"</legend>
                    <RefusedField refused=refused.clone() field="measures" id="cycle-scope" />
                    <label class="check">
                        <input type="radio" name="scope" value="all" checked=!subset />
                        " Alle umgesetzten Maßnahmen"
                    </label>
                    <label class="check">
                        <input type="radio" name="scope" value="subset" checked=subset />
                        " Nur die unten ausgewählten Maßnahmen"
                    </label>
                </fieldset>
                <details open=!chosen.is_empty()>
                    <summary>"Maßnahmen auswählen"</summary>
                    {groups.into_iter().map(|(cat, list)| view! {
                        <fieldset class="measure-choice">
                            <legend>{cat}</legend>
                            {list.into_iter().map(|m| view! {
                                <label class="check">
                                    <input type="checkbox" name="m" value=m.id.to_string() checked=chosen.contains(&m.id.to_string()) />
                                    " " {m.label} {(!m.implemented).then_some(" (geplant)")}
                                </label>
                            }).collect_view()}
                        </fieldset>
                    }).collect_view()}
                </details>
                <button type="submit" class="button primary">"Prüfzyklus eröffnen"</button>
            </form>
        </section>
    }
}

#[component]
fn Findings(
    list: Vec<FindingView>,
    evidence: Vec<super::EvidenceChoice>,
    close: ServerAction<CloseFinding>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"Keine."</p> }.into_any();
    }
    view! {
        <FormError value=close.value() />
        <ul class="findings" data-test="findings">
            {list.into_iter().map(|f| {
                let evidence = evidence.clone();
                view! {
                    <li class=format!("finding finding-{}", f.status.as_str())>
                        <p>
                            <strong>{f.measure.clone()}</strong>
                            " "
                            <a href=format!("/pruefungen/bewertung/{}", f.item_id)>"(Bewertung)"</a>
                        </p>
                        <p>{format!("Feststellung: {}", f.description)}</p>
                        <p>{format!("Korrekturmaßnahme: {}", f.action)}</p>
                        <p class="muted">
                            {format!(
                                "Verantwortlich: {} · Frist: {}",
                                f.owner.clone().unwrap_or_else(|| "–".into()),
                                german_date(f.due_date),
                            )}
                            {f.overdue.then(|| view! { " " <span class="badge validity-expired">"überfällig"</span> })}
                        </p>
                        {(f.status == FindingStatus::Closed).then(|| view! {
                            <p class="notice-ok">
                                {format!(
                                    "Erledigt am {}: {}{}",
                                    f.closed_at.map(|t| t.to_string()).unwrap_or_default(),
                                    f.closing_note,
                                    f.closing_evidence.clone().map(|e| format!(" (Nachweis: {e})")).unwrap_or_default(),
                                )}
                            </p>
                        })}
                        {f.can_close.then(|| {
                            let id = f.id.to_string();
                            view! {
                                <details>
                                    <summary>"Als erledigt abschließen"</summary>
                                    <ActionForm action=close attr:class="form">
                                        <input type="hidden" name="finding_id" value=id.clone() />
                                        <label for=format!("close-note-{id}")>"Abschlussvermerk"</label>
                                        <crate::ui::TextArea id=format!("close-note-{id}") name="note" rows=2 required=true />
                                        {(!evidence.is_empty()).then(|| view! {
                                            <label for=format!("close-ev-{id}")>"Nachweis (optional)"</label>
                                            <select id=format!("close-ev-{id}") name="evidence_id">
                                                <option value="">"–"</option>
                                                {evidence.iter().map(|e| view! { <option value=e.id.to_string()>{e.title.clone()}</option> }).collect_view()}
                                            </select>
                                        })}
                                        <button type="submit" class="button">"Abschließen"</button>
                                    </ActionForm>
                                </details>
                            }
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
        .into_any()
}

#[component]
fn Events(list: Vec<EventView>) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <h2>"Verlauf"</h2>
            <ul class="history" data-test="events">
                {list.into_iter().map(|e| view! {
                    <li>
                        {format!("{} · {} · {}", e.at, e.label, e.actor)}
                        {e.measure.map(|m| format!(" · {m}"))}
                        {(!e.comment.is_empty()).then(|| view! { <br /><em>{e.comment}</em> })}
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

#[component]
pub fn CyclePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params.with(|p| {
            p.get("id")
                .and_then(|v| v.parse::<CycleId>().ok())
                .unwrap_or_default()
        })
    };
    let close = ServerAction::<CloseCycle>::new();
    let close_finding = ServerAction::<CloseFinding>::new();
    let data = Resource::new(
        move || (id(), close.version().get(), close_finding.version().get()),
        |(id, _, _)| get_cycle(id),
    );
    view! {
        <Title text="Prüfzyklus" />
        <section class="page">
            {query_notices(&[])}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(c) => view! { <Cycle c close close_finding /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Cycle(
    c: CycleView,
    close: ServerAction<CloseCycle>,
    close_finding: ServerAction<CloseFinding>,
) -> impl IntoView {
    let s = c.summary.clone();
    let open = s.status == CycleStatus::Open;
    let pct = (s.approved * 100).checked_div(s.total).unwrap_or(0);
    let mut groups: Vec<(String, Vec<ItemRow>)> = Vec::new();
    for i in c.items.clone() {
        match groups.last_mut() {
            Some((cat, list)) if *cat == i.category => list.push(i),
            _ => groups.push((i.category.clone(), vec![i])),
        }
    }
    view! {
        <p><a href="/pruefungen">"← Alle Prüfzyklen"</a></p>
        <h1>{s.title.clone()}</h1>
        <p class="lead" data-test="cycle-status">
            {if open {
                format!(
                    "Offen, fällig bis {}{} · {} von {} Bewertungen freigegeben ({pct} %), {} zur Freigabe eingereicht, {} bei den Verantwortlichen",
                    german_date(s.due_date),
                    if s.overdue { " (überfällig)" } else { "" },
                    s.approved,
                    s.total,
                    s.submitted,
                    s.open,
                )
            } else {
                format!("Abgeschlossen und gesperrt am {} · {} Bewertungen", s.closed_at.map(|t| t.to_string()).unwrap_or_default(), s.total)
            }}
        </p>
        <progress max="100" value=pct.to_string() aria-label="Freigegebene Bewertungen"></progress>
        {c.can_download.then(|| view! {
            <p>
                <a class="button" href=format!("/pruefungen/{}/bericht.pdf", s.id) rel="external">
                    {if open { "Bericht (Entwurf, PDF)" } else { "Prüfbericht herunterladen (signiertes PDF)" }}
                </a>
                {c.report_sha256.clone().map(|h| view! { " " <small class="hash">{format!("SHA-256 {h}")}</small> })}
            </p>
        })}
        <details>
            <summary>"Methode"</summary>
            <Paragraphs text=c.method.clone() />
        </details>
        {groups.into_iter().map(|(cat, list)| view! {
            <h2>{cat}</h2>
            <ul class="review-items">
                {list.into_iter().map(|i| view! {
                    <li class="review-item">
                        <a href=format!("/pruefungen/bewertung/{}", i.id)>{i.label.clone()}</a>
                        " "
                        <span class=format!("badge state-{}", i.state.as_str())>{i.state.label()}</span>
                        {i.result.map(|r| view! { " " <span class=format!("badge {}", result_class(Some(r)))>{r.label()}</span> })}
                        <br />
                        <small class="muted">
                            {if i.owners.is_empty() { "Ohne Verantwortliche (bewertet die/der Datenschutzbeauftragte)".to_owned() } else { format!("Verantwortlich: {}", i.owners.join(", ")) }}
                        </small>
                    </li>
                }).collect_view()}
            </ul>
        }).collect_view()}
        <h2>"Feststellungen und Korrekturmaßnahmen"</h2>
        <Findings list=c.findings.clone() evidence=Vec::new() close=close_finding />
        {(open && c.can_manage).then(|| {
            let id = s.id.to_string();
            view! {
                <section class="card">
                    <h2>"Prüfzyklus abschließen"</h2>
                    {if c.complete {
                        view! { <p>"Alle Bewertungen sind freigegeben. Mit dem Abschluss wird der Prüfzyklus gesperrt und der signierte Prüfbericht ausgestellt."</p> }.into_any()
                    } else {
                        view! { <p class="muted">"Abschließen lässt sich der Prüfzyklus, sobald jede Bewertung freigegeben ist."</p> }.into_any()
                    }}
                    <FormError value=close.value() />
                    <ActionForm action=close attr:class="form">
                        <input type="hidden" name="cycle_id" value=id />
                        <label for="close-comment">"Abschlussvermerk (optional)"</label>
                        <crate::ui::TextArea id="close-comment" name="comment" rows=2 />
                        <button type="submit" class="button primary" disabled=!c.complete>"Prüfzyklus abschließen"</button>
                    </ActionForm>
                </section>
            }
        })}
        {(!c.close_comment.is_empty()).then(|| view! { <p>{format!("Abschlussvermerk: {}", c.close_comment)}</p> })}
        <Events list=c.events.clone() />
    }
}

#[component]
pub fn ItemPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params.with(|p| {
            p.get("id")
                .and_then(|v| v.parse::<ReviewItemId>().ok())
                .unwrap_or_default()
        })
    };
    let decide = ServerAction::<DecideReview>::new();
    let add = ServerAction::<AddFinding>::new();
    let close = ServerAction::<CloseFinding>::new();
    let amend = ServerAction::<AmendReview>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                decide.version().get(),
                add.version().get(),
                close.version().get(),
                amend.version().get(),
            )
        },
        |(id, ..)| get_review_item(id),
    );
    view! {
        <Title text="Bewertung" />
        <section class="page">
            {query_notices(ASSESS_FIELDS)}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <Item v decide add close amend /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Item(
    v: ItemView,
    decide: ServerAction<DecideReview>,
    add: ServerAction<AddFinding>,
    close: ServerAction<CloseFinding>,
    amend: ServerAction<AmendReview>,
) -> impl IntoView {
    let row = v.row.clone();
    let id = row.id;
    view! {
        <p><a href=format!("/pruefungen/{}", row.cycle_id)>{format!("← {}", v.cycle_title)}</a></p>
        <h1>{row.label.clone()}</h1>
        <p class="muted">{row.category.clone()}</p>
        <p data-test="item-state">
            <span class=format!("badge state-{}", row.state.as_str())>{row.state.label()}</span>
            {row.result.map(|r| view! { " " <span class=format!("badge {}", result_class(Some(r)))>{r.label()}</span> })}
            {v.cycle_closed.then_some(" · Prüfzyklus abgeschlossen und gesperrt")}
        </p>
        <details>
            <summary>"Text der Maßnahme"</summary>
            <Paragraphs text=v.measure_body.clone() />
            <p><a href=format!("/massnahmen/{}", row.measure_id)>"Zur Maßnahme"</a></p>
        </details>
        {(row.state == ItemState::Returned && !v.decision_comment.is_empty()).then(|| view! {
            <div class="notice-warn" role="status" data-test="returned">
                <p><strong>"Zurückgegeben: "</strong>{v.decision_comment.clone()}</p>
            </div>
        })}
        {if row.can_assess {
            view! { <AssessForm v=v.clone() /> }.into_any()
        } else {
            view! { <Assessment v=v.clone() /> }.into_any()
        }}
        {row.can_assess.then(|| {
            // Built inside the item's `Suspend` (the measure is known only
            // once the item is loaded), so it may be fetched more than once.
            let measure_id = row.measure_id;
            let data = crate::evidence::EvidenceData::new(move || Some(measure_id));
            view! { <crate::evidence::EvidencePanel measure_id data /> }
        })}
        <h2>"Feststellungen und Korrekturmaßnahmen"</h2>
        <Findings list=v.findings.clone() evidence=v.evidence.iter().filter(|e| !e.title.is_empty()).cloned().collect() close />
        {(row.can_assess || (v.can_decide)).then(|| view! { <FindingForm id members=v.members.clone() add /> })}
        {v.can_decide.then(|| view! { <Decision id version=v.version decide /> })}
        {v.can_amend.then(|| view! {
            <section class="card">
                <h2>"Ergänzung nach Abschluss"</h2>
                <p class="muted">"Der Prüfzyklus ist gesperrt. Eine Korrektur wird als Ergänzung festgehalten und der Prüfbericht mit ihr neu ausgestellt."</p>
                <FormError value=amend.value() />
                <ActionForm action=amend attr:class="form">
                    <input type="hidden" name="item_id" value=id.to_string() />
                    <label for="amend-text">"Ergänzung"</label>
                    <crate::ui::TextArea id="amend-text" name="text" rows=3 required=true />
                    <button type="submit" class="button">"Ergänzung festhalten"</button>
                </ActionForm>
            </section>
        })}
        <Events list=v.events.clone() />
    }
}

/// The assessment as recorded (read-only).
#[component]
fn Assessment(v: ItemView) -> impl IntoView {
    let linked: Vec<_> = v.evidence.iter().filter(|e| e.linked).cloned().collect();
    view! {
        <section class="card" data-test="assessment">
            <h2>"Bewertung"</h2>
            {match v.row.result {
                None => view! { <p class="muted">"Noch nicht bewertet."</p> }.into_any(),
                Some(r) => view! {
                    <dl class="facts">
                        <dt>"Ergebnis"</dt><dd>{r.label()}</dd>
                        <dt>"Was wurde wie geprüft?"</dt><dd>{v.tested.clone()}</dd>
                        <dt>"Begründung"</dt><dd>{v.rationale.clone()}</dd>
                        <dt>"Stand der Technik"</dt>
                        <dd>{match v.state_of_art.as_str() { "yes" => "entspricht dem Stand der Technik", "no" => "entspricht nicht dem Stand der Technik", _ => "–" }}</dd>
                        <dt>"Nachweise"</dt>
                        <dd>
                            {if linked.is_empty() { "–".to_owned() } else { linked.iter().map(|e| e.title.clone()).collect::<Vec<_>>().join("; ") }}
                        </dd>
                        <dt>"Bewertet"</dt>
                        <dd>{format!("{}, {}", v.row.assessed_by.clone().unwrap_or_default(), v.assessed_at.map(|t| t.to_string()).unwrap_or_default())}</dd>
                        {v.decided_at.map(|at| view! {
                            <dt>"Entscheidung"</dt>
                            <dd>{format!("{} ({}, {})", v.row.state.label(), v.decided_by.clone().unwrap_or_default(), at)}</dd>
                        })}
                    </dl>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn AssessForm(v: ItemView) -> impl IntoView {
    let id = v.row.id;
    // A refused form comes back with what was typed and the message at its field.
    let refused = Refused::in_address();
    let kept = kept(&format!("/pruefungen/bewertung/{id}"));
    let was = |field: &str| kept.as_ref().and_then(|k| k.get(field)).map(str::to_owned);
    let current = match &kept {
        Some(_) => {
            was("result").and_then(|r| ReviewResult::ALL.into_iter().find(|x| x.as_str() == r))
        }
        None => v.row.result,
    };
    let sota = match &kept {
        Some(_) => was("state_of_art").unwrap_or_default(),
        None => v.state_of_art.clone(),
    };
    let tested = was("tested").unwrap_or(v.tested.clone());
    let rationale = was("rationale").unwrap_or(v.rationale.clone());
    let linked: Option<Vec<String>> = kept
        .as_ref()
        .map(|k| k.all("evidence").into_iter().map(str::to_owned).collect());
    let invalid = |field: &str| refused_at(&refused, field);
    let described = |field: &str, id: &str| refused_described_by(&refused, field, id);
    view! {
        <section class="card">
            <h2>"Bewertung"</h2>
            <form class="form" method="post" action=format!("/pruefungen/bewertung/{id}") data-test="assess-form">
                <input type="hidden" name="version" value=v.version.to_string() />
                <fieldset id="rev-result" tabindex="-1" aria-invalid=invalid("result").then_some("true") aria-describedby=described("result", "rev-result")>
                    <legend>"Ergebnis"</legend>
                    <RefusedField refused=refused.clone() field="result" id="rev-result" />
                    {ReviewResult::ALL.into_iter().map(|r| view! {
                        <label class="check">
                            <input type="radio" name="result" value=r.as_str() checked=current == Some(r) />
                            " " {r.label()}
                        </label>
                    }).collect_view()}
                </fieldset>
                <label for="rev-tested">"Was wurde wie geprüft?"</label>
                <crate::ui::TextArea id="rev-tested" name="tested" rows=3 placeholder="z. B. Rücksicherung einer Stichprobe von 3 Systemen aus der Datensicherung vom 01.10." value=tested invalid=invalid("tested") />
                <RefusedField refused=refused.clone() field="tested" id="rev-tested" />
                <label for="rev-rationale">"Begründung des Ergebnisses"</label>
                <crate::ui::TextArea id="rev-rationale" name="rationale" rows=3 value=rationale invalid=invalid("rationale") />
                <RefusedField refused=refused.clone() field="rationale" id="rev-rationale" />
                <fieldset id="rev-sota" tabindex="-1" aria-invalid=invalid("state_of_art").then_some("true") aria-describedby=described("state_of_art", "rev-sota")>
                    <legend>"Entspricht die Maßnahme dem Stand der Technik?"</legend>
                    <RefusedField refused=refused.clone() field="state_of_art" id="rev-sota" />
                    <label class="check">
                        <input type="radio" name="state_of_art" value="yes" checked=sota == "yes" />
                        " Ja"
                    </label>
                    <label class="check">
                        <input type="radio" name="state_of_art" value="no" checked=sota == "no" />
                        " Nein"
                    </label>
                </fieldset>
                <fieldset id="rev-evidence" tabindex="-1" aria-invalid=invalid("evidence").then_some("true") aria-describedby=described("evidence", "rev-evidence")>
                    <legend>"Nachweise, auf die sich die Bewertung stützt"</legend>
                    <RefusedField refused=refused.clone() field="evidence" id="rev-evidence" />
                    {if v.evidence.is_empty() {
                        view! { <p class="muted">"Zu dieser Maßnahme gibt es noch keinen Nachweis. Laden Sie unten einen hoch."</p> }.into_any()
                    } else {
                        v.evidence.iter().map(|e| view! {
                            <label class="check">
                                <input type="checkbox" name="evidence" value=e.id.to_string() checked=linked.as_ref().map_or(e.linked, |l| l.contains(&e.id.to_string())) />
                                " " {e.title.clone()}
                                {e.valid_until.map(|d| format!(" (gültig bis {})", german_date(d)))}
                            </label>
                        }).collect_view().into_any()
                    }}
                </fieldset>
                <details open=refused.as_ref().and_then(|r| r.field.as_deref()).is_some_and(|f| f.starts_with("finding_"))>
                    <summary>"Feststellung mit Korrekturmaßnahme hinzufügen"</summary>
                    <p class="muted">"Pflicht, wenn die Maßnahme nicht oder nur teilweise wirksam ist."</p>
                    <RefusedField refused=refused.clone() field="finding_description" id="finding_description" />
                    <FindingFields members=v.members.clone() prefix="finding_" />
                </details>
                <div class="actions">
                    <button type="submit" name="aktion" value="speichern" class="button">"Entwurf speichern"</button>
                    <button type="submit" name="aktion" value="einreichen" class="button primary">"Zur Freigabe einreichen"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn FindingFields(members: Vec<crate::toms::PersonRef>, prefix: &'static str) -> impl IntoView {
    view! {
        <label for=format!("{prefix}description")>"Feststellung"</label>
        <crate::ui::TextArea id=format!("{prefix}description") name=format!("{prefix}description") rows=2 />
        <label for=format!("{prefix}action")>"Korrekturmaßnahme"</label>
        <crate::ui::TextArea id=format!("{prefix}action") name=format!("{prefix}action") rows=2 />
        <label for=format!("{prefix}owner_id")>"Verantwortlich"</label>
        <select id=format!("{prefix}owner_id") name=format!("{prefix}owner_id")>
            <option value="">"–"</option>
            {members.into_iter().map(|p| view! { <option value=p.user_id.to_string()>{p.display_name}</option> }).collect_view()}
        </select>
        <label for=format!("{prefix}due_date")>"Frist"</label>
        <input id=format!("{prefix}due_date") name=format!("{prefix}due_date") type="date" />
    }
}

#[component]
fn FindingForm(
    id: ReviewItemId,
    members: Vec<crate::toms::PersonRef>,
    add: ServerAction<AddFinding>,
) -> impl IntoView {
    view! {
        <details class="card">
            <summary>"Weitere Feststellung erfassen"</summary>
            <FormError value=add.value() />
            <ActionForm action=add attr:class="form">
                <input type="hidden" name="item_id" value=id.to_string() />
                <FindingFields members prefix="" />
                <button type="submit" class="button">"Feststellung speichern"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn Decision(id: ReviewItemId, version: i32, decide: ServerAction<DecideReview>) -> impl IntoView {
    view! {
        <section class="card" data-test="decision">
            <h2>"Entscheidung"</h2>
            <FormError value=decide.value() />
            <ActionForm action=decide attr:class="form inline">
                <input type="hidden" name="item_id" value=id.to_string() />
                <input type="hidden" name="version" value=version.to_string() />
                <input type="hidden" name="decision" value="approve" />
                <button type="submit" class="button primary">"Freigeben"</button>
            </ActionForm>
            <ActionForm action=decide attr:class="form">
                <input type="hidden" name="item_id" value=id.to_string() />
                <input type="hidden" name="version" value=version.to_string() />
                <input type="hidden" name="decision" value="return" />
                <label for="return-comment">"Kommentar zur Rückgabe"</label>
                <crate::ui::TextArea id="return-comment" name="comment" rows=2 required=true />
                <button type="submit" class="button">"Zur Überarbeitung zurückgeben"</button>
            </ActionForm>
        </section>
    }
}

/// The review panel's data and action, created by the measure page at its
/// top (outside any `Suspend`, so it is fetched once per render).
#[derive(Clone, Copy)]
pub struct MeasureReviewData {
    set: ServerAction<SetReviewCadence>,
    data: Resource<Result<super::MeasureReview, crate::error::AppError>>,
}

impl MeasureReviewData {
    pub fn new(measure: impl Fn() -> Option<MeasureId> + Send + Sync + 'static) -> Self {
        let set = ServerAction::<SetReviewCadence>::new();
        let data = Resource::new(
            move || (measure(), set.version().get()),
            |(measure, _)| crate::ui::for_measure(measure, get_measure_review),
        );
        Self { set, data }
    }
}

/// On the measure page: cadence, last and next review, the flag.
#[component]
pub fn MeasureReviewInfo(measure_id: MeasureId, data: MeasureReviewData) -> impl IntoView {
    let MeasureReviewData { set, data } = data;
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => view! {
                        <section class="card review-info" data-test="measure-review">
                            <h2>"Wirksamkeitsprüfung"</h2>
                            {r.flagged.then(|| view! {
                                <p class="form-error" role="status">"Zuletzt als nicht (voll) wirksam bewertet; eine Korrekturmaßnahme ist offen."</p>
                            })}
                            <p>
                                {format!(
                                    "Zuletzt geprüft: {} · {} {} · Intervall: {} Monate",
                                    r.last_reviewed.map(german_date).unwrap_or_else(|| "noch nie".into()),
                                    if r.due { "Prüfung fällig seit" } else { "nächste Prüfung fällig am" },
                                    german_date(r.next_due),
                                    r.months,
                                )}
                                {r.due.then(|| view! { " " <span class="badge validity-expired" data-test="review-due">"Prüfung fällig"</span> })}
                            </p>
                            {r.can_edit.then(|| view! {
                                <FormError value=set.value() />
                                <ActionForm action=set attr:class="form inline">
                                    <input type="hidden" name="measure_id" value=measure_id.to_string() />
                                    <label for="review-months">"Prüfintervall (Monate)"</label>
                                    <input id="review-months" name="months" type="number" min="1" max="60" value=r.months.to_string() />
                                    <button type="submit" class="button">"Intervall übernehmen"</button>
                                </ActionForm>
                            })}
                        </section>
                    }.into_any(),
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// On the start page: the open cycle's coverage, overdue reviews, actions,
/// and the assessments waiting for the signed-in person.
#[component]
pub fn MyReviews(d: ReviewDashboard) -> impl IntoView {
    (d.cycle.is_some() || d.due_reviews > 0 || d.open_actions > 0 || d.not_effective > 0).then(|| {
        view! {
            <section class="card reviews" data-test="review-dashboard">
                <h2>"Wirksamkeitsprüfung"</h2>
                {d.cycle.clone().map(|c| {
                    let pct = (c.approved * 100).checked_div(c.total).unwrap_or(0);
                    view! {
                        <p>
                            <a href=format!("/pruefungen/{}", c.id)>{c.title.clone()}</a>
                            {format!(
                                ": {} von {} Bewertungen freigegeben ({pct} %), {} eingereicht, {} offen · fällig bis {}{}",
                                c.approved, c.total, c.submitted, c.open, german_date(c.due_date),
                                if c.overdue { " (überfällig)" } else { "" },
                            )}
                        </p>
                    }
                })}
                <p>
                    <a href="/pruefungen">
                        {format!(
                            "Fällige Prüfungen: {} · offene Korrekturmaßnahmen: {} (überfällig: {}) · nicht wirksam: {}",
                            d.due_reviews, d.open_actions, d.overdue_actions, d.not_effective,
                        )}
                    </a>
                </p>
                {(!d.mine.is_empty()).then(|| view! {
                    <h3>"Für Sie zu erledigen"</h3>
                    <ul data-test="my-reviews">
                        {d.mine.iter().map(|i| view! {
                            <li>
                                <a href=format!("/pruefungen/bewertung/{}", i.id)>{i.label.clone()}</a>
                                " " <span class=format!("badge state-{}", i.state.as_str())>{i.state.label()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
            </section>
        }
    })
}
