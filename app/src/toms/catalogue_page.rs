//! The catalogue overview grouped by category; admins reorder, rename and add.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    AddCategory, CategoryView, MoveCategory, MoveMeasure, RenameCategory, get_catalogue, label,
};
use crate::ui::{ErrorView, FormError, Loading};

/// Up/down buttons: a form with the `id` and a `direction` per button.
macro_rules! move_buttons {
    ($action:expr, $id:expr, $what:expr) => {
        view! {
            <ActionForm action=$action attr:class="inline move">
                <input type="hidden" name="id" value=$id.to_string() />
                <button type="submit" name="direction" value="up" class="icon" title=format!("{} nach oben", $what)>
                    <span aria-hidden="true">"↑"</span>
                    <span class="sr-only">{format!("{} nach oben", $what)}</span>
                </button>
                <button type="submit" name="direction" value="down" class="icon" title=format!("{} nach unten", $what)>
                    <span aria-hidden="true">"↓"</span>
                    <span class="sr-only">{format!("{} nach unten", $what)}</span>
                </button>
            </ActionForm>
        }
    };
}
#[derive(Clone, Copy)]
struct Edits {
    move_measure: ServerAction<MoveMeasure>,
    move_category: ServerAction<MoveCategory>,
    rename: ServerAction<RenameCategory>,
    add: ServerAction<AddCategory>,
}

#[component]
pub fn CataloguePage() -> impl IntoView {
    let edits = Edits {
        move_measure: ServerAction::new(),
        move_category: ServerAction::new(),
        rename: ServerAction::new(),
        add: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                edits.move_measure.version().get(),
                edits.move_category.version().get(),
                edits.rename.version().get(),
                edits.add.version().get(),
            )
        },
        |_| get_catalogue(),
    );
    view! {
        <Title text="Maßnahmenkatalog" />
        <section class="page">
            <h1>"Technische und organisatorische Maßnahmen"</h1>
            <p class="lead">"Der Katalog nach Art. 32 DSGVO, gegliedert wie die Anlage zum AVV."</p>
            <FormError value=edits.move_measure.value() />
            <FormError value=edits.move_category.value() />
            <FormError value=edits.rename.value() />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(cat) => {
                            let can_edit = cat.can_edit;
                            view! {
                                <p class="actions">
                                    {can_edit
                                        .then(|| {
                                            view! {
                                                <a class="button primary" href="/massnahmen/neu">
                                                    "Neue Maßnahme"
                                                </a>
                                                <a class="button" href="/massnahmen/import">
                                                    "Dokument importieren"
                                                </a>
                                                <a class="button" href="/anlage">
                                                    "Anlage und Veröffentlichungen"
                                                </a>
                                            }
                                        })}
                                </p>
                                {cat
                                    .categories
                                    .into_iter()
                                    .map(|c| view! { <Category c can_edit edits /> })
                                    .collect_view()}
                                {can_edit.then(|| view! { <NewCategory edits /> })}
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Category(c: CategoryView, can_edit: bool, edits: Edits) -> impl IntoView {
    let heading = format!("{} {}", c.number, c.title);
    let sub = c.parent_id.is_some();
    let id = c.id;
    let count = c.measures.len();
    view! {
        <section class=if sub { "category sub" } else { "category" } id=format!("kategorie-{id}") data-test="category">
            <div class="category-head">
                {if sub { view! { <h3>{heading}</h3> }.into_any() } else { view! { <h2>{heading}</h2> }.into_any() }}
                {can_edit
                    .then(|| {
                        view! {
                            <div class="tools">
                                {move_buttons!(edits.move_category, id, "Kategorie")}
                                <details class="rename">
                                    <summary>"Umbenennen"</summary>
                                    <ActionForm action=edits.rename attr:class="form inline-form">
                                        <input type="hidden" name="id" value=id.to_string() />
                                        <label class="sr-only" for=format!("rename-{id}")>
                                            "Neuer Titel"
                                        </label>
                                        <input id=format!("rename-{id}") name="title" value=c.title.clone() required />
                                        <button type="submit" class="button">
                                            "Speichern"
                                        </button>
                                    </ActionForm>
                                </details>
                            </div>
                        }
                    })}
            </div>
            {(count == 0).then(|| view! { <p class="muted">"Keine Maßnahmen in dieser Kategorie."</p> })}
            <ol class="measures">
                {c
                    .measures
                    .into_iter()
                    .map(|m| {
                        let mid = m.id;
                        view! {
                            <li class=format!("measure status-{}", m.status.as_str())>
                                <a href=format!("/massnahmen/{mid}") class="measure-link" data-test="measure-link">
                                    {label(&m.title, &m.body)}
                                </a>
                                <span class=format!("badge status-{}", m.status.as_str())>{m.status.label()}</span>
                                {(!m.owners.is_empty())
                                    .then(|| view! { <span class="owners">{m.owners.join(", ")}</span> })}
                                {can_edit.then(|| move_buttons!(edits.move_measure, mid, "Maßnahme"))}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            {can_edit
                .then(|| {
                    view! {
                        <p>
                            <a class="small" href=format!("/massnahmen/neu?kategorie={id}")>
                                "+ Maßnahme in dieser Kategorie"
                            </a>
                        </p>
                    }
                })}
        </section>
    }
}

#[component]
fn NewCategory(edits: Edits) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Kategorie hinzufügen"</h2>
            <ActionForm action=edits.add attr:class="form">
                <label for="new-category">"Titel"</label>
                <input id="new-category" name="title" required />
                <FormError value=edits.add.value() />
                <button type="submit" class="button">
                    "Hinzufügen"
                </button>
            </ActionForm>
        </section>
    }
}
