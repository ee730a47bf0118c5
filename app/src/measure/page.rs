//! One measure: its text, owners, status, the edit form and its history
//! (toms), with the panels of its evidence, the subprocessors it relies on
//! and its effectiveness reviews.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::domain::MeasureStatus;
use crate::ids::MeasureId;
use crate::toms::{
    AddOwner, MeasureDetail, RemoveOwner, RetireMeasure, UpdateMeasure, get_measure, label,
};
use crate::ui::{ErrorView, FieldError, FormError, Loading, Paragraphs, invalid};

#[derive(Clone, Copy)]
struct Edits {
    update: ServerAction<UpdateMeasure>,
    retire: ServerAction<RetireMeasure>,
    add_owner: ServerAction<AddOwner>,
    remove_owner: ServerAction<RemoveOwner>,
}

#[component]
pub fn MeasurePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<MeasureId>().ok()));
    // `?bearbeiten=1`: the edit form instead of the read view; a saved edit
    // comes back to the read view with `?gespeichert=1`.
    let query = use_query_map();
    let mode = move || {
        query.with(|q| Mode {
            edit: q.get("bearbeiten").is_some_and(|v| !v.is_empty()),
            saved: q.get("gespeichert").is_some_and(|v| !v.is_empty()),
        })
    };
    let edits = Edits {
        update: ServerAction::new(),
        retire: ServerAction::new(),
        add_owner: ServerAction::new(),
        remove_owner: ServerAction::new(),
    };
    // The panels' resources too are created here, once, not in `Detail`
    // (which the `Suspend` below builds again on each of its runs).
    let panels = Panels {
        evidence: crate::evidence::EvidenceData::new(id),
        reliance: crate::subprocessors::RelianceData::new(id),
        review: crate::reviews::MeasureReviewData::new(id),
    };
    let data = Resource::new(
        move || {
            (
                id(),
                edits.update.version().get(),
                edits.retire.version().get(),
                edits.add_owner.version().get(),
                edits.remove_owner.version().get(),
            )
        },
        |(id, ..)| crate::ui::for_measure(id, get_measure),
    );
    view! {
        <section class="page">
            <p class="crumbs">
                <a href="/massnahmen">"Maßnahmenkatalog"</a>
            </p>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(m) if mode().edit && m.can_edit => view! { <EditForm m edits /> }.into_any(),
                        Ok(m) => view! { <Detail m edits panels saved=mode().saved /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[derive(Clone, Copy)]
struct Mode {
    edit: bool,
    saved: bool,
}

#[derive(Clone, Copy)]
struct Panels {
    evidence: crate::evidence::EvidenceData,
    reliance: crate::subprocessors::RelianceData,
    review: crate::reviews::MeasureReviewData,
}

#[component]
fn Detail(m: MeasureDetail, edits: Edits, panels: Panels, saved: bool) -> impl IntoView {
    let heading = label(&m.title, &m.body);
    let id = m.id;
    let retired = m.status == MeasureStatus::Retired;
    view! {
        <crate::ui::PageTitle text=heading.clone() />
        <h1 class="measure-title">{heading}</h1>
        {saved.then(|| view! { <crate::ui::Saved text=format!("Gespeichert – Version {}", m.version) /> })}
        <p class="meta">
            <span>{m.category.clone()}</span>
            <span class=format!("badge status-{}", m.status.as_str()) data-test="measure-status">{m.status.label()}</span>
            <span>{format!("Version {}", m.version)}</span>
        </p>
        {m.can_edit.then(|| view! {
            <p class="actions">
                <a class="button primary" href=format!("/massnahmen/{id}?bearbeiten=1") data-test="edit">
                    "Bearbeiten"
                </a>
            </p>
        })}
        <div class="measure-body" data-test="measure-body">
            <Paragraphs text=m.body.clone() />
        </div>
        <crate::evidence::EvidencePanel measure_id=id data=panels.evidence />
        <crate::subprocessors::ReliancePanel measure_id=id data=panels.reliance />
        <crate::reviews::MeasureReviewInfo measure_id=id data=panels.review />
        <h2 id="verantwortlich">"Verantwortlich"</h2>
        {if m.owners.is_empty() {
            view! { <p class="muted">"Noch niemand ist für diese Maßnahme verantwortlich."</p> }.into_any()
        } else {
            view! {
                <ul class="owners-list">
                    {m
                        .owners
                        .iter()
                        .map(|o| {
                            let uid = o.user_id;
                            view! {
                                <li>
                                    {o.display_name.clone()}
                                    {m
                                        .is_admin
                                        .then(|| {
                                            view! {
                                                <crate::ui::Confirm
                                                    action="entfernen …"
                                                    consequence=format!("{} ist dann nicht mehr für diese Maßnahme verantwortlich.", o.display_name)
                                                >
                                                    <ActionForm action=edits.remove_owner attr:class="inline">
                                                        <input type="hidden" name="measure_id" value=id.to_string() />
                                                        <input type="hidden" name="user_id" value=uid.to_string() />
                                                        <button type="submit" class="link danger">
                                                            "Ja, entfernen"
                                                        </button>
                                                    </ActionForm>
                                                </crate::ui::Confirm>
                                            }
                                        })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
        {m
            .is_admin
            .then(|| {
                let candidates: Vec<_> = m
                    .members
                    .iter()
                    .filter(|p| !m.owners.iter().any(|o| o.user_id == p.user_id))
                    .cloned()
                    .collect();
                (!candidates.is_empty())
                    .then(|| {
                        view! {
                            <ActionForm action=edits.add_owner attr:class="form inline-form">
                                <input type="hidden" name="measure_id" value=id.to_string() />
                                <label for="owner-add">"Verantwortliche Person hinzufügen"</label>
                                <select id="owner-add" name="user_id" required>
                                    <crate::ui::ChooseOption />
                                    {candidates
                                        .into_iter()
                                        .map(|p| view! { <option value=p.user_id.to_string()>{p.display_name}</option> })
                                        .collect_view()}
                                </select>
                                <button type="submit" class="button">
                                    "Hinzufügen"
                                </button>
                                <FormError value=edits.add_owner.value() />
                            </ActionForm>
                        }
                    })
            })}
        <h2>"Verlauf"</h2>
        <ol class="history">
            {m
                .revisions
                .into_iter()
                .map(|r| {
                    view! {
                        <li class="revision" data-test="revision">
                            <p class="revision-head">
                                <strong>{format!("Version {}", r.version)}</strong>
                                {format!(" · {} · {} · {}", r.at, r.actor, r.change)}
                            </p>
                            <ul class="changes">
                                {r.changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                            </ul>
                            {r
                                .previous_body
                                .map(|old| {
                                    view! {
                                        <details>
                                            <summary>"Text vorher und nachher"</summary>
                                            <div class="diff">
                                                <div class="old" data-test="diff-old">
                                                    <h4>"Vorher"</h4>
                                                    <Paragraphs text=old />
                                                </div>
                                                <div class="new" data-test="diff-new">
                                                    <h4>"Nachher"</h4>
                                                    <Paragraphs text=r.body.clone() />
                                                </div>
                                            </div>
                                        </details>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
        {(m.is_admin && !retired)
            .then(|| {
                view! {
                    <div class="danger-zone">
                        <FormError value=edits.retire.value() />
                        <crate::ui::Confirm
                            action="Außer Kraft setzen …"
                            consequence="Die Maßnahme bleibt mit ihrem Verlauf erhalten, erscheint aber ab der nächsten veröffentlichten Version nicht mehr in der Anlage."
                        >
                            <ActionForm action=edits.retire attr:class="inline">
                                <input type="hidden" name="id" value=id.to_string() />
                                <button type="submit" class="button danger">
                                    "Ja, außer Kraft setzen"
                                </button>
                            </ActionForm>
                        </crate::ui::Confirm>
                    </div>
                }
            })}
    }
}

#[component]
fn EditForm(m: MeasureDetail, edits: Edits) -> impl IntoView {
    let id = m.id;
    let heading = label(&m.title, &m.body);
    let failed = move |field: &str| edits.update.value().with_untracked(|v| invalid(v, field));
    let described = move |field: &str| {
        edits
            .update
            .value()
            .with_untracked(|v| crate::ui::described_by(v, field))
    };
    // After a refused save of this measure the form shows what was typed,
    // not the stored text (the endpoint is every measure's: match the id).
    let kept = crate::ui::kept::kept(<UpdateMeasure as server_fn::ServerFn>::PATH)
        .filter(|k| k.get("id") == Some(id.to_string().as_str()));
    let typed = |field: &str, stored: String| crate::ui::kept::or_stored(&kept, field, stored);
    let title = typed("title", m.title.clone());
    let body = typed("body", m.body.clone());
    let status = typed("status", m.status.as_str().to_owned());
    let category = typed("category_id", m.category_id.to_string());
    view! {
        <crate::ui::PageTitle text=format!("Bearbeiten: {heading}") />
        <h1 class="measure-title">"Maßnahme bearbeiten"</h1>
        <p class="meta">
            <span>{m.category.clone()}</span>
            <span>{format!("Version {}", m.version)}</span>
        </p>
        <FormError value=edits.update.value() />
        {edits
            .update
            .value()
            .with_untracked(|v| matches!(v, Some(Err(crate::error::AppError::Conflict))))
            .then(|| {
                view! {
                    <p class="hint" data-test="conflict-hint">
                        {format!(
                            "Ihre Eingabe steht unten im Formular. Gespeichert ist inzwischen Version {} (siehe Verlauf); speichern Sie erneut, wird Ihre Eingabe Version {}.",
                            m.version,
                            m.version + 1,
                        )}
                    </p>
                }
            })}
        <p class="hint">"Pflichtfelder sind mit * markiert."</p>
        <ActionForm action=edits.update attr:class="form" attr:id="edit-measure">
            <input type="hidden" name="id" value=id.to_string() />
            <input type="hidden" name="version" value=m.version.to_string() />
            <label for="category_id">"Kategorie"</label>
            <select id="category_id" name="category_id" disabled=!m.is_admin>
                {m
                    .categories
                    .iter()
                    .map(|c| {
                        view! {
                            <option value=c.id.to_string() selected=c.id.to_string() == category>
                                {c.label.clone()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            {(!m.is_admin)
                .then(|| view! { <input type="hidden" name="category_id" value=m.category_id.to_string() /> })}
            <label for="title">"Kurztitel (optional)"</label>
            <input
                id="title"
                name="title"
                value=title
                maxlength="200"
                aria-invalid=failed("title").then_some("true")
                aria-describedby=described("title")
            />
            <FieldError value=edits.update.value() field="title" />
            <label for="body" class="required">"Beschreibung der Maßnahme"</label>
            <crate::ui::TextArea id="body" name="body" rows=14 required=true value=body invalid=failed("body") />
            <FieldError value=edits.update.value() field="body" />
            <label for="status">"Status"</label>
            <select id="status" name="status">
                {MeasureStatus::ALL
                    .iter()
                    .copied()
                    .map(|s| view! { <option value=s.as_str() selected=s.as_str() == status>{s.label()}</option> })
                    .collect_view()}
            </select>
            <p class="actions">
                <button type="submit" class="button primary">
                    "Speichern"
                </button>
                <a class="button" href=format!("/massnahmen/{id}")>
                    "Abbrechen"
                </a>
            </p>
        </ActionForm>
    }
}
