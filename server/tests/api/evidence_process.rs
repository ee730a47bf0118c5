//! Evidence uploads against the real `nachweis serve` process: `kill -9` in
//! the middle of 20 concurrent uploads leaves no partial file and no row
//! without its file, and a 1 GB upload does not grow the server's memory.

use std::process::{Child, Stdio};
use std::time::Duration;

use app::domain::Role;
use app::evidence::UploadResult;
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::EntityTrait;
use sha2::{Digest, Sha256};

use crate::catalogue::{catalogue, category_id, create};
use crate::evidence::{PDF, files_under, upload};
use crate::helpers::*;
use crate::peers::free_port;

pub struct ServerProcess {
    pub child: Child,
    pub address: String,
}

impl ServerProcess {
    pub async fn start(db: &TestDb, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut cmd = db.command();
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("NACHWEIS_LOG", "warn")
            .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Owned at once, so that Drop kills and reaps it on every path.
        let server = Self {
            child: cmd.spawn().expect("start nachweis serve"),
            address: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = http.get(format!("{}/healthz", server.address)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nachweis serve did not come up");
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.address.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Peak resident memory of the process so far, in MB (VmHWM).
    pub fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .expect("VmHWM");
        kb / 1024.0
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An organisation with a measure, prepared in-process, then the server stopped.
async fn prepared(db: &TestDb) -> (Org, i32) {
    let app = spawn_app(db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let measure = create(
        &admin,
        category_id(&catalogue(&admin).await, "7"),
        "Backups.",
    )
    .await;
    app.stop().await;
    (org, measure)
}

/// A slow body: `total` bytes of a PDF in 64 KiB chunks, one every 10 ms.
fn slow_pdf(total: usize, seed: u8) -> reqwest::Body {
    let chunks = total / (64 * 1024);
    let stream = futures::stream::iter(0..chunks).then(move |i| async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut c = vec![seed; 64 * 1024];
        if i == 0 {
            c[..PDF.len()].copy_from_slice(PDF);
        }
        Ok::<_, std::io::Error>(c)
    });
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_concurrent_uploads_leaves_no_partial_file_and_no_orphan_row() {
    let db = TestDb::new(Backend::Sqlite).await;
    let (org, measure) = prepared(&db).await;
    let mut server = ServerProcess::start(&db, &[]).await;
    let admin = server.client();
    admin.login_ok(&org.email(Role::Admin)).await;

    // Ten quick uploads finish; ten slow ones are still streaming when the server dies.
    let mut quick = Vec::new();
    for i in 0..10u8 {
        let c = admin.clone();
        let mut bytes = PDF.to_vec();
        bytes.extend(std::iter::repeat_n(b'a' + i, 100 * 1024));
        quick.push(tokio::spawn(async move {
            upload(
                &c,
                Form::new()
                    .text("measure_id", measure.to_string())
                    .text("title", format!("schnell {i}"))
                    .part("file", Part::bytes(bytes).file_name(format!("q{i}.pdf"))),
            )
            .await
        }));
    }
    let mut slow = Vec::new();
    for i in 0..10u8 {
        let c = admin.clone();
        slow.push(tokio::spawn(async move {
            let form = Form::new()
                .text("measure_id", measure.to_string())
                .text("title", format!("langsam {i}"))
                .part(
                    "file",
                    Part::stream_with_length(slow_pdf(20 * 1024 * 1024, i), 20 * 1024 * 1024)
                        .file_name(format!("s{i}.pdf")),
                );
            c.http
                .post(format!("{}/nachweise/hochladen", c.base))
                .header("Accept", "application/json")
                .multipart(form)
                .send()
                .await
        }));
    }
    for q in quick {
        assert_eq!(q.await.unwrap().status, StatusCode::CREATED);
    }
    let staging = db.dir.path().join("evidence/staging");
    // Wait until the slow uploads have written part of their files.
    for _ in 0..100 {
        if files_under(&staging).len() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let partial = files_under(&staging).len();
    assert!(partial >= 1, "the kill must hit uploads in flight");
    server.child.kill().expect("kill -9"); // SIGKILL
    server.child.wait().unwrap();
    for s in slow {
        // The connection died with the server; whatever the client saw, it got no 201.
        if let Ok(Ok(res)) = s.await {
            assert_ne!(res.status(), StatusCode::CREATED);
        }
    }

    // The start-up check (here: the same check as a command) sweeps the leftovers.
    let out = db.command().args(["evidence", "check"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("{partial} leftover upload(s)"))
            && text.contains("0 row(s) without file"),
        "{text}"
    );
    assert!(files_under(&staging).is_empty());

    // Every row has its complete file; every file is complete (its name is its hash).
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let rows = app::entities::evidence_versions::Entity::find()
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 10, "exactly the finished uploads have rows");
    let blobs = files_under(&db.dir.path().join("evidence/blobs"));
    assert_eq!(blobs.len(), 10);
    for b in &blobs {
        let bytes = std::fs::read(b).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            b.file_name().unwrap().to_string_lossy()
        );
    }
    for r in &rows {
        assert!(
            blobs.iter().any(|b| b.ends_with(&r.sha256)),
            "row {} has its file",
            r.id
        );
    }
    // And the server starts again on the swept store.
    let again = ServerProcess::start(&db, &[]).await;
    drop(again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_1_gb_upload_streams_without_growing_memory() {
    const SIZE: u64 = 1024 * 1024 * 1024;
    let db = TestDb::new(Backend::Sqlite).await;
    let (org, measure) = prepared(&db).await;
    let server = ServerProcess::start(&db, &[("NACHWEIS_EVIDENCE_MAX_MB", "1100")]).await;
    let admin = server.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let before = server.peak_rss_mb();

    let chunk = 1024 * 1024;
    let mut hasher = Sha256::new();
    let mut first = vec![0u8; chunk];
    first[..PDF.len()].copy_from_slice(PDF);
    hasher.update(&first);
    let zeros = vec![0u8; chunk];
    for _ in 1..SIZE as usize / chunk {
        hasher.update(&zeros);
    }
    let expected = hex::encode(hasher.finalize());
    let stream = futures::stream::iter(0..SIZE as usize / chunk).map(move |i| {
        Ok::<_, std::io::Error>(if i == 0 {
            first.clone()
        } else {
            vec![0u8; chunk]
        })
    });
    let form = Form::new()
        .text("measure_id", measure.to_string())
        .text("title", "Vollsicherung")
        .part(
            "file",
            Part::stream_with_length(reqwest::Body::wrap_stream(stream), SIZE)
                .file_name("vollsicherung.pdf"),
        );
    let res = admin
        .http
        .post(format!("{}/nachweise/hochladen", admin.base))
        .header("Accept", "application/json")
        .multipart(form)
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: UploadResult = res.json().await.unwrap();
    assert_eq!(r.size as u64, SIZE);
    assert_eq!(r.sha256, expected);
    let after_upload = server.peak_rss_mb();

    // The download streams too.
    let res = admin
        .http
        .get(format!("{}/nachweise/datei/{}", admin.base, r.version_id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut got = 0u64;
    let mut body = res.bytes_stream();
    while let Some(c) = body.next().await {
        got += c.unwrap().len() as u64;
    }
    assert_eq!(got, SIZE);
    let after_download = server.peak_rss_mb();
    eprintln!(
        "peak RSS: {before:.1} MB at start, {after_upload:.1} MB after 1 GB upload, {after_download:.1} MB after download"
    );
    assert!(after_download < 150.0, "peak RSS {after_download:.1} MB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_adds_evidence_with_the_same_checks() {
    let db = TestDb::new(Backend::Sqlite).await;
    let (org, measure) = prepared(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("Rücksicherungstest.pdf");
    std::fs::write(&good, PDF).unwrap();
    let bad = dir.path().join("rechnung.pdf");
    std::fs::write(&bad, b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0binary").unwrap();
    let run = |file: &std::path::Path, extra: &[&str]| {
        db.command()
            .args([
                "evidence",
                "add",
                "--org",
                &org.short,
                "--measure",
                &measure.to_string(),
            ])
            .args(extra)
            .arg(file)
            .output()
            .unwrap()
    };
    let out = run(&good, &["--valid-until", "2027-03-31"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Rücksicherungstest.pdf") && text.contains(&hex::encode(Sha256::digest(PDF))),
        "{text}"
    );
    let out = run(&bad, &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("können nicht als Nachweis hochgeladen werden")
    );
    // Another organisation cannot attach files to acme's measure by its number.
    let cli = |args: &[&str]| db.command().args(args).output().unwrap();
    assert!(
        cli(&["org", "create", "--short", "other", "--name", "Other GmbH"])
            .status
            .success()
    );
    let m = measure.to_string();
    let out = cli(&[
        "evidence",
        "add",
        "--org",
        "other",
        "--measure",
        &m,
        good.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Die Maßnahme wurde nicht gefunden"));
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let rows = app::entities::evidence::Entity::find()
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].valid_until,
        chrono::NaiveDate::from_ymd_opt(2027, 3, 31)
    );
    assert_eq!(rows[0].title, "Rücksicherungstest");
}
