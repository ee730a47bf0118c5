//! `/metrics` in the Prometheus text format: requests and their latency per
//! route template, the outbox, background job runs and the evidence stored.
//!
//! Labels carry route templates (`/massnahmen/{id}`), methods, status codes
//! and job names only: never a path with ids or tokens in it, never a name
//! or an address. The endpoint answers only a configured bearer token
//! (`metrics_token`); without one it does not exist.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use app::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
    outcome: &'static str,
}

/// The process's metrics (one process serves one instance).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    jobs: Family<JobLabels, Counter>,
    outbox_queued: Gauge,
    outbox_failed: Gauge,
    evidence_bytes: Gauge,
    evidence_files: Gauge,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let mut registry = Registry::with_prefix("nachweis");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let jobs = Family::<JobLabels, Counter>::default();
        let (outbox_queued, outbox_failed, evidence_bytes, evidence_files) = (
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to the response head, by method and route template",
            latency.clone(),
        );
        registry.register(
            "job_runs",
            "Background job runs by job and outcome",
            jobs.clone(),
        );
        registry.register(
            "outbox_queued",
            "Mails waiting in the outbox (queued or being sent)",
            outbox_queued.clone(),
        );
        registry.register(
            "outbox_failed",
            "Mails the outbox gave up on",
            outbox_failed.clone(),
        );
        registry.register(
            "evidence_stored_bytes",
            "Bytes of evidence files stored (every version)",
            evidence_bytes.clone(),
        );
        registry.register(
            "evidence_stored_files",
            "Evidence file versions stored",
            evidence_files.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            jobs,
            outbox_queued,
            outbox_failed,
            evidence_bytes,
            evidence_files,
        }
    })
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    fn observe(&self, method: &'static str, route: String, status: StatusCode, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.clone(),
                status: status.as_u16(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    /// Counts one run of a background `job` (`ok` or `error`).
    pub fn job(&self, job: &'static str, ok: bool) {
        self.jobs
            .get_or_create(&JobLabels {
                job,
                outcome: if ok { "ok" } else { "error" },
            })
            .inc();
    }
}

/// The route template a request matched (leptos registers every server
/// function at its own fixed path, so templates are bounded and carry no
/// ids); anything unmatched is one label.
fn route_label(req: &Request) -> String {
    match req.extensions().get::<MatchedPath>() {
        Some(m) => m.as_str().to_owned(),
        None if req.uri().path().starts_with("/pkg/") => "/pkg/*".into(),
        None => "(unmatched)".into(),
    }
}

/// A request being counted and timed: from [`Timing::start`] as it comes in
/// to [`Timing::done`] with its answer.
pub struct Timing {
    method: &'static str,
    route: String,
    start: Instant,
}

impl Timing {
    pub fn start(req: &Request) -> Self {
        Self {
            method: method_label(req.method()),
            route: route_label(req),
            start: Instant::now(),
        }
    }

    /// Counts the request with its status; returns how long it took.
    pub fn done(self, status: StatusCode) -> Duration {
        let took = self.start.elapsed();
        metrics().observe(self.method, self.route, status, took);
        took
    }
}

/// `GET /metrics` with `Authorization: Bearer <metrics_token>`.
pub async fn serve(
    State((state, token)): State<(AppState, Option<SecretString>)>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !authorised(&headers, &token) {
        let mut res = StatusCode::UNAUTHORIZED.into_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return res;
    }
    let m = metrics();
    if let Err(e) = refresh(&state, m).await {
        tracing::warn!("metrics: reading the database failed: {e}");
    }
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Compares digests, so the comparison takes the same time for every guess.
fn authorised(headers: &HeaderMap, token: &SecretString) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.expose_secret().as_bytes())
}

/// The gauges that are read from the database at scrape time.
async fn refresh(state: &AppState, m: &Metrics) -> Result<(), sea_orm::DbErr> {
    use app::entities::{evidence_versions, outbox};
    let queued = outbox::Entity::find()
        .filter(outbox::Column::Status.is_in(["queued", "sending"]))
        .count(&state.db)
        .await?;
    let failed = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(app::domain::OutboxStatus::Failed))
        .count(&state.db)
        .await?;
    // Cast: PostgreSQL sums a bigint column as numeric.
    let (files, bytes): (i64, i64) = evidence_versions::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "files")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"),
            "bytes",
        )
        .into_tuple::<(i64, i64)>()
        .one(&state.db)
        .await?
        .unwrap_or((0, 0));
    m.outbox_queued.set(queued as i64);
    m.outbox_failed.set(failed as i64);
    m.evidence_files.set(files);
    m.evidence_bytes.set(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_is_let_in() {
        let token = SecretString::from("0123456789abcdef01234567".to_owned());
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(authorised(&with("Bearer 0123456789abcdef01234567"), &token));
        assert!(!authorised(&with("Bearer 0123456789abcdef0123456"), &token));
        assert!(!authorised(&with("Basic 0123456789abcdef01234567"), &token));
        assert!(!authorised(&HeaderMap::new(), &token));
    }
}
