//! The web server under load: `cargo bench -p server --bench load`.
//!
//! Needs `wrk` and `nginx` (`scripts/setup-tools.sh bench` installs both).
//! For each database (SQLite in a temporary data directory, then a fresh
//! PostgreSQL database on `NACHWEIS_TEST_PG_URL`, default the local `test`
//! server) it starts the release `nachweis serve` in a process of its own
//! (so that its memory is its own) with
//!   - the demo data, ConRat's annex published,
//!   - "Groß GmbH": 300 measures, 5,000 staff, a customer, its annex published,
//!
//! signs in as the DPO and the customer of each (on PostgreSQL, gathers the
//! planner's statistics, as autovacuum would within a minute), and lets
//! `wrk` hold 32 and
//! then 64 connections open for `NACHWEIS_BENCH_SECONDS` (default 10) against
//!   - the signed annex download, and the same with `If-None-Match` (304),
//!     once with one customer session and once with 32 sessions taken in
//!     turn (what many customers at once look like to the session store),
//!   - `/massnahmen`, `/` and `/portal`, on the demo data and the 300 measures,
//!   - `/login` (no session) and `/healthz`.
//!
//! nginx serving the same PDF (download and 304) is the reference, measured
//! in the same run, and beside it a bare axum server in the bench's own
//! process serving the same bytes: what the stack alone reaches, without
//! anything of Nachweis. Before the load, `/login` and `/portal` are opened in
//! Chromium on a throttled phone profile, and the time to hydration
//! printed. The server's resident memory is printed before the load, right
//! after it, and after a few idle seconds. Then the soak (`load/soak.rs`)
//! mixes writes into the reads for `NACHWEIS_SOAK_SECONDS` (default 60) and
//! checks that nothing was lost. `cargo bench -p server --bench load -- sqlite` (or `postgres`)
//! runs one database only; with both, the end prints how much slower
//! PostgreSQL served each row than SQLite in the same run. Server, nginx and
//! wrk share the cores.

use std::process::{Child, Command};

use secrecy::ExposeSecret;

use app::domain::Role;
use app::entities::{memberships, users};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

mod common;
#[path = "load/soak.rs"]
mod soak;

const MEASURES: usize = 300;
const STAFF: usize = 5_000;
const CONNECTIONS: [u32; 2] = [32, 64];

fn seconds() -> String {
    std::env::var("NACHWEIS_BENCH_SECONDS").unwrap_or_else(|_| "10".into())
}

/// One wrk run; prints a row and returns requests per second. wrk runs on
/// a blocking thread: the server's worker threads stay free.
async fn wrk(label: &str, connections: u32, url: &str, headers: &[String]) -> anyhow::Result<f64> {
    wrk_with(label, connections, url, headers, None).await
}

/// The same with a different `Cookie:` header (of `cookies`) on each
/// request, in turn.
async fn wrk_rotating(
    label: &str,
    connections: u32,
    url: &str,
    headers: &[String],
    cookies: &[String],
) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("rotate.lua");
    let list: Vec<String> = cookies
        .iter()
        .map(|c| format!("{:?}", c.trim_start_matches("Cookie: ")))
        .collect();
    std::fs::write(
        &script,
        format!(
            "local cookies = {{ {} }}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  wrk.headers[\"Cookie\"] = cookies[n % #cookies + 1]\n  return wrk.format()\nend\n",
            list.join(", ")
        ),
    )?;
    wrk_with(label, connections, url, headers, Some(&script)).await
}

