//! Builds the application: database, sessions, Leptos routes, health check,
//! security headers. Tests start it on port 0.

use std::sync::Arc;

use app::error::AppError;
use app::state::{AppState, Clock, SystemClock};
use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::net::TcpListener;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::config::Config;

/// The fallback: a file of the site, else the application's 404 page.
fn site_or_not_found(
    state: AppState,
    site: crate::site::Site,
) -> impl Fn(Request) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>> + Clone + Send + 'static
{
    let site = Arc::new(site);
    let leptos = state.leptos.clone();
    let page = leptos_axum::render_app_to_stream_with_context(
        move || leptos::prelude::provide_context(state.clone()),
        move || app::shell(leptos.clone()),
    );
    move |req: Request| {
        let site = site.clone();
        let page = page.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let probe = Request::from_parts(parts.clone(), Body::empty());
            if let Some(res) = site.serve(probe).await {
                return res;
            }
            let mut res = page(Request::from_parts(parts, body)).await;
            if res.status() == StatusCode::OK {
                *res.status_mut() = StatusCode::NOT_FOUND;
            }
            res
        })
    }
}

/// Largest request body accepted (form posts); larger ones get 413.
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub db: DatabaseConnection,
    pub state: AppState,
    mailer: Option<crate::mailer::Mailer>,
    worker_interval: std::time::Duration,
    digest_hour: u32,
    /// The session store: the router's layer and the hourly sweep share it.
    sessions: app::auth::session_store::DbSessionStore,
    statements: StatementCount,
}

/// How many SQL statements this application's connection has run, and how
/// many of them wrote (INSERT, UPDATE, DELETE).
#[derive(Debug, Clone, Default)]
pub struct StatementCount(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    all: std::sync::atomic::AtomicU64,
    writes: std::sync::atomic::AtomicU64,
}

impl Counts {
    fn add(&self, sql: &str) {
        use std::sync::atomic::Ordering::Relaxed;
        self.all.fetch_add(1, Relaxed);
        let sql = sql.trim_start();
        let is = |verb: &str| {
            sql.get(..verb.len())
                .is_some_and(|v| v.eq_ignore_ascii_case(verb))
        };
        // A `WITH` writes if it holds a data-modifying statement (the
        // audit append on PostgreSQL); ours write in capitals.
        if ["INSERT", "UPDATE", "DELETE"].into_iter().any(is)
            || (is("WITH")
                && ["INSERT ", "UPDATE ", "DELETE "]
                    .iter()
                    .any(|w| sql.contains(w)))
        {
            self.writes.fetch_add(1, Relaxed);
        }
    }
}

