//! The catalogue as a worklist: by category, with owner, evidence and next
//! review per measure, filters and a search through GET parameters (they
//! work without JavaScript and can be bookmarked). Admins reorder, rename
//! and add in a mode of its own (`?anordnen=1`), so that the list people
//! work through is not 70 buttons.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::get_catalogue;
use crate::domain::MeasureStatus;
use crate::format::german_date;
use crate::toms::{
    AddCategory, CatalogueFilter, CategoryView, MeasureSummary, MoveCategory, MoveMeasure,
    RenameCategory, label,
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

/// The page's GET parameters.
#[derive(Debug, Clone, Default, PartialEq)]
struct Params {
    filter: Option<CatalogueFilter>,
    q: String,
    mine: bool,
    arrange: bool,
}

impl Params {
    /// The address of the list with `change` applied to these parameters.
    fn href(&self, change: impl FnOnce(&mut Params)) -> String {
        let mut p = self.clone();
        change(&mut p);
        let mut parts = Vec::new();
        if let Some(f) = p.filter {
            parts.push(format!("filter={}", f.slug()));
        }
        if !p.q.trim().is_empty() {
            parts.push(format!("q={}", crate::format::query_value(p.q.trim())));
        }
        if p.mine {
            parts.push("meine=1".to_owned());
        }
        if p.arrange {
            parts.push("anordnen=1".to_owned());
        }
        match parts.is_empty() {
            true => "/massnahmen".to_owned(),
            false => format!("/massnahmen?{}", parts.join("&")),
        }
    }
}

#[component]
pub fn CataloguePage() -> impl IntoView {
    let edits = Edits {
        move_measure: ServerAction::new(),
        move_category: ServerAction::new(),
        rename: ServerAction::new(),
        add: ServerAction::new(),
    };
    let query = use_query_map();
    let params = move || {
        query.with(|q| Params {
            filter: q.get("filter").as_deref().and_then(CatalogueFilter::parse),
            q: q.get("q").unwrap_or_default(),
            mine: q.get("meine").is_some_and(|m| !m.is_empty()),
            arrange: q.get("anordnen").is_some_and(|m| !m.is_empty()),
        })
    };
    let data = Resource::new(
        move || {
            (
                edits.move_measure.version().get(),
                edits.move_category.version().get(),
                edits.rename.version().get(),
                edits.add.version().get(),
                params(),
            )
        },
        |(_, _, _, _, p)| {
            // Arranging shows the whole catalogue: moving within a filtered
            // list would move past measures nobody sees.
            let narrowed = !p.arrange;
            get_catalogue(
                p.filter.filter(|_| narrowed).map(|f| f.slug().to_owned()),
                Some(p.q).filter(|_| narrowed),
                (narrowed && p.mine).then(|| "1".to_owned()),
            )
        },
    );
    view! {
        <Title text="Maßnahmenkatalog" />
        <section class="page">
            <h1>"Technische und organisatorische Maßnahmen"</h1>
            <p class="lead">"Der Katalog nach Art. 32 DSGVO, gegliedert wie die Anlage zum AVV."</p>
            <FormError value=edits.move_measure.value() unlinked=true />
            <FormError value=edits.move_category.value() unlinked=true />
            <FormError value=edits.rename.value() unlinked=true />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let p = params();
                    match data.await {
                        Ok(cat) => {
                            let can_edit = cat.can_edit;
                            let arrange = can_edit && p.arrange;
                            view! {
                                <p class="actions">
                                    {(can_edit && !arrange)
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
                                                <a class="button" href="/massnahmen?anordnen=1" data-test="arrange">
                                                    "Anordnen"
                                                </a>
                                            }
                                        })}
                                    {arrange
                                        .then(|| {
                                            view! {
                                                <a class="button primary" href="/massnahmen" data-test="arrange-done">
                                                    "Fertig"
                                                </a>
                                            }
                                        })}
                                </p>
                                {if arrange {
                                    view! {
                                        <p class="notice">
                                            "Anordnen: Reihenfolge und Titel der Kategorien und die Reihenfolge der Maßnahmen ändern, so wie sie in der Anlage stehen."
                                        </p>
                                        {cat
                                            .categories
                                            .into_iter()
                                            .map(|c| view! { <ArrangeCategory c edits /> })
                                            .collect_view()}
                                        <NewCategory edits />
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <Filters p=p.clone() />
                                        {(p.filter.is_some() || !p.q.trim().is_empty() || p.mine)
                                            .then(|| {
                                                view! {
                                                    <p class="result-count" data-test="result-count">
                                                        {format!("{} von {} Maßnahmen", cat.shown, cat.total)}
                                                    </p>
                                                }
                                            })}
                                        {(cat.shown == 0 && cat.total > 0)
                                            .then(|| {
                                                view! {
                                                    <p class="muted" data-test="no-match">
                                                        "Keine Maßnahme passt zu diesem Filter. "
                                                        <a href="/massnahmen">"Alle Maßnahmen zeigen"</a>
                                                    </p>
                                                }
                                            })}
                                        {cat
                                            .categories
                                            .into_iter()
                                            .map(|c| view! { <Category c /> })
                                            .collect_view()}
                                    }
                                        .into_any()
                                }}
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

/// The search box and the filter chips: links and a GET form, nothing that
/// needs JavaScript.
#[component]
fn Filters(p: Params) -> impl IntoView {
    let chip = |href: String, text: &'static str, on: bool| {
        view! {
            <a class="chip" href=href aria-current=on.then_some("true") data-test="filter-chip">
                {text}
            </a>
        }
    };
    view! {
        <form method="get" action="/massnahmen" role="search" class="form filters catalogue-search">
            {p.filter.map(|f| view! { <input type="hidden" name="filter" value=f.slug() /> })}
            {p.mine.then(|| view! { <input type="hidden" name="meine" value="1" /> })}
            <label for="catalogue-q">"Suchen"</label>
            <input id="catalogue-q" name="q" type="search" value=p.q.clone() placeholder="Wort im Titel oder Text" />
            <button type="submit" class="button">
                "Suchen"
            </button>
        </form>
        <nav class="chips" aria-label="Filter">
            {chip(p.href(|p| p.filter = None), "Alle", p.filter.is_none())}
            {CatalogueFilter::ALL
                .into_iter()
                .map(|f| chip(p.href(|p| p.filter = Some(f)), f.label(), p.filter == Some(f)))
                .collect_view()}
            {chip(p.href(|p| p.mine = !p.mine), "Nur meine", p.mine)}
        </nav>
    }
}

/// A category's measures as rows: title, status, owners, evidence, review.
#[component]
fn Category(c: CategoryView) -> impl IntoView {
    let heading = format!("{} {}", c.number, c.title);
    let sub = c.parent_id.is_some();
    let id = c.id;
    view! {
        <section class=if sub { "category sub" } else { "category" } id=format!("kategorie-{id}") data-test="category">
            <div class="category-head">
                {if sub { view! { <h3>{heading}</h3> }.into_any() } else { view! { <h2>{heading}</h2> }.into_any() }}
            </div>
            {if c.measures.is_empty() {
                view! { <p class="muted">"Keine Maßnahmen in dieser Kategorie."</p> }.into_any()
            } else {
                view! {
                    <table class="table worklist">
                        <thead>
                            <tr>
                                <th scope="col">"Maßnahme"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Verantwortlich"</th>
                                <th scope="col">"Nachweis"</th>
                                <th scope="col">"Nächste Prüfung"</th>
                            </tr>
                        </thead>
                        <tbody>{c.measures.into_iter().map(|m| view! { <Row m /> }).collect_view()}</tbody>
                    </table>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn Row(m: MeasureSummary) -> impl IntoView {
    let evidence = match m.evidence {
        Some(v) => {
            view! { <span class=format!("badge validity-{}", v.as_str())>{v.label()}</span> }
                .into_any()
        }
        None if m.status == MeasureStatus::Implemented => {
            view! { <span class="badge validity-expired">"keiner"</span> }.into_any()
        }
        None => view! { <span class="muted">"keiner"</span> }.into_any(),
    };
    let review = match m.next_review {
        Some(d) if m.review_due => view! { <span class="badge validity-expired">{format!("fällig seit {}", german_date(d))}</span> }.into_any(),
        Some(d) => view! { <span>{german_date(d)}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    let owners = if m.owners.is_empty() {
        view! { <span class="muted">"niemand"</span> }.into_any()
    } else {
        view! { <span>{m.owners.join(", ")}</span> }.into_any()
    };
    view! {
        <tr class=format!("status-{}", m.status.as_str()) data-test="measure-row">
            <td data-label="Maßnahme">
                <a href=format!("/massnahmen/{}", m.id) class="measure-link" data-test="measure-link">
                    {label(&m.title, &m.body)}
                </a>
            </td>
            <td data-label="Status">
                <span class=format!("badge status-{}", m.status.as_str())>{m.status.label()}</span>
            </td>
            <td data-label="Verantwortlich">{owners}</td>
            <td data-label="Nachweis" data-test="evidence">{evidence}</td>
            <td data-label="Nächste Prüfung" data-test="next-review">{review}</td>
        </tr>
    }
}

/// A category in the "Anordnen" mode: its measures with up/down buttons,
/// and the category's own order and title.
#[component]
fn ArrangeCategory(c: CategoryView, edits: Edits) -> impl IntoView {
    let heading = format!("{} {}", c.number, c.title);
    let sub = c.parent_id.is_some();
    let id = c.id;
    let count = c.measures.len();
    view! {
        <section class=if sub { "category sub" } else { "category" } id=format!("kategorie-{id}") data-test="category">
            <div class="category-head">
                {if sub { view! { <h3>{heading}</h3> }.into_any() } else { view! { <h2>{heading}</h2> }.into_any() }}
                <div class="tools">
                    {move_buttons!(edits.move_category, id, "Kategorie")}
                    <details class="rename">
                        <summary>"Umbenennen"</summary>
                        <ActionForm action=edits.rename attr:class="form inline-form">
                            <input type="hidden" name="id" value=id.to_string() />
                            <label class="sr-only" for=format!("rename-{id}")>
                                "Neuer Titel"
                            </label>
                            <input id=format!("rename-{id}") name="title" value=c.title.clone() required pattern=crate::ui::NOT_BLANK />
                            <button type="submit" class="button">
                                "Speichern"
                            </button>
                        </ActionForm>
                    </details>
                </div>
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
                                <span class="measure-link">{label(&m.title, &m.body)}</span>
                                {move_buttons!(edits.move_measure, mid, "Maßnahme")}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <p>
                <a class="small" href=format!("/massnahmen/neu?kategorie={id}")>
                    "+ Maßnahme in dieser Kategorie"
                </a>
            </p>
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
                <input id="new-category" name="title" required pattern=crate::ui::NOT_BLANK />
                <FormError value=edits.add.value() />
                <button type="submit" class="button">
                    "Hinzufügen"
                </button>
            </ActionForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Validity;

    #[test]
    fn links_keep_the_other_parameters() {
        let p = Params {
            filter: Some(CatalogueFilter::ReviewDue),
            q: "Backup & Rücksicherung".into(),
            mine: true,
            arrange: false,
        };
        assert_eq!(
            p.href(|p| p.filter = None),
            "/massnahmen?q=Backup%20%26%20R%C3%BCcksicherung&meine=1"
        );
        assert_eq!(
            p.href(|p| p.mine = false),
            "/massnahmen?filter=pruefung-faellig&q=Backup%20%26%20R%C3%BCcksicherung"
        );
        assert_eq!(Params::default().href(|_| {}), "/massnahmen");
    }

    #[test]
    fn validity_counts_current_and_expiring_only() {
        assert!(Validity::counts(Some(Validity::Current)));
        assert!(Validity::counts(Some(Validity::Expiring)));
        assert!(!Validity::counts(Some(Validity::Expired)));
        assert!(!Validity::counts(None));
        assert_eq!(
            Validity::best(Some(Validity::Expired), Validity::Expiring),
            Validity::Expiring
        );
        assert_eq!(
            Validity::best(Some(Validity::Current), Validity::Expired),
            Validity::Current
        );
    }
}
