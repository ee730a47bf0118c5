//! `/schulungen` (my courses and certificates), `/schulungen/durchgang/:id`
//! (reading and the quiz), `/schulungen/kurse` (courses, for the DPO) and
//! `/schulungen/uebersicht` (staff × courses and pledges).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    AddBaseCourse, AttemptView, CourseState, CreateCourse, MyCourse, MyTraining,
    OVERVIEW_PAGE_SIZE, SaveCourse, SaveRules, StartCourse, TrainingOverview, get_attempt,
    get_my_training, get_training_overview, list_courses,
};
use crate::format::german_date;
use crate::ids::AttemptId;
use crate::pledges::Block;
use crate::ui::{ErrorView, FieldError, FormError, Loading, Saved, described_by_in, invalid};

enum Part {
    Heading(String),
    Paragraph(String),
    List(Vec<String>),
    /// Address and description.
    Image(String, String),
}

/// Content blocks as HTML; consecutive list items form one list.
#[component]
pub fn Blocks(blocks: Vec<Block>) -> impl IntoView {
    let mut parts: Vec<Part> = Vec::new();
    for b in blocks {
        match (b.kind.as_str(), parts.last_mut()) {
            ("item", Some(Part::List(items))) => items.push(b.text),
            ("item", _) => parts.push(Part::List(vec![b.text])),
            ("heading", _) => parts.push(Part::Heading(b.text)),
            ("image", _) => parts.push(Part::Image(b.src.unwrap_or_default(), b.text)),
            _ => parts.push(Part::Paragraph(b.text)),
        }
    }
    view! {
        <div class="course-text">
            {parts
                .into_iter()
                .map(|p| match p {
                    Part::Heading(h) => view! { <h3>{h}</h3> }.into_any(),
                    Part::Paragraph(t) => view! { <p>{t}</p> }.into_any(),
                    Part::Image(src, alt) => view! {
                        <figure class="course-image">
                            <img src=src alt=alt loading="lazy" />
                        </figure>
                    }
                        .into_any(),
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
pub fn TrainingPage() -> impl IntoView {
    let start = ServerAction::<StartCourse>::new();
    let data = Resource::new(move || start.version().get(), |_| get_my_training());
    view! {
        <Title text="Schulungen" />
        <section class="page">
            <h1>"Schulungen"</h1>
            <FormError value=start.value() />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(t) => view! { <Mine t start /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Mine(t: MyTraining, start: ServerAction<StartCourse>) -> impl IntoView {
    view! {
        {(!t.takes_part)
            .then(|| {
                view! {
                    <p class="muted">
                        "In Ihrer Rolle nehmen Sie an den Schulungen dieser Organisation nicht teil. Wer geschult ist, zeigt der "
                        <a href="/schulungen/uebersicht">"Schulungsstand"</a>
                        "."
                    </p>
                }
            })}
        {(t.takes_part && t.courses.is_empty()).then(|| view! { <p class="muted">"Ihre Organisation hat noch keine Schulung angelegt."</p> })}
        <ul class="courses">
            {t.courses.into_iter().map(|c| {
                let id = c.course_id;
                let retry = c.state == CourseState::Failed;
                let done = c.state == CourseState::Passed;
                view! {
                    <li class="card course" data-state=c.state.as_str() data-test="course">
                        <h2>{c.title.clone()}</h2>
                        <p>
                            <span class=format!("badge training-{}", c.state)>{c.state.label()}</span>
                            {format!(" · Version {}", c.version)}
                            {c.passed_at.map(|d| format!(" · zuletzt bestanden am {}", german_date(d)))}
                            {c.due.map(|d| view! {
                                " · "
                                <span class=if c.overdue { "badge validity-expired" } else { "badge validity-expiring" } data-test="training-due">
                                    {if c.overdue { format!("überfällig seit {}", german_date(d)) } else { format!("fällig bis {}", german_date(d)) }}
                                </span>
                            })}
                        </p>
                        {match c.attempt_id {
                            Some(a) => view! {
                                <a class="button primary" href=format!("/schulungen/durchgang/{a}")>"Fortsetzen"</a>
                            }.into_any(),
                            None if !done => view! {
                                <ActionForm action=start attr:class="inline">
                                    <input type="hidden" name="course_id" value=id.to_string() />
                                    <button type="submit" class="button primary">{if retry { "Erneut versuchen" } else { "Schulung starten" }}</button>
                                </ActionForm>
                            }.into_any(),
                            None => ().into_any(),
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
        {(!t.certificates.is_empty()).then(|| view! {
            <h2>"Meine Teilnahmebescheinigungen"</h2>
            <ul class="certificates">
                {t.certificates.into_iter().map(|c| view! {
                    <li>
                        <a href=format!("/schulungen/zertifikat/{}.pdf", c.id) rel="external">
                            {format!("{} (Version {}), {} – {} von {} richtig", c.title, c.version, c.finished_at, c.score, c.max_score)}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// On the start page: the trainings still to do.
#[component]
pub fn OpenTrainings(open: Vec<MyCourse>) -> impl IntoView {
    (!open.is_empty()).then(|| {
        view! {
            <section class="card attention open-trainings" data-test="open-trainings">
                <h2>"Offene Schulungen"</h2>
                <ul>
                    {open.into_iter().map(|c| view! {
                        <li>{c.title} " – " {c.state.label()}</li>
                    }).collect_view()}
                </ul>
                <p><a class="button primary" href="/schulungen">"Zu den Schulungen"</a></p>
            </section>
        }
    })
}

#[component]
pub fn AttemptPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params.with(|p| {
            p.get("id")
                .and_then(|v| v.parse::<AttemptId>().ok())
                .unwrap_or_default()
        })
    };
    let data = Resource::new(id, get_attempt);
    view! {
        <Title text="Schulung" />
        <section class="page narrow">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(a) => view! { <Attempt a /> }.into_any(),
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Attempt(a: AttemptView) -> impl IntoView {
    let query = use_query_map();
    let error = move || query.with(|q| q.get("fehler"));
    let saved = move || query.with(|q| q.get("gespeichert").is_some());
    let id = a.id;
    view! {
        <h1>{a.title.clone()}</h1>
        <p class="muted">{format!("Version {} · Bestehensgrenze {} %", a.version, a.pass_percent)}</p>
        {move || error().map(|e| view! { <crate::ui::ErrorSummary title="Noch nicht eingereicht:">{e}</crate::ui::ErrorSummary> })}
        {move || saved().then(|| view! { <p class="notice-ok" role="status">"Ihre Antworten sind gespeichert. Sie können später hier weitermachen."</p> })}
        {a.finished.then(|| {
            let (score, max) = (a.score.unwrap_or_default(), a.max_score);
            match (a.passed, a.completion_id) {
                (Some(true), Some(c)) => view! {
                    <section class="card result passed" role="status" data-test="result">
                        <h2>"Bestanden"</h2>
                        <p>{format!("{score} von {max} Fragen richtig.")}</p>
                        <p><a class="button primary" href=format!("/schulungen/zertifikat/{c}.pdf") rel="external">"Teilnahmebescheinigung herunterladen (PDF)"</a></p>
                    </section>
                }.into_any(),
                _ => view! {
                    <section class="card result failed" role="status" data-test="result">
                        <h2>"Nicht bestanden"</h2>
                        <p>{format!("{score} von {max} Fragen richtig; nötig sind {} %. Lesen Sie den Inhalt noch einmal und versuchen Sie es erneut.", a.pass_percent)}</p>
                        <p><a class="button" href="/schulungen">"Zu den Schulungen"</a></p>
                    </section>
                }.into_any(),
            }
        })}
        <article class="card course-content" aria-label="Inhalt der Schulung">
            <Blocks blocks=a.content.clone() />
        </article>
        {(!a.finished).then(|| view! {
            <form class="form quiz" method="post" action=format!("/schulungen/durchgang/{id}")>
                <h2>"Test"</h2>
                <p class="muted">"Bei Fragen mit Kästchen können mehrere Antworten richtig sein, bei Fragen mit Kreisen genau eine."</p>
                <input type="hidden" name="version_id" value=a.version_id.to_string() />
                {a.questions.clone().into_iter().enumerate().map(|(n, q)| {
                    let name = format!("q{}", q.index);
                    view! {
                        <fieldset class="question" data-test="question">
                            <legend data-test="question-text">{format!("{}. {}", n + 1, q.text)}</legend>
                            {q.options.into_iter().map(|(oi, text)| {
                                let input_id = format!("q{}-{}", q.index, oi);
                                view! {
                                    <div class="option">
                                        <input
                                            type=if q.multiple { "checkbox" } else { "radio" }
                                            id=input_id.clone()
                                            name=name.clone()
                                            value=oi.to_string()
                                            checked=q.chosen.contains(&oi)
                                        />
                                        <label for=input_id>{text}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                    }
                }).collect_view()}
                <div class="actions">
                    <button type="submit" name="aktion" value="speichern" class="button">"Zwischenspeichern und später weitermachen"</button>
                    <button type="submit" name="aktion" value="abgeben" class="button primary">"Test abgeben"</button>
                </div>
            </form>
        })}
    }
}

#[component]
pub fn TrainingAdminPage() -> impl IntoView {
    let save = ServerAction::<SaveCourse>::new();
    // The new course's form has an action of its own: its errors stand in
    // that form, at its fields, and only a course actually created reloads
    // the list (a refused one keeps the form open with what was typed).
    let create = ServerAction::<CreateCourse>::new();
    let base = ServerAction::<AddBaseCourse>::new();
    let rules = ServerAction::<SaveRules>::new();
    let data = Resource::new(
        move || {
            (
                save.version().get(),
                create
                    .value()
                    .with(|v| v.as_ref().and_then(|r| r.as_ref().ok().copied())),
                base.version().get(),
                rules.version().get(),
            )
        },
        |_| list_courses(),
    );
    let create_failed = move || create.value().with_untracked(|v| matches!(v, Some(Err(_))));
    let failed = move |field: &str| create.value().with(|v| invalid(v, field));
    let described = move |field: &str| create.value().with(|v| described_by_in(v, "c-new-", field));
    view! {
        <Title text="Schulungskurse" />
        <section class="page wide">
            <h1>"Schulungskurse"</h1>
            <p class="lead">
                "Kurse in Markdown mit einem Test am Ende. Jede Änderung ergibt eine neue Version; wer eine frühere Version bestanden hat, behält deren Nachweis und wird zur neuen Version eingeladen."
            </p>
            <p><a href="/schulungen/uebersicht">"Zur Übersicht Mitarbeitende × Schulungen"</a></p>
            <FormError value=save.value() unlinked=true />
            <FormError value=base.value() unlinked=true />
            <FormError value=rules.value() unlinked=true />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(list) => {
                            let can_edit = list.can_edit;
                            view! {
                                {(list.base_missing && can_edit).then(|| view! {
                                    <ActionForm action=base attr:class="card">
                                        <p>"Nachweis bringt eine Datenschutz-Grundschulung mit 14 Testfragen mit (personenbezogene Daten, Grundsätze nach Art. 5, Betroffenenrechte, Datenpannen, Passwörter, E-Mail und Geräte, Arbeiten von zu Hause)."</p>
                                        <button type="submit" class="button primary">"Datenschutz-Grundschulung übernehmen"</button>
                                    </ActionForm>
                                })}
                                {list.courses.into_iter().map(|c| {
                                    let key = c.id;
                                    view! {
                                        <section class="card course-admin">
                                            <h2>{c.title.clone()}</h2>
                                            <p class="muted">{format!("Version {} vom {} · {} Fragen · Bestehensgrenze {} % · SHA-256 {}", c.version, german_date(c.created_at), c.questions, c.pass_percent, c.sha256)}</p>
                                            <p>{format!("Teilnahme: neue Mitarbeitende innerhalb von {} Tagen, danach alle {} Monate; nach nicht bestandenem Test erneut innerhalb von {} Tagen.", c.new_staff_days, c.interval_months, c.retry_days)}</p>
                                            {can_edit.then(|| view! {
                                                <details>
                                                    <summary>"Fristen ändern"</summary>
                                                    <ActionForm action=rules attr:class="form inline-form">
                                                        <input type="hidden" name="course_id" value=key.to_string() />
                                                        <label for=format!("r-new-{key}")>"Neue Mitarbeitende (Tage)"</label>
                                                        <input id=format!("r-new-{key}") name="new_staff_days" type="number" min="1" max="365" value=c.new_staff_days.to_string() />
                                                        <label for=format!("r-int-{key}")>"Wiederholung (Monate)"</label>
                                                        <input id=format!("r-int-{key}") name="interval_months" type="number" min="1" max="60" value=c.interval_months.to_string() />
                                                        <label for=format!("r-retry-{key}")>"Nach Nichtbestehen (Tage)"</label>
                                                        <input id=format!("r-retry-{key}") name="retry_days" type="number" min="1" max="365" value=c.retry_days.to_string() />
                                                        <button type="submit" class="button">"Fristen speichern"</button>
                                                    </ActionForm>
                                                </details>
                                                <details>
                                                    <summary>"Bearbeiten (neue Version)"</summary>
                                                    <ActionForm action=save attr:class="form">
                                                        <input type="hidden" name="course_id" value=key.to_string() />
                                                        <label for=format!("c-title-{key}")>"Titel"</label>
                                                        <input id=format!("c-title-{key}") name="title" required pattern=crate::ui::NOT_BLANK value=c.title.clone() />
                                                        <label for=format!("c-pass-{key}")>"Bestehensgrenze in %"</label>
                                                        <input id=format!("c-pass-{key}") name="pass_percent" type="number" min="1" max="100" value=c.pass_percent.to_string() />
                                                        <label for=format!("c-src-{key}")>"Inhalt und Test"</label>
                                                        <crate::ui::TextArea id=format!("c-src-{key}") name="source" rows=24 required=true value=c.source.clone() />
                                                        <button type="submit" class="button primary">"Als neue Version speichern"</button>
                                                    </ActionForm>
                                                </details>
                                            })}
                                        </section>
                                    }
                                }).collect_view()}
                                {can_edit.then(|| {
                                    let images = list.images.clone();
                                    view! {
                                        <details class="card course-images">
                                            <summary>"Bilder in Kursen"</summary>
                                            <p>"Bilder kommen aus den Nachweisen (PNG, JPEG, GIF oder WebP). Fügen Sie die Zeile eines Bildes in den Inhalt ein und beschreiben Sie in den eckigen Klammern, was es zeigt; Mitarbeitende sehen nur die Bilder ihrer Kurse."</p>
                                            {if images.is_empty() {
                                                view! { <p class="muted">"Noch keine Bilder: Laden Sie unter „Nachweise“ ein Bild hoch."</p> }.into_any()
                                            } else {
                                                view! {
                                                    <ul>
                                                        {images.into_iter().map(|(id, title)| view! {
                                                            <li>{title}": "<code>{format!("![Beschreibung](nachweis:{id})")}</code></li>
                                                        }).collect_view()}
                                                    </ul>
                                                }.into_any()
                                            }}
                                        </details>
                                    }
                                })}
                                {can_edit.then(|| view! {
                                    <details class="card" id="neuer-kurs" open=create_failed()>
                                        <summary>"Neuen Kurs anlegen"</summary>
                                        <FormError value=create.value() prefix="c-new-" />
                                        {move || create.value().with(|v| matches!(v, Some(Ok(_)))).then(|| view! { <Saved text="Kurs angelegt – er steht oben in der Liste und ist allen zugewiesen, für die seine Regeln gelten." /> })}
                                        <p class="hint">"Pflichtfelder sind mit * markiert."</p>
                                        <ActionForm action=create attr:class="form">
                                            <label for="c-new-title" class="required">"Titel"</label>
                                            <input
                                                id="c-new-title"
                                                name="title"
                                                value={crate::ui::typed::<CreateCourse>("title", String::new())}
                                                required
                                                pattern=crate::ui::NOT_BLANK
                                                aria-invalid=move || failed("title").then_some("true")
                                                aria-describedby=move || described("title")
                                            />
                                            <FieldError value=create.value() field="title" prefix="c-new-" />
                                            <label for="c-new-pass_percent">"Bestehensgrenze in %"</label>
                                            <input
                                                id="c-new-pass_percent"
                                                name="pass_percent"
                                                type="number"
                                                min="1"
                                                max="100"
                                                value={crate::ui::typed::<CreateCourse>("pass_percent", "80".to_owned())}
                                                aria-invalid=move || failed("pass_percent").then_some("true")
                                                aria-describedby=move || described("pass_percent")
                                            />
                                            <FieldError value=create.value() field="pass_percent" prefix="c-new-" />
                                            <label for="c-new-source" class="required">"Inhalt und Test"</label>
                                            <FieldError value=create.value() field="source" prefix="c-new-" />
                                            <crate::ui::TextArea id="c-new-source" name="source" rows=16 required=true value={crate::ui::typed::<CreateCourse>("source", String::new())} invalid=Signal::derive(move || failed("source")) placeholder="# Titel\n\nInhalt in Markdown …\n\n---quiz---\n\n? Frage mit genau einer richtigen Antwort\n- [x] richtig\n- [ ] falsch\n\n?? Frage mit mehreren richtigen Antworten\n- [x] richtig\n- [x] auch richtig\n- [ ] falsch" />
                                            <button type="submit" class="button primary">"Kurs anlegen"</button>
                                        </ActionForm>
                                    </details>
                                })}
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
pub fn TrainingOverviewPage() -> impl IntoView {
    // Filter, search and page are the query string of a plain GET form, so
    // they work without JavaScript and a filtered page can be bookmarked.
    let query = use_query_map();
    let params = move || {
        query.with(|q| {
            (
                q.get("zeigen").unwrap_or_default(),
                q.get("suche").unwrap_or_default(),
                q.get("seite")
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(1),
            )
        })
    };
    let data = Resource::new(params, |(show, search, page)| {
        get_training_overview(show, search, page)
    });
    view! {
        <Title text="Schulungen und Verpflichtungen" />
        <section class="page wide">
            <h1>"Schulungen und Verpflichtungen"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(o) => {
                            let (show, search, _) = params();
                            view! { <Matrix o show search /> }.into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The query string of the overview (and its CSV) for a filter, search and page.
fn overview_query(show: &str, search: &str, page: Option<usize>) -> String {
    let mut parts = Vec::new();
    if !show.is_empty() {
        parts.push(format!("zeigen={}", crate::format::query_value(show)));
    }
    if !search.is_empty() {
        parts.push(format!("suche={}", crate::format::query_value(search)));
    }
    if let Some(p) = page.filter(|p| *p > 1) {
        parts.push(format!("seite={p}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

#[component]
fn Matrix(o: TrainingOverview, show: String, search: String) -> impl IntoView {
    let courses = o.courses.clone();
    let filter = show.clone();
    let csv = format!(
        "/schulungen/uebersicht.csv{}",
        overview_query(&show, &search, None)
    );
    let link = {
        let (show, search) = (show.clone(), search.clone());
        move |page: usize| {
            format!(
                "/schulungen/uebersicht{}",
                overview_query(&show, &search, Some(page))
            )
        }
    };
    let (page, pages) = (o.page, o.pages);
    let first = (o.page - 1) * OVERVIEW_PAGE_SIZE + 1;
    let shown = if o.matching == 0 {
        "Niemand passt zu Filter und Suche.".to_owned()
    } else if o.matching == o.total {
        format!(
            "{first}–{} von {} Personen",
            first + o.rows.len() - 1,
            o.matching
        )
    } else {
        format!(
            "{first}–{} von {} passenden Personen ({} insgesamt)",
            first + o.rows.len() - 1,
            o.matching,
            o.total
        )
    };
    let pager = move || {
        (pages > 1).then(|| {
            let link = link.clone();
            view! {
                <nav class="pager" aria-label="Seiten">
                    {(page > 1).then(|| view! { <a href=link(page - 1) rel="prev">"← zurück"</a> })}
                    <span>{format!("Seite {page} von {pages}")}</span>
                    {(page < pages).then(|| view! { <a href=link(page + 1) rel="next">"weiter →"</a> })}
                </nav>
            }
        })
    };
    view! {
        <p class="lead summary" data-test="summary">{o.summary.clone()}</p>
        <p class="lead">{o.pledge_summary.clone()}</p>
        <p>
            <a href=csv rel="external" download>"Als CSV herunterladen"</a>
            {o.can_manage.then(|| view! { " · " <a href="/schulungen/kurse">"Kurse verwalten"</a> })}
        </p>
        <form class="form inline-form" method="get" action="/schulungen/uebersicht">
            <label for="matrix-filter">"Zeigen"</label>
            <select id="matrix-filter" name="zeigen">
                <option value="" selected=filter.is_empty()>"alle"</option>
                <option value="offen" selected=filter == "offen">"mit offener Schulung oder Verpflichtung"</option>
                <option value="nicht-bestanden" selected=filter == "nicht-bestanden">"mit nicht bestandener Schulung"</option>
                <option value="ueberfaellig" selected=filter == "ueberfaellig">"mit überfälliger Schulung"</option>
            </select>
            <label for="matrix-search">"Name oder E-Mail"</label>
            <input id="matrix-search" type="search" name="suche" value=search.clone() maxlength="200" />
            <button type="submit" class="button">"Anzeigen"</button>
        </form>
        <p class="muted matrix-count" role="status" data-test="matrix-count">{shown}</p>
        {pager.clone()}
        <table class="table training-matrix">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Rolle"</th>
                    {courses.iter().map(|(_, t, v)| view! { <th>{format!("{t} (v{v})")}</th> }).collect_view()}
                    <th>"Verpflichtung"</th>
                </tr>
            </thead>
            <tbody>
                {o.rows.into_iter().map(|r| {
                    view! {
                        <tr data-test="matrix-row">
                            <td>{r.name.clone()}<br /><small>{r.email.clone()}</small></td>
                            <td>{r.role.clone()}</td>
                            {r.cells.into_iter().map(|c| view! {
                                <td data-state=c.state.as_str() data-test="course-state">
                                    <span class=format!("badge cell-{}", c.state)>{c.state.label()}</span>
                                    {c.due.map(|d| view! { <br /><small>{format!("fällig {}", german_date(d))}</small> })}
                                    {match (c.completion_id, c.date) {
                                        (Some(id), Some(d)) => view! { <br /><a href=format!("/schulungen/zertifikat/{id}.pdf") rel="external">{format!("v{} am {}", c.version.unwrap_or_default(), german_date(d))}</a> }.into_any(),
                                        _ => ().into_any(),
                                    }}
                                </td>
                            }).collect_view()}
                            <td data-state=r.pledge.as_str() data-test="pledge-state"><span class=format!("badge pledge-{}", r.pledge)>{r.pledge.label()}</span></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {pager}
    }
}
