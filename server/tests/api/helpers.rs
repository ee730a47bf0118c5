//! `spawn_app()`: a running Nachweis on port 0 with its own database, and
//! typed helpers to call it like a browser or a script would.

use std::sync::Arc;

use app::audit::service::AuditActor;
use app::domain::{EmailAddress, Role, ShortName};
use app::entities::BeginWrite;
use app::state::Clock;
use chrono::{DateTime, Utc};
use reqwest::{StatusCode, redirect::Policy};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use server::config::{Config, Overrides};
use server::startup::Application;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body on both databases.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::pg_available().await {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        }
    };
}

fn pg_admin_url() -> String {
    std::env::var("NACHWEIS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether PostgreSQL is reachable. Without it the PostgreSQL runs are
/// skipped loudly, except under CI=true, where that is a failure.
pub async fn pg_available() -> bool {
    match Database::connect(pg_admin_url()).await {
        Ok(db) => {
            let _ = app::entities::close(db).await;
            true
        }
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "PostgreSQL at {} is not reachable and CI=true: {e}",
                    pg_admin_url()
                );
            }
            eprintln!(
                "\n*** SKIPPED: PostgreSQL run (no server at {}: {e}) ***\n",
                pg_admin_url()
            );
            false
        }
    }
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(std::sync::Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(t))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }

    pub fn advance(&self, d: chrono::Duration) {
        let mut t = self.0.lock().unwrap();
        *t += d;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The database of one test: a temp dir for SQLite, a uniquely named
/// PostgreSQL database that is dropped afterwards.
/// The instance secret of every test instance (64 hex digits).
pub const TEST_INSTANCE_SECRET: &str =
    "6e61636877656973207465737420696e7374616e636520736563726574202121";

pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub url: String,
    pg_name: Option<String>,
}

impl TestDb {
    /// The `nachweis` binary on this data directory and database, for the
    /// command line and server-process tests to add their command to.
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nachweis"));
        cmd.arg("--data-dir")
            .arg(self.dir.path())
            .arg("--database-url")
            .arg(&self.url);
        cmd
    }

    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // One instance secret for every test instance: the audit chain's key
        // is per process (one instance per process in production), and the
        // CLI processes a test starts read the same data directory.
        std::fs::write(dir.path().join("secret.key"), TEST_INSTANCE_SECRET).expect("secret");
        match backend {
            Backend::Sqlite => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("nachweis.db").display()
                ),
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!("nachweis_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(pg_admin_url()).await.expect("postgres");
                // From template0: nothing ever connects to it, while an
                // autovacuum worker in template1 can make CREATE DATABASE
                // fail on a loaded machine ("being accessed by other users").
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE template0"))
                    .await
                    .expect("create database");
                let _ = app::entities::close(admin).await;
                let base = pg_admin_url();
                let (prefix, _) = base.rsplit_once('/').expect("database in URL");
                Self {
                    url: format!("{prefix}/{name}"),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            // Drop runs outside async: use a small runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(admin) = Database::connect(pg_admin_url()).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    pub clock: Arc<TestClock>,
    pub config: Config,
    pub sessions: app::auth::session_store::DbSessionStore,
    /// SQL statements the application has run.
    pub statements: server::startup::StatementCount,
    /// What the server's requests share (tests hold its locks).
    pub state: app::state::AppState,
    server: JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub fn config_for(db: &TestDb) -> Config {
    let flags = Overrides {
        config_file: None,
        data_dir: Some(db.dir.path().to_path_buf()),
        database_url: Some(db.url.clone()),
        listen: Some("127.0.0.1:0".to_owned()),
    };
    struct NoEnv;
    impl server::config::Env for NoEnv {
        fn var(&self, _key: &str) -> Option<String> {
            None
        }
    }
    let mut c = Config::load(&flags, &NoEnv).expect("config");
    // The site embedded in the binary (scripts/build.sh writes it first).
    c.site_root = None;
    // Tests run the worker's passes themselves, at the test clock's time.
    c.worker_interval_secs = 3600;
    // Tests move the clock by days with a client signed in; the idle
    // timeout has its own test (auth.rs), which sets it back.
    c.session_idle_minutes = 60 * 24 * 365;
    // The test OpenID Connect providers listen on loopback: allowed here
    // explicitly, refused by default (sso.rs tests both).
    c.sso_allow_private_addresses = true;
    c
}

pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_with(config_for(db), TestClock::starting_now()).await
}

impl TestClock {
    /// A test clock at the real time of the call.
    pub fn starting_now() -> Arc<TestClock> {
        #[allow(clippy::disallowed_methods)]
        let start = Utc::now();
        Arc::new(TestClock(std::sync::Mutex::new(start)))
    }
}

pub async fn spawn_with(config: Config, clock: Arc<TestClock>) -> TestApp {
    let app = Application::build_with_clock(&config, clock.clone())
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db.clone();
    let sessions = app.session_store();
    let statements = app.statement_count();
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async move {
            let _ = rx.await;
        })
        .await
        .expect("server");
    });
    TestApp {
        address,
        db,
        clock,
        config,
        sessions,
        statements,
        state,
        server,
        shutdown: Some(tx),
    }
}

