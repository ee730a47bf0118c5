//! The audit log: rows in the same transaction, and `nachweis audit verify`.

use app::domain::Role;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::helpers::*;

pub fn verify(db: &TestDb) -> (i32, String) {
    let out = db
        .command()
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
    // The failed login is in the log too: under the address tried, with the
    // count of failures, and outside every organisation (the person is not
    // known to be anyone's), so no organisation's admin reads it.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let failed = app::entities::audit_log::Entity::find()
        .filter(app::entities::audit_log::Column::Action.eq("login_failed"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].entity, "session");
    assert_eq!(failed[0].entity_id, org.email(Role::Staff));
    assert_eq!(failed[0].org_id, None);
    assert_eq!(failed[0].actor_label, "anonymous");
    let after: serde_json::Value =
        serde_json::from_str(failed[0].after.as_deref().unwrap()).unwrap();
    assert_eq!(after["failures"], 1, "{after}");
    assert!(!a.body.contains("login_failed"), "{}", a.body);

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

/// The audit writer appends a whole batch with one insert: the rows get
/// consecutive numbers in the order given, each linked to the one before
/// (the head included), and the chain verifies, with rows written one at
/// a time before and after.
async fn a_batch_of_events_is_one_intact_stretch_of_the_chain(backend: Backend) {
    use app::audit::service::{AuditActor, AuditEvent, record, record_all};
    use app::entities::{BeginWrite, audit_log};
    use app::state::Clock;
    use sea_orm::{EntityTrait, QueryOrder};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    app.org("acme").await;
    let before = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Seq)
        .one(&app.db)
        .await
        .unwrap()
        .expect("creating the organisation is audited");
    let actor = AuditActor::system("test");
    let now = app.clock.now();
    let txn = app.db.begin_write().await.unwrap();
    record_all(
        &txn,
        (0..300).map(|i| {
            (
                now,
                AuditEvent::new(&actor, "annex", i.to_string(), "download"),
            )
        }),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    record(
        &app.db,
        now,
        AuditEvent::new(&actor, "annex", "last", "download"),
    )
    .await
    .unwrap();
    let rows = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let added: Vec<_> = rows.iter().filter(|r| r.seq > before.seq).collect();
    assert_eq!(added.len(), 301);
    let mut prev = before.hash.clone();
    for (n, row) in added.iter().enumerate() {
        assert_eq!(row.seq, before.seq + 1 + n as i64);
        assert_eq!(
            row.prev_hash, prev,
            "row {} is not linked to the one before",
            row.seq
        );
        let id = if n < 300 {
            n.to_string()
        } else {
            "last".into()
        };
        assert_eq!(row.entity_id, id, "the batch's order is kept");
        prev = row.hash.clone();
    }
    assert_eq!(
        app::audit::service::verify(&app.db).await.unwrap(),
        app::audit::service::Verification::Intact {
            rows: rows.len() as u64
        }
    );
    assert_eq!(verify(&db).0, 0);
    app.stop().await;
}
both!(a_batch_of_events_is_one_intact_stretch_of_the_chain);

/// What an append costs the database: on PostgreSQL, where every statement
/// is a round trip made while the appender holds the chain's lock, two
/// statements (the head bumped and read, then the rows with the new head)
/// whatever the number of rows; on SQLite one insert per fixed size
/// besides. The chain stays intact either way.
async fn an_append_costs_a_few_statements_whatever_its_size(backend: Backend) {
    use app::audit::service::{AuditActor, AuditEvent, record_all};
    use app::entities::BeginWrite;
    use app::state::Clock;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    app.org("acme").await;
    let actor = AuditActor::system("test");
    let mut costs = Vec::new();
    for n in [1, 31, 300] {
        let txn = app.db.begin_write().await.unwrap();
        let before = app.statements.get();
        let now = app.clock.now();
        record_all(
            &txn,
            (0..n).map(|i| {
                (
                    now,
                    AuditEvent::new(&actor, "annex", i.to_string(), "download")
                        .after(serde_json::json!({ "n": i, "text": "\"quoted\" ü" })),
                )
            }),
        )
        .await
        .unwrap();
        costs.push(app.statements.get() - before);
        txn.commit().await.unwrap();
    }
    let expected = match backend {
        Backend::Postgres => vec![2, 2, 2],
        // 1; 16 + 4 + 4 + 4 + 1 + 1 + 1; 256 + 16 + 16 + 4 + 4 + 4.
        Backend::Sqlite => vec![3, 9, 8],
    };
    assert_eq!(costs, expected, "statements per append of 1, 31, 300 rows");
    assert!(matches!(
        app::audit::service::verify(&app.db).await.unwrap(),
        app::audit::service::Verification::Intact { .. }
    ));
    assert_eq!(verify(&db).0, 0);
    app.stop().await;
}
both!(an_append_costs_a_few_statements_whatever_its_size);

/// What someone with write access to the database could do to a plain
/// hash chain: rewrite a row and recompute every hash after it. The chain
/// is keyed with the instance secret (outside the database), so this no
/// longer passes, however the rows are flagged.
async fn a_recomputed_chain_does_not_verify(backend: Backend) {
    use app::entities::audit_log;
    use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    create(&c, category_id(&cat, "5"), "Tägliche Backups.").await;
    assert_eq!(verify(&db).0, 0);

    // The forger's tool: the same fields, length-prefixed, plain SHA-256.
    let forge = |r: &audit_log::Model, prev: &str| plain_hash(r, prev);
    for flag_as_legacy in [false, true] {
        let rows = audit_log::Entity::find()
            .order_by_asc(audit_log::Column::Seq)
            .all(&app.db)
            .await
            .unwrap();
        let mut prev = "0".repeat(64);
        for r in rows {
            let mut r2 = r.clone();
            if let Some(after) = &r.after {
                r2.after = Some(after.replace("Tägliche", "Wöchentliche"));
            }
            let hash = forge(&r2, &prev);
            let mut am: audit_log::ActiveModel = r.into();
            am.after = Set(r2.after.clone());
            am.prev_hash = Set(prev.clone());
            am.hash = Set(hash.clone());
            am.keyed = Set(!flag_as_legacy);
            am.update(&app.db).await.unwrap();
            prev = hash;
        }
        app.db
            .execute_unprepared(&format!("UPDATE audit_head SET hash = '{prev}'"))
            .await
            .unwrap();
        let (code, out) = verify(&db);
        assert_eq!(code, 1, "flagged as legacy: {flag_as_legacy}: {out}");
        assert!(out.contains("row 1"), "{out}");
    }
    app.stop().await;
}
both!(a_recomputed_chain_does_not_verify);

/// A chain written before keying is checked and keyed in the upgrade that
/// adds keying; every signed annex carries the head it was signed at, and
/// `audit verify` checks those anchors.
async fn upgrades_key_the_chain_and_publications_anchor_the_log(backend: Backend) {
    use app::entities::{audit_log, publications};
    use migrations::MigratorTrait;
    use sea_orm::{EntityTrait, QueryOrder};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    create(&c, category_id(&cat, "3.1"), "Besucher werden registriert.").await;
    let a = c.call("annex/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let p = publications::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let (seq, hash) = (p.audit_seq.unwrap(), p.audit_hash.clone().unwrap());
    let anchored = audit_log::Entity::find_by_id(seq)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anchored.hash, hash);
    // The signed PDF says so.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v1.pdf");
    std::fs::write(&file, &p.pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("Eintrag {seq}, Prüfwert {}", &hash[..16])),
        "{text}"
    );
    assert_eq!(verify(&db).0, 0);

    // Back to a database from before keying: plain SHA-256 hashes, the
    // keying migration not applied.
    let conn = app.db.clone();
    let rows = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(&conn)
        .await
        .unwrap();
    app.stop().await;
    let mut plain = Vec::new();
    let mut prev = "0".repeat(64);
    for r in &rows {
        let hash = plain_hash(r, &prev);
        plain.push((r.seq, prev.clone(), hash.clone()));
        prev = hash;
    }
    // Back past the keying (m0020) and every migration after it (the
    // anchors of the other signed records, m0021, and what came later).
    let names: Vec<String> = migrations::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let keying = names
        .iter()
        .position(|n| n == "m0020_keyed_audit")
        .expect("the keying migration");
    migrations::Migrator::down(&conn, Some((names.len() - keying) as u32))
        .await
        .unwrap();
    for (seq, prev, hash) in &plain {
        conn.execute_unprepared(&format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}' WHERE seq = {seq}"
        ))
        .await
        .unwrap();
    }
    conn.execute_unprepared(&format!("UPDATE audit_head SET hash = '{prev}'"))
        .await
        .unwrap();
    // The upgrade (here: the next start) checks and keys it.
    let app = spawn_app(&db).await;
    let (code, out) = verify(&db);
    assert_eq!(code, 0, "{out}");
    assert!(
        audit_log::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .iter()
            .all(|r| r.keyed)
    );
    // An anchor that names a hash the chain does not have is caught.
    app.db
        .execute_unprepared(&format!(
            "UPDATE publications SET audit_seq = {seq}, audit_hash = '{}'",
            "f".repeat(64)
        ))
        .await
        .unwrap();
    let (code, out) = verify(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("anchors row"), "{out}");
    app.stop().await;
}
both!(upgrades_key_the_chain_and_publications_anchor_the_log);

