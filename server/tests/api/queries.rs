//! What a page costs the database: the start page, the catalogue and the
//! portal run the same SQL statements for 2 measures and 3 people as for 22
//! measures and 28 people, with a review cycle open (no statement per row,
//! no panel fetched twice); a repeated view writes nothing, nor do a 304
//! and the health check. The start page's lists show their first entries
//! and count the rest.

use app::domain::Role;
use reqwest::StatusCode;

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::evidence::{PDF, form, upload};
use crate::helpers::*;

/// Adds `n` measures, each with the owner and one evidence file.
async fn add_measures(admin: &Client, org: &Org, n: usize) {
    let cat = catalogue(admin).await;
    let owner = org.user_id(Role::Owner).to_string();
    for i in 0..n {
        let number = ["3.1", "3.2", "4.1"][i % 3];
        let id = create(
            admin,
            category_id(&cat, number),
            &format!("Maßnahme {i} mit Nachweis."),
        )
        .await;
        let a = admin
            .call(
                "toms/measure/owner/add",
                &[("measure_id", &id.to_string()), ("user_id", &owner)],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let mut pdf = PDF.to_vec();
        pdf.extend_from_slice(format!("% {i}\n").as_bytes());
        let up = upload(admin, form(id, "Bericht", "2099-12-31", "bericht.pdf", pdf)).await;
        assert!(up.status.is_success(), "{}", up.body);
    }
    let a = admin.call("annex/publish", &[]).await;
    assert!(a.status.is_success(), "{}", a.body);
}

/// Adds `n` staff members who have not done anything yet.
async fn add_staff(app: &TestApp, org: &Org, n: usize) {
    use app::entities::BeginWrite;
    use app::state::Clock;
    let actor = app::audit::service::AuditActor::system("test");
    let txn = app.db.begin_write().await.unwrap();
    for i in 0..n {
        let email =
            app::domain::EmailAddress::parse(&format!("staff{i}@{}.example", org.short)).unwrap();
        let now = app.clock.now();
        let u =
            app::auth::service::create_user(&txn, now, &actor, &email, &format!("Staff {i}"), None)
                .await
                .unwrap();
        app::orgs::service::add_membership(&txn, now, &actor, org.id, u.id, Role::Staff)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
}

/// Opens a review cycle over every measure; the owner finds the first of
/// theirs not effective and submits it with a corrective action. So the
/// start pages read everything the review figures are made of: an open
/// cycle with assessments waiting for the DPO and for the owner, an open
/// action and a flagged measure.
async fn open_review(app: &TestApp, admin: &Client, owner: &Client, org: &Org) {
    use crate::reviews::{assess, cycle, cycle_id, item, open};
    use app::state::Clock;
    let due = (app::format::german_day(app.clock.now()) + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let id = cycle_id(&open(admin, "Wirksamkeitsprüfung", &due, &[]).await);
    let rows = cycle(admin, id).await.items;
    assert!(rows.len() >= 2, "{rows:?}");
    let first = item(owner, rows[0].id).await;
    let owner_id = org.user_id(Role::Owner).to_string();
    let action_due = (app::format::german_day(app.clock.now()) + chrono::Duration::days(20))
        .format("%Y-%m-%d")
        .to_string();
    let done = assess(
        owner,
        &first,
        "not_effective",
        true,
        &[
            ("finding_description", "Zwei Berichte fehlten."),
            ("finding_action", "Berichte nachreichen."),
            ("finding_due_date", &action_due),
            ("finding_owner_id", &owner_id),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

/// Waits until no statement has run for 300 ms: work a page started may go
/// on after its response (resources it did not wait for), and counts as its.
async fn settled(app: &TestApp) -> (u64, u64) {
    loop {
        let seen = (app.statements.get(), app.statements.writes());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        if (app.statements.get(), app.statements.writes()) == seen {
            return seen;
        }
    }
}

/// The statements one GET of `path` runs, and how many of them write,
/// after a first GET warmed it (a first view may record something once).
async fn cost(app: &TestApp, c: &Client, path: &str) -> (u64, u64) {
    assert_eq!(c.get(path).await.status, StatusCode::OK, "{path}");
    let (before, wrote) = settled(app).await;
    let page = c.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}");
    let (after, wrote_after) = settled(app).await;
    (after - before, wrote_after - wrote)
}

async fn pages_cost_the_same_few_statements_whatever_the_data_size(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;

    add_measures(&admin, &org, 2).await;
    open_review(&app, &admin, &owner, &org).await;
    let small = [
        ("/", cost(&app, &admin, "/").await),
        ("/massnahmen", cost(&app, &admin, "/massnahmen").await),
        ("/portal", cost(&app, &customer, "/portal").await),
        ("/ (owner)", cost(&app, &owner, "/").await),
    ];
    let wrote = app.statements.writes();
    add_measures(&admin, &org, 20).await;
    // The count sees the writers' own connection too, or the checks below
    // that pages write nothing could not fail.
    assert!(
        app.statements.writes() >= wrote + 20,
        "the statement count missed the writes of 20 new measures"
    );
    add_staff(&app, &org, 25).await;
    let large = [
        ("/", cost(&app, &admin, "/").await),
        ("/massnahmen", cost(&app, &admin, "/massnahmen").await),
        ("/portal", cost(&app, &customer, "/portal").await),
        ("/ (owner)", cost(&app, &owner, "/").await),
    ];
    eprintln!("(statements, writes) per page view, 2 and 22 measures: {small:?} {large:?}");
    // Each page reads the same statements whatever the data size. A panel
    // that fetched its own data inside a `Suspend` would be fetched one to
    // three times per render, and its page would fail this.
    for (s, l) in small.iter().zip(&large) {
        assert_eq!(s, l, "{}: the statements grow with the data", s.0);
    }
    for (page, client) in [("/", &admin), ("/portal", &customer)] {
        let again = cost(&app, client, page).await;
        assert_eq!(
            again,
            large.iter().find(|p| p.0 == page).unwrap().1,
            "{page}: the same view cost a different number of statements"
        );
    }
    // What each page costs (the session with its person is one statement;
    // the start page reads catalogue, assessments and people once for all
    // its panels; courses and who passed what once for the person's own
    // trainings and everyone's due ones; the open cycle, its assessments
    // and the open actions once for the organisation's lists and an
    // owner's own figures). More is a regression to explain here: before
    // these budgets, the start page took 48 and the portal 22; until
    // 2026-12-06 the start page 24 (an owner's 26, without an open cycle);
    // with the open cycle here, 21 (an owner's 23) before the review
    // figures were read once for both.
    for (page, budget) in [
        ("/", 20),
        ("/massnahmen", 7),
        ("/portal", 7),
        ("/ (owner)", 17),
    ] {
        let (n, _) = large.iter().find(|p| p.0 == page).unwrap().1;
        assert!(n <= budget, "{page}: {n} statements, more than {budget}");
    }
    // A repeated view writes nothing.
    for (page, (_, writes)) in small.iter().chain(&large) {
        assert_eq!(*writes, 0, "{page} wrote on a repeated view");
    }

    // Nor does a 304 or the health check.
    let url = format!("{}/portal/anlage/v2.pdf", app.address);
    let res = customer.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let wrote = app.statements.writes();
    let res = customer
        .http
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    // A delivered version is kept in memory (publications never change):
    // a conditional GET reads the session with its person, nothing else.
    let (before, _) = settled(&app).await;
    let res = customer
        .http
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let (after, _) = settled(&app).await;
    assert_eq!(
        after - before,
        1,
        "a 304 ran more than the session's statement"
    );
    let health = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(app.statements.writes(), wrote, "a 304 or /healthz wrote");
    app.stop().await;
}
both!(pages_cost_the_same_few_statements_whatever_the_data_size);

async fn the_start_page_shows_the_first_entries_of_a_long_list_and_counts_the_rest(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&admin).await;
    for i in 0..(app::reminders::PREVIEW + 3) {
        create(
            &admin,
            category_id(&cat, "3.1"),
            &format!("Maßnahme {i} ohne Verantwortliche."),
        )
        .await;
    }
    let full = admin.call("reminders/dashboard", &[]).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    let all: serde_json::Value = serde_json::from_str(&full.body).unwrap();
    let total = all["measures_without_owner"].as_array().unwrap().len();
    assert!(total > app::reminders::PREVIEW, "{total}");

    let page = admin.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    let start = page
        .body
        .find(r#"data-test="no-owner""#)
        .expect("the list of measures without an owner");
    let list = &page.body[start..];
    // Without the hydration markers between text nodes.
    let list = list[..list.find("</details>").unwrap()].replace("<!>", "");
    assert_eq!(
        list.matches("<li").count(),
        app::reminders::PREVIEW,
        "{list}"
    );
    assert!(
        list.contains(&format!(r#"<span class="count">{total}</span>"#)),
        "{list}"
    );
    assert!(
        list.contains(&format!(
            "… und {} weitere",
            total - app::reminders::PREVIEW
        )),
        "{list}"
    );
    app.stop().await;
}
both!(the_start_page_shows_the_first_entries_of_a_long_list_and_counts_the_rest);
