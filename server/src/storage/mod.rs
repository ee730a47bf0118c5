//! The two evidence stores behind [`app::blobs::BlobStore`]: a
//! local directory (the default) and S3-compatible object storage for
//! deployments with several nodes.

mod local;
mod s3;

pub use local::LocalStore;
pub use s3::S3Store;

use std::sync::Arc;

use app::blobs::BlobStore;

use crate::config::{Config, StorageConfig};

/// The store the configuration names.
pub fn from_config(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    let staging = config.data_dir.join("evidence").join("staging");
    Ok(match &config.storage {
        StorageConfig::Local => Arc::new(LocalStore::new(
            config.data_dir.join("evidence").join("blobs"),
            staging,
        )?),
        StorageConfig::S3(s3) => Arc::new(S3Store::new(s3, staging)?),
    })
}

/// What a consistency check of the evidence store found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Check {
    /// Staging files of dead processes, removed.
    pub staging_removed: usize,
    /// Version rows whose blob is missing (must be 0).
    pub rows_missing_blob: Vec<app::ids::EvidenceVersionId>,
    /// Blobs no live row references, older than an hour, removed.
    pub orphan_blobs_removed: usize,
    pub blobs: usize,
}

/// Sweeps staging leftovers and unreferenced blobs, and checks that every
/// live version row has its blob. Run at start-up and by `nachweis evidence check`.
pub async fn check(
    db: &sea_orm::DatabaseConnection,
    store: &dyn BlobStore,
) -> anyhow::Result<Check> {
    let staging_removed = app::blobs::sweep_staging(store.staging_dir())?;
    let live = app::evidence::service::live_hashes(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let listed = store.list().await?;
    let present: std::collections::HashSet<&str> =
        listed.iter().map(|b| b.sha256.as_str()).collect();
    let referenced: std::collections::HashSet<&str> =
        live.iter().map(|(_, s)| s.as_str()).collect();
    let rows_missing_blob = live
        .iter()
        .filter(|(_, sha)| !present.contains(sha.as_str()))
        .map(|(id, _)| *id)
        .collect();
    #[allow(clippy::disallowed_methods)] // file ages are wall-clock facts
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut orphan_blobs_removed = 0;
    for b in &listed {
        if !referenced.contains(b.sha256.as_str()) && b.modified < hour_ago {
            store.delete(&b.sha256).await?;
            orphan_blobs_removed += 1;
        }
    }
    Ok(Check {
        staging_removed,
        rows_missing_blob,
        orphan_blobs_removed,
        blobs: listed.len() - orphan_blobs_removed,
    })
}