async fn wrk_with(
    label: &str,
    connections: u32,
    url: &str,
    headers: &[String],
    script: Option<&std::path::Path>,
) -> anyhow::Result<f64> {
    // When wrk stops, the server is still working through the requests it
    // had in flight (32 start pages of the big organisation take half a
    // second): without a pause they slowed the first requests of the next
    // row (the demo portal after the big start page: p99 263 ms in the
    // bench, 25 ms alone).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut cmd = Command::new("wrk");
    cmd.args(["-t", "2", "--latency"])
        .args(["-c", &connections.to_string()])
        .args(["-d", &format!("{}s", seconds())]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    cmd.arg(url);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await?
        .map_err(|e| {
            anyhow::anyhow!("cannot run wrk ({e}); install it with `scripts/setup-tools.sh bench`")
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
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let errors = text
        .lines()
        .filter(|l| l.contains("Non-2xx or 3xx responses") || l.contains("Socket errors"))
        .map(|l| format!(", {}", l.trim()))
        .collect::<String>();
    let rps = pick("Requests/sec:");
    println!(
        "{label:<44} c={connections:<3} {rps:>10} req/s   p50 {:>8}   p99 {:>8}{errors}",
        pick("50%"),
        pick("99%"),
    );
    Ok(rps.parse().unwrap_or(0.0))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// How long the server idles before its resident memory after the load
/// is read a second time.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(3);

/// The server's resident memory, and how much of it is its own: most of
/// the rest are pages of the binary (the embedded fonts and site), which
/// the kernel can drop and read again.
fn rss(server: &Server) -> String {
    let pid = server.child.id().to_string();
    let mb = |field| {
        common::pid_status_kb(&pid, field)
            .map(|kb| format!("{} MB", kb / 1024))
            .unwrap_or_else(|| "?".into())
    };
    format!(
        "{} (anonymous {}, file-backed {})",
        mb("VmRSS"),
        mb("RssAnon"),
        mb("RssFile")
    )
}

/// `nachweis serve`, built by cargo with this bench, until dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(config: &server::config::Config) -> anyhow::Result<Server> {
        let port = free_port()?;
        let log = std::fs::File::create(config.data_dir.join("server.log"))?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nachweis"));
        // Only what is set here: the bench's own configuration ignores the
        // environment, and so must the server's.
        for (name, _) in std::env::vars() {
            if name.starts_with("NACHWEIS_") || name == "DATABASE_URL" {
                cmd.env_remove(name);
            }
        }
        let child = cmd
            .arg("serve")
            .env("NACHWEIS_DATA_DIR", &config.data_dir)
            .env("NACHWEIS_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &config.database_url)
            .env("NACHWEIS_DATABASE_POOL", config.database_pool.to_string())
            .env(
                "NACHWEIS_SECRET_KEY",
                config
                    .secret_key
                    .as_ref()
                    .map(|k| k.expose_secret().to_owned())
                    .unwrap_or_default(),
            )
            // The longest interval allowed: no background job in the figures.
            .env("NACHWEIS_WORKER_INTERVAL_SECS", "3600")
            .env("NACHWEIS_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if let Ok(res) = reqwest::get(format!("{}/healthz", server.base)).await
                && res.status().is_success()
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                anyhow::bail!(
                    "nachweis serve exited ({status}): {}",
                    std::fs::read_to_string(config.data_dir.join("server.log"))?
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::bail!("nachweis serve did not answer /healthz")
    }
}

impl Server {
    /// Lines of the server's log that report a panic.
    /// Panics in the server's log; the first few are printed, so that a
    /// run that found one says what it was.
    fn panics(&self, config: &server::config::Config) -> usize {
        let log = std::fs::read_to_string(config.data_dir.join("server.log")).unwrap_or_default();
        let panics: Vec<&str> = log.lines().filter(|l| l.contains("panicked")).collect();
        for line in panics.iter().take(3) {
            println!("  panic: {line}");
        }
        panics.len()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// Signs in and returns the `Cookie:` header.
async fn session(base: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let res = client()?
        .post(format!("{base}/api/auth/login"))
        .header("Accept", "application/json")
        .form(&[("email", email), ("password", password)])
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "login {email}: {}", res.status());
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .next()
        .map(|c| format!("Cookie: {c}"))
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))
}

/// Publishes the DPO's organisation's annex.
async fn publish(base: &str, dpo: &str) -> anyhow::Result<()> {
    let (name, value) = dpo.split_once(": ").unwrap_or(("Cookie", dpo));
    let res = client()?
        .post(format!("{base}/api/annex/publish"))
        .header("Accept", "application/json")
        .header(name, value)
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "publish: {}", res.text().await?);
    Ok(())
}

/// GETs `url` and returns the body and ETag, checking for 200.
async fn fetch(url: &str, headers: &[String]) -> anyhow::Result<(Vec<u8>, String)> {
    let mut req = client()?.get(url);
    for h in headers {
        if let Some((n, v)) = h.split_once(": ") {
            req = req.header(n, v);
        }
    }
    let res = req.send().await?;
    anyhow::ensure!(res.status().is_success(), "GET {url}: {}", res.status());
    let etag = res
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((res.bytes().await?.to_vec(), etag))
}

/// Groß GmbH: 300 measures, 5,000 staff and a customer with a login, all
/// inserted in bulk (not 5,300 audited requests).
async fn big_org(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let system = app::audit::service::AuditActor::system("bench");
    let (org, dpo) = common::org_with_dpo(db, now).await?;
    for chunk in (0..STAFF).collect::<Vec<_>>().chunks(500) {
        users::Entity::insert_many(chunk.iter().map(|i| users::ActiveModel {
            email: Set(format!("person{i:05}@gross.example")),
            display_name: Set(format!("Person {i:05}")),
            password_hash: Set(None),
            locked: Set(false),
            locale: Set("de".into()),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(db)
        .await?;
    }
    let staff: Vec<app::ids::UserId> = users::Entity::find()
        .filter(users::Column::Email.like("person%@gross.example"))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    for chunk in staff.chunks(500) {
        memberships::Entity::insert_many(chunk.iter().map(|u| memberships::ActiveModel {
            org_id: Set(org.id),
            user_id: Set(*u),
            role: Set(Role::Staff.as_str().into()),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(db)
        .await?;
    }
    common::insert_measures(db, org.id, MEASURES, now).await?;
    let customer = app::customers::service::add(db, now, &dpo, "Kunde Groß", "AVV-1", "").await?;
    let person = app::auth::service::create_user(
        db,
        now,
        &system,
        &app::domain::EmailAddress::parse(BIG_CUSTOMER)?,
        "Kundin Groß",
        Some(common::DPO_PASSWORD),
    )
    .await?;
    app::orgs::service::add_membership(db, now, &system, org.id, person.id, Role::Customer).await?;
    memberships::Entity::update_many()
        .col_expr(
            memberships::Column::CustomerId,
            sea_orm::sea_query::Expr::value(customer),
        )
        .filter(memberships::Column::UserId.eq(person.id))
        .exec(db)
        .await?;
    Ok(())
}

const BIG_CUSTOMER: &str = "kundin@gross.example";

/// The same file from a bare axum server in this process: the framework
/// Nachweis is built on (axum on hyper and tokio, the same versions, two
/// worker threads like the server's), with nothing of Nachweis: no session,
/// no access log, no middleware. What the stack itself serves on this
/// machine, so that the distance to nginx can be split into the stack's
/// and ours. Stops when dropped.
struct BareAxum {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl BareAxum {
    async fn serve(file: &[u8], etag: &str) -> anyhow::Result<BareAxum> {
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::IntoResponse;
        let body = axum::body::Bytes::copy_from_slice(file);
        let etag = etag.to_owned();
        let app = axum::Router::new().route(
            "/anlage.pdf",
            axum::routing::get(move |headers: HeaderMap| {
                let (body, etag) = (body.clone(), etag.clone());
                async move {
                    let tag = [(header::ETAG, etag.clone())];
                    if headers
                        .get(header::IF_NONE_MATCH)
                        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
                    {
                        return (StatusCode::NOT_MODIFIED, tag).into_response();
                    }
                    (tag, [(header::CONTENT_TYPE, "application/pdf")], body).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/anlage.pdf", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(BareAxum { url, task })
    }
}

impl Drop for BareAxum {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// nginx serving `dir` on a free port, until dropped.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    async fn serve(file: &[u8]) -> anyhow::Result<Nginx> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("www");
        std::fs::create_dir(&root)?;
        std::fs::write(root.join("anlage.pdf"), file)?;
        // nginx's workers may run as another user: let them read it.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
        let port = free_port()?;
        let d = dir.path().display();
        let conf = format!(
            "worker_processes 2;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n  \
             fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n  \
             server {{ listen 127.0.0.1:{port}; root {d}/www; }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf)?;
        let child = Command::new("nginx")
            .args(["-p", &d.to_string(), "-c"])
            .arg(dir.path().join("nginx.conf"))
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!("cannot run nginx ({e}); `scripts/setup-tools.sh bench`")
            })?;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(Nginx { child, port, dir });
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::bail!("nginx did not start")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // Asked to stop, the master stops its workers; killed, it would
        // leave them running (and listening) after the bench.
        let stopped = Command::new("nginx")
            .arg("-p")
            .arg(self.dir.path())
            .arg("-c")
            .arg(self.dir.path().join("nginx.conf"))
            .args(["-s", "stop"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Hydration of `/login` and `/portal` on a throttled phone, cold cache
/// (`end2end/bench/hydration.mjs` in Debian's Chromium), while the server
/// is otherwise idle. Needs the site in the binary (`scripts/build.sh` or
/// the test command wrote `target/site` before this bench was built) and
/// the node packages (`scripts/setup-tools.sh test`); without them the row
/// says what is missing.
async fn hydration(base: &str, customer: &str) -> anyhow::Result<()> {
    let label = "hydration, phone (9 Mbit/s, 60 ms RTT, CPU 4x slower), cold, median of 3";
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end");
    let wasm = reqwest::get(format!("{base}/pkg/nachweis.wasm"))
        .await?
        .status();
    let missing = if !wasm.is_success() {
        Some("the binary holds no site: run scripts/build.sh --release first")
    } else if !root.join("node_modules/playwright-core").is_dir() {
        Some("no end2end/node_modules: run scripts/setup-tools.sh test")
    } else {
        None
    };
    if let Some(why) = missing {
        println!("{label}: not measured, {why}");
        return Ok(());
    }
    let cookie = customer
        .strip_prefix("Cookie: ")
        .unwrap_or(customer)
        .to_owned();
    let mut cmd = Command::new("node");
    cmd.current_dir(&root)
        .arg("bench/hydration.mjs")
        .args([base, "/login", "-", "/portal", &cookie]);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
    anyhow::ensure!(
        out.status.success(),
        "hydration.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{label}:");
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [path, _, fcp, _, hydrated, _, bytes] = f[..] {
            let kb = bytes.parse::<f64>().unwrap_or(0.0) / 1000.0;
            println!(
                "  {path:<12} first contentful paint {fcp:>5} ms, hydrated {hydrated:>5} ms, {kb:.0} KB transferred"
            );
        }
    }
    Ok(())
}

/// A fresh PostgreSQL database, dropped at the end.
async fn pg_database() -> anyhow::Result<(String, String)> {
    let admin_url = std::env::var("NACHWEIS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let name = format!("nachweis_bench_{}", std::process::id());
    let admin = sea_orm::Database::connect(&admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE template0"))
        .await?;
    app::entities::close(admin).await?;
    let (prefix, _) = admin_url
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("no database in {admin_url}"))?;
    Ok((format!("{prefix}/{name}"), admin_url))
}

async fn drop_pg_database(admin_url: &str, url: &str) -> anyhow::Result<()> {
    let name = url.rsplit_once('/').map(|(_, n)| n).unwrap_or_default();
    let admin = sea_orm::Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    Ok(())
}

/// A measured row of ours: what, at how many connections, requests per second.
type Row = (String, u32, f64);

async fn run(label: &str, database_url: Option<String>) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let mut config = common::config(dir.path())?;
    // One instance secret for both databases: the audit key it derives is
    // installed once per process (this one migrates and verifies the chain).
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let secret = SECRET.get_or_init(|| hex::encode(rand::random::<[u8; 32]>()));
    config.secret_key = Some(secret.clone().into());
    if let Some(url) = database_url {
        config.database_pool = server::config::default_database_pool(&url);
        config.database_url = url;
    }
    // Migrates the database; the server then finds it current.
    let db = server::db::connect(&config).await?;
    let srv = Server::start(&config).await?;
    let base = srv.base.clone();

    let started = std::time::Instant::now();
    #[allow(clippy::disallowed_methods)]
    server::demo::load(&db, chrono::Utc::now()).await?;
    big_org(&db).await?;
    soak::prepare(&db).await?;
    let pw = server::demo::DEMO_PASSWORD;
    let demo_dpo = session(&base, "dpo@conrat.example", pw).await?;
    let demo_customer = session(&base, "kunde@kanzlei-hoffmann.example", pw).await?;
    let big_dpo = session(&base, common::DPO_EMAIL, common::DPO_PASSWORD).await?;
    let big_customer = session(&base, BIG_CUSTOMER, common::DPO_PASSWORD).await?;
    let mut customers = Vec::new();
    for _ in 0..32 {
        customers.push(session(&base, "kunde@kanzlei-hoffmann.example", pw).await?);
    }
    publish(&base, &demo_dpo).await?;
    publish(&base, &big_dpo).await?;
    // PostgreSQL plans from statistics that autovacuum gathers within about
    // a minute of a bulk change; the rows start seconds after 5,000 people
    // were added, which no running instance would still be planning blind
    // for. Gathered now, as autovacuum would have.
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    let annex = format!("{base}/portal/anlage/v1.pdf");
    let (pdf, etag) = fetch(&annex, std::slice::from_ref(&demo_customer)).await?;
    anyhow::ensure!(!etag.is_empty(), "the annex has no ETag");
    // Each session of the rotating row is signed in and gets its 304.
    for cookie in &customers {
        let (name, value) = cookie.split_once(": ").unwrap_or(("Cookie", cookie));
        let res = client()?
            .get(&annex)
            .header(name, value)
            .header("If-None-Match", &etag)
            .send()
            .await?;
        anyhow::ensure!(
            res.status() == reqwest::StatusCode::NOT_MODIFIED,
            "304 row: {}",
            res.status()
        );
    }
    // Every page answers 200 before it is measured.
    for (url, who) in [
        ("/massnahmen", &demo_dpo),
        ("/massnahmen", &big_dpo),
        ("/", &demo_dpo),
        ("/", &big_dpo),
        ("/portal", &demo_customer),
        ("/portal", &big_customer),
    ] {
        fetch(&format!("{base}{url}"), std::slice::from_ref(who)).await?;
    }

    let nginx = Nginx::serve(&pdf).await?;
    let reference = format!("http://127.0.0.1:{}/anlage.pdf", nginx.port);
    let (_, nginx_etag) = fetch(&reference, &[]).await?;
    let bare = BareAxum::serve(&pdf, &etag).await?;
    anyhow::ensure!(
        fetch(&bare.url, &[]).await?.0 == pdf,
        "axum alone: other bytes"
    );
    let unchanged = client()?
        .get(&bare.url)
        .header("If-None-Match", &etag)
        .send()
        .await?
        .status();
    anyhow::ensure!(
        unchanged == reqwest::StatusCode::NOT_MODIFIED,
        "axum alone, 304 row: {unchanged}"
    );

    println!(
        "\n{label}: demo data + Groß GmbH ({MEASURES} measures, {STAFF} staff); set up in {:.1} s; {} s per row; RSS before the load {}",
        started.elapsed().as_secs_f64(),
        seconds(),
        rss(&srv)
    );
    hydration(&base, &demo_customer).await?;
    let kb = pdf.len() / 1024;
    let mut rows: Vec<Row> = Vec::new();
    for c in CONNECTIONS {
        let download = format!("annex download ({kb} KB)");
        let ours = wrk(&download, c, &annex, std::slice::from_ref(&demo_customer)).await?;
        rows.push((download, c, ours));
        let theirs = wrk("  nginx, same file", c, &reference, &[]).await?;
        println!("  {:>47.0} % of nginx", ours / theirs * 100.0);
        let stack = wrk("  axum alone, same file", c, &bare.url, &[]).await?;
        println!(
            "  {:>47.0} % of nginx; Nachweis {:.0} % of axum alone",
            stack / theirs * 100.0,
            ours / stack * 100.0
        );
        let ours = wrk(
            "annex, If-None-Match (304)",
            c,
            &annex,
            &[demo_customer.clone(), format!("If-None-Match: {etag}")],
        )
        .await?;
        rows.push(("annex, If-None-Match (304)".into(), c, ours));
        let theirs = wrk(
            "  nginx, If-None-Match (304)",
            c,
            &reference,
            &[format!("If-None-Match: {nginx_etag}")],
        )
        .await?;
        println!("  {:>47.0} % of nginx", ours / theirs * 100.0);
        let stack = wrk(
            "  axum alone, If-None-Match (304)",
            c,
            &bare.url,
            &[format!("If-None-Match: {etag}")],
        )
        .await?;
        println!(
            "  {:>47.0} % of nginx; Nachweis {:.0} % of axum alone",
            stack / theirs * 100.0,
            ours / stack * 100.0
        );
        let many = "annex, 304, 32 sessions in turn";
        let many_rps = wrk_rotating(
            many,
            c,
            &annex,
            &[format!("If-None-Match: {etag}")],
            &customers,
        )
        .await?;
        rows.push((many.into(), c, many_rps));
        println!("  {:>47.0} % of nginx", many_rps / theirs * 100.0);
        for (what, url, who) in [
            ("/massnahmen, demo (15 measures)", "/massnahmen", &demo_dpo),
            ("/massnahmen, 300 measures", "/massnahmen", &big_dpo),
            ("/ (DPO start page), demo", "/", &demo_dpo),
            ("/ (DPO start page), 300 measures", "/", &big_dpo),
            ("/portal, demo", "/portal", &demo_customer),
            ("/portal, 300 measures", "/portal", &big_customer),
        ] {
            let ours = wrk(what, c, &format!("{base}{url}"), std::slice::from_ref(who)).await?;
            rows.push((what.into(), c, ours));
        }
        for (what, path) in [("/login (no session)", "/login"), ("/healthz", "/healthz")] {
            let ours = wrk(what, c, &format!("{base}{path}"), &[]).await?;
            rows.push((what.into(), c, ours));
        }
    }
    // Right after the last row, and once the server has been idle for
    // SETTLE: whether the memory after the load is the burst's, which the
    // allocator hands back over time (its decay, see `malloc_conf` in
    // main.rs), or kept. On 2026-12-06 it barely fell (167 → 165 MB): what
    // stays is live (page caches of the connections, the server's caches).
    let right_after = rss(&srv);
    tokio::time::sleep(SETTLE).await;
    println!(
        "{label}: RSS right after the load {right_after}; idle {} s later {}; panics in the server's log: {}",
        SETTLE.as_secs(),
        rss(&srv),
        srv.panics(&config)
    );
    drop(nginx);
    drop(bare);
    soak::run(label, &base, &db, big_dpo, big_customer).await?;
    println!(
        "{label}: RSS after the soak {}; panics in the server's log: {}",
        rss(&srv),
        srv.panics(&config)
    );
    Ok(rows)
}

/// How much slower PostgreSQL served each row than SQLite in this run.
fn compare(sqlite: &[Row], postgres: &[Row]) {
    println!("\nPostgreSQL against SQLite, this run (SQLite req/s ÷ PostgreSQL req/s):");
    let mut worst: Option<(f64, &str, u32)> = None;
    for ((what, c, lite), (_, _, pg)) in sqlite.iter().zip(postgres) {
        let times = lite / pg.max(f64::MIN_POSITIVE);
        println!("{what:<44} c={c:<3} {times:>10.2}×");
        if worst.is_none_or(|(w, _, _)| times > w) {
            worst = Some((times, what, *c));
        }
    }
    if let Some((times, what, c)) = worst {
        println!("slowest: {what} at c={c}, {times:.2}×");
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    println!(
        "Nachweis under load (wrk, loopback; server, nginx and wrk share the machine's cores)"
    );
    let mut sqlite = Vec::new();
    if only.as_deref().is_none_or(|o| o == "sqlite") {
        sqlite = run("SQLite", None).await?;
    }
    if only.as_deref().is_none_or(|o| o == "postgres") {
        let (url, admin) = pg_database().await?;
        let result = run("PostgreSQL", Some(url.clone())).await;
        drop_pg_database(&admin, &url).await?;
        let postgres = result?;
        if !sqlite.is_empty() {
            compare(&sqlite, &postgres);
        }
    }
    Ok(())
}
