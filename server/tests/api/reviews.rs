//! Effectiveness reviews: the cycle's state machine refuses every illegal
//! step, owners assess only their own measures, auditors read but change
//! nothing, a closed cycle cannot be changed through any route, the signed
//! report names every assessed measure with its result, and overdue actions
//! reach the daily digest through a real SMTP server.

use app::domain::Role;
use app::error::AppError;
use app::reviews::{CycleView, ItemState, ItemView, ReviewDashboard, ReviewsOverview};
use reqwest::StatusCode;

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::helpers::*;
use crate::publish::{annex_text, pdfsig};

/// A form posted to one of the review routes, asking for JSON.
pub async fn post(c: &Client, path: &str, form: &[(&str, &str)]) -> Answer {
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

fn refused(a: &Answer) {
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
}

fn invalid(a: &Answer, field: &str) {
    match a.error() {
        Some(AppError::Invalid { field: f, .. }) => assert_eq!(f, field, "{}", a.body),
        other => panic!(
            "expected a validation error on {field}, got {other:?} ({})",
            a.body
        ),
    }
}

async fn overview(c: &Client) -> ReviewsOverview {
    let a = c.call("reviews/overview", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

pub async fn cycle(c: &Client, id: app::ids::CycleId) -> CycleView {
    let a = c.call("reviews/cycle", &[("id", &id.to_string())]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

pub async fn item(c: &Client, id: app::ids::ReviewItemId) -> ItemView {
    let a = c.call("reviews/item", &[("id", &id.to_string())]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

pub async fn open(c: &Client, title: &str, due: &str, measures: &[i32]) -> Answer {
    let ids: Vec<String> = measures.iter().map(|m| m.to_string()).collect();
    let mut form = vec![("title", title), ("due_date", due), ("method", "")];
    if measures.is_empty() {
        form.push(("scope", "all"));
    } else {
        form.push(("scope", "subset"));
        for id in &ids {
            form.push(("m", id));
        }
    }
    post(c, "/pruefungen/neu", &form).await
}

pub fn cycle_id(a: &Answer) -> app::ids::CycleId {
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    app::ids::CycleId(
        serde_json::from_str::<serde_json::Value>(&a.body).unwrap()["cycle_id"]
            .as_i64()
            .unwrap() as i32,
    )
}

/// Submits (or saves) an assessment; `extra` adds fields (evidence, a finding).
pub async fn assess(
    c: &Client,
    item: &ItemView,
    result: &str,
    submit: bool,
    extra: &[(&str, &str)],
) -> Answer {
    let version = item.version.to_string();
    let mut form = vec![
        ("version", version.as_str()),
        ("result", result),
        (
            "tested",
            "Stichprobe von drei Zutritten im Protokoll geprüft.",
        ),
        (
            "rationale",
            "Alle Zutritte waren berechtigt und protokolliert.",
        ),
        ("state_of_art", "yes"),
        ("aktion", if submit { "einreichen" } else { "speichern" }),
    ];
    form.extend_from_slice(extra);
    post(c, &format!("/pruefungen/bewertung/{}", item.row.id), &form).await
}

pub async fn decide(c: &Client, item: &ItemView, decision: &str, comment: &str) -> Answer {
    c.call(
        "reviews/decide",
        &[
            ("item_id", &item.row.id.to_string()),
            ("version", &item.version.to_string()),
            ("decision", decision),
            ("comment", comment),
        ],
    )
    .await
}

fn date(app: &TestApp, days: i64) -> String {
    use app::state::Clock;
    (app::format::german_day(app.clock.now()) + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// An organisation with three implemented measures: the owner owns the
/// first two, nobody the third.
async fn setup(app: &TestApp, short: &str) -> (Org, Client, Vec<i32>) {
    let org = app.org(short).await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&admin).await;
    let a = create(
        &admin,
        category_id(&cat, "3.1"),
        "Zutritt zum Serverraum nur mit Chipkarte.",
    )
    .await;
    let b = create(
        &admin,
        category_id(&cat, "5"),
        "Tägliche Datensicherung mit monatlichem Rücksicherungstest.",
    )
    .await;
    let c = create(
        &admin,
        category_id(&cat, "3.2"),
        "Passwörter mit mindestens 12 Zeichen.",
    )
    .await;
    for m in [a, b] {
        let r = admin
            .call(
                "toms/measure/owner/add",
                &[
                    ("measure_id", &m.to_string()),
                    ("user_id", &org.user_id(Role::Owner).to_string()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    (org, admin, vec![a, b, c])
}

async fn cycle_state_machine_locks_and_report(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let (org, admin, m) = setup(&app, "acme").await;
    let (other, other_admin, _) = setup(&app, "other").await;
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;
    let auditor = app.client();
    auditor.login_ok(&org.email(Role::Auditor)).await;
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    let due = date(&app, 30);

    // Only the DPO opens a cycle; staff do not even read reviews.
    for c in [&owner, &auditor, &staff] {
        assert_eq!(
            open(c, "Wirksamkeitsprüfung 2026", &due, &[]).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        staff.call("reviews/overview", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    invalid(&open(&admin, "", &due, &[]).await, "title");
    invalid(&open(&admin, "X", &date(&app, -1), &[]).await, "due_date");
    // Another organisation's measure cannot be put into a cycle.
    let foreign = {
        let c = catalogue(&other_admin).await;
        c.categories
            .iter()
            .flat_map(|c| c.measures.iter())
            .next()
            .unwrap()
            .id
            .0
    };
    assert_eq!(
        open(&admin, "X", &due, &[m[0], foreign]).await.status,
        StatusCode::NOT_FOUND
    );
    let id = cycle_id(&open(&admin, "Wirksamkeitsprüfung 2026", &due, &[]).await);
    refused(&open(&admin, "Noch einer", &due, &[]).await);
    // The database holds it too (two admins at the same instant both pass
    // the service's check): a second open cycle is a unique violation.
    {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
        let first = app::entities::review_cycles::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let mut twin: app::entities::review_cycles::ActiveModel = first.into();
        twin.id = sea_orm::ActiveValue::NotSet;
        twin.title = Set("Zwilling".into());
        let err = twin.insert(&app.db).await.unwrap_err();
        assert!(
            matches!(
                err.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ),
            "{err}"
        );
    }

    let c = cycle(&auditor, id).await;
    assert_eq!(c.items.len(), 3, "every implemented measure");
    assert_eq!(c.summary.total, 3);
    let items: Vec<ItemView> = {
        let mut v = Vec::new();
        for i in &c.items {
            v.push(item(&admin, i.id).await);
        }
        v
    };
    let by_measure = |mid: i32| {
        items
            .iter()
            .find(|i| i.row.measure_id.0 == mid)
            .unwrap()
            .clone()
    };
    let (a, b, third) = (by_measure(m[0]), by_measure(m[1]), by_measure(m[2]));

    // The owners were asked by mail (through the outbox).
    let requests = outbox(&app, "review-request").await;
    assert_eq!(requests.len(), 1, "one mail per owner");
    assert_eq!(requests[0].recipient, org.email(Role::Owner));
    assert!(
        requests[0].subject.contains("Wirksamkeitsprüfung 2026"),
        "{}",
        requests[0].subject
    );
    assert!(
        requests[0].body_text.contains("Ihrer 2 Maßnahmen"),
        "{}",
        requests[0].body_text
    );

    // Owners assess only their own measures; auditors and staff nothing;
    // another organisation not even sees the item.
    assert_eq!(
        assess(&owner, &third, "effective", true, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        assess(&auditor, &a, "effective", true, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        assess(&staff, &a, "effective", true, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        assess(&other_admin, &a, "effective", true, &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other_admin
            .call("reviews/item", &[("id", &a.row.id.to_string())])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other_admin
            .call("reviews/cycle", &[("id", &id.to_string())])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A submission needs a result, what was tested and a rationale; "not
    // effective" needs a finding with a corrective action.
    invalid(&assess(&owner, &a, "", true, &[]).await, "result");
    invalid(
        &assess(&owner, &a, "not_effective", true, &[]).await,
        "finding_description",
    );
    // A draft can be saved and keeps the state.
    let saved = assess(&owner, &a, "effective", false, &[]).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let a = item(&owner, a.row.id).await;
    assert_eq!(a.row.state, ItemState::Pending);
    // A stale form (old version) is a conflict, not a silent overwrite.
    let stale = ItemView {
        version: a.version - 1,
        ..a.clone()
    };
    assert_eq!(
        assess(&owner, &stale, "effective", true, &[]).await.status,
        StatusCode::CONFLICT
    );
    let ok = assess(&owner, &a, "effective", true, &[]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let a = item(&owner, a.row.id).await;
    assert_eq!(a.row.state, ItemState::Submitted);
    // Submitted: the owner cannot change it; only the DPO decides.
    refused(&assess(&owner, &a, "effective", true, &[]).await);
    refused(&assess(&owner, &a, "effective", false, &[]).await);
    assert_eq!(
        decide(&owner, &a, "approve", "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&auditor, &a, "approve", "").await.status,
        StatusCode::FORBIDDEN
    );
    // A pending assessment can be neither approved nor returned.
    refused(&decide(&admin, &b, "approve", "").await);
    refused(&decide(&admin, &b, "return", "Bitte ergänzen.").await);

    // Returned once, with a comment (required); the assessor is told by mail.
    invalid(&decide(&admin, &a, "return", "").await, "comment");
    let r = decide(
        &admin,
        &a,
        "return",
        "Bitte den Test der Protokollierung beschreiben.",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = item(&owner, a.row.id).await;
    assert_eq!(a.row.state, ItemState::Returned);
    assert_eq!(
        a.decision_comment,
        "Bitte den Test der Protokollierung beschreiben."
    );
    let returned = outbox(&app, "review-returned").await;
    assert_eq!(returned.len(), 1);
    assert_eq!(returned[0].recipient, org.email(Role::Owner));
    refused(&decide(&admin, &a, "approve", "").await);

    // Resubmitted as not effective, with a finding and its action.
    let owner_id = org.user_id(Role::Owner).to_string();
    let action_due = date(&app, 20);
    let ok = assess(
        &owner,
        &a,
        "not_effective",
        true,
        &[
            (
                "finding_description",
                "Zwei Chipkarten ausgeschiedener Mitarbeiter waren noch aktiv.",
            ),
            (
                "finding_action",
                "Offboarding-Checkliste um die Sperrung der Chipkarte ergänzen.",
            ),
            ("finding_due_date", &action_due),
            ("finding_owner_id", &owner_id),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let a = item(&admin, a.row.id).await;
    assert_eq!(a.row.state, ItemState::Submitted);
    assert_eq!(a.findings.len(), 1);
    let finding = a.findings[0].id;
    // The measure is flagged on the dashboard while the action is open.
    let dash: ReviewDashboard =
        serde_json::from_str(&admin.call("reviews/dashboard", &[]).await.body).unwrap();
    assert_eq!(dash.not_effective, 1);
    assert_eq!(dash.open_actions, 1);
    assert_eq!(dash.cycle.as_ref().map(|c| c.submitted), Some(1));
    let ok = decide(&admin, &a, "approve", "").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let a = item(&admin, a.row.id).await;
    refused(&decide(&admin, &a, "approve", "").await);
    refused(&decide(&admin, &a, "return", "Doch nicht.").await);

    // The cycle closes only when every assessment is approved.
    let close = |c: &Client| {
        let c = c.clone();
        async move {
            c.call(
                "reviews/close",
                &[
                    ("cycle_id", &id.to_string()),
                    ("comment", "Alle Bewertungen geprüft."),
                ],
            )
            .await
        }
    };
    refused(&close(&admin).await);
    assert_eq!(close(&auditor).await.status, StatusCode::FORBIDDEN);
    for (it, by, send_back) in [(&b, &owner, true), (&third, &admin, false)] {
        let it = item(by, it.row.id).await;
        let ok = assess(by, &it, "effective", true, &[]).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        // Submitted but not decided: the cycle does not close.
        refused(&close(&admin).await);
        let mut it = item(&admin, it.row.id).await;
        if send_back {
            // Returned to the assessor: it does not close either.
            let r = decide(&admin, &it, "return", "Bitte genauer.").await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(item(&admin, it.row.id).await.row.state, ItemState::Returned);
            refused(&close(&admin).await);
            let again = item(by, it.row.id).await;
            let ok = assess(by, &again, "effective", true, &[]).await;
            assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
            it = item(&admin, it.row.id).await;
        }
        let ok = decide(&admin, &it, "approve", "").await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    let ok = close(&admin).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    refused(&close(&admin).await);

    // Closed: nothing changes through any route.
    let b = item(&admin, b.row.id).await;
    assert!(b.can_amend && !b.can_decide && !b.row.can_assess);
    refused(&assess(&admin, &b, "effective", true, &[]).await);
    refused(&assess(&admin, &b, "effective", false, &[]).await);
    refused(&decide(&admin, &b, "return", "Nachträglich").await);
    refused(
        &admin
            .call(
                "reviews/finding/add",
                &[
                    ("item_id", &b.row.id.to_string()),
                    ("description", "x"),
                    ("action", "y"),
                    ("due_date", &action_due),
                ],
            )
            .await,
    );
    assert_eq!(
        auditor
            .call(
                "reviews/amend",
                &[("item_id", &b.row.id.to_string()), ("text", "x")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The report: signed, every assessed measure with its result.
    let report = |c: &Client| {
        let c = c.clone();
        async move {
            let res = c
                .http
                .get(format!("{}/pruefungen/{id}/bericht.pdf", c.base))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let disposition = res
                .headers()
                .get("content-disposition")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, disposition, res.bytes().await.unwrap().to_vec())
        }
    };
    let (status, disposition, pdf) = report(&auditor).await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.unwrap().starts_with("attachment"));
    // The kept report prints the audit head at closing (issue 15).
    crate::audit::assert_anchored(
        &app,
        &db,
        "review_cycles",
        id,
        &pdf,
        "review report of cycle",
    )
    .await;
    let (valid, whole, out) = pdfsig(&pdf);
    assert!(valid && whole, "pdfsig:\n{out}");
    let text = annex_text(&pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (label, result) in [
        ("Zutritt zum Serverraum nur mit Chipkarte.", "nicht wirksam"),
        (
            "Tägliche Datensicherung mit monatlichem Rücksicherungstest.",
            "wirksam",
        ),
        ("Passwörter mit mindestens 12 Zeichen.", "wirksam"),
    ] {
        let at = text
            .find(label)
            .unwrap_or_else(|| panic!("{label} missing:\n{text}"));
        let after = &text[at + label.len()..];
        assert!(
            after
                .trim_start()
                .starts_with(&format!("Ergebnis {result}")),
            "{label}: {after:.80}"
        );
    }
    // (The findings table's columns interleave in the extracted text.)
    for expected in [
        "Wirksamkeitsprüfung 2026",
        "Feststellungen und Korrekturmaßnahmen",
        "Offboarding-Checkliste",
        "Chipkarte ergänzen.",
        "abgeschlossen und gesperrt",
        "Alle Bewertungen geprüft.",
    ] {
        assert!(
            text.contains(expected),
            "report lacks {expected:?}:\n{text}"
        );
    }
    for c in [&owner, &staff] {
        assert_ne!(report(c).await.0, StatusCode::OK);
    }
    assert_eq!(report(&other_admin).await.0, StatusCode::NOT_FOUND);

    // An amendment is recorded and the report issued again with it.
    let ok = admin
        .call(
            "reviews/amend",
            &[
                ("item_id", &b.row.id.to_string()),
                ("text", "Rücksicherungstest vom 12.10. nachgereicht."),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let (_, _, pdf2) = report(&admin).await;
    assert_ne!(pdf, pdf2);
    assert!(pdfsig(&pdf2).0);
    crate::audit::assert_anchored(
        &app,
        &db,
        "review_cycles",
        id,
        &pdf2,
        "review report of cycle",
    )
    .await;
    assert!(
        annex_text(&pdf2)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("Rücksicherungstest vom 12.10. nachgereicht.")
    );
    let c = cycle(&auditor, id).await;
    assert!(c.events.iter().any(|e| e.kind == "amend"));
    // Returned twice: once with the comment above, once while trying to close.
    assert_eq!(c.events.iter().filter(|e| e.kind == "return").count(), 2);

    // The action outlives the cycle: its owner closes it, the flag goes.
    assert_eq!(
        auditor
            .call(
                "reviews/finding/close",
                &[("finding_id", &finding.to_string()), ("note", "x")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    invalid(
        &owner
            .call(
                "reviews/finding/close",
                &[("finding_id", &finding.to_string()), ("note", "")],
            )
            .await,
        "note",
    );
    let ok = owner
        .call(
            "reviews/finding/close",
            &[
                ("finding_id", &finding.to_string()),
                ("note", "Checkliste ergänzt, Karten gesperrt."),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let o = overview(&auditor).await;
    assert!(o.actions.is_empty() && o.not_effective.is_empty());
    assert_eq!(o.cycles[0].status.as_str(), "closed");
    // The organisation can have the annex state when each section was last
    // reviewed: sections whose measures all have an approved review.
    let draft = |c: &Client| {
        let c = c.clone();
        async move {
            let pdf = c
                .http
                .get(format!("{}/anlage/entwurf.pdf", c.base))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            annex_text(&pdf)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    assert!(!draft(&admin).await.contains("Wirksamkeit zuletzt geprüft"));
    let ok = admin
        .call(
            "orgs/profile/update",
            &[
                ("legal_name", "acme GmbH"),
                ("display_short", "acme"),
                ("address", ""),
                ("dpo_contact", ""),
                ("intro_text", ""),
                ("annex_review_dates", "ja"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let today = {
        use app::state::Clock;
        app::format::german_day(app.clock.now())
            .format("%d.%m.%Y")
            .to_string()
    };
    let text = draft(&admin).await;
    assert_eq!(
        text.matches(&format!("Wirksamkeit zuletzt geprüft: {today}"))
            .count(),
        3,
        "{text}"
    );

    // A new cycle can be opened now.
    cycle_id(&open(&admin, "Nachprüfung Zutritt", &due, &[m[0]]).await);
    let _ = other;
}
both!(cycle_state_machine_locks_and_report);

async fn outbox(app: &TestApp, kind: &str) -> Vec<app::entities::outbox::Model> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    app::entities::outbox::Entity::find()
        .filter(app::entities::outbox::Column::Kind.eq(kind))
        .all(&app.db)
        .await
        .unwrap()
}

async fn overdue_actions_and_reviews_reach_the_digest(backend: Backend) {
    use app::state::Clock;
    use server::mailer::{Mailer, send_due};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let (org, admin, _) = setup(&app, "acme").await;
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;
    let id = cycle_id(&open(&admin, "Wirksamkeitsprüfung 2026", &date(&app, 30), &[]).await);
    let c = cycle(&owner, id).await;
    let mine = c.items.iter().find(|i| i.can_assess).unwrap();
    let it = item(&owner, mine.id).await;
    let owner_id = org.user_id(Role::Owner).to_string();
    let ok = assess(
        &owner,
        &it,
        "partially_effective",
        true,
        &[
            (
                "finding_description",
                "Rücksicherung dauerte länger als vereinbart.",
            ),
            (
                "finding_action",
                "Wiederherstellungszeit im Notfallplan anpassen.",
            ),
            ("finding_due_date", &date(&app, 5)),
            ("finding_owner_id", &owner_id),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // Ten days later the action is overdue; the daily digest says so, once.
    app.clock.advance(chrono::Duration::days(10));
    let run = app::reminders::service::run_digest(&app.db, app.clock.now(), "node-a", &app.address)
        .await
        .unwrap();
    assert_eq!(run.orgs, 1);
    let again =
        app::reminders::service::run_digest(&app.db, app.clock.now(), "node-b", &app.address)
            .await
            .unwrap();
    assert_eq!(again.mails, 0, "once per day");
    let sink = crate::peers::SmtpSink::start();
    let mailer = Mailer::new(&sink.smtp_config()).unwrap();
    send_due(&app.db, &mailer, app.clock.now(), "node-a")
        .await
        .unwrap();
    let got = sink.messages();
    let overdue_since = (app::format::german_day(app.clock.now()) - chrono::Duration::days(5))
        .format("%d.%m.%Y")
        .to_string();
    for who in [Role::Owner, Role::Admin] {
        let digest = got
            .iter()
            .find(|m| m.to == org.email(who) && m.subject.starts_with("Nachweis: Handlungsbedarf"))
            .unwrap_or_else(|| {
                panic!(
                    "no digest for {who:?}: {:?}",
                    got.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
                )
            });
        assert!(
            digest.text.contains("Korrekturmaßnahmen, die fällig oder überfällig sind (1)")
                && digest.text.contains(&format!("Wiederherstellungszeit im Notfallplan anpassen. (überfällig seit {overdue_since})"))
                && digest.text.contains("Als nicht wirksam bewertete Maßnahmen (1)"),
            "{who:?}:\n{}",
            digest.text
        );
    }
    let admin_digest = got
        .iter()
        .find(|m| {
            m.to == org.email(Role::Admin) && m.subject.starts_with("Nachweis: Handlungsbedarf")
        })
        .unwrap();
    assert!(
        admin_digest
            .text
            .contains("Bewertungen im laufenden Prüfzyklus (1)"),
        "{}",
        admin_digest.text
    );
    assert!(
        admin_digest.text.contains("wartet auf Freigabe"),
        "{}",
        admin_digest.text
    );
    // The opening mail went out through the same server.
    assert!(
        got.iter().any(|m| m.to == org.email(Role::Owner)
            && m.subject.contains("bitte prüfen Sie Ihre Maßnahmen"))
    );
}
both!(overdue_actions_and_reviews_reach_the_digest);

/// The measures `/massnahmen?filter=…` lists.
async fn filtered(c: &Client, filter: &str) -> std::collections::BTreeSet<i32> {
    let a = c.call("toms/catalogue", &[("filter", filter)]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cat: app::toms::CatalogueView = serde_json::from_str(&a.body).unwrap();
    let ids: std::collections::BTreeSet<i32> = cat
        .categories
        .iter()
        .flat_map(|c| c.measures.iter().map(|m| m.id.0))
        .collect();
    assert_eq!(ids.len(), cat.shown, "{filter}");
    ids
}

/// "Due" is one computation: on the demo data, with one measure reviewed
/// and one given evidence, the catalogue's filters list exactly what the
/// start page counts, `/pruefungen` lists, each measure page says and the
/// daily digest reports; and a measure never reviewed is due.
async fn one_computation_of_what_is_due(backend: Backend) {
    use std::collections::BTreeSet;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    server::demo::load(&app.db, app.clock.now())
        .await
        .expect("demo");
    let dpo = app.client();
    let a = dpo
        .login("dpo@conrat.example", server::demo::DEMO_PASSWORD)
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    let owner = app.client();
    let a = owner
        .login("it@conrat.example", server::demo::DEMO_PASSWORD)
        .await;
    assert!(a.status.is_success(), "{}", a.body);

    let all = catalogue(&dpo).await;
    let implemented: BTreeSet<i32> = all
        .categories
        .iter()
        .flat_map(|c| &c.measures)
        .filter(|m| m.status == app::domain::MeasureStatus::Implemented)
        .map(|m| m.id.0)
        .collect();
    assert!(implemented.len() > 10, "{implemented:?}");
    // Before anything happened: never reviewed, every implemented measure is due.
    assert_eq!(filtered(&dpo, "pruefung-faellig").await, implemented);

    // The owner's first measure is reviewed and approved; another gets evidence.
    let owned: Vec<i32> = all
        .categories
        .iter()
        .flat_map(|c| &c.measures)
        .filter(|m| !m.owners.is_empty())
        .map(|m| m.id.0)
        .collect();
    let reviewed = owned[0];
    let id = cycle_id(&open(&dpo, "Wirksamkeitsprüfung", &date(&app, 30), &[reviewed]).await);
    let c = cycle(&owner, id).await;
    let mine = c
        .items
        .iter()
        .find(|i| i.can_assess)
        .expect("the owner's item");
    let it = item(&owner, mine.id).await;
    let ok = assess(&owner, &it, "effective", true, &[]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let it = item(&dpo, mine.id).await;
    let ok = decide(&dpo, &it, "approve", "").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let with_evidence = *implemented.iter().find(|m| **m != reviewed).unwrap();
    let up = crate::evidence::upload(
        &dpo,
        crate::evidence::form(
            with_evidence,
            "Bericht",
            "2099-12-31",
            "bericht.pdf",
            crate::evidence::PDF.to_vec(),
        ),
    )
    .await;
    assert!(up.status.is_success(), "{}", up.body);

    let due = filtered(&dpo, "pruefung-faellig").await;
    let mut expected = implemented.clone();
    expected.remove(&reviewed);
    assert_eq!(
        due, expected,
        "never reviewed means due; reviewed means not"
    );
    let no_evidence = filtered(&dpo, "ohne-nachweis").await;
    let mut expected = implemented.clone();
    expected.remove(&with_evidence);
    assert_eq!(no_evidence, expected);
    let no_owner = filtered(&dpo, "ohne-verantwortliche").await;
    assert!(!no_owner.is_empty() && !no_owner.contains(&reviewed));

    // The start page counts the same and lists from the same.
    let a = dpo.call("home/start", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let start: app::home::StartPanels = serde_json::from_str(&a.body).unwrap();
    let attention = start.attention.expect("the DPO's attention panel");
    assert_eq!(attention.totals.reviews_due, due.len());
    assert_eq!(
        attention.totals.implemented_without_evidence,
        no_evidence.len()
    );
    assert_eq!(attention.totals.measures_without_owner, no_owner.len());
    assert!(
        attention
            .shown
            .reviews_due
            .iter()
            .all(|d| due.contains(&d.measure_id.0))
    );
    assert!(
        attention
            .shown
            .implemented_without_evidence
            .iter()
            .all(|m| no_evidence.contains(&m.id.0))
    );
    assert_eq!(start.reviews.expect("dashboard").due_reviews, due.len());
    let page = dpo.get("/").await;
    assert!(
        page.body.contains("/massnahmen?filter=pruefung-faellig")
            && page.body.contains("/massnahmen?filter=ohne-nachweis"),
        "the start page's counts link to the filtered list"
    );

    // /pruefungen lists the same measures.
    let o = overview(&dpo).await;
    let listed: BTreeSet<i32> = o.due_reviews.iter().map(|d| d.measure_id.0).collect();
    assert_eq!(listed, due);
    assert!(
        o.due_reviews
            .iter()
            .all(|d| d.last_reviewed.is_none() && d.describe(true).starts_with("noch nie geprüft"))
    );

    // Each measure page says the same.
    for m in &implemented {
        let a = dpo
            .call("reviews/measure", &[("measure_id", &m.to_string())])
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let r: app::reviews::MeasureReview = serde_json::from_str(&a.body).unwrap();
        assert_eq!(r.due, due.contains(m), "measure {m}");
    }

    // And so does the daily digest, which reads the start page's lists.
    use app::state::Clock;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let org = app::entities::organisations::Entity::find()
        .filter(app::entities::organisations::Column::ShortName.eq("conrat"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo organisation")
        .id;
    let digest = app::reminders::service::attention(&app.db, org, None, app.clock.now())
        .await
        .unwrap();
    let reported: BTreeSet<i32> = digest.reviews_due.iter().map(|d| d.measure_id.0).collect();
    assert_eq!(reported, due);
}
both!(one_computation_of_what_is_due);
