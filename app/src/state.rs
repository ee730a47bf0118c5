//! What every request handler and server function can reach: the database,
//! the clock, and the settings that shape responses.

use std::sync::Arc;

use axum::extract::FromRef;
use chrono::{DateTime, Utc};
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

/// Time is a parameter: production reads the system clock, tests set it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
        Utc::now()
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub leptos: LeptosOptions,
    pub clock: Arc<dyn Clock>,
    /// Public base URL without trailing slash, e.g. `https://nachweis.example.com`.
    pub public_url: String,
    /// Where signing keys come from and the secret that encrypts stored ones.
    pub signing: crate::pdf::keys::SigningSetup,
    /// Where evidence files are stored, and how large they may be.
    pub evidence: EvidenceSettings,
    /// What the operator decided about network trust.
    pub net: NetSettings,
    /// Appends audit rows that are a request's only write in shared
    /// transactions (group commit).
    pub audit: crate::audit::batch::AuditBatcher,
    /// The signed annexes this process has delivered (immutable, so kept).
    pub published: crate::annex::publish::FileCache,
}

/// The operator's decisions about the network, from the configuration.
#[derive(Clone, Debug, Default)]
pub struct NetSettings {
    /// Sign-in providers may live on loopback or private addresses.
    pub sso_allow_private_addresses: bool,
    /// Proxies whose `X-Forwarded-For` is believed (see [`crate::net`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Clone, Debug)]
pub struct EvidenceSettings {
    pub store: Arc<dyn crate::blobs::BlobStore>,
    pub max_bytes: u64,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
