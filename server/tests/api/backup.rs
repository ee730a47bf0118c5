//! `nachweis backup` while the server runs, `nachweis restore` onto an
//! empty instance (SQLite and PostgreSQL, also across the two): afterwards
//! the audit chain verifies, every evidence file matches its hash, every
//! signed annex validates with `pdfsig`, the logins work and no row is lost.
//! Bad input (truncated, altered, wrong passphrase, newer schema, a target
//! that is not empty) gets a one-line error and writes nothing; an
//! interrupted backup leaves no file under the requested name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use app::domain::Role;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::evidence::{form, upload};
use crate::helpers::*;
use crate::publish::pdfsig;

const PASSPHRASE: &str = "Sicherung-2026-geheim!";

pub fn nachweis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nachweis"))
        .env("NACHWEIS_LOG", "warn")
        .args(args)
        .output()
        .expect("run nachweis")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs nachweis against (database, data dir) and insists on success.
fn ok(url: &str, dir: &Path, args: &[&str]) -> String {
    let dir = dir.to_string_lossy();
    let mut all = vec!["--database-url", url, "--data-dir", &dir];
    all.extend_from_slice(args);
    let out = nachweis(&all);
    assert!(out.status.success(), "nachweis {args:?}:\n{}", text(&out));
    text(&out)
}

/// Runs nachweis and expects a failure: its one-line error.
fn fails(url: &str, dir: &Path, args: &[&str]) -> String {
    let dir = dir.to_string_lossy();
    let mut all = vec!["--database-url", url, "--data-dir", &dir];
    all.extend_from_slice(args);
    let out = nachweis(&all);
    assert!(
        !out.status.success(),
        "nachweis {args:?} succeeded:\n{}",
        text(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

/// Row counts of every table the backup carries.
pub async fn counts(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    let mut out = Vec::new();
    for r in db
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
    {
        let t: String = r.try_get("", "name").unwrap();
        if t == "sessions" {
            continue;
        }
        let n = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM \"{t}\""),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        out.push((t, n));
    }
    out
}

/// An empty restore target: a data directory that does not exist yet and
/// a database (SQLite inside it, or a new PostgreSQL database).
pub struct Target {
    _parent: tempfile::TempDir,
    pub dir: PathBuf,
    pub url: String,
    _pg: Option<TestDb>,
}

impl Target {
    pub async fn new(backend: Backend) -> Self {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("wiederhergestellt");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}?mode=rwc", dir.join("nachweis.db").display()),
                dir,
                _parent: parent,
                _pg: None,
            },
            Backend::Postgres => {
                let pg = TestDb::new(Backend::Postgres).await;
                Self {
                    url: pg.url.clone(),
                    dir,
                    _parent: parent,
                    _pg: Some(pg),
                }
            }
        }
    }

    /// Whether nothing was written: no data directory, no tables.
    pub async fn untouched(&self) -> bool {
        if self.dir.exists() {
            return false;
        }
        if self.url.starts_with("postgres") {
            let db = Database::connect(&self.url).await.unwrap();
            let n = counts(&db).await.len();
            let _ = app::entities::close(db).await;
            return n == 0;
        }
        true
    }
}

