//! Stored text never becomes markup. Every free-text field the roles can
//! write is set to a payload that tries to leave its element (textarea,
//! attribute, title, the hydration data) and start a script; then every
//! page that shows stored text is rendered for every role of both demo
//! organisations, and none may carry the payload as markup.

use app::state::Clock;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;

use crate::both;
use crate::helpers::*;

/// At most 60 characters: it must fit the shortest text column.
const PAYLOAD: &str = "</textarea></title>'\"><script>alert(5)</script><img src=x>";

/// (table, column) of every free text a role can write.
const FIELDS: &[(&str, &str)] = &[
    ("measures", "title"),
    ("measures", "body"),
    ("categories", "title"),
    ("evidence", "title"),
    ("evidence", "description"),
    ("subprocessors", "name"),
    ("subprocessors", "address"),
    ("subprocessors", "service"),
    ("subprocessors", "locations"),
    ("subprocessors", "contact"),
    ("attestations", "issuer"),
    ("attestations", "scope"),
    ("organisations", "legal_name"),
    ("organisations", "display_short"),
    ("organisations", "address"),
    ("organisations", "dpo_contact"),
    ("organisations", "intro_text"),
    ("pledge_texts", "title"),
    ("pledge_texts", "body"),
    ("customers", "name"),
    ("users", "display_name"),
    ("review_cycles", "title"),
    ("review_cycles", "method"),
    ("review_items", "tested"),
    ("review_items", "rationale"),
    ("review_items", "decision_comment"),
    ("training_courses", "title"),
];

async fn post(c: &Client, path: &str, form: &[(&str, &str)]) -> Answer {
    let res = c
        .http
        .post(format!("{}{path}", c.base))
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .expect("post");
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.text().await.expect("body"),
    }
}

async fn ids(app: &TestApp, sql: &str) -> Vec<i64> {
    let backend = app.db.get_database_backend();
    app.db
        .query_all_raw(sea_orm::Statement::from_string(backend, sql.to_owned()))
        .await
        .expect("query")
        .iter()
        .map(|r| r.try_get_by_index::<i32>(0).map(i64::from).expect("id"))
        .collect()
}

async fn stored_text_never_becomes_markup(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let logins = server::demo::load(&app.db, app.clock.now())
        .await
        .expect("demo");

    // A review cycle with assessments, so that the review pages show text.
    const DEMO_PASSWORD: &str = "Nachweis-Demo-2026";
    let dpo = app.client();
    assert!(
        dpo.login("dpo@conrat.example", DEMO_PASSWORD)
            .await
            .status
            .is_success()
    );
    let opened = post(
        &dpo,
        "/pruefungen/neu",
        &[
            ("title", "Prüfung"),
            ("due_date", "2099-01-31"),
            ("method", "Stichprobe"),
            ("scope", "all"),
        ],
    )
    .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);

    let backend_kind = app.db.get_database_backend();
    for (table, column) in FIELDS {
        let sql = format!("UPDATE {table} SET {column} = $1");
        let sql = if backend == Backend::Sqlite {
            sql.replace("$1", "?")
        } else {
            sql
        };
        app.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                backend_kind,
                sql,
                [PAYLOAD.into()],
            ))
            .await
            .unwrap_or_else(|e| panic!("set {table}.{column}: {e}"));
    }

    let mut pages: Vec<String> = [
        "/",
        "/massnahmen",
        "/massnahmen/neu",
        "/organisation",
        "/mitglieder",
        "/protokoll",
        "/postausgang",
        "/portal",
        "/kunden",
        "/anmeldedienste",
        "/unterauftragsverarbeiter",
        "/anlage",
        "/verpflichtung",
        "/verpflichtungen",
        "/avv",
        "/schulungen",
        "/schulungen/kurse",
        "/schulungen/uebersicht",
        "/pruefungen",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    for id in ids(&app, "SELECT id FROM measures ORDER BY id")
        .await
        .iter()
        .take(3)
    {
        pages.push(format!("/massnahmen/{id}"));
    }
    for id in ids(&app, "SELECT id FROM review_cycles").await {
        pages.push(format!("/pruefungen/{id}"));
    }
    for id in ids(&app, "SELECT id FROM review_items ORDER BY id")
        .await
        .iter()
        .take(2)
    {
        pages.push(format!("/pruefungen/bewertung/{id}"));
    }

    let mut shown = 0;
    for (_, email, _, role) in &logins {
        let c = app.client();
        let a = c.login(email, DEMO_PASSWORD).await;
        assert!(a.status.is_success(), "{email}: {}", a.body);
        for page in &pages {
            let a = c.get(page).await;
            let body = a.body.to_lowercase();
            for bad in ["<script>alert", "<img src=x", "</textarea></title>"] {
                assert!(
                    !body.contains(bad),
                    "{page} as {email} ({}) carries `{bad}` as markup",
                    role.as_str()
                );
            }
            if a.body.contains("alert(5)") {
                shown += 1;
            }
        }
    }
    // The payload did reach the pages (as text): the test can see a hole.
    assert!(shown > 40, "the payload reached only {shown} page views");
    app.stop().await;
}
both!(stored_text_never_becomes_markup);
