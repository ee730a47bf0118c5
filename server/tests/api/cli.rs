//! The administration commands the README documents, run as the real
//! `nachweis` binary against the test database: what they print, what they
//! write, and that they stay inside the organisation they are given.

use std::io::Write;
use std::process::{Output, Stdio};

use app::domain::Role;
use app::state::Clock;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::annex::pdftotext;
use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::evidence::files_under;
use crate::helpers::*;
use crate::publish::pdfsig;
use crate::reviews::{cycle_id, open};

/// `nachweis <args>` on the test's data directory and database, with
/// `stdin` piped in.
fn nachweis(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    let mut child = db
        .command()
        .args(args)
        .env("NACHWEIS_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nachweis");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs a command that must succeed; returns what it printed.
fn ok(db: &TestDb, args: &[&str]) -> String {
    let o = nachweis(db, args, "");
    assert!(
        o.status.success(),
        "nachweis {args:?} failed: {}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o)
}

/// Runs a command that must fail with exit code `code` (1: a check found
/// a problem; 2: an error); returns stdout and stderr.
fn fails(db: &TestDb, args: &[&str], code: i32) -> String {
    let o = nachweis(db, args, "");
    let all = stdout(&o) + &String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "nachweis {args:?}: {all}");
    all
}

async fn admin_create_adds_a_dpo_who_can_log_in(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let _org = app.org("acme").await;
    let password = "Ein-langes-Passwort-2026";
    let o = nachweis(
        &db,
        &[
            "admin",
            "create",
            "--org",
            "acme",
            "--email",
            "neu@acme.example",
            "--name",
            "Neue Datenschutzbeauftragte",
        ],
        &format!("{password}\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).contains("Admin neu@acme.example"),
        "{}",
        stdout(&o)
    );
    // The password came from standard input: none is printed.
    assert!(!stdout(&o).contains("One-time password"), "{}", stdout(&o));
    let c = app.client();
    let a = c.login("neu@acme.example", password).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let me = c.call("auth/me", &[]).await;
    assert!(me.body.contains("\"role\":\"admin\""), "{}", me.body);
    // An organisation that does not exist: a clear error, nobody created.
    let o = nachweis(
        &db,
        &[
            "admin",
            "create",
            "--org",
            "nope",
            "--email",
            "x@nope.example",
            "--name",
            "X",
        ],
        &format!("{password}\n"),
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("error:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        app::entities::users::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .iter()
            .filter(|u| u.email == "x@nope.example")
            .count(),
        0
    );
    app.stop().await;
}
both!(admin_create_adds_a_dpo_who_can_log_in);

async fn annex_render_and_publish_write_the_catalogue(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    create(
        &c,
        category_id(&cat, "5"),
        "Tägliche Sicherung auf Band im Tresor.",
    )
    .await;

    let draft = db.dir.path().join("entwurf.pdf");
    let out = ok(
        &db,
        &[
            "annex",
            "render",
            "--org",
            "acme",
            "--out",
            draft.to_str().unwrap(),
        ],
    );
    assert!(out.contains("unsigned"), "{out}");
    let pdf = std::fs::read(&draft).unwrap();
    assert!(pdftotext(&pdf).contains("Tägliche Sicherung auf Band im Tresor."));
    let (valid, _, text) = pdfsig(&pdf);
    assert!(!valid, "a draft is not signed: {text}");
    // A draft is not a publication.
    assert_eq!(
        app::entities::publications::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );

    let signed = db.dir.path().join("anlage-v1.pdf");
    let out = ok(
        &db,
        &[
            "annex",
            "publish",
            "--org",
            "acme",
            "--out",
            signed.to_str().unwrap(),
        ],
    );
    assert!(out.contains("Version 1 of the annex"), "{out}");
    let pdf = std::fs::read(&signed).unwrap();
    assert!(pdftotext(&pdf).contains("Tägliche Sicherung auf Band im Tresor."));
    let (valid, whole, text) = pdfsig(&pdf);
    assert!(valid && whole, "{text}");
    let out = ok(&db, &["annex", "verify", signed.to_str().unwrap()]);
    assert!(
        out.contains("Signature valid") && out.contains("version 1 of the annex of acme GmbH"),
        "{out}"
    );
    // The DPO sees the same version in the browser's list.
    let list = c.call("annex/overview", &[]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let overview: app::annex::AnnexOverview = serde_json::from_str(&list.body).unwrap();
    assert_eq!(overview.last_version, Some(1));
    assert!(overview.unchanged);
    // Publishing again without a change is refused, and writes nothing.
    let again = db.dir.path().join("anlage-v2.pdf");
    fails(
        &db,
        &[
            "annex",
            "publish",
            "--org",
            "acme",
            "--out",
            again.to_str().unwrap(),
        ],
        2,
    );
    assert!(!again.exists());
    app.stop().await;
}
both!(annex_render_and_publish_write_the_catalogue);

async fn pledge_and_training_reports_list_every_person(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    ok(&db, &["demo"]);
    let out = ok(&db, &["pledge", "report", "--org", "conrat"]);
    assert!(
        out.contains("ConRat WebSolutions GmbH: 0 of ")
            && out.contains("people signed version 1 of the pledge."),
        "{out}"
    );
    let mia = out
        .lines()
        .find(|l| l.contains("mitarbeiter@conrat.example"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        mia.contains("missing") && mia.contains("Mia Schulz"),
        "{mia}"
    );
    let csv = ok(&db, &["pledge", "report", "--org", "conrat", "--csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("Name;E-Mail;Rolle;Stand;Fassung;Unterschrieben am")
    );
    assert!(
        lines
            .any(|l| l.starts_with("Mia Schulz;mitarbeiter@conrat.example;")
                && l.contains(";fehlt;")),
        "{csv}"
    );

    let out = ok(&db, &["training", "report", "--org", "conrat"]);
    assert!(out.starts_with("ConRat WebSolutions GmbH: "), "{out}");
    assert!(
        out.contains("Mia Schulz") && out.contains("pledge:"),
        "{out}"
    );
    let csv = ok(&db, &["training", "report", "--org", "conrat", "--csv"]);
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("Name;E-Mail;Rolle;") && header.ends_with(";Verpflichtung"),
        "{header}"
    );
    assert!(csv.lines().any(|l| l.starts_with("Mia Schulz;")), "{csv}");
    // Another organisation's people are not in the report.
    assert!(!csv.contains("clickbits.example"), "{csv}");
    fails(&db, &["training", "report", "--org", "nope"], 2);
    app.stop().await;
}
both!(pledge_and_training_reports_list_every_person);

async fn review_status_and_report_read_the_open_cycle(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let _other = app.org("other").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let out = ok(&db, &["review", "status", "--org", "acme"]);
    assert!(out.contains("No review cycle is open."), "{out}");
    let cat = catalogue(&c).await;
    create(&c, category_id(&cat, "3.1"), "Besucher werden begleitet.").await;

    let due = (app.clock.now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    let cycle = cycle_id(&open(&c, "Wirksamkeitsprüfung CLI", &due, &[]).await);
    let out = ok(&db, &["review", "status", "--org", "acme"]);
    let head = format!("Open cycle #{cycle} \"Wirksamkeitsprüfung CLI\", due {due}: 0 of ");
    assert!(out.contains(&head), "{out}");
    assert!(
        out.contains("[") && out.contains("Open corrective actions: 0 (0 overdue)"),
        "{out}"
    );

    let report = db.dir.path().join("bericht.pdf");
    let id = cycle.to_string();
    let out = ok(
        &db,
        &[
            "review",
            "report",
            "--org",
            "acme",
            "--cycle",
            &id,
            "--out",
            report.to_str().unwrap(),
        ],
    );
    assert!(out.contains("signed"), "{out}");
    let pdf = std::fs::read(&report).unwrap();
    let (valid, _, text) = pdfsig(&pdf);
    assert!(valid, "{text}");
    assert!(pdftotext(&pdf).contains("Wirksamkeitsprüfung CLI"));
    // The cycle belongs to acme: asked for under another organisation, it
    // is not found, and no file is written.
    let elsewhere = db.dir.path().join("fremd.pdf");
    fails(
        &db,
        &[
            "review",
            "report",
            "--org",
            "other",
            "--cycle",
            &id,
            "--out",
            elsewhere.to_str().unwrap(),
        ],
        2,
    );
    assert!(!elsewhere.exists());
    app.stop().await;
}
both!(review_status_and_report_read_the_open_cycle);

async fn evidence_check_exits_1_for_a_row_without_its_file(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let measure = create(&c, category_id(&cat, "5"), "Backups.").await;
    let file = db.dir.path().join("Rücksicherung.pdf");
    std::fs::write(&file, crate::evidence::PDF).unwrap();
    let m = measure.to_string();
    ok(
        &db,
        &[
            "evidence",
            "add",
            "--org",
            "acme",
            "--measure",
            &m,
            file.to_str().unwrap(),
        ],
    );
    let out = ok(&db, &["evidence", "check"]);
    assert!(out.contains("0 row(s) without file"), "{out}");

    let blobs: Vec<_> = files_under(db.dir.path())
        .into_iter()
        .filter(|p| p != &file && std::fs::read(p).is_ok_and(|b| b == crate::evidence::PDF))
        .collect();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    std::fs::remove_file(&blobs[0]).unwrap();
    let out = fails(&db, &["evidence", "check"], 1);
    assert!(
        out.contains("1 row(s) without file") && out.contains("Rows without file"),
        "{out}"
    );
    app.stop().await;
}
both!(evidence_check_exits_1_for_a_row_without_its_file);

/// The rows of an XLSX sheet, every cell as text.
pub fn xlsx_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx, open_workbook_from_rs};
    let mut book: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let range = book.worksheet_range(sheet).expect("the sheet");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// The rows of a `;`-separated CSV file, header first.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The Art. 30(2) register of the demo data, from the command line and
/// from the browser: the XLSX lists each customer with its categories of
/// processing, its third-country transfers (Microsoft under standard
/// contractual clauses for clickbits) and the TOM annex by version and
/// SHA-256; the CSV holds the same rows; the PDF is signed. Only admins and
/// auditors may fetch it.
async fn the_register_of_the_demo_data_as_pdf_xlsx_and_csv(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    ok(&db, &["demo"]);
    let annex = db.dir.path().join("anlage.pdf");
    ok(
        &db,
        &[
            "annex",
            "publish",
            "--org",
            "clickbits",
            "--out",
            annex.to_str().unwrap(),
        ],
    );
    let annex_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(&annex).unwrap(),
    ));
    let export = |format: &str| {
        let out = db.dir.path().join(format!("verzeichnis.{format}"));
        let printed = ok(
            &db,
            &[
                "register",
                "export",
                "--org",
                "clickbits",
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(printed.contains("Art. 30(2)"), "{printed}");
        std::fs::read(out).unwrap()
    };
    let rows = xlsx_rows(&export("xlsx"), "Verzeichnis");
    assert_eq!(
        rows[0],
        app::register::service::COLUMNS.to_vec(),
        "{rows:?}"
    );
    let customers: Vec<String> = app::entities::customers::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| rows.iter().any(|r| r[0] == c.name))
        .map(|c| c.name)
        .collect();
    assert!(
        customers.contains(&"Praxis Dr. Weber".to_owned()),
        "{rows:?}"
    );
    assert_eq!(
        rows.len(),
        customers.len() + 1,
        "one row per customer: {rows:?}"
    );
    let weber = rows.iter().find(|r| r[0] == "Praxis Dr. Weber").unwrap();
    assert_eq!(weber[4], "clickbits GmbH");
    assert!(
        weber[7].contains("Art und Zweck:") && weber[7].contains("Betroffene:"),
        "{weber:?}"
    );
    assert!(
        weber[8].contains("Microsoft") && weber[8].contains("Standardvertragsklauseln"),
        "{weber:?}"
    );
    assert!(
        weber[9].contains("Version 1") && weber[9].contains(&annex_sha),
        "{weber:?}"
    );
    // The CSV holds the same rows.
    let csv = String::from_utf8(export("csv")).unwrap();
    assert_eq!(csv_rows(&csv), rows);
    // The PDF is signed and names every customer and the transfer.
    let pdf = export("pdf");
    let (valid, whole, out) = pdfsig(&pdf);
    assert!(valid && whole, "{out}");
    let text = crate::annex::pdftotext(&pdf);
    assert!(
        text.contains("Praxis Dr. Weber") && text.contains("Microsoft"),
        "{text}"
    );

    // Who has concluded the AVV: nobody yet.
    let status = ok(&db, &["avv", "status", "--org", "clickbits"]);
    assert!(
        status.contains("clickbits GmbH: 0 of 1 customers have concluded the current AVV."),
        "{status}"
    );
    assert!(
        status
            .lines()
            .any(|l| l.contains("none") && l.contains("Praxis Dr. Weber")),
        "{status}"
    );
    let status = ok(&db, &["avv", "status", "--org", "clickbits", "--csv"]);
    assert!(status.starts_with("Kunde;Stand;"), "{status}");
    assert!(
        status.contains("Praxis Dr. Weber;nicht angeboten;"),
        "{status}"
    );

    // From the browser: the DPO gets the same rows; staff and customers do not.
    let dpo = app.client();
    let a = dpo
        .login("dpo@clickbits.example", server::demo::DEMO_PASSWORD)
        .await;
    assert!(a.status.is_success(), "{}", a.body);
    let res = dpo
        .http
        .get(format!("{}/verzeichnis/art30.xlsx", dpo.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(xlsx_rows(&res.bytes().await.unwrap(), "Verzeichnis"), rows);
    for who in [
        "mitarbeiter@clickbits.example",
        "kunde@praxis-weber.example",
    ] {
        let c = app.client();
        let a = c.login(who, server::demo::DEMO_PASSWORD).await;
        assert!(a.status.is_success(), "{who}: {}", a.body);
        let res = c
            .http
            .get(format!("{}/verzeichnis/art30.csv", c.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
    }
    app.stop().await;
}
both!(the_register_of_the_demo_data_as_pdf_xlsx_and_csv);

/// The server's log, read by a program (a file, journald, a pipe), is
/// plain text: colour codes only for a person at a terminal.
async fn the_log_in_a_file_or_pipe_has_no_colour_codes(backend: Backend) {
    use std::io::BufRead;
    let db = TestDb::new(backend).await;
    let mut child = db
        .command()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", crate::peers::free_port()),
        ])
        .env("NACHWEIS_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run nachweis serve");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("listens on"))
    })
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let line = line.expect("the server logged where it listens");
    assert!(
        !line.contains('\u{1b}'),
        "colour codes in the log: {line:?}"
    );
    assert!(line.contains("INFO"), "{line:?}");
}
both!(the_log_in_a_file_or_pipe_has_no_colour_codes);

/// The server's log is written by a thread of its own; none of it is lost:
/// every request's line is there, and so is the last line the server logs
/// before it exits (a stop by SIGTERM, as systemd and container runtimes
/// send it).
async fn the_log_keeps_every_line_up_to_the_exit(backend: Backend) {
    const REQUESTS: usize = 300;
    let db = TestDb::new(backend).await;
    let port = crate::peers::free_port();
    let log_path = db.dir.path().join("serve.log");
    let mut child = db
        .command()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("NACHWEIS_LOG", "info")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("run nachweis serve");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start");
    let answered = futures::future::join_all((0..REQUESTS).map(|i| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let res = http.get(format!("{base}/healthz?n={i}")).send().await;
            res.is_ok_and(|r| r.status().is_success())
        }
    }))
    .await;
    assert!(answered.iter().all(|ok| *ok));
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    // The first health check may have come before the listener was up.
    let healthz = lines.iter().filter(|l| l.contains("path=/healthz")).count();
    assert!(healthz > REQUESTS, "{healthz} request lines:\n{log}");
    assert!(
        lines.last().is_some_and(|l| l.ends_with("stopped")),
        "the last line: {:?}",
        lines.last()
    );
}
both!(the_log_keeps_every_line_up_to_the_exit);
