//! The audit log: rows in the same transaction, and `nachweis audit verify`.

use app::domain::Role;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::helpers::*;

fn verify(db: &TestDb) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nachweis"))
        .args(["--database-url", &db.url, "--data-dir"])
        .arg(db.dir.path())
        .args(["audit", "verify"])
        .output()
        .expect("run nachweis");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn changes_are_audited_and_tampering_is_detected(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    c.login(&org.email(Role::Staff), "wrong password").await;
    let cat = catalogue(&c).await;
    let id = create(&c, category_id(&cat, "5"), "Tägliche Backups.").await;

    let a = c
        .call(
            "audit/list",
            &[
                ("filter[entity]", "measure"),
                ("filter[action]", ""),
                ("filter[actor]", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let rows: Vec<app::audit::AuditEntry> = serde_json::from_str(&a.body).unwrap();
    let row = rows
        .iter()
        .find(|r| r.entity_id == id.to_string())
        .expect("audit row for the new measure");
    assert_eq!(row.action, "create");
    assert_eq!(row.actor, org.email(Role::Admin));
    assert!(row.after.as_deref().unwrap().contains("Tägliche Backups."));
    let a = c
        .call(
            "audit/list",
            &[
                ("filter[entity]", "session"),
                ("filter[action]", ""),
                ("filter[actor]", ""),
            ],
        )
        .await;
    assert!(a.body.contains("\"login\""), "{}", a.body);

    let (code, out) = verify(&db);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");

    // Somebody edits history directly in the database.
    app.db
        .execute_unprepared(&format!(
            "UPDATE audit_log SET after = replace(after, 'Tägliche', 'Wöchentliche') WHERE entity = 'measure' AND entity_id = '{id}'"
        ))
        .await
        .unwrap();
    let seq: i64 = {
        let rows: Vec<app::audit::AuditEntry> = serde_json::from_str(
            &c.call(
                "audit/list",
                &[
                    ("filter[entity]", "measure"),
                    ("filter[action]", ""),
                    ("filter[actor]", ""),
                ],
            )
            .await
            .body,
        )
        .unwrap();
        rows.iter()
            .find(|r| r.entity_id == id.to_string())
            .unwrap()
            .seq
    };
    let (code, out) = verify(&db);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("row {seq}")),
        "must name the tampered row {seq}: {out}"
    );
    app.stop().await;
}
both!(changes_are_audited_and_tampering_is_detected);

async fn deleted_rows_break_the_chain(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    app.org("acme").await;
    assert_eq!(verify(&db).0, 0);
    app.db
        .execute_unprepared("DELETE FROM audit_log WHERE seq = 2")
        .await
        .unwrap();
    let (code, out) = verify(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("row 2"), "{out}");
    app.stop().await;
}
both!(deleted_rows_break_the_chain);