/// A source instance with demo data, a measure with an evidence file and
/// a signed annex, served while the backup runs.
async fn source(backend: Backend) -> (TestDb, TestApp, Vec<u8>, String) {
    let db = TestDb::new(backend).await;
    ok(&db.url, db.dir.path(), &["demo"]);
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let measure = create(&c, category_id(&cat, "3.1"), "Besucher werden registriert.").await;
    let mut file = b"%PDF-1.7\n".to_vec();
    file.extend((0..50_000u32).map(|i| (i * 7 % 251) as u8));
    let a = upload(
        &c,
        form(measure, "Besucherbuch", "", "besucher.pdf", file.clone()),
    )
    .await;
    assert!(a.status.is_success(), "{} {}", a.status, a.body);
    // A second file, deleted and purged: its row stays, its bytes are gone,
    // and the backup must not ask the store for them.
    let gone = b"%PDF-1.7\nverworfen\n".to_vec();
    let a = upload(&c, form(measure, "Verworfen", "", "alt.pdf", gone)).await;
    assert!(a.status.is_success(), "{} {}", a.status, a.body);
    let id = serde_json::from_str::<serde_json::Value>(&a.body).unwrap()["evidence_id"].to_string();
    assert_eq!(
        c.call("evidence/delete", &[("id", &id)]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        c.call("evidence/purge", &[("id", &id)]).await.status,
        StatusCode::OK
    );
    let a = c.call("annex/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // A signed pledge copy.
    let o = crate::pledges::overview(&c).await;
    let a = c
        .call(
            "pledges/publish",
            &[("title", &o.draft_title), ("body", &o.draft_body)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    let text = crate::pledges::mine(&staff)
        .await
        .current
        .expect("a pledge text");
    let a = staff
        .call(
            "pledges/sign",
            &[
                ("text_id", &text.id.to_string()),
                ("text_sha256", &text.sha256),
                ("typed_name", "staff acme"),
                ("password", PASSWORD),
                ("confirm", "ja"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    (db, app, file, org.email(Role::Admin))
}

async fn restored_instance_is_whole(
    source_db: &DatabaseConnection,
    target: &Target,
    evidence: &[u8],
    admin_email: &str,
) {
    let signed = verifies(target).await;
    assert!(
        signed >= 2,
        "an annex and a pledge copy at least, got {signed}"
    );
    let db = Database::connect(&target.url).await.unwrap();
    assert_eq!(counts(&db).await, counts(source_db).await, "no row lost");
    let _ = app::entities::close(db).await;
    let app = serve(target).await;
    let c = app.client();
    c.login_ok(admin_email).await;
    let version = {
        use app::entities::evidence_versions;
        use sea_orm::{EntityTrait, QueryOrder};
        evidence_versions::Entity::find()
            .order_by_asc(evidence_versions::Column::Id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let (status, _, bytes) = crate::evidence::download(&c, version).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, evidence);
    app.stop().await;
}

/// `audit verify` and `evidence check` pass on the restored instance and
/// every signed PDF it keeps (annexes, reports, certificates, pledge
/// copies) validates with `pdfsig`; returns how many PDFs were checked.
async fn verifies(target: &Target) -> usize {
    let out = ok(&target.url, &target.dir, &["audit", "verify"]);
    assert!(out.contains("intact"), "{out}");
    let out = ok(&target.url, &target.dir, &["evidence", "check"]);
    assert!(out.contains("0 row(s) without file"), "{out}");
    let db = Database::connect(&target.url).await.unwrap();
    let mut signed = 0;
    for (table, column) in [
        ("publications", "pdf"),
        ("review_cycles", "report_pdf"),
        ("training_completions", "certificate_pdf"),
        ("pledge_signatures", "pdf"),
    ] {
        for r in db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT {column} AS pdf FROM {table} WHERE {column} IS NOT NULL"),
            ))
            .await
            .unwrap()
        {
            let pdf: Vec<u8> = r.try_get("", "pdf").unwrap();
            let (valid, whole, out) = pdfsig(&pdf);
            assert!(valid && whole, "pdfsig on a restored {table} PDF:\n{out}");
            signed += 1;
        }
    }
    let _ = app::entities::close(db).await;
    signed
}

/// Serves the restored instance; the demo login works.
async fn serve(target: &Target) -> TestApp {
    let mut config = server::config::Config::load(
        &server::config::Overrides {
            config_file: None,
            data_dir: Some(target.dir.clone()),
            database_url: Some(target.url.clone()),
            listen: Some("127.0.0.1:0".to_owned()),
        },
        &NoEnv,
    )
    .unwrap();
    config.worker_interval_secs = 3600;
    let app = spawn_with(config, TestClock::starting_now()).await;
    let c = app.client();
    let a = c
        .login("dpo@conrat.example", server::demo::DEMO_PASSWORD)
        .await;
    assert!(a.status.is_success(), "demo login: {} {}", a.status, a.body);
    app
}

/// The backup the v0.1.0 release wrote (`scripts/make-backup-fixture.sh`
/// run at the tag v0.1.0, see the script) restores into this version: the
/// later migrations apply on top, and every row of the backup is there.
async fn a_backup_of_the_previous_release_restores_and_upgrades(backend: Backend) {
    use migrations::MigratorTrait;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/backup-v0.1.0.tar");
    // What the fixture holds: its schema and each table's rows.
    let mut rows: Vec<(String, i64)> = Vec::new();
    let mut schema = 0usize;
    let mut archive = tar::Archive::new(std::fs::File::open(&fixture).unwrap());
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = String::new();
        std::io::Read::read_to_string(&mut e, &mut data).unwrap();
        if let Some(table) = path
            .strip_prefix("db/")
            .and_then(|p| p.strip_suffix(".jsonl"))
        {
            rows.push((table.to_owned(), data.lines().count() as i64 - 1));
        } else if path == "manifest.json" {
            let m: serde_json::Value = serde_json::from_str(&data).unwrap();
            assert_eq!(m["nachweis_version"], "0.1.0");
            schema = m["migrations"].as_array().unwrap().len();
        }
    }
    let newer = migrations::Migrator::migrations().len() - schema;
    assert!(
        newer > 0,
        "the fixture's schema is older than this version's"
    );
    let target = Target::new(backend).await;
    let out = ok(
        &target.url,
        &target.dir,
        &["restore", fixture.to_str().unwrap()],
    );
    assert!(
        out.contains(&format!("{newer} migration(s) applied after the restore")),
        "{out}"
    );
    assert!(verifies(&target).await >= 2, "both demo annexes");
    let db = Database::connect(&target.url).await.unwrap();
    let now = counts(&db).await;
    for (table, n) in &rows {
        let restored = now.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        assert_eq!(restored, Some(*n), "rows of {table}");
    }
    let _ = app::entities::close(db).await;
    // Served by its own process: the fixture has its own instance secret,
    // and the audit key is one per process.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = target.dir.to_string_lossy().into_owned();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_nachweis"))
        .env("NACHWEIS_LOG", "warn")
        .args(["--database-url", &target.url, "--data-dir", &dir])
        .args(["serve", "--listen", &listen])
        .spawn()
        .unwrap();
    let c = Client {
        base: format!("http://{listen}"),
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let mut up = false;
    for _ in 0..200 {
        if c.http
            .get(format!("{}/readyz", c.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let login = c
        .login("dpo@conrat.example", server::demo::DEMO_PASSWORD)
        .await;
    let _ = server.kill();
    let _ = server.wait();
    assert!(up, "the restored instance did not become ready");
    assert!(
        login.status.is_success(),
        "demo login: {} {}",
        login.status,
        login.body
    );
}
both!(a_backup_of_the_previous_release_restores_and_upgrades);

struct NoEnv;
impl server::config::Env for NoEnv {
    fn var(&self, _key: &str) -> Option<String> {
        None
    }
}

async fn backup_restores_onto_an_empty_instance(backend: Backend) {
    let (db, app, evidence, admin) = source(backend).await;
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("sicherung.tar");
    let sealed = work.path().join("sicherung.tar.enc");
    let pass = work.path().join("passphrase");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    // While the server runs.
    let out = ok(
        &db.url,
        db.dir.path(),
        &["backup", "--out", plain.to_str().unwrap()],
    );
    assert!(out.contains("evidence files"), "{out}");
    ok(
        &db.url,
        db.dir.path(),
        &[
            "backup",
            "--out",
            sealed.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    );
    // Never overwritten.
    let before = std::fs::read(&plain).unwrap();
    let err = fails(
        &db.url,
        db.dir.path(),
        &["backup", "--out", plain.to_str().unwrap()],
    );
    assert!(err.contains("never overwrites"), "{err}");
    assert_eq!(std::fs::read(&plain).unwrap(), before);
    // Encrypted means no readable text inside.
    let enc = std::fs::read(&sealed).unwrap();
    assert!(!enc.windows(9).any(|w| w == b"%PDF-1.7\n"));
    assert!(!enc.windows(13).any(|w| w == b"manifest.json"));

    // Onto the same kind of database, from the plain and the encrypted file.
    let target = Target::new(backend).await;
    let out = ok(
        &target.url,
        &target.dir,
        &["restore", plain.to_str().unwrap()],
    );
    assert!(out.contains("Restored"), "{out}");
    restored_instance_is_whole(&app.db, &target, &evidence, &admin).await;
    let target = Target::new(backend).await;
    ok(
        &target.url,
        &target.dir,
        &[
            "restore",
            sealed.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    );
    restored_instance_is_whole(&app.db, &target, &evidence, &admin).await;
    // And across: SQLite to PostgreSQL, PostgreSQL to SQLite.
    let other = match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    if other == Backend::Sqlite || pg_available().await {
        let target = Target::new(other).await;
        ok(
            &target.url,
            &target.dir,
            &["restore", plain.to_str().unwrap()],
        );
        restored_instance_is_whole(&app.db, &target, &evidence, &admin).await;
    }
    app.stop().await;
}
both!(backup_restores_onto_an_empty_instance);

/// Rewrites a plain backup with `change` applied to its manifest.
fn with_manifest(src: &Path, dst: &Path, change: impl Fn(&mut serde_json::Value)) {
    let mut archive = tar::Archive::new(std::fs::File::open(src).unwrap());
    let mut out = tar::Builder::new(std::fs::File::create(dst).unwrap());
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if path == "manifest.json" {
            let mut m: serde_json::Value = serde_json::from_slice(&data).unwrap();
            change(&mut m);
            data = serde_json::to_vec(&m).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_cksum();
        out.append_data(&mut h, &path, data.as_slice()).unwrap();
    }
    out.finish().unwrap();
}

async fn bad_backups_are_refused_and_nothing_is_written(backend: Backend) {
    let (db, app, _, _) = source(backend).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("sicherung.tar");
    let sealed = work.path().join("sicherung.enc");
    let pass = work.path().join("pass");
    let wrong = work.path().join("wrong");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    std::fs::write(&wrong, "ein-ganz-anderes-Passwort").unwrap();
    ok(
        &db.url,
        db.dir.path(),
        &["backup", "--out", file.to_str().unwrap()],
    );
    ok(
        &db.url,
        db.dir.path(),
        &[
            "backup",
            "--out",
            sealed.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    );
    app.stop().await;
    let bytes = std::fs::read(&file).unwrap();
    let enc = std::fs::read(&sealed).unwrap();

    let truncated = work.path().join("truncated");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let altered = work.path().join("altered");
    let mut b = bytes.clone();
    // A byte inside the first table's rows (after the 512-byte tar header).
    b[600] ^= 0x20;
    std::fs::write(&altered, &b).unwrap();
    let enc_altered = work.path().join("enc-altered");
    let mut e = enc.clone();
    let at = e.len() / 2;
    e[at] ^= 1;
    std::fs::write(&enc_altered, &e).unwrap();
    let enc_truncated = work.path().join("enc-truncated");
    std::fs::write(&enc_truncated, &enc[..enc.len() - 40]).unwrap();
    let newer = work.path().join("newer");
    with_manifest(&file, &newer, |m| {
        m["migrations"]
            .as_array_mut()
            .unwrap()
            .push("m9999_from_the_future".into());
        m["nachweis_version"] = "9.0.0".into();
    });
    let not_a_backup = work.path().join("notes.txt");
    std::fs::write(&not_a_backup, "Dies ist keine Sicherung.\n").unwrap();

    let p = |p: &Path| p.to_str().unwrap().to_owned();
    for (args, expected) in [
        (vec!["restore".into(), p(&truncated)], "is incomplete"),
        (vec!["restore".into(), p(&altered)], "is damaged"),
        (vec!["restore".into(), p(&not_a_backup)], "incomplete"),
        (vec!["restore".into(), p(&newer)], "newer Nachweis"),
        (vec!["restore".into(), p(&sealed)], "is encrypted"),
        (
            vec![
                "restore".into(),
                p(&file),
                "--passphrase-file".into(),
                p(&pass),
            ],
            "is not encrypted",
        ),
        (
            vec![
                "restore".into(),
                p(&sealed),
                "--passphrase-file".into(),
                p(&wrong),
            ],
            "wrong passphrase",
        ),
        (
            vec![
                "restore".into(),
                p(&enc_altered),
                "--passphrase-file".into(),
                p(&pass),
            ],
            "damaged",
        ),
        (
            vec![
                "restore".into(),
                p(&enc_truncated),
                "--passphrase-file".into(),
                p(&pass),
            ],
            "damaged",
        ),
    ] {
        let target = Target::new(backend).await;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = fails(&target.url, &target.dir, &args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(target.untouched().await, "{args:?} wrote something");
    }
    // A target that is not empty: a data directory with data, or (on
    // PostgreSQL) a database with tables.
    let target = Target::new(backend).await;
    std::fs::create_dir_all(&target.dir).unwrap();
    std::fs::write(target.dir.join("notiz.txt"), "bleibt").unwrap();
    let err = fails(&target.url, &target.dir, &["restore", &p(&file)]);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read_dir(&target.dir).unwrap().count(),
        1,
        "nothing added"
    );
    if backend == Backend::Postgres {
        let empty = work.path().join("leer");
        let err = fails(&db.url, &empty, &["restore", &p(&file)]);
        assert!(!empty.exists());
        assert!(err.contains("database is not empty"), "{err}");
    }
}
both!(bad_backups_are_refused_and_nothing_is_written);

/// kill -9 halfway through a backup: no file under the requested name, and
/// what is left says it is partial (and does not restore).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_backup_leaves_no_complete_looking_file() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = config_for(&db);
    config.evidence_max_bytes = 200 * 1024 * 1024;
    let app = spawn_with(config, TestClock::starting_now()).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let measure = create(&c, category_id(&cat, "3.1"), "Große Datei.").await;
    for i in 0..4u32 {
        let mut file = b"%PDF-1.7\n".to_vec();
        file.extend((0..30_000_000u32).map(|j| ((j ^ i).wrapping_mul(2_654_435_761) >> 24) as u8));
        let a = upload(
            &c,
            form(measure, &format!("Archiv {i}"), "", "archiv.pdf", file),
        )
        .await;
        assert!(a.status.is_success(), "{} {}", a.status, a.body);
    }
    app.stop().await;
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("sicherung.tar");
    let dir = db.dir.path().to_string_lossy().into_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nachweis"))
        .env("NACHWEIS_LOG", "warn")
        .args([
            "--database-url",
            &db.url,
            "--data-dir",
            &dir,
            "backup",
            "--out",
        ])
        .arg(&out)
        .spawn()
        .unwrap();
    // Wait until the partial file has grown past a few megabytes, then kill.
    let partial = || {
        std::fs::read_dir(work.path())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().ends_with(".partial"))
    };
    let mut killed_halfway = false;
    for _ in 0..2000 {
        if let Some(p) = partial()
            && p.metadata().map(|m| m.len()).unwrap_or(0) > 8 * 1024 * 1024
        {
            child.kill().unwrap();
            killed_halfway = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let _ = child.wait();
    assert!(
        killed_halfway,
        "the backup finished before it could be interrupted"
    );
    assert!(
        !out.exists(),
        "an interrupted backup left {}",
        out.display()
    );
    let left = partial()
        .expect("the partial file stays, named as such")
        .path();
    let target = Target::new(Backend::Sqlite).await;
    let err = fails(
        &target.url,
        &target.dir,
        &["restore", left.to_str().unwrap()],
    );
    assert!(err.contains("incomplete"), "{err}");
    assert!(target.untouched().await);
}
