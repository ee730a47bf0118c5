//! The instance secret that encrypts generated signing keys at rest.
//!
//! It comes from `NACHWEIS_SECRET_KEY`, or else from `<data_dir>/secret.key`,
//! which is created on first start (mode 0600, written to a temporary file and
//! renamed, so a crash never leaves half a key). It is deliberately kept out
//! of the database: a database dump alone does not reveal any signing key.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use app::pdf::keys::{InstanceSecret, SigningSetup};
use rand::RngCore;
use secrecy::ExposeSecret;

use crate::config::Config;

pub fn signing_setup(config: &Config) -> anyhow::Result<SigningSetup> {
    Ok(SigningSetup {
        secret: instance_secret(config)?,
        dir: config.signing_dir.clone(),
    })
}

/// The instance secret: `NACHWEIS_SECRET_KEY`, or `<data_dir>/secret.key`
/// (created on first use).
pub fn instance_secret(config: &Config) -> anyhow::Result<InstanceSecret> {
    let secret = match &config.secret_key {
        Some(hex_key) => decode(hex_key.expose_secret())
            .context("configuration: setting `secret_key` (NACHWEIS_SECRET_KEY)")?,
        None => from_file(&config.data_dir.join("secret.key"))?,
    };
    Ok(InstanceSecret::new(secret))
}

/// The instance secret in hex, as it is (never created): what a backup keeps.
pub fn existing_secret_hex(config: &Config) -> anyhow::Result<String> {
    let key = match &config.secret_key {
        Some(hex_key) => decode(hex_key.expose_secret())
            .context("configuration: setting `secret_key` (NACHWEIS_SECRET_KEY)")?,
        None => {
            let path = config.data_dir.join("secret.key");
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "no instance secret at {} (is this the data directory?)",
                    path.display()
                )
            })?;
            decode(&text).with_context(|| format!("instance secret {}", path.display()))?
        }
    };
    Ok(hex::encode(key))
}

/// Writes a restored instance secret (64 hex digits), mode 0600, never
/// half a file.
pub fn write_secret(path: &Path, hex_key: &[u8]) -> anyhow::Result<()> {
    let text = std::str::from_utf8(hex_key)
        .map_err(|_| anyhow::anyhow!("the instance secret is not text"))?;
    decode(text).context("the backup's instance secret")?;
    write_private(path, text.trim().as_bytes())
}

/// Writes `data` to `path` with mode 0600 through a temporary file.
pub fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (tmp, mut file) = tempfile_in(dir)?;
    file.write_all(data)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn decode(hex_key: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| anyhow::anyhow!("not hexadecimal"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("must be 32 bytes (64 hex digits)"))
}

fn from_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(text) => decode(&text).with_context(|| format!("instance secret {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the data directory {}", dir.display()))?;
            let mut tmp = tempfile_in(dir)?;
            tmp.1.write_all(hex::encode(key).as_bytes())?;
            tmp.1.sync_all()?;
            std::fs::rename(&tmp.0, path)
                .with_context(|| format!("storing the instance secret {}", path.display()))?;
            tracing::info!(path = %path.display(), "created a new instance secret");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading the instance secret {}", path.display())),
    }
}

fn tempfile_in(dir: &Path) -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let path = dir.join(format!(".secret.key.{}", hex::encode(suffix)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok((path, file))
}