/// The plain SHA-256 row hash of the chain before keying (and of a forger's tool).
fn plain_hash(r: &app::entities::audit_log::Model, prev: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(prev);
    field(&r.seq.to_string());
    field(&r.org_id.map(|v| v.to_string()).unwrap_or_default());
    field(&r.actor_id.map(|v| v.to_string()).unwrap_or_default());
    field(&r.actor_label);
    field(&r.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    field(&r.entity);
    field(&r.entity_id);
    field(&r.action);
    field(r.before.as_deref().unwrap_or("\u{0}"));
    field(r.after.as_deref().unwrap_or("\u{0}"));
    hex::encode(h.finalize())
}

/// A kept, signed PDF (review report, certificate, pledge copy) is valid
/// under `pdfsig` and prints the audit head its row (`table`, `id`) keeps;
/// that anchor names a row of the chain, and `audit verify` catches an
/// altered one, naming `what` (then the anchor is put back).
pub async fn assert_anchored(
    app: &TestApp,
    db: &TestDb,
    table: &str,
    id: impl std::fmt::Display,
    pdf: &[u8],
    what: &str,
) {
    use sea_orm::{ConnectionTrait, Statement};
    let (valid, whole, out) = crate::publish::pdfsig(pdf);
    assert!(valid && whole, "pdfsig on the {table} PDF:\n{out}");
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT audit_seq, audit_hash FROM {table} WHERE id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let seq: i64 = row.try_get("", "audit_seq").expect("anchor kept");
    let hash: String = row.try_get("", "audit_hash").expect("anchor kept");
    let chain: String = row_hash(app, seq).await;
    assert_eq!(chain, hash, "{table} {id} anchors a row of the chain");
    let text = crate::publish::annex_text(pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let label = format!("Eintrag {seq}, Prüfwert {}", &hash[..16]);
    assert!(
        text.contains(&label),
        "{table} PDF lacks {label:?}:\n{text}"
    );
    assert_eq!(verify(db).0, 0);
    app.db
        .execute_unprepared(&format!(
            "UPDATE {table} SET audit_hash = '{}' WHERE id = {id}",
            "f".repeat(64)
        ))
        .await
        .unwrap();
    let (code, out) = verify(db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(what), "{what:?} not named:\n{out}");
    app.db
        .execute_unprepared(&format!(
            "UPDATE {table} SET audit_hash = '{hash}' WHERE id = {id}"
        ))
        .await
        .unwrap();
    assert_eq!(verify(db).0, 0);
}

async fn row_hash(app: &TestApp, seq: i64) -> String {
    use sea_orm::EntityTrait;
    app::entities::audit_log::Entity::find_by_id(seq)
        .one(&app.db)
        .await
        .unwrap()
        .expect("anchored row exists")
        .hash
}

/// `/protokoll` for people: German words, each entry linked to what it
/// changed, a date range, pages of 100.
async fn the_protocol_reads_in_german_and_pages(backend: Backend) {
    use app::state::Clock;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let id = create(&c, category_id(&cat, "5"), "Tägliche Backups.").await;

    let page = c.get("/protokoll?entity=measure").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body.replace("<!>", "");
    assert!(
        body.contains(&format!(r#"<a href="/massnahmen/{id}">Maßnahme {id}</a>"#)),
        "{body}"
    );
    assert!(body.contains("<td>angelegt</td>"), "{body}");
    assert!(!body.contains("<td>create</td>"));
    assert!(body.contains("über alle Organisationen dieser Installation"));

    // The date range: today has the entry, tomorrow has none.
    let today = app::format::german_day(app.clock.now());
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let listed = |from: String, to: String| {
        let c = &c;
        async move {
            let a = c
                .call(
                    "audit/page",
                    &[
                        ("filter[entity]", "measure"),
                        ("filter[from]", &from),
                        ("filter[to]", &to),
                        ("page", "1"),
                    ],
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            serde_json::from_str::<app::audit::AuditLogPage>(&a.body).unwrap()
        }
    };
    let p = listed(day(today), day(today)).await;
    assert!(p.entries.iter().any(|e| e.entity_id == id.to_string()));
    assert!(!p.more);
    let tomorrow = today.succ_opt().unwrap();
    assert!(
        listed(day(tomorrow), String::new())
            .await
            .entries
            .is_empty()
    );
    let a = c
        .call("audit/page", &[("filter[from]", "gestern"), ("page", "1")])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);

    // More than a page: the first has 100 and says more follow.
    for i in 0..101 {
        create(&c, category_id(&cat, "5"), &format!("Maßnahme {i}.")).await;
    }
    let first = listed(String::new(), String::new()).await;
    assert_eq!(first.entries.len(), 100);
    assert!(first.more);
    let page = c.get("/protokoll?entity=measure").await;
    assert!(page.body.contains("/protokoll?entity=measure&amp;seite=2"));
    let second = c.get("/protokoll?entity=measure&seite=2").await;
    assert!(second.body.contains("Seite 2"));
    app.stop().await;
}
both!(the_protocol_reads_in_german_and_pages);

/// One recomputation of the chain at a time per installation: while one
/// runs, a second on the same installation is asked to wait, and another
/// installation served by the same process checks its own at once. (The
/// guard was one per process: two tests' servers checking at the same
/// moment refused each other, as a CI run on PostgreSQL showed.)
async fn one_chain_check_at_a_time_per_installation(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let other_db = TestDb::new(backend).await;
    let other = spawn_app(&other_db).await;
    let here = app.client();
    here.login_ok(&app.org("acme").await.email(Role::Admin))
        .await;
    let there = other.client();
    there
        .login_ok(&other.org("beta").await.email(Role::Admin))
        .await;
    const INTACT: &str = "Die Kette ist unverändert.";
    const WAIT: &str = "Die Kette wird gerade schon geprüft.";

    let running = app.state.chain_check.lock().await;
    let busy = here.get("/protokoll?pruefen=1").await;
    assert!(busy.body.contains(WAIT), "{}", busy.body);
    assert!(!busy.body.contains(INTACT));
    let elsewhere = there.get("/protokoll?pruefen=1").await;
    assert!(elsewhere.body.contains(INTACT), "{}", elsewhere.body);
    drop(running);
    let done = here.get("/protokoll?pruefen=1").await;
    assert!(done.body.contains(INTACT), "{}", done.body);
    app.stop().await;
    other.stop().await;
}
both!(one_chain_check_at_a_time_per_installation);

/// The export and the chain check on the page: the CSV holds exactly the
/// organisation's rows the filter names; "Kette prüfen" says whether the
/// chain is intact and, once a row was changed, names its number, with the
/// finding only for the organisation whose row it is.
async fn the_protocol_exports_and_checks_its_chain(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let acme = app.org("acme").await;
    let beta = app.org("beta").await;
    let c = app.client();
    c.login_ok(&acme.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let id = create(&c, category_id(&cat, "5"), "=Tägliche Backups.").await;
    let other = app.client();
    other.login_ok(&beta.email(Role::Admin)).await;
    let beta_cat = catalogue(&other).await;
    create(&other, category_id(&beta_cat, "5"), "Beta-Maßnahme.").await;

    let csv = c.get("/protokoll.csv?entity=measure").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some("Nr.;Zeit;Person;Objekt;Objekt-Nr.;Aktion;Vorher;Nachher")
    );
    let rows: Vec<&str> = lines.filter(|l| l.contains(";Maßnahme;")).collect();
    assert_eq!(rows.len(), 1, "{}", csv.body);
    assert!(
        rows[0].contains(&format!(";Maßnahme;{id};angelegt;")),
        "{}",
        rows[0]
    );
    assert!(
        !csv.body.contains("Beta-Maßnahme"),
        "another organisation's row"
    );
    // Only the header when nothing matches; a bad date is refused.
    let none = c.get("/protokoll.csv?entity=measure&from=2099-01-01").await;
    assert_eq!(none.body.lines().count(), 1, "{}", none.body);
    let bad = c.get("/protokoll.csv?from=gestern").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Staff neither read nor export the log.
    let staff = app.client();
    staff.login_ok(&acme.email(Role::Staff)).await;
    assert_eq!(
        staff.get("/protokoll.csv").await.status,
        StatusCode::FORBIDDEN
    );
    let page = c.get("/protokoll").await;
    assert!(
        page.body.contains(r#"href="/protokoll.csv""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"href="/protokoll?pruefen=1""#));

    let intact = c.get("/protokoll?pruefen=1").await;
    assert!(
        intact.body.contains("Die Kette ist unverändert."),
        "{}",
        intact.body
    );

    // Somebody edits acme's row in the database.
    app.db
        .execute_unprepared(&format!(
            "UPDATE audit_log SET after = replace(after, 'Tägliche', 'Wöchentliche') WHERE entity = 'measure' AND entity_id = '{id}'"
        ))
        .await
        .unwrap();
    let seq = serde_json::from_str::<app::audit::AuditLogPage>(
        &c.call(
            "audit/page",
            &[("filter[entity]", "measure"), ("page", "1")],
        )
        .await
        .body,
    )
    .unwrap()
    .entries
    .iter()
    .find(|e| e.entity_id == id.to_string())
    .unwrap()
    .seq;
    let broken = |body: &str| body.replace("<!>", "");
    let own = broken(&c.get("/protokoll?pruefen=1").await.body);
    assert!(
        own.contains(&format!(
            "Die Kette ist ab Eintrag Nr. {seq} nicht mehr intakt."
        )),
        "{own}"
    );
    assert!(own.contains("Der Inhalt des Eintrags wurde nachträglich verändert."));
    let theirs = broken(&other.get("/protokoll?pruefen=1").await.body);
    assert!(
        theirs.contains(&format!(
            "Die Kette ist ab Eintrag Nr. {seq} nicht mehr intakt."
        )),
        "{theirs}"
    );
    assert!(theirs.contains("gehört nicht zu Ihrer Organisation"));
    assert!(!theirs.contains("Der Inhalt des Eintrags"), "{theirs}");
    app.stop().await;
}
both!(the_protocol_exports_and_checks_its_chain);
