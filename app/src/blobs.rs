//! Where evidence bytes live: one interface, content-addressed by SHA-256,
//! with a local-directory and an S3 implementation in the server crate.
//!
//! Uploads are spooled to a staging file first (hashed and counted as they
//! arrive); [`BlobStore::put_file`] moves the finished file into the store
//! and returns only when it is durable. Only then is the database row
//! written, so a row never names a missing blob.

use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;

pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// A blob as listed by the store.
#[derive(Debug, Clone)]
pub struct BlobInfo {
    pub sha256: String,
    pub size: u64,
    pub modified: DateTime<Utc>,
}

#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// A short name for logs and the CLI: `local:/path` or `s3://bucket`.
    fn describe(&self) -> String;
    /// The local directory uploads are spooled into before [`Self::put_file`].
    fn staging_dir(&self) -> &Path;
    /// Stores the complete file `staged` under `sha256`; durable on return.
    /// The staged file is gone afterwards (moved or uploaded and removed).
    async fn put_file(&self, sha256: &str, staged: &Path) -> std::io::Result<()>;
    /// The blob's bytes as a stream.
    async fn open(&self, sha256: &str) -> std::io::Result<ByteStream>;
    async fn exists(&self, sha256: &str) -> std::io::Result<bool>;
    /// Removes the blob; removing a missing blob is not an error.
    async fn delete(&self, sha256: &str) -> std::io::Result<()>;
    async fn list(&self) -> std::io::Result<Vec<BlobInfo>>;
}

/// Whether `s` is 64 lowercase hex digits (a key this store may use).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A staging file that removes itself unless [`Staged::keep`] is called:
/// an upload that fails halfway, or whose client goes away, leaves nothing.
#[derive(Debug)]
pub struct Staged {
    path: Option<PathBuf>,
}

impl Staged {
    /// A fresh name in `dir`, prefixed with this process's id so a sweep can
    /// tell the leftovers of dead processes from uploads in flight.
    pub fn new_in(dir: &Path) -> Self {
        let name = format!(
            "{}-{}.part",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        Self {
            path: Some(dir.join(name)),
        }
    }

    pub fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("staged path present until kept")
    }

    /// Gives up ownership (the store moved the file away).
    pub fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Removes staging files left by processes that no longer run (a crash or
/// `kill -9` mid-upload) and any older than a day. Returns how many.
pub fn sweep_staging(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let me = std::process::id();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = match pid {
            Some(p) if p == me => true,
            Some(p) => Path::new(&format!("/proc/{p}")).exists(),
            None => false,
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 24 * 3600);
        if !alive || old {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}
