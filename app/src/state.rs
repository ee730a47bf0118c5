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

/// Cloned on every request, by each layer and extractor that holds it:
/// one reference count, not a copy of every setting.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; its fields are read through the state.
pub struct Shared {
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
    pub published: FileCache,
    /// Held while the audit chain is recomputed: that reads every row of
    /// the installation, so one check runs at a time (per installation,
    /// not per process: a test process serves many).
    pub chain_check: tokio::sync::Mutex<()>,
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
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// A published version as it is delivered. Publications are insert-only
/// (a new version is a new row, and a restore goes into an empty
/// database), so the bytes of a version never change once written and each
/// process keeps the ones it has delivered: a download or a conditional GET
/// of a known version reads nothing from the database.
#[derive(Debug)]
pub struct PublishedFile {
    pub org_id: crate::ids::OrgId,
    pub version: i32,
    pub sha256: String,
    pub pdf: bytes::Bytes,
}

/// The published files this process has delivered, at most
/// [`FILE_CACHE_BYTES`] of them; beyond that, older entries make room.
#[derive(Debug, Clone, Default)]
pub struct FileCache(std::sync::Arc<std::sync::Mutex<CachedFiles>>);

#[derive(Debug, Default)]
pub struct CachedFiles {
    files:
        std::collections::HashMap<(crate::ids::OrgId, i32), (u64, std::sync::Arc<PublishedFile>)>,
    bytes: usize,
    /// Insertion counter: the smallest is evicted first.
    next: u64,
}

/// Memory the file cache may take (a signed annex is about 80 KB).
pub const FILE_CACHE_BYTES: usize = 8 << 20;

impl FileCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CachedFiles> {
        // The map holds no invariant a panic could break.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Version `version` of the organisation's annex, from memory or (the
    /// first time) from the database; not found if it was never published.
    pub async fn get(
        &self,
        db: &sea_orm::DatabaseConnection,
        org_id: crate::ids::OrgId,
        version: i32,
    ) -> crate::error::AppResult<std::sync::Arc<PublishedFile>> {
        if let Some((_, file)) = self.lock().files.get(&(org_id, version)) {
            return Ok(file.clone());
        }
        use crate::entities::publications;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        let (sha256, pdf) = publications::Entity::find()
            .select_only()
            .column(publications::Column::Sha256)
            .column(publications::Column::Pdf)
            .filter(publications::Column::OrgId.eq(org_id))
            .filter(publications::Column::Version.eq(version))
            .into_tuple::<(String, Vec<u8>)>()
            .one(db)
            .await?
            .ok_or_else(|| {
                crate::error::AppError::NotFound(format!("Version {version} der Anlage"))
            })?;
        let file = std::sync::Arc::new(PublishedFile {
            org_id,
            version,
            sha256,
            pdf: pdf.into(),
        });
        let size = file.pdf.len();
        if size <= FILE_CACHE_BYTES {
            let mut cache = self.lock();
            while cache.bytes + size > FILE_CACHE_BYTES {
                let Some(oldest) = cache
                    .files
                    .iter()
                    .min_by_key(|(_, (n, _))| *n)
                    .map(|(key, _)| *key)
                else {
                    break;
                };
                if let Some((_, gone)) = cache.files.remove(&oldest) {
                    cache.bytes -= gone.pdf.len();
                }
            }
            let n = cache.next;
            cache.next += 1;
            if let Some((_, old)) = cache.files.insert((org_id, version), (n, file.clone())) {
                cache.bytes -= old.pdf.len();
            }
            cache.bytes += size;
        }
        Ok(file)
    }
}
