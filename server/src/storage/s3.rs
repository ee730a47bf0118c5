//! Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph, …) under
//! `<prefix>/<sha256>`. The staged file is uploaded in parts; an object
//! becomes visible only when the upload completes, so a reader never sees
//! half a blob.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use app::blobs::{BlobInfo, BlobStore, ByteStream, is_sha256_hex};
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use secrecy::ExposeSecret;
use tokio::io::AsyncReadExt;

use crate::config::S3Config;

/// Part size of multipart uploads (S3's minimum is 5 MiB).
const PART: usize = 8 * 1024 * 1024;

#[derive(Debug)]
pub struct S3Store {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
    staging: PathBuf,
}

impl S3Store {
    pub fn new(cfg: &S3Config, staging: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&staging).map_err(|e| {
            anyhow::anyhow!("evidence staging directory {}: {e}", staging.display())
        })?;
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(cfg.secret_access_key.expose_secret());
        if let Some(endpoint) = &cfg.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = b
            .build()
            .map_err(|e| anyhow::anyhow!("configuration: setting `storage.s3`: {e}"))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: cfg.bucket.clone(),
            prefix: cfg.prefix.trim_matches('/').to_owned(),
            staging,
        })
    }

    fn key(&self, sha256: &str) -> std::io::Result<ObjectPath> {
        if !is_sha256_hex(sha256) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a SHA-256 key",
            ));
        }
        Ok(if self.prefix.is_empty() {
            ObjectPath::from(sha256)
        } else {
            ObjectPath::from(format!("{}/{sha256}", self.prefix))
        })
    }
}

fn io(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
        }
        e => std::io::Error::other(e.to_string()),
    }
}

#[async_trait::async_trait]
impl BlobStore for S3Store {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn staging_dir(&self) -> &Path {
        &self.staging
    }

    async fn put_file(&self, sha256: &str, staged: &Path) -> std::io::Result<()> {
        let key = self.key(sha256)?;
        if self.exists(sha256).await? {
            tokio::fs::remove_file(staged).await?;
            return Ok(());
        }
        let mut file = tokio::fs::File::open(staged).await?;
        let upload = self.store.put_multipart(&key).await.map_err(io)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(4).await.map_err(io)?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(io)?;
        tokio::fs::remove_file(staged).await
    }

    async fn open(&self, sha256: &str) -> std::io::Result<ByteStream> {
        let got = self.store.get(&self.key(sha256)?).await.map_err(io)?;
        Ok(Box::pin(got.into_stream().map_err(io)))
    }

    async fn exists(&self, sha256: &str) -> std::io::Result<bool> {
        match self.store.head(&self.key(sha256)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, sha256: &str) -> std::io::Result<()> {
        match self.store.delete(&self.key(sha256)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    async fn list(&self) -> std::io::Result<Vec<BlobInfo>> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let metas: Vec<_> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(io)?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?.to_owned();
                is_sha256_hex(&name).then_some(BlobInfo {
                    sha256: name,
                    size: m.size,
                    modified: m.last_modified,
                })
            })
            .collect())
    }
}