impl TestApp {
    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Graceful shutdown waits for open connections; don't let a client's
        // idle keep-alive connection hold the test up.
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.server)
            .await
            .is_err()
        {
            self.server.abort();
        }
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.address.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                // Generous: a debug-built Typst render on two busy cores can
                // take long; a request that hangs still fails the test.
                .timeout(std::time::Duration::from_secs(300))
                .build()
                .expect("client"),
        }
    }

    /// Creates an organisation and one person per role; returns their ids.
    pub async fn org(&self, short: &str) -> Org {
        let now = self.clock.now();
        let actor = AuditActor::system("test");
        let txn = self.db.begin_write().await.expect("txn");
        let org = app::orgs::service::create_org(
            &txn,
            now,
            &actor,
            &ShortName::parse(short).unwrap(),
            &format!("{short} GmbH"),
        )
        .await
        .expect("org");
        let mut people = Vec::new();
        for role in Role::ALL {
            let email = EmailAddress::parse(&format!("{}@{short}.example", role.as_str())).unwrap();
            let u = app::auth::service::create_user(
                &txn,
                now,
                &actor,
                &email,
                &format!("{} {short}", role.as_str()),
                Some(PASSWORD),
            )
            .await
            .expect("user");
            app::orgs::service::add_membership(&txn, now, &actor, org.id, u.id, role)
                .await
                .expect("member");
            people.push((role, u.id, email.as_str().to_owned()));
        }
        txn.commit().await.expect("commit");
        Org {
            id: org.id,
            short: short.to_owned(),
            people,
        }
    }
}

pub struct Org {
    pub id: app::ids::OrgId,
    pub short: String,
    pub people: Vec<(Role, app::ids::UserId, String)>,
}

impl Org {
    pub fn email(&self, role: Role) -> String {
        self.people
            .iter()
            .find(|p| p.0 == role)
            .map(|p| p.2.clone())
            .unwrap()
    }
    pub fn user_id(&self, role: Role) -> app::ids::UserId {
        self.people
            .iter()
            .find(|p| p.0 == role)
            .map(|p| p.1)
            .unwrap()
    }
}

/// A browser-like client with its own cookie jar.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn error(&self) -> Option<app::error::AppError> {
        serde_json::from_str(&self.body).ok()
    }
}

impl Client {
    /// Calls a server function the way the hydrated app does (JSON answer).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request");
        Answer {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.expect("body"),
        }
    }

    /// Posts a form the way a browser without JavaScript does.
    pub async fn post_form(&self, endpoint: &str, form: &[(&str, &str)], referer: &str) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "text/html,application/xhtml+xml")
            .header("Referer", format!("{}{referer}", self.base))
            .form(form)
            .send()
            .await
            .expect("request");
        Answer {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .expect("request");
        Answer {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.expect("body"),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.call("auth/login", &[("email", email), ("password", password)])
            .await
    }

    pub async fn login_ok(&self, email: &str) {
        let a = self.login(email, PASSWORD).await;
        assert!(
            a.status.is_success(),
            "login of {email} failed: {} {}",
            a.status,
            a.body
        );
    }
}
