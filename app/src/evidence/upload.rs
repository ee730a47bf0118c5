//! Taking a file in as evidence, for the upload route and the command
//! line alike: spooled to a staging file (hashed, counted, never held in
//! memory), checked, moved into the store, and only then recorded, so a row
//! never exists without its file.

use crate::ids::OrgId;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::UploadResult;
use super::service::{self, StoredBlob, Target};
use super::sniff;
use crate::audit::service::AuditActor;
use crate::blobs::{BlobStore, Staged};
use crate::error::AppError;

/// Bytes of the file kept for sniffing its type.
const HEAD: usize = 256 * 1024;

/// An upload spooled to a staging file, hashed and counted.
pub struct Spooled {
    staged: Staged,
    sha256: String,
    size: u64,
    head: Vec<u8>,
    file_name: String,
}

impl Spooled {
    /// The file's name as given by the client, sanitised.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }
}

/// Writes an incoming file to a staging file chunk by chunk, hashing and
/// counting it and keeping its head for type sniffing; nothing is held in
/// memory but the head.
pub struct Spooler {
    staged: Staged,
    out: tokio::fs::File,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    file_name: String,
}

impl Spooler {
    /// A new staging file in the store's staging directory.
    pub async fn new(store: &dyn BlobStore, file_name: String) -> Result<Self, AppError> {
        let staged = Staged::new_in(store.staging_dir());
        let out = tokio::fs::File::create(staged.path())
            .await
            .map_err(AppError::internal)?;
        Ok(Self {
            staged,
            out,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(HEAD.min(64 * 1024)),
            file_name,
        })
    }

    /// Bytes so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Counts a chunk; false (and nothing written) once the total passes `max`.
    pub async fn write(&mut self, chunk: &[u8], max: u64) -> Result<bool, AppError> {
        self.size += chunk.len() as u64;
        if self.size > max {
            return Ok(false);
        }
        self.hasher.update(chunk);
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.out
            .write_all(chunk)
            .await
            .map_err(AppError::internal)?;
        Ok(true)
    }

    /// The whole file is on disk (flushed and synced).
    pub async fn finish(mut self) -> Result<Spooled, AppError> {
        self.out.flush().await.map_err(AppError::internal)?;
        self.out.sync_all().await.map_err(AppError::internal)?;
        Ok(Spooled {
            staged: self.staged,
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            head: self.head,
            file_name: self.file_name,
        })
    }
}

/// The file name without its extension.
pub fn default_title(file_name: &str) -> String {
    file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem)
        .to_owned()
}

/// Checks the type and the target, moves the spooled file into the store,
/// then writes the rows: a row never exists without its file.
pub async fn store_and_record(
    db: &sea_orm::DatabaseConnection,
    store: &dyn BlobStore,
    now: chrono::DateTime<chrono::Utc>,
    actor: &AuditActor,
    org_id: OrgId,
    target: Target,
    file: Spooled,
) -> Result<UploadResult, AppError> {
    let content_type = sniff::content_type(&file.head, &file.file_name)
        .map_err(|r| AppError::UnsupportedType(r.0))?;
    service::check_target(db, org_id, &target).await?;
    store
        .put_file(&file.sha256, file.staged.path())
        .await
        .map_err(AppError::internal)?;
    file.staged.keep();
    service::record_upload(
        db,
        now,
        actor,
        org_id,
        target,
        StoredBlob {
            sha256: file.sha256,
            size: file.size as i64,
            content_type: content_type.to_owned(),
            file_name: file.file_name,
        },
    )
    .await
}

/// Copies a local file into the staging area, hashing and counting it
/// (the command-line upload).
pub async fn spool_path(
    store: &dyn BlobStore,
    path: &std::path::Path,
    max: u64,
) -> Result<Spooled, AppError> {
    use tokio::io::AsyncReadExt;
    let mut input = tokio::fs::File::open(path)
        .await
        .map_err(|e| AppError::BadRequest(format!("{}: {e}", path.display())))?;
    let mut spooler =
        Spooler::new(store, sniff::sanitize_file_name(&path.to_string_lossy())).await?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = input.read(&mut buf).await.map_err(AppError::internal)?;
        if n == 0 {
            break;
        }
        if !spooler.write(&buf[..n], max).await? {
            return Err(AppError::TooLarge(format!(
                "Die Datei ist zu groß: Nachweise dürfen höchstens {} MB groß sein.",
                max / 1024 / 1024
            )));
        }
    }
    spooler.finish().await
}