impl StatementCount {
    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.0.all.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Of those, the ones that wrote.
    pub fn writes(&self) -> u64 {
        self.0.writes.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let mut db = crate::db::connect(config).await?;
        // Every statement counted, so tests can show what a page costs.
        let statements = StatementCount::default();
        {
            let count = statements.0.clone();
            app::entities::set_metric_callback(&mut db, move |info| {
                count.add(&info.statement.sql);
                // `NACHWEIS_LOG=info,nachweis::sql=trace` lists what a
                // request runs: the statement's text with placeholders,
                // never the values bound to them (no secrets in the log).
                tracing::trace!(
                    target: "nachweis::sql",
                    micros = info.elapsed.as_micros() as u64,
                    failed = info.failed,
                    "{}",
                    info.statement.sql
                );
            });
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("configuration: setting `listen` (NACHWEIS_LISTEN / --listen): cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let site = crate::site::Site::new(config.site_root.clone());
        if site.has_wasm() {
            tracing::info!(site = %site.describe(), "site");
        } else {
            tracing::warn!(
                site = %site.describe(),
                "the site has no {}: pages render but never hydrate (build with scripts/build.sh, or set LEPTOS_SITE_ROOT)",
                crate::site::WASM
            );
        }
        let mut leptos = LeptosOptions::builder()
            .output_name("nachweis")
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        if let crate::site::Site::Dir(dir) = &site {
            leptos.site_root = dir.to_string_lossy().into();
        }
        let public_url = if config.listen.port() == 0 {
            format!("http://{addr}")
        } else {
            config.public_url.clone()
        };
        let state = AppState::new(app::state::Shared {
            db: db.clone(),
            leptos,
            clock,
            public_url: public_url.clone(),
            signing: crate::secrets::signing_setup(config)?,
            evidence: app::state::EvidenceSettings {
                store: crate::storage::from_config(config)?,
                max_bytes: config.evidence_max_bytes,
            },
            net: app::state::NetSettings {
                sso_allow_private_addresses: config.sso_allow_private_addresses,
                trusted_proxies: config.trusted_proxies.clone(),
            },
            audit: app::audit::batch::AuditBatcher::start(db.clone()),
            published: Default::default(),
            chain_check: Default::default(),
        });
        let synced = app::sso::service::sync_configured(&state, &config.sso_providers)
            .await
            .map_err(|e| anyhow::anyhow!("configuration: setting `sso.providers`: {e}"))?;
        if synced != app::sso::service::SyncReport::default() {
            tracing::info!(
                created = synced.created,
                updated = synced.updated,
                unchanged = synced.unchanged,
                disabled = synced.disabled,
                "sign-in providers from the configuration file"
            );
        }
        let check = crate::storage::check(&db, state.evidence.store.as_ref()).await?;
        if !check.rows_missing_blob.is_empty() {
            tracing::error!(
                rows = ?check.rows_missing_blob,
                "evidence: version rows whose file is missing from {}",
                state.evidence.store.describe()
            );
        }
        if check.staging_removed + check.orphan_blobs_removed > 0 {
            tracing::info!(
                staging_removed = check.staging_removed,
                orphan_blobs_removed = check.orphan_blobs_removed,
                "evidence: removed leftovers of interrupted uploads"
            );
        }
        let mailer = config
            .smtp
            .as_ref()
            .map(crate::mailer::Mailer::new)
            .transpose()?;
        let sessions = app::auth::session_store::DbSessionStore::new(
            db.clone(),
            state.clock.clone(),
            chrono::Duration::minutes(config.session_idle_minutes),
        );
        let router = router(
            state.clone(),
            site,
            config.metrics_token.clone(),
            sessions.clone(),
            config.session_idle_minutes,
            public_url.starts_with("https://"),
        );
        Ok(Self {
            listener,
            router,
            db,
            state,
            mailer,
            worker_interval: std::time::Duration::from_secs(config.worker_interval_secs),
            digest_hour: config.digest_hour,
            sessions,
            statements,
        })
    }

    /// The statements run so far (tests read it around a request).
    pub fn statement_count(&self) -> StatementCount {
        self.statements.clone()
    }

    /// The session store (tests and benches read its write count).
    pub fn session_store(&self) -> app::auth::session_store::DbSessionStore {
        self.sessions.clone()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until the future `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.sessions.clone();
        let sweep_state = self.state.clone();
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let now = sweep_state.now();
                if let Err(e) = store.delete_expired(now).await {
                    tracing::warn!("session sweep failed: {e}");
                }
                if let Err(e) = app::auth::service::sweep_throttle(&sweep_state.db, now).await {
                    tracing::warn!("login throttle sweep failed: {e}");
                }
            }
        });
        let worker = crate::jobs::spawn(
            self.state.clone(),
            self.mailer,
            self.worker_interval,
            self.digest_hour,
        );
        let res = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        sweeper.abort();
        worker.abort();
        res
    }
}

/// The app's routes, generated once per process. Generating them runs the
/// whole app with resource loading suppressed by a process-wide flag
/// (leptos_server's `SuppressResourceLoad`): a resource that first polls
/// meanwhile, in a page another instance is rendering, waits forever
/// (leptos issue #4773). One server per process never overlaps the two;
/// the test and bench processes start many, so they share one list.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

fn router(
    state: AppState,
    site: crate::site::Site,
    metrics_token: Option<secrecy::SecretString>,
    store: app::auth::session_store::DbSessionStore,
    idle_minutes: i64,
    secure: bool,
) -> Router {
    let sessions = SessionManagerLayer::new(store)
        // Every request counts as activity (the store writes at most once a
        // minute per session).
        .with_always_save(true)
        .with_name("nachweis_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(idle_minutes)));

    let routes = route_list();
    let leptos = state.leptos.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(crate::metrics::serve).with_state((state.clone(), metrics_token)),
        )
        // Each concept's own plain routes (downloads, form posts, sign-in).
        .merge(app::annex::http::routes())
        .merge(app::portal::http::routes())
        .merge(app::evidence::http::routes())
        .merge(app::pledges::http::routes())
        .merge(app::training::http::routes())
        .merge(app::reviews::http::routes())
        .merge(app::sso::http::routes(
            app::sso::http::Confirmations::default()
                .on(
                    app::pledges::http::CONFIRM_KIND,
                    app::pledges::http::confirmed,
                )
                .on(
                    app::contract::http::CONFIRM_KIND,
                    app::contract::http::confirmed,
                ),
        ))
        .merge(app::customers::http::routes())
        .merge(app::subprocessors::http::routes())
        .merge(app::contract::http::routes())
        .merge(app::register::http::routes())
        .merge(app::protocol::http::routes())
        .leptos_routes(&state, routes, {
            let leptos = leptos.clone();
            move || app::shell(leptos.clone())
        })
        .fallback(site_or_not_found(state.clone(), site))
        // Layers go on in one `ServiceBuilder` per group (outermost first):
        // each `Router::layer` call boxes every route once more, and a
        // request clones its route's whole stack, so one call per group
        // keeps that to a few boxes instead of one per layer.
        .layer(
            tower::ServiceBuilder::new()
                .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
                .map_request(|req: Request<tower_http::body::Limited<Body>>| req.map(Body::new))
                .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
                .layer(middleware::from_fn_with_state(
                    KEPT_FORMS,
                    app::http::keep_refused_forms,
                ))
                .layer(middleware::from_fn(server_fn_status)),
        )
        // Added after the body limits: the upload streams and counts itself.
        .merge(app::evidence::http::upload_routes())
        // Every layer clones the stack below it for every request, so the
        // work each request needs on its way in and out is done in as few
        // layers as possible (two for the headers and the door, not ten).
        .layer(
            tower::ServiceBuilder::new()
                .layer(compression())
                .map_response(always_headers(secure))
                .layer(middleware::from_fn_with_state(state.clone(), front_door))
                .layer(sessions)
                .layer(middleware::from_fn_with_state(state.clone(), login_gate)),
        )
        .with_state(state)
}

/// Pages, server-function answers and CSV exports go out compressed when
/// the client accepts brotli or gzip. The site's files come precompressed
/// (they already carry a Content-Encoding, which this layer leaves alone);
/// PDFs and images are compressed already.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    tower_http::compression::CompressionLayer::new()
        .br(true)
        .gzip(true)
        .compress_when(
            DefaultPredicate::new()
                .and(NotForContentType::const_new("application/pdf"))
                .and(NotForContentType::const_new("application/wasm")),
        )
}

/// The headers every response carries unless its handler set its own.
const ALWAYS: [(header::HeaderName, HeaderValue); 6] = [
    (
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), interest-cohort=()",
        ),
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(app::csp::DEFAULT_POLICY),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
];

/// Adds [`ALWAYS`] (and over https HSTS) where the handler did not set its own.
fn always_headers(secure: bool) -> impl Fn(Response) -> Response + Clone {
    // Only over https: a browser that saw it over http would refuse a
    // later plain-http instance on that name.
    let hsts = secure.then_some((
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    ));
    move |mut res: Response| {
        let headers = res.headers_mut();
        for (name, value) in ALWAYS.into_iter().chain(hsts.clone()) {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        }
        res
    }
}

/// Every request's way in and out: its client address, the refusal of a
/// cross-origin write, and on the way out its metrics and its log line.
async fn front_door(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let timing = crate::metrics::Timing::start(&req);
    let method = req.method().clone();
    let path = redact(req.uri().path());
    put_client_addr(&state, &mut req);
    let res = match cross_origin_write(&state, &req) {
        Some(refused) => refused,
        None => next.run(req).await,
    };
    let took = timing.done(res.status());
    tracing::info!(target: "nachweis::http", %method, %path, status = res.status().as_u16(), ms = took.as_millis() as u64);
    res
}

/// Puts the client's address into the request (see [`app::net`]): the
/// connection's peer, or behind a configured proxy the rightmost address
/// it did not add itself. Nothing else in the app reads forwarding headers.
fn put_client_addr(state: &AppState, req: &mut Request) {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = app::net::client_addr(peer, &forwarded, &state.net.trusted_proxies);
    req.extensions_mut().insert(app::net::ClientAddr(ip));
}

/// The refusal of a state-changing request that a browser sent from
/// another origin: its `Origin` (or, without one, `Sec-Fetch-Site`) must be
/// this site. SameSite=Lax cookies alone let a sibling subdomain post, and
/// let any site sign a browser in to an attacker's account (login CSRF).
/// Requests without either header (not from a browser: the CLI, scripts)
/// carry no ambient cookies of a victim and pass.
fn cross_origin_write(state: &AppState, req: &Request) -> Option<Response> {
    use axum::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let headers = req.headers();
    let allowed = match headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or(""))
    {
        Some(origin) => same_origin(&state.public_url, origin),
        None => !matches!(
            headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
            Some("cross-site" | "same-site")
        ),
    };
    if allowed {
        return None;
    }
    tracing::warn!(path = %redact(req.uri().path()), "refused a cross-origin write");
    Some(
        (
            StatusCode::FORBIDDEN,
            "Diese Anfrage kam nicht von dieser Website und wurde abgewiesen. / This request did not come from this site and was refused.",
        )
            .into_response(),
    )
}

/// Whether a browser's `Origin` is the public URL's origin. For an
/// instance on loopback, any loopback name on the same port counts
/// (`localhost` and `127.0.0.1` are the same machine to the person).
fn same_origin(public_url: &str, origin: &str) -> bool {
    let (Ok(public), Ok(origin)) = (url::Url::parse(public_url), url::Url::parse(origin)) else {
        return false;
    };
    if public.origin() == origin.origin() {
        return true;
    }
    let loopback = |u: &url::Url| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    loopback(&public)
        && loopback(&origin)
        && public.scheme() == origin.scheme()
        && public.port_or_known_default() == origin.port_or_known_default()
}

/// Pages that need no session: the login, invitations, and what is not a page.
fn is_public(path: &str) -> bool {
    path == "/login"
        || path.starts_with("/einladung/")
        || path == "/sso"
        || path.starts_with("/anmeldelink")
        || path.starts_with("/sso/")
        || path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}

/// Sends a browser that asks for a page without being signed in to the login
/// before any rendering starts: a plain 302 instead of a redirect decided
/// halfway through server-side rendering.
async fn login_gate(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    mut request: Request,
    next: Next,
) -> Response {
    let wants_page = request.method() == axum::http::Method::GET
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    let path = request.uri().path();
    // The page's server functions reuse the lookup made here.
    let mut once = app::auth::service::RequestActor::default();
    if wants_page && !is_public(path) {
        match app::auth::service::person_for_session(&state, &session).await {
            Ok(person) => once = app::auth::service::RequestActor::known(person),
            Err(AppError::Unauthenticated) => {
                let target = if path == "/" {
                    "/login".to_owned()
                } else {
                    let full = request
                        .uri()
                        .path_and_query()
                        .map_or(path, |pq| pq.as_str());
                    app::http::with_query("/login", "next", full)
                };
                return (StatusCode::FOUND, [(header::LOCATION, target)]).into_response();
            }
            // The page shows the error where it needs the person.
            Err(_) => {}
        }
    }
    request.extensions_mut().insert(once);
    next.run(request).await
}

/// Liveness: the process answers. No database access, so a slow or
/// unreachable database does not get a healthy process restarted.
async fn healthz() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok")
}

/// Readiness: the database answers within two seconds and its schema is
/// the one this binary expects (no migration pending). 503 otherwise, with
/// the reason in one line.
async fn readyz(State(state): State<AppState>) -> Response {
    use migrations::MigratorTrait;
    let check = async {
        state
            .db
            .execute_unprepared("SELECT 1")
            .await
            .map_err(|e| format!("database unreachable: {e}"))?;
        let pending = migrations::Migrator::get_pending_migrations(&state.db)
            .await
            .map_err(|e| format!("migrations cannot be read: {e}"))?;
        if !pending.is_empty() {
            return Err(format!("{} migration(s) pending", pending.len()));
        }
        Ok::<_, String>(())
    };
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(2), check)
        .await
        .unwrap_or_else(|_| Err("database did not answer within 2 s".to_owned()));
    match outcome {
        Ok(()) => ([(header::CACHE_CONTROL, "no-store")], "ready").into_response(),
        Err(why) => {
            tracing::warn!("not ready: {why}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CACHE_CONTROL, "no-store")],
                why,
            )
                .into_response()
        }
    }
}

/// The forms of plain text whose input a refused post keeps for the page
/// it returns to (`app::ui::kept`). No form with a password or a token.
const KEPT_FORMS: app::http::KeptForms = {
    use leptos::server_fn::ServerFn;
    app::http::KeptForms(&[
        app::toms::CreateMeasure::PATH,
        app::toms::UpdateMeasure::PATH,
        app::avv::SaveAvvText::PATH,
        app::pledges::PublishPledge::PATH,
        app::subprocessors::SaveSubprocessor::PATH,
        app::customers::AddCustomer::PATH,
        app::orgs::UpdateProfile::PATH,
        app::training::CreateCourse::PATH,
        app::evidence::UpdateEvidence::PATH,
        "/kunden/*/angaben",
        "/pruefungen/neu",
        "/pruefungen/bewertung/*",
    ])
};

/// Server functions answer errors with 500 by default; give each
/// [`app::error::AppError`] its own status (400, 401, 403, 404, 409, 422, 429).
async fn server_fn_status(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_api
        || res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(err) = serde_json::from_slice::<app::error::AppError>(&bytes) {
        parts.status = app::http::status_of(&err);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Paths whose last part is a secret (a one-time token): logged without it.
const SECRET_PATHS: &[&str] = &["/einladung/", "/anmeldelink/"];

fn redact(path: &str) -> String {
    for prefix in SECRET_PATHS {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return format!("{prefix}<token>");
        }
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_this_site() {
        let public = "https://nachweis.example";
        assert!(same_origin(public, "https://nachweis.example"));
        assert!(!same_origin(public, "https://evil.example"));
        assert!(!same_origin(public, "https://sub.nachweis.example"));
        assert!(!same_origin(public, "http://nachweis.example"));
        assert!(!same_origin(public, "null"));
        let local = "http://127.0.0.1:3000";
        assert!(same_origin(local, "http://localhost:3000"));
        assert!(!same_origin(local, "http://localhost:3001"));
    }

    #[test]
    fn secret_paths_are_redacted() {
        assert_eq!(redact("/einladung/abc123"), "/einladung/<token>");
        assert_eq!(redact("/anmeldelink/abc123"), "/anmeldelink/<token>");
        assert_eq!(redact("/anmeldelink"), "/anmeldelink");
        assert_eq!(redact("/massnahmen/3"), "/massnahmen/3");
    }

    /// A new page with a token in its path must be added to SECRET_PATHS.
    /// (Generating the route list needs the runtime the server runs on.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_route_with_a_token_is_redacted() {
        for route in route_list() {
            let path = route.path();
            if let Some(at) = path.find(":token").or_else(|| path.find("{token}")) {
                let prefix = &path[..at];
                assert!(
                    SECRET_PATHS.contains(&prefix),
                    "{path} carries a token but is logged in full"
                );
            }
        }
    }
}
