//! Evidence upload and download throughput through the HTTP API on loopback:
//! `cargo bench -p server --bench evidence`.
//!
//! Starts the real application on port 0 with a temporary SQLite database
//! and local store, signs in as an admin and streams a 200 MB PDF up
//! (multipart, as the browser sends it) and down again, three times each.
//! Prints MB/s per run and the median; the peak RSS of the bench process
//! (server and client share it) shows that nothing is buffered whole.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::{EmailAddress, Role, ShortName};
use app::entities::BeginWrite;
use futures::StreamExt;

const SIZE: usize = 200 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;
const RUNS: usize = 3;

fn peak_rss_mb() -> f64 {
    common::proc_status_kb("VmHWM").map_or(0.0, |kb| kb as f64 / 1024.0)
}

fn mbps(d: Duration) -> f64 {
    SIZE as f64 / 1024.0 / 1024.0 / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    struct NoEnv;
    impl server::config::Env for NoEnv {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
    }
    let mut config = server::config::Config::load(
        &server::config::Overrides {
            data_dir: Some(dir.path().to_path_buf()),
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        },
        &NoEnv,
    )?;
    config.evidence_max_bytes = 2 * SIZE as u64;
    let app =
        server::startup::Application::build_with_clock(&config, Arc::new(app::state::SystemClock))
            .await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let db = app.db.clone();
    tokio::spawn(app.run_until(std::future::pending()));

    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let actor = app::audit::service::AuditActor::system("bench");
    let txn = db.begin_write().await?;
    let org = app::orgs::service::create_org(
        &txn,
        now,
        &actor,
        &ShortName::parse("bench")?,
        "Bench GmbH",
    )
    .await?;
    let email = EmailAddress::parse("dpo@bench.example")?;
    let user = app::auth::service::create_user(
        &txn,
        now,
        &actor,
        &email,
        "DPO",
        Some("bench-password-2026"),
    )
    .await?;
    app::orgs::service::add_membership(&txn, now, &actor, org.id, user.id, Role::Admin).await?;
    let category = app::toms::service::ordered_categories(&txn, org.id)
        .await?
        .last()
        .map(|(_, c)| c.id)
        .ok_or_else(|| anyhow::anyhow!("no category"))?;
    txn.commit().await?;

    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let login = http
        .post(format!("{base}/api/auth/login"))
        .header("Accept", "application/json")
        .form(&[
            ("email", "dpo@bench.example"),
            ("password", "bench-password-2026"),
        ])
        .send()
        .await?;
    anyhow::ensure!(login.status().is_success(), "login: {}", login.status());
    let measure: i32 = http
        .post(format!("{base}/api/toms/measure/create"))
        .header("Accept", "application/json")
        .form(&[
            ("category_id", category.to_string().as_str()),
            ("title", ""),
            ("body", "Vollsicherung"),
            ("status", "implemented"),
        ])
        .send()
        .await?
        .text()
        .await?
        .parse()?;

    println!(
        "Evidence throughput, {} MB file, HTTP on loopback (debug = unoptimised numbers; run with cargo bench)",
        SIZE / 1024 / 1024
    );
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        // Each run a different file, so the store really writes it.
        let stream = futures::stream::iter(0..SIZE / CHUNK).map(move |i| {
            let mut c = vec![(run as u8).wrapping_add(i as u8); CHUNK];
            if i == 0 {
                c[..9].copy_from_slice(b"%PDF-1.7\n");
            }
            Ok::<_, std::io::Error>(c)
        });
        let form = reqwest::multipart::Form::new()
            .text("measure_id", measure.to_string())
            .text("title", format!("Bench {run}"))
            .part(
                "file",
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(stream),
                    SIZE as u64,
                )
                .file_name("bench.pdf"),
            );
        let started = Instant::now();
        let res = http
            .post(format!("{base}/nachweise/hochladen"))
            .header("Accept", "application/json")
            .multipart(form)
            .send()
            .await?;
        anyhow::ensure!(res.status().as_u16() == 201, "upload: {}", res.status());
        let up = started.elapsed();
        let uploaded: app::evidence::UploadResult = res.json().await?;

        let started = Instant::now();
        let res = http
            .get(format!("{base}/nachweise/datei/{}", uploaded.version_id))
            .send()
            .await?;
        let mut body = res.bytes_stream();
        let mut got = 0usize;
        while let Some(c) = body.next().await {
            got += c?.len();
        }
        anyhow::ensure!(got == SIZE, "download returned {got} bytes");
        let down = started.elapsed();
        println!(
            "  run {}: upload {:>7.1} MB/s ({:.2} s), download {:>7.1} MB/s ({:.2} s)",
            run + 1,
            mbps(up),
            up.as_secs_f64(),
            mbps(down),
            down.as_secs_f64()
        );
        ups.push(up);
        downs.push(down);
    }
    ups.sort();
    downs.sort();
    println!(
        "median: upload {:.1} MB/s, download {:.1} MB/s",
        mbps(ups[RUNS / 2]),
        mbps(downs[RUNS / 2])
    );
    println!(
        "peak RSS of the bench process (server + client): {:.1} MB",
        peak_rss_mb()
    );
    Ok(())
}
