//! Blobs as files: `<root>/<first two hex digits>/<sha256>`. A staged file is
//! fsynced, renamed into place (atomic on one file system) and the directory
//! fsynced, so after `put_file` returns the blob survives a power cut.

use std::path::{Path, PathBuf};

use app::blobs::{BlobInfo, BlobStore, ByteStream, is_sha256_hex};
use chrono::{DateTime, Utc};
use futures::StreamExt;

#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    staging: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf, staging: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&root)
            .map_err(|e| anyhow::anyhow!("evidence directory {}: {e}", root.display()))?;
        std::fs::create_dir_all(&staging).map_err(|e| {
            anyhow::anyhow!("evidence staging directory {}: {e}", staging.display())
        })?;
        Ok(Self { root, staging })
    }

    fn path_of(&self, sha256: &str) -> std::io::Result<PathBuf> {
        if !is_sha256_hex(sha256) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a SHA-256 key",
            ));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait::async_trait]
impl BlobStore for LocalStore {
    fn describe(&self) -> String {
        format!("local:{}", self.root.display())
    }

    fn staging_dir(&self) -> &Path {
        &self.staging
    }

    async fn put_file(&self, sha256: &str, staged: &Path) -> std::io::Result<()> {
        let target = self.path_of(sha256)?;
        let staged = staged.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let dir = target.parent().expect("blob has a parent dir");
            std::fs::create_dir_all(dir)?;
            if target.exists() {
                // The same content is already stored: keep that copy, and mark
                // it fresh so a sweep of unreferenced blobs leaves it alone
                // until this upload's row has committed.
                // File times are the file system's clock, which the sweep
                // compares them with: not the application's.
                #[allow(clippy::disallowed_methods)]
                let now = std::time::SystemTime::now();
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(&target)?
                    .set_modified(now)?;
                std::fs::remove_file(&staged)?;
                return Ok(());
            }
            std::fs::File::open(&staged)?.sync_all()?;
            std::fs::rename(&staged, &target)?;
            sync_dir(dir)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    async fn open(&self, sha256: &str) -> std::io::Result<ByteStream> {
        let file = tokio::fs::File::open(self.path_of(sha256)?).await?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
        Ok(Box::pin(stream.map(|r| r)))
    }

    async fn exists(&self, sha256: &str) -> std::io::Result<bool> {
        tokio::fs::try_exists(self.path_of(sha256)?).await
    }

    async fn delete(&self, sha256: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path_of(sha256)?).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn list(&self) -> std::io::Result<Vec<BlobInfo>> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for shard in std::fs::read_dir(&root)? {
                let shard = shard?;
                if !shard.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(shard.path())? {
                    let f = f?;
                    let name = f.file_name().to_string_lossy().into_owned();
                    if !is_sha256_hex(&name) {
                        continue;
                    }
                    let meta = f.metadata()?;
                    out.push(BlobInfo {
                        sha256: name,
                        size: meta.len(),
                        modified: DateTime::<Utc>::from(meta.modified()?),
                    });
                }
            }
            Ok(out)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}
