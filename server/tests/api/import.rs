//! Importing existing TOM documents: the seed round trip through publication,
//! the command line, bad input and who may import.

use std::process::Command;

use app::domain::Role;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::both;
use crate::helpers::*;
use crate::publish::{annex_text, assert_in_order, seed_items};

fn seed(file: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo")
            .join(file),
    )
    .unwrap()
}

async fn preview(c: &Client, text: &str) -> (Answer, serde_json::Value) {
    let a = c.call("toms/import/preview", &[("text", text)]).await;
    let v = serde_json::from_str(&a.body).unwrap_or_default();
    (a, v)
}

/// Applies the preview's own suggestions.
async fn apply_suggested(c: &Client, text: &str, p: &serde_json::Value) -> Answer {
    let rows = p["rows"].as_array().unwrap();
    let names: Vec<String> = (0..rows.len()).map(|i| format!("targets[{i}]")).collect();
    let mut form: Vec<(&str, &str)> = vec![("text", text)];
    for (name, row) in names.iter().zip(rows) {
        form.push((name, row["target"].as_str().unwrap()));
    }
    c.call("toms/import/apply", &form).await
}

async fn measure_count(app: &TestApp, org_id: app::ids::OrgId) -> u64 {
    app::entities::measures::Entity::find()
        .filter(app::entities::measures::Column::OrgId.eq(org_id))
        .count(&app.db)
        .await
        .unwrap()
}

async fn seeds_round_trip_through_import_and_publication(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    for (short, file, numbered) in [("rta", "conrat.txt", false), ("rtb", "clickbits.md", true)] {
        let org = app.org(short).await;
        let c = app.client();
        c.login_ok(&org.email(Role::Admin)).await;
        let text = seed(file);
        let (a, p) = preview(&c, &text).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(p["unmapped"], 0, "{file}: {}", a.body);
        let a = apply_suggested(&c, &text, &p).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let summary: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert!(summary["intro"].as_bool().unwrap());

        let a = c.call("annex/publish", &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let pdf = c
            .http
            .get(format!("{}/anlage/v1.pdf", c.base))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_in_order(&annex_text(&pdf), &seed_items(file), numbered);
        let paragraphs = seed_items(file).iter().filter(|(h, _)| !h).count() as u64;
        // Every paragraph once: intro paragraphs in the profile, the rest as measures.
        let intro = p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["target"] == "intro")
            .count() as u64;
        assert_eq!(measure_count(&app, org.id).await + intro, paragraphs);
    }
    app.stop().await;
}
both!(seeds_round_trip_through_import_and_publication);

async fn unmapped_parts_are_shown_and_must_be_assigned(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let text = "a) Zutrittskontrolle\n- Alarmanlage mit Aufschaltung\n\nb) Auftragskontrolle\n- Verträge nach Art. 28 DSGVO mit allen Dienstleistern\n\nc) Input control\n- All changes are logged with `$user` and #ticket <id> \\ *urgent*\n";
    let (a, p) = preview(&c, text).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(p["unmapped"], 1, "{}", a.body);
    let rows = p["rows"].as_array().unwrap();
    assert_eq!(rows[1]["heading"], "Auftragskontrolle");
    assert_eq!(rows[1]["target"], "");

    // Applying with the hole left open is refused and stores nothing.
    let a = apply_suggested(&c, text, &p).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(
        a.body.contains("noch keiner Kategorie zugeordnet"),
        "{}",
        a.body
    );
    assert_eq!(measure_count(&app, org.id).await, 0);

    // Assigned by hand: all three arrive, special characters as typed.
    let target_of = |i: usize| rows[i]["target"].as_str().unwrap().to_owned();
    let (t0, t2) = (target_of(0), target_of(2));
    let a = c
        .call(
            "toms/import/apply",
            &[
                ("text", text),
                ("targets[0]", &t0),
                ("targets[1]", &t0),
                ("targets[2]", &t2),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(measure_count(&app, org.id).await, 3);
    let bodies: Vec<String> = app::entities::measures::Entity::find()
        .filter(app::entities::measures::Column::OrgId.eq(org.id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert!(
        bodies.contains(
            &"All changes are logged with `$user` and #ticket <id> \\ *urgent*".to_owned()
        ),
        "{bodies:?}"
    );
    app.stop().await;
}
both!(unmapped_parts_are_shown_and_must_be_assigned);

async fn bad_imports_get_clear_messages(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let big = "Zutrittskontrolle\n".to_owned() + &"Sehr langer Absatz. ".repeat(260_000);
    for (text, message) in [
        ("", "leer"),
        ("   \n\n  ", "leer"),
        (big.as_str(), "zu groß"),
        ("%PDF-1.7\u{0}\u{1}\u{2}binär", "kein lesbarer Text"),
        (
            "Nur Prosa ohne Überschrift.\n\nNoch ein Absatz.",
            "keine Überschrift",
        ),
    ] {
        let (a, _) = preview(&c, text).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{message}: {}",
            &a.body[..a.body.len().min(300)]
        );
        assert!(a.body.contains(message), "{message}: {}", a.body);
    }
    assert_eq!(measure_count(&app, org.id).await, 0);

    for role in [Role::Owner, Role::Auditor, Role::Staff, Role::Customer] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        let (a, _) = preview(&c, "Zutrittskontrolle\nTüren zu.").await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?}");
        let a = c
            .call(
                "toms/import/apply",
                &[
                    ("text", "Zutrittskontrolle\nTüren zu."),
                    ("targets[0]", "skip"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    app.stop().await;
}
both!(bad_imports_get_clear_messages);

async fn cli_import_refuses_unmapped_parts_unless_assigned(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let file = db.dir.path().join("tom.md");
    std::fs::write(
        &file,
        "## Physical access control\nBadge readers.\n\n## Order control\nContracts with every processor.\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nachweis"))
            .arg("--data-dir")
            .arg(db.dir.path())
            .arg("--database-url")
            .arg(&db.url)
            .args(["tom", "import", "--org", "acme"])
            .arg(&file)
            .args(extra)
            .env("NACHWEIS_LOG", "error")
            .output()
            .expect("nachweis binary")
    };
    let out = run(&[]);
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("UNMAPPED") && said.contains("Contracts with every processor"),
        "{said}"
    );
    assert_eq!(measure_count(&app, org.id).await, 0);

    let out = run(&["--assign-unmapped", "3.4"]);
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("3.1. Zutrittskontrolle") && said.contains("Imported 2 measures"),
        "{said}"
    );
    assert_eq!(measure_count(&app, org.id).await, 2);
    app.stop().await;
}
both!(cli_import_refuses_unmapped_parts_unless_assigned);
