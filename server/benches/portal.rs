//! Customer portal under load: `cargo bench -p server --bench portal`.
//!
//! Starts the real application on a free port with a temporary SQLite
//! database and the demo data, publishes the ConRat annex, signs in as the
//! demo customer and lets `wrk` (Debian package `wrk`) hold 64 connections
//! open against
//!   1. the signed annex download (`/portal/anlage/v1.pdf`, every request
//!      logged in the audit log),
//!   2. the same with `If-None-Match` (answered 304; only delivered
//!      downloads are logged),
//!   3. the portal start page (`/portal`, server-side rendered; records the
//!      visit).
//!
//! Prints requests per second and latency percentiles as `wrk --latency`
//! reports them. Server and wrk share the machine's cores.

use std::process::Command;
use std::sync::Arc;

const CONNECTIONS: &str = "64";
const DURATION: &str = "10s";

fn wrk(label: &str, url: &str, headers: &[String]) -> anyhow::Result<()> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t", "2", "-c", CONNECTIONS, "-d", DURATION, "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().map_err(|e| {
        anyhow::anyhow!("cannot run wrk ({e}); install it with `apt-get install wrk`")
    })?;
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let pick = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned())
            .unwrap_or_else(|| "?".into())
    };
    let non_2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx or 3xx responses"))
        .map(|l| format!(", {}", l.trim()))
        .unwrap_or_default();
    println!(
        "{label:<34} {:>9} req/s   p50 {:>8}   p75 {:>8}   p90 {:>8}   p99 {:>8}   ({} requests{non_2xx})",
        pick("Requests/sec:"),
        pick("50%"),
        pick("75%"),
        pick("90%"),
        pick("99%"),
        text.lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("?"),
    );
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Signs in and returns the session cookie (`name=value`).
async fn session(base: &str, email: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let res = http
        .post(format!("{base}/api/auth/login"))
        .header("Accept", "application/json")
        .form(&[("email", email), ("password", server::demo::DEMO_PASSWORD)])
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "login: {}", res.status());
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .next()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))
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
    let port = free_port()?;
    let config = server::config::Config::load(
        &server::config::Overrides {
            data_dir: Some(dir.path().to_path_buf()),
            listen: Some(format!("127.0.0.1:{port}")),
            ..Default::default()
        },
        &NoEnv,
    )?;
    let app =
        server::startup::Application::build_with_clock(&config, Arc::new(app::state::SystemClock))
            .await?;
    let base = format!("http://127.0.0.1:{port}");
    #[allow(clippy::disallowed_methods)]
    server::demo::load(&app.db, chrono::Utc::now()).await?;
    tokio::spawn(app.run_until(std::future::pending()));

    let dpo = session(&base, "dpo@conrat.example").await?;
    let http = reqwest::Client::new();
    let published = http
        .post(format!("{base}/api/annex/publish"))
        .header("Accept", "application/json")
        .header("Cookie", &dpo)
        .send()
        .await?;
    anyhow::ensure!(
        published.status().is_success(),
        "publish: {}",
        published.text().await?
    );
    let customer = session(&base, "kunde@kanzlei-hoffmann.example").await?;
    let annex = format!("{base}/portal/anlage/v1.pdf");
    let res = http.get(&annex).header("Cookie", &customer).send().await?;
    anyhow::ensure!(res.status().is_success(), "download: {}", res.status());
    let etag = res
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no ETag"))?;
    let size = res.bytes().await?.len();

    println!(
        "Customer portal, {CONNECTIONS} connections for {DURATION} each (wrk, loopback, SQLite; debug builds are unoptimised: run with cargo bench)"
    );
    let cookie = format!("Cookie: {customer}");
    wrk(
        &format!("annex download ({} KB, 200)", size / 1024),
        &annex,
        std::slice::from_ref(&cookie),
    )?;
    wrk(
        "annex, If-None-Match (304)",
        &annex,
        &[cookie.clone(), format!("If-None-Match: {etag}")],
    )?;
    wrk(
        "portal start page (/portal)",
        &format!("{base}/portal"),
        &[cookie],
    )?;
    Ok(())
}
