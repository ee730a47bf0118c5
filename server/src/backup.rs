//! `nachweis backup` and `nachweis restore`: everything an instance needs
//! to come back on a new machine, in one file.
//!
//! A backup is a tar archive:
//! - `db/<table>.jsonl`: each table's rows, read in one snapshot (a
//!   read-only repeatable-read transaction on PostgreSQL, one read
//!   transaction on SQLite while the server keeps writing). The first line
//!   names the columns and their kinds, so the rows restore onto SQLite or
//!   PostgreSQL alike;
//! - `evidence/<sha256>`: every evidence file the snapshot refers to,
//!   checked against its hash on the way in;
//! - `secret/instance.key` and `signing/<file>`: the instance secret (it
//!   keys the audit chain and encrypts the generated signing keys) and the
//!   operator's signing keys;
//! - `manifest.json`, last: the schema (applied migrations), the tables in
//!   an order that satisfies their foreign keys, and every part's SHA-256.
//!
//! The archive is written to a temporary file beside the target and renamed
//! only when complete: an interrupted backup never leaves a file under the
//! requested name. With `--passphrase-file` the whole archive is encrypted
//! (Argon2id for the key, ChaCha20-Poly1305 in the STREAM construction, so
//! a truncated or altered file fails to decrypt).
//!
//! Restore reads the file twice: first it checks every part against the
//! manifest and the manifest against this binary's schema, and checks that
//! the target is empty; only then does it write. The rows go in within one
//! transaction at the backup's schema, then the remaining migrations apply.

use app::entities::BeginWrite;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::aead::generic_array::GenericArray;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use migrations::{Migrator, MigratorTrait};
use rand::RngCore;
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

const FORMAT: &str = "nachweis-backup";
const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
/// Sessions are not restored: a restored instance signs everyone in anew,
/// and a backup file carries no live session.
const SKIPPED_TABLES: &[&str] = &["sessions", "seaql_migrations"];
/// The first bytes of an encrypted backup.
const MAGIC: &[u8; 16] = b"NACHWEIS-BKP-ENC";
/// Plaintext bytes per encrypted chunk.
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const ARGON_M_KIB: u32 = 64 * 1024;
const ARGON_T: u32 = 3;
const ARGON_P: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    nachweis_version: String,
    created_at: String,
    /// `sqlite` or `postgres`.
    source: String,
    /// The applied migrations, in order: the backup's schema.
    migrations: Vec<String>,
    /// Tables in an order in which their foreign keys are satisfied.
    tables: Vec<String>,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Part {
    path: String,
    sha256: String,
    bytes: u64,
}

/// How a column's values are read, written to the file and bound again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
    Timestamp,
    Date,
    Json,
    Float,
}

/// The first line of a table's part.
#[derive(Debug, Serialize, Deserialize)]
struct TableHeader {
    table: String,
    columns: Vec<(String, Kind)>,
}

/// What `backup` wrote.
#[derive(Debug)]
pub struct Summary {
    pub tables: usize,
    pub rows: u64,
    pub evidence_files: usize,
    pub bytes: u64,
    pub encrypted: bool,
}

// ------------------------------------------------------------ the database

fn kind_of(declared: &str) -> Kind {
    let t = declared.to_ascii_lowercase();
    if t.contains("timestamp") || t.contains("datetime") {
        Kind::Timestamp
    } else if t.starts_with("date") {
        Kind::Date
    } else if t.contains("bool") {
        Kind::Bool
    } else if t.contains("int") {
        Kind::Int
    } else if t.contains("blob") || t.contains("bytea") || t.contains("binary") {
        Kind::Bytes
    } else if t.contains("json") {
        Kind::Json
    } else if t.contains("real")
        || t.contains("double")
        || t.contains("float")
        || t.contains("numeric")
        || t.contains("decimal")
    {
        Kind::Float
    } else {
        Kind::Text
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn rows<C: ConnectionTrait>(
    db: &C,
    sql: String,
) -> anyhow::Result<Vec<sea_orm::QueryResult>> {
    Ok(db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?)
}

/// The tables of the schema (without the migration bookkeeping).
async fn tables<C: ConnectionTrait>(db: &C) -> anyhow::Result<Vec<String>> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name".to_owned()
        }
        _ => "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name".to_owned(),
    };
    rows(db, sql)
        .await?
        .iter()
        .map(|r| Ok(r.try_get::<String>("", "name")?))
        .collect()
}

async fn columns<C: ConnectionTrait>(db: &C, table: &str) -> anyhow::Result<Vec<(String, Kind)>> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => format!(
            "SELECT name, type FROM pragma_table_info({}) ORDER BY cid",
            literal(table)
        ),
        _ => format!(
            "SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = {} ORDER BY ordinal_position",
            literal(table)
        ),
    };
    rows(db, sql)
        .await?
        .iter()
        .map(|r| {
            let name: String = r.try_get("", "name")?;
            let declared: String = r.try_get("", "type")?;
            Ok((name, kind_of(&declared)))
        })
        .collect()
}

/// `table` → the tables its foreign keys point to.
async fn references<C: ConnectionTrait>(
    db: &C,
    tables: &[String],
) -> anyhow::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            for t in tables {
                let sql = format!(
                    "SELECT \"table\" AS target FROM pragma_foreign_key_list({})",
                    literal(t)
                );
                for r in rows(db, sql).await? {
                    refs.entry(t.clone())
                        .or_default()
                        .insert(r.try_get("", "target")?);
                }
            }
        }
        _ => {
            let sql = "SELECT tc.table_name AS source, ccu.table_name AS target \
                 FROM information_schema.table_constraints tc \
                 JOIN information_schema.constraint_column_usage ccu \
                   ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema \
                 WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
                .to_owned();
            for r in rows(db, sql).await? {
                let source: String = r.try_get("", "source")?;
                refs.entry(source)
                    .or_default()
                    .insert(r.try_get("", "target")?);
            }
        }
    }
    Ok(refs)
}

/// Parents before children; ties in name order. Self-references are left
/// to the rows' order (ascending first column).
fn insert_order(
    tables: &[String],
    refs: &BTreeMap<String, BTreeSet<String>>,
) -> anyhow::Result<Vec<String>> {
    let mut left: BTreeSet<&String> = tables.iter().collect();
    let mut order = Vec::new();
    while !left.is_empty() {
        let ready: Vec<&String> = left
            .iter()
            .copied()
            .filter(|t| {
                refs.get(*t)
                    .is_none_or(|targets| targets.iter().all(|p| p == *t || !left.contains(p)))
            })
            .collect();
        if ready.is_empty() {
            bail!("the foreign keys between {left:?} form a cycle: no order to restore them in");
        }
        for t in ready {
            left.remove(t);
            order.push(t.clone());
        }
    }
    Ok(order)
}

fn select_list(backend: DatabaseBackend, cols: &[(String, Kind)]) -> String {
    cols.iter()
        .map(|(name, kind)| {
            let c = quote(name);
            match (kind, backend) {
                (Kind::Int, _) => format!("CAST({c} AS BIGINT)"),
                (Kind::Bool, _) => {
                    format!(
                        "CAST(CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN 1 ELSE 0 END AS BIGINT)"
                    )
                }
                (Kind::Float, DatabaseBackend::Sqlite) => format!("CAST({c} AS REAL)"),
                (Kind::Float, _) => format!("CAST({c} AS DOUBLE PRECISION)"),
                (Kind::Json, DatabaseBackend::Sqlite) => c,
                (Kind::Json, _) => format!("CAST({c} AS TEXT)"),
                _ => c,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One value as the file holds it: JSON null, number, bool or string
/// (base64 for bytes, RFC 3339 for timestamps).
fn read_value(r: &sea_orm::QueryResult, i: usize, kind: Kind) -> anyhow::Result<serde_json::Value> {
    use serde_json::Value as J;
    let v = match kind {
        Kind::Int => r.try_get_by_index::<Option<i64>>(i)?.map(J::from),
        Kind::Bool => r
            .try_get_by_index::<Option<i64>>(i)?
            .map(|b| J::Bool(b != 0)),
        Kind::Float => r.try_get_by_index::<Option<f64>>(i)?.map(J::from),
        Kind::Text | Kind::Json => r.try_get_by_index::<Option<String>>(i)?.map(J::String),
        Kind::Bytes => r
            .try_get_by_index::<Option<Vec<u8>>>(i)?
            .map(|b| J::String(base64::engine::general_purpose::STANDARD.encode(b))),
        Kind::Date => r
            .try_get_by_index::<Option<NaiveDate>>(i)?
            .map(|d| J::String(d.to_string())),
        Kind::Timestamp => {
            let at = match r.try_get_by_index::<Option<DateTime<Utc>>>(i) {
                Ok(at) => at,
                Err(_) => r
                    .try_get_by_index::<Option<NaiveDateTime>>(i)?
                    .map(|n| n.and_utc()),
            };
            at.map(|at| J::String(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
        }
    };
    Ok(v.unwrap_or(J::Null))
}

/// The width of each integer column of `table` in the target database:
/// PostgreSQL wants an `integer` bound as 4 bytes, not 8.
async fn int_widths<C: ConnectionTrait>(
    db: &C,
    table: &str,
) -> anyhow::Result<HashMap<String, u8>> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = {}",
        literal(table)
    );
    let mut widths = HashMap::new();
    for r in rows(db, sql).await? {
        let name: String = r.try_get("", "name")?;
        let declared: String = r.try_get("", "type")?;
        match declared.as_str() {
            "smallint" => widths.insert(name, 2),
            "integer" => widths.insert(name, 4),
            _ => None,
        };
    }
    Ok(widths)
}

fn bind_value(
    v: &serde_json::Value,
    kind: Kind,
    column: &str,
    width: Option<u8>,
) -> anyhow::Result<SimpleExpr> {
    use sea_orm::sea_query::Value as V;
    let bad = || anyhow!("column {column}: {v} is not a {kind:?} value");
    let narrow = |i: i64| -> anyhow::Result<V> {
        Ok(match width {
            Some(2) => V::SmallInt(Some(i16::try_from(i).map_err(|_| bad())?)),
            Some(4) => V::Int(Some(i32::try_from(i).map_err(|_| bad())?)),
            _ => V::BigInt(Some(i)),
        })
    };
    let value: V = match (kind, v) {
        (Kind::Int, serde_json::Value::Null) => match width {
            Some(2) => V::SmallInt(None),
            Some(4) => V::Int(None),
            _ => V::BigInt(None),
        },
        (Kind::Int, v) => narrow(v.as_i64().ok_or_else(bad)?)?,
        (Kind::Bool, serde_json::Value::Null) => Option::<bool>::None.into(),
        (Kind::Bool, v) => Some(v.as_bool().ok_or_else(bad)?).into(),
        (Kind::Float, serde_json::Value::Null) => Option::<f64>::None.into(),
        (Kind::Float, v) => Some(v.as_f64().ok_or_else(bad)?).into(),
        (Kind::Text, serde_json::Value::Null) => Option::<String>::None.into(),
        (Kind::Text, v) => Some(v.as_str().ok_or_else(bad)?.to_owned()).into(),
        (Kind::Json, serde_json::Value::Null) => Option::<serde_json::Value>::None.into(),
        (Kind::Json, v) => Some(serde_json::from_str::<serde_json::Value>(
            v.as_str().ok_or_else(bad)?,
        )?)
        .into(),
        (Kind::Bytes, serde_json::Value::Null) => Option::<Vec<u8>>::None.into(),
        (Kind::Bytes, v) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(v.as_str().ok_or_else(bad)?)
                .map_err(|_| bad())?,
        )
        .into(),
        (Kind::Date, serde_json::Value::Null) => Option::<NaiveDate>::None.into(),
        (Kind::Date, v) => Some(
            v.as_str()
                .ok_or_else(bad)?
                .parse::<NaiveDate>()
                .map_err(|_| bad())?,
        )
        .into(),
        (Kind::Timestamp, serde_json::Value::Null) => Option::<DateTime<Utc>>::None.into(),
        (Kind::Timestamp, v) => Some(
            DateTime::parse_from_rfc3339(v.as_str().ok_or_else(bad)?)
                .map_err(|_| bad())?
                .with_timezone(&Utc),
        )
        .into(),
    };
    Ok(SimpleExpr::Value(value))
}

/// The applied migrations, in order.
async fn applied<C: ConnectionTrait>(db: &C) -> anyhow::Result<Vec<String>> {
    let has_table = tables(db).await?.iter().any(|t| t == "seaql_migrations");
    if !has_table {
        return Ok(Vec::new());
    }
    rows(
        db,
        "SELECT version FROM seaql_migrations ORDER BY version".to_owned(),
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get::<String>("", "version")?))
    .collect()
}

// ------------------------------------------------------------ encryption

fn derive_key(passphrase: &[u8], salt: &[u8], m: u32, t: u32, p: u32) -> anyhow::Result<[u8; 32]> {
    let params =
        argon2::Params::new(m, t, p, Some(32)).map_err(|e| anyhow!("key derivation: {e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon
        .hash_password_into(passphrase, salt, &mut key)
        .map_err(|e| anyhow!("key derivation: {e}"))?;
    Ok(key)
}

/// Reads a passphrase file (one line; at least 12 characters).
pub fn read_passphrase(path: &Path) -> anyhow::Result<secrecy::SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the passphrase file {}", path.display()))?;
    let line = text.trim_end_matches(['\n', '\r']);
    if line.chars().count() < 12 {
        bail!(
            "the passphrase in {} is shorter than 12 characters",
            path.display()
        );
    }
    Ok(secrecy::SecretString::from(line.to_owned()))
}

/// The archive's sink: the file, plain or encrypted chunk by chunk.
struct Sink {
    file: BufWriter<File>,
    enc: Option<(EncryptorBE32<ChaCha20Poly1305>, Vec<u8>)>,
    written: u64,
}

impl Sink {
    fn new(file: File, passphrase: Option<&secrecy::SecretString>) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let mut file = BufWriter::new(file);
        let enc = match passphrase {
            None => None,
            Some(p) => {
                let mut salt = [0u8; 16];
                let mut prefix = [0u8; 7];
                rand::rngs::OsRng.fill_bytes(&mut salt);
                rand::rngs::OsRng.fill_bytes(&mut prefix);
                let key = derive_key(
                    p.expose_secret().as_bytes(),
                    &salt,
                    ARGON_M_KIB,
                    ARGON_T,
                    ARGON_P,
                )?;
                file.write_all(MAGIC)?;
                file.write_all(&[1])?;
                for v in [ARGON_M_KIB, ARGON_T, ARGON_P] {
                    file.write_all(&v.to_le_bytes())?;
                }
                file.write_all(&salt)?;
                file.write_all(&prefix)?;
                let aead = ChaCha20Poly1305::new(GenericArray::from_slice(&key));
                Some((
                    EncryptorBE32::from_aead(aead, GenericArray::from_slice(&prefix)),
                    Vec::with_capacity(CHUNK),
                ))
            }
        };
        Ok(Self {
            file,
            enc,
            written: 0,
        })
    }

    fn finish(mut self) -> anyhow::Result<(File, u64)> {
        if let Some((enc, buf)) = self.enc.take() {
            let sealed = enc
                .encrypt_last(buf.as_slice())
                .map_err(|_| anyhow!("encryption failed"))?;
            self.file.write_all(&sealed)?;
        }
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        Ok((file, self.written))
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.written += data.len() as u64;
        match &mut self.enc {
            None => self.file.write_all(data)?,
            Some((enc, buf)) => {
                let mut rest = data;
                while !rest.is_empty() {
                    let take = (CHUNK - buf.len()).min(rest.len());
                    buf.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if buf.len() == CHUNK {
                        let sealed = enc
                            .encrypt_next(buf.as_slice())
                            .map_err(|_| std::io::Error::other("encryption failed"))?;
                        self.file.write_all(&sealed)?;
                        buf.clear();
                    }
                }
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Reads `buf.len()` bytes unless the input ends first; returns how many.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The archive's source: the file, decrypted chunk by chunk when it is
/// encrypted. A chunk that fails to authenticate (wrong passphrase,
/// altered or truncated file) is an error, never plaintext.
struct Source {
    file: BufReader<File>,
    dec: Option<DecryptorBE32<ChaCha20Poly1305>>,
    /// The next sealed chunk, read ahead to know which chunk is the last.
    ahead: Vec<u8>,
    plain: Vec<u8>,
    pos: usize,
    done: bool,
    head: Vec<u8>,
}

fn damaged(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

impl Source {
    fn open(path: &Path, passphrase: Option<&secrecy::SecretString>) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut file = BufReader::new(file);
        let mut magic = [0u8; 16];
        let n = read_full(&mut file, &mut magic)?;
        if n < 16 || &magic != MAGIC {
            if passphrase.is_some() {
                bail!(
                    "{} is not encrypted, but a passphrase was given: is it the right file?",
                    path.display()
                );
            }
            return Ok(Self {
                file,
                dec: None,
                ahead: Vec::new(),
                plain: Vec::new(),
                pos: 0,
                done: false,
                head: magic[..n].to_vec(),
            });
        }
        let Some(passphrase) = passphrase else {
            bail!(
                "{} is encrypted: give its passphrase with --passphrase-file",
                path.display()
            );
        };
        let mut header = [0u8; 1 + 12 + 16 + 7];
        if read_full(&mut file, &mut header)? < header.len() || header[0] != 1 {
            bail!(
                "{} is damaged: its encryption header is incomplete or unknown",
                path.display()
            );
        }
        let word = |i: usize| {
            u32::from_le_bytes(header[1 + 4 * i..5 + 4 * i].try_into().unwrap_or([0; 4]))
        };
        let (m, t, p) = (word(0), word(1), word(2));
        // Near what backup writes: a crafted header cannot ask for gigabytes.
        if m > 4 * ARGON_M_KIB || t > 4 * ARGON_T || p > 8 {
            bail!(
                "{} is damaged: implausible key derivation parameters",
                path.display()
            );
        }
        let key = derive_key(
            passphrase.expose_secret().as_bytes(),
            &header[13..29],
            m,
            t,
            p,
        )?;
        let aead = ChaCha20Poly1305::new(GenericArray::from_slice(&key));
        let dec = DecryptorBE32::from_aead(aead, GenericArray::from_slice(&header[29..36]));
        let mut ahead = vec![0u8; CHUNK + TAG];
        let n = read_full(&mut file, &mut ahead)?;
        ahead.truncate(n);
        let mut s = Self {
            file,
            dec: Some(dec),
            ahead,
            plain: Vec::new(),
            pos: 0,
            done: false,
            head: Vec::new(),
        };
        // The first chunk tells a wrong passphrase from a damaged file.
        s.refill().map_err(|_| {
            anyhow!(
                "cannot decrypt {}: wrong passphrase, or the file is damaged",
                path.display()
            )
        })?;
        Ok(s)
    }

    fn refill(&mut self) -> std::io::Result<()> {
        let Some(dec) = self.dec.as_mut() else {
            return Ok(());
        };
        if self.done {
            self.plain.clear();
            self.pos = 0;
            return Ok(());
        }
        let mut next = vec![0u8; CHUNK + TAG];
        let n = read_full(&mut self.file, &mut next)?;
        next.truncate(n);
        let sealed = std::mem::replace(&mut self.ahead, next);
        self.plain = if self.ahead.is_empty() {
            self.done = true;
            let dec = self.dec.take().ok_or_else(|| damaged("decryptor gone"))?;
            dec.decrypt_last(sealed.as_slice()).map_err(|_| {
                damaged("the backup is damaged or truncated (a chunk does not authenticate)")
            })?
        } else {
            dec.decrypt_next(sealed.as_slice())
                .map_err(|_| damaged("the backup is damaged (a chunk does not authenticate)"))?
        };
        self.pos = 0;
        Ok(())
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.dec.is_none() && !self.done && self.plain.is_empty() {
            // Plain archive: the bytes read to look for the magic, then the file.
            if !self.head.is_empty() {
                let n = self.head.len().min(buf.len());
                buf[..n].copy_from_slice(&self.head[..n]);
                self.head.drain(..n);
                return Ok(n);
            }
            return self.file.read(buf);
        }
        loop {
            if self.pos < self.plain.len() {
                let n = (self.plain.len() - self.pos).min(buf.len());
                buf[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
    }
}

// ------------------------------------------------------------ backup

/// Whether no live version refers to `sha` any more.
async fn purged_since(db: &sea_orm::DatabaseConnection, sha: &str) -> anyhow::Result<bool> {
    let live = rows(
        db,
        format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM evidence_versions WHERE sha256 = {} AND purged_at IS NULL",
            literal(sha)
        ),
    )
    .await?;
    let n = match live.first() {
        Some(r) => r.try_get::<i64>("", "n")?,
        None => 0,
    };
    Ok(n == 0)
}

/// The operator's signing files: regular files (symbolic links followed, as
/// secret mounts use them), no dot-files, UTF-8 names.
fn signing_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e?;
        let Some(name) = e.file_name().to_str().map(str::to_owned) else {
            bail!("{}: a file name that is not UTF-8", dir.display());
        };
        if name.starts_with('.') || !std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
            continue;
        }
        files.push((name, e.path()));
    }
    files.sort();
    Ok(files)
}

/// A name restore accepts for a file of the signing directory.
fn signing_name_ok(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

fn append(
    tar: &mut tar::Builder<Sink>,
    parts: &mut Vec<Part>,
    path: &str,
    data: &[u8],
    mode: u32,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, path, data)?;
    parts.push(Part {
        path: path.to_owned(),
        sha256: hex::encode(Sha256::digest(data)),
        bytes: data.len() as u64,
    });
    Ok(())
}

/// Writes a backup of the instance `config` describes to `out`.
pub async fn backup(
    config: &Config,
    out: &Path,
    passphrase: Option<secrecy::SecretString>,
    now: DateTime<Utc>,
) -> anyhow::Result<Summary> {
    if out.exists() {
        bail!("{} exists: a backup never overwrites a file", out.display());
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file name", out.display()))?
        .to_string_lossy()
        .into_owned();
    // Written under a name that says it is unfinished; renamed when complete.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let db = crate::db::open(config).await?;
    let secret = crate::secrets::existing_secret_hex(config)?;
    let store = crate::storage::from_config(config)?;
    let sink = Sink::new(tmp.as_file().try_clone()?, passphrase.as_ref())?;
    let encrypted = passphrase.is_some();
    let mut tar = tar::Builder::new(sink);
    let mut parts = Vec::new();
    let mut total_rows = 0u64;

    // One snapshot for every table.
    let txn: DatabaseTransaction = match db.get_database_backend() {
        DatabaseBackend::Sqlite => db.begin_write().await?,
        _ => {
            db.begin_with_config(
                Some(sea_orm::IsolationLevel::RepeatableRead),
                Some(sea_orm::AccessMode::ReadOnly),
            )
            .await?
        }
    };
    let migrations = applied(&txn).await?;
    if migrations.is_empty() {
        bail!("the database has no Nachweis schema: nothing to back up");
    }
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if let Some(unknown) = migrations.iter().find(|m| !known.contains(m)) {
        bail!(
            "the database has a newer schema ({unknown}) than this Nachweis: back it up with the version that runs it"
        );
    }
    let all: Vec<String> = tables(&txn)
        .await?
        .into_iter()
        .filter(|t| !SKIPPED_TABLES.contains(&t.as_str()))
        .collect();
    let order = insert_order(&all, &references(&txn, &all).await?)?;
    let backend = txn.get_database_backend();
    let mut blobs: BTreeSet<String> = BTreeSet::new();
    for table in &order {
        let cols = columns(&txn, table).await?;
        let mut part = serde_json::to_vec(&TableHeader {
            table: table.clone(),
            columns: cols.clone(),
        })?;
        part.push(b'\n');
        let sql = format!(
            "SELECT {} FROM {} ORDER BY 1",
            select_list(backend, &cols),
            quote(table)
        );
        for r in rows(&txn, sql).await? {
            let values = cols
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| read_value(&r, i, *kind))
                .collect::<anyhow::Result<Vec<_>>>()
                .with_context(|| format!("reading table {table}"))?;
            // The files of purged versions are gone by design; their rows stay.
            if table == "evidence_versions"
                && let Some(i) = cols.iter().position(|(c, _)| c == "sha256")
                && let Some(sha) = values[i].as_str()
                && cols
                    .iter()
                    .position(|(c, _)| c == "purged_at")
                    .is_none_or(|p| values[p].is_null())
            {
                blobs.insert(sha.to_owned());
            }
            serde_json::to_writer(&mut part, &values)?;
            part.push(b'\n');
            total_rows += 1;
        }
        append(
            &mut tar,
            &mut parts,
            &format!("db/{table}.jsonl"),
            &part,
            0o600,
        )?;
    }
    txn.commit().await?;

    for sha in &blobs {
        use futures::TryStreamExt;
        let stream = match store.open(sha).await {
            Ok(stream) => stream,
            // Purged since the snapshot: the rows are what they were, the
            // file is gone by design.
            Err(_) if purged_since(&db, sha).await? => {
                tracing::warn!(sha, "evidence file purged while the backup ran; left out");
                continue;
            }
            Err(e) => {
                return Err(anyhow!(e)).with_context(|| {
                    format!("evidence file {sha} is missing from {}", store.describe())
                });
            }
        };
        let chunks: Vec<bytes::Bytes> = stream
            .try_collect()
            .await
            .with_context(|| format!("reading evidence file {sha}"))?;
        let data = chunks.concat();
        if hex::encode(Sha256::digest(&data)) != *sha {
            bail!(
                "evidence file {sha} in {} does not match its hash: the store is damaged",
                store.describe()
            );
        }
        append(
            &mut tar,
            &mut parts,
            &format!("evidence/{sha}"),
            &data,
            0o600,
        )?;
    }
    append(
        &mut tar,
        &mut parts,
        "secret/instance.key",
        secret.as_bytes(),
        0o600,
    )?;
    for (name, path) in signing_files(&config.signing_dir)? {
        let data =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        append(
            &mut tar,
            &mut parts,
            &format!("signing/{name}"),
            &data,
            0o600,
        )?;
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        nachweis_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        source: match backend {
            DatabaseBackend::Sqlite => "sqlite".into(),
            _ => "postgres".into(),
        },
        migrations,
        tables: order.clone(),
        parts,
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest_bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, manifest_bytes.as_slice())?;
    let sink = tar.into_inner()?;
    let (file, _plain) = sink.finish()?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    drop(file);
    tmp.persist_noclobber(out).map_err(|e| {
        anyhow!(
            "{} appeared while the backup ran: {}",
            out.display(),
            e.error
        )
    })?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(Summary {
        tables: order.len(),
        rows: total_rows,
        evidence_files: blobs.len(),
        bytes,
        encrypted,
    })
}

// ------------------------------------------------------------ restore

/// What `restore` put back.
#[derive(Debug)]
pub struct Restored {
    pub tables: usize,
    pub rows: u64,
    pub evidence_files: usize,
    pub migrations_applied: usize,
}

fn entry_path(e: &tar::Entry<'_, Source>) -> anyhow::Result<String> {
    let p = e.path()?;
    let s = p
        .to_str()
        .ok_or_else(|| anyhow!("the backup names a file that is not UTF-8"))?;
    Ok(s.to_owned())
}

/// First pass: every part is there and matches the manifest.
/// What the first pass found good: the manifest, and the small parts that
/// are written before anything else.
struct Checked {
    manifest: Manifest,
    secret: Vec<u8>,
    signing: Vec<(String, Vec<u8>)>,
}

fn check(path: &Path, passphrase: Option<&secrecy::SecretString>) -> anyhow::Result<Checked> {
    let source = Source::open(path, passphrase)?;
    let mut archive = tar::Archive::new(source);
    let mut seen: HashMap<String, (String, u64)> = HashMap::new();
    let mut manifest = None;
    let mut secret = None;
    let mut signing = Vec::new();
    let mut misnamed: Option<String> = None;
    // Truncated anywhere, the archive ends before its manifest, or inside
    // a block: either way it is not a whole backup.
    let read_err = |e: std::io::Error| anyhow!("{} is incomplete or damaged ({e})", path.display());
    for entry in archive.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let name = entry_path(&entry)?;
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(read_err)?;
        if name == MANIFEST {
            manifest = Some(serde_json::from_slice::<Manifest>(&data).map_err(|_| {
                anyhow!(
                    "{} is damaged: its manifest is not readable",
                    path.display()
                )
            })?);
            continue;
        }
        let sha = hex::encode(Sha256::digest(&data));
        if let Some(blob) = name.strip_prefix("evidence/")
            && (!app::blobs::is_sha256_hex(blob) || blob != sha)
        {
            // Said once the archive is known to be whole: a cut-off last
            // file is an incomplete backup, not a damaged one.
            misnamed.get_or_insert(name.clone());
        } else if let Some(file) = name.strip_prefix("signing/") {
            if !signing_name_ok(file) {
                bail!(
                    "{} names a signing file {file:?} outside the signing directory",
                    path.display()
                );
            }
            signing.push((file.to_owned(), data.clone()));
        } else if name == "secret/instance.key" {
            secret = Some(data.clone());
        }
        if seen
            .insert(name.clone(), (sha, data.len() as u64))
            .is_some()
        {
            bail!("{} is damaged: it holds {name} twice", path.display());
        }
    }
    // tar stops at its end-of-archive block, which may leave the last
    // encrypted chunk unread (and so unauthenticated): a backup cut off
    // there restored as whole. Reading to the end checks every chunk.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink()).map_err(read_err)?;
    let manifest = manifest.ok_or_else(|| {
        anyhow!(
            "{} is incomplete: it has no manifest (an interrupted backup, or not a Nachweis backup)",
            path.display()
        )
    })?;
    if let Some(name) = misnamed {
        bail!(
            "{} is damaged: {name} does not hold the file its name says",
            path.display()
        );
    }
    if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
        bail!(
            "{} is a backup format this Nachweis does not know ({} version {})",
            path.display(),
            manifest.format,
            manifest.format_version
        );
    }
    for part in &manifest.parts {
        match seen.remove(&part.path) {
            Some((sha, bytes)) if sha == part.sha256 && bytes == part.bytes => {}
            Some(_) => bail!(
                "{} is damaged: {} does not match the manifest",
                path.display(),
                part.path
            ),
            None => bail!("{} is incomplete: {} is missing", path.display(), part.path),
        }
    }
    if let Some(extra) = seen.keys().next() {
        bail!(
            "{} holds {extra}, which its manifest does not list",
            path.display()
        );
    }
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if let Some(unknown) = manifest.migrations.iter().find(|m| !known.contains(m)) {
        bail!(
            "the backup comes from a newer Nachweis (schema {unknown}, version {}): restore it with that version or a later one",
            manifest.nachweis_version
        );
    }
    if !known.starts_with(&manifest.migrations) {
        bail!("the backup's schema is not a step of this Nachweis' schema history");
    }
    let secret = secret.ok_or_else(|| anyhow!("{} holds no instance secret", path.display()))?;
    let text = std::str::from_utf8(&secret).unwrap_or("");
    if text.trim().len() != 64 || !text.trim().bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{} is damaged: its instance secret is not 64 hex digits",
            path.display()
        );
    }
    Ok(Checked {
        manifest,
        secret,
        signing,
    })
}

/// The SQLite database file a `sqlite:` URL names.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Whether `dir` holds anything but a configuration file.
fn has_data(dir: &Path) -> anyhow::Result<bool> {
    if !dir.exists() {
        return Ok(false);
    }
    Ok(std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(Result::ok)
        .any(|e| e.file_name() != "nachweis.toml"))
}

/// Restores the backup at `path` into the instance `config` describes (its
/// data directory, database and evidence store), which must be empty.
pub async fn restore(
    config: &Config,
    path: &Path,
    passphrase: Option<secrecy::SecretString>,
) -> anyhow::Result<Restored> {
    let Checked {
        manifest,
        secret,
        signing,
    } = {
        let path = path.to_owned();
        let passphrase = passphrase.clone();
        tokio::task::spawn_blocking(move || check(&path, passphrase.as_ref())).await??
    };
    if has_data(&config.data_dir)? {
        bail!(
            "the target data directory {} is not empty: restore only into an empty one",
            config.data_dir.display()
        );
    }
    if config.secret_key.is_some() {
        bail!(
            "NACHWEIS_SECRET_KEY is set: the restored instance uses the backup's instance secret (secret.key in the data directory); unset it"
        );
    }
    if has_data(&config.signing_dir)? {
        bail!(
            "the signing directory {} is not empty: restore only into an empty one",
            config.signing_dir.display()
        );
    }
    // A SQLite file outside the data directory is checked too; a missing
    // one is not created by checking.
    let existing_sqlite = config
        .is_sqlite()
        .then(|| sqlite_file(&config.database_url))
        .flatten()
        .filter(|f| f.exists());
    if !config.is_sqlite() || existing_sqlite.is_some() {
        let db = crate::db::open(config).await?;
        let existing = tables(&db).await?;
        if !existing.is_empty() {
            bail!(
                "the target database is not empty ({} tables): restore only into an empty database",
                existing.len()
            );
        }
        app::entities::close(db).await?;
    }

    // From here on, things are written: first the secret and the keys (a
    // database without its secret would get a new one at the next start),
    // then the schema of the backup, the files and the rows.
    create_private_dir(&config.data_dir)?;
    write_back(config, path, passphrase, manifest, secret, signing)
        .await
        .with_context(|| {
            format!(
                "the restore stopped halfway: empty {} and the database before trying again",
                config.data_dir.display()
            )
        })
}

/// The data directory, mode 0700: it holds the database and the secret.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

async fn write_back(
    config: &Config,
    path: &Path,
    passphrase: Option<secrecy::SecretString>,
    manifest: Manifest,
    secret: Vec<u8>,
    signing: Vec<(String, Vec<u8>)>,
) -> anyhow::Result<Restored> {
    crate::secrets::write_secret(&config.data_dir.join("secret.key"), &secret)?;
    if !signing.is_empty() {
        create_private_dir(&config.signing_dir)?;
        for (name, data) in signing {
            crate::secrets::write_private(&config.signing_dir.join(name), &data)?;
        }
    }
    let db = crate::db::open(config).await?;
    let known = Migrator::migrations().len();
    Migrator::up(&db, Some(manifest.migrations.len() as u32)).await?;
    let store = crate::storage::from_config(config)?;
    let staging = store.staging_dir().to_path_buf();
    std::fs::create_dir_all(&staging)?;

    // Second pass: the rows in one transaction; files as they come.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, Vec<u8>)>(4);
    let reader = {
        let path = path.to_owned();
        let passphrase = passphrase.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut archive = tar::Archive::new(Source::open(&path, passphrase.as_ref())?);
            for entry in archive.entries()? {
                let mut entry = entry?;
                let name = entry_path(&entry)?;
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                if tx.blocking_send((name, data)).is_err() {
                    break;
                }
            }
            Ok(())
        })
    };
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    let mut tables_data: HashMap<String, Vec<u8>> = HashMap::new();
    let mut evidence_files = 0usize;
    while let Some((name, data)) = rx.recv().await {
        if let Some(table) = name
            .strip_prefix("db/")
            .and_then(|n| n.strip_suffix(".jsonl"))
        {
            tables_data.insert(table.to_owned(), data);
        } else if let Some(sha) = name.strip_prefix("evidence/") {
            // Checked in the first pass; again, in case the file changed since.
            if hex::encode(Sha256::digest(&data)) != sha {
                bail!("{name} changed since the backup was checked");
            }
            let staged = staging.join(format!("restore-{sha}"));
            std::fs::write(&staged, &data)
                .with_context(|| format!("writing {}", staged.display()))?;
            store
                .put_file(sha, &staged)
                .await
                .with_context(|| format!("storing evidence file {sha}"))?;
            evidence_files += 1;
        }
    }
    reader.await??;
    let mut rows_total = 0u64;
    for table in &manifest.tables {
        let data = tables_data
            .remove(table)
            .ok_or_else(|| anyhow!("the backup lacks the rows of {table}"))?;
        let mut lines = data.split(|b| *b == b'\n').filter(|l| !l.is_empty());
        let header: TableHeader = serde_json::from_slice(
            lines
                .next()
                .ok_or_else(|| anyhow!("the part of {table} is empty"))?,
        )
        .with_context(|| format!("the column list of {table}"))?;
        // Rows the migrations seed (the audit head) come from the backup.
        txn.execute_unprepared(&format!("DELETE FROM {}", quote(table)))
            .await?;
        let widths = int_widths(&txn, table).await?;
        let names: Vec<Alias> = header
            .columns
            .iter()
            .map(|(c, _)| Alias::new(c.as_str()))
            .collect();
        let mut batch = Vec::new();
        for line in lines {
            let values: Vec<serde_json::Value> =
                serde_json::from_slice(line).with_context(|| format!("a row of {table}"))?;
            if values.len() != header.columns.len() {
                bail!(
                    "a row of {table} has {} values for {} columns",
                    values.len(),
                    header.columns.len()
                );
            }
            let exprs = values
                .iter()
                .zip(&header.columns)
                .map(|(v, (c, k))| bind_value(v, *k, c, widths.get(c).copied()))
                .collect::<anyhow::Result<Vec<_>>>()?;
            batch.push(exprs);
            rows_total += 1;
            if batch.len() == 200 {
                insert(&txn, table, &names, std::mem::take(&mut batch)).await?;
            }
        }
        if !batch.is_empty() {
            insert(&txn, table, &names, batch).await?;
        }
        if backend == DatabaseBackend::Postgres && header.columns.iter().any(|(c, _)| c == "id") {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence({t}, 'id'), COALESCE((SELECT MAX(id) FROM {q}), 0) + 1, false)",
                t = literal(&quote(table)),
                q = quote(table)
            ))
            .await?;
        }
    }
    txn.commit().await?;
    // The rest of the schema history, as a start of the server would.
    crate::db::migrate(&db, config).await?;
    app::entities::close(db).await?;
    Ok(Restored {
        tables: manifest.tables.len(),
        rows: rows_total,
        evidence_files,
        migrations_applied: known - manifest.migrations.len(),
    })
}

async fn insert(
    txn: &DatabaseTransaction,
    table: &str,
    names: &[Alias],
    rows: Vec<Vec<SimpleExpr>>,
) -> anyhow::Result<()> {
    let mut q = Query::insert();
    q.into_table(Alias::new(table)).columns(names.to_vec());
    for r in rows {
        q.values(r)?;
    }
    txn.execute(&q)
        .await
        .with_context(|| format!("restoring the rows of {table}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_to_kinds() {
        for (t, k) in [
            ("integer", Kind::Int),
            ("bigint", Kind::Int),
            ("boolean", Kind::Bool),
            ("timestamp with time zone", Kind::Timestamp),
            ("timestamp_with_timezone_text", Kind::Timestamp),
            ("date", Kind::Date),
            ("date_text", Kind::Date),
            ("bytea", Kind::Bytes),
            ("blob", Kind::Bytes),
            ("character varying", Kind::Text),
            ("varchar(64)", Kind::Text),
            ("text", Kind::Text),
            ("jsonb", Kind::Json),
        ] {
            assert_eq!(kind_of(t), k, "{t}");
        }
    }

    #[test]
    fn parents_come_before_children() {
        let tables: Vec<String> = ["c", "b", "a"].iter().map(|s| s.to_string()).collect();
        let mut refs = BTreeMap::new();
        refs.insert(
            "c".to_string(),
            BTreeSet::from(["b".to_string(), "c".to_string()]),
        );
        refs.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
        assert_eq!(insert_order(&tables, &refs).unwrap(), ["a", "b", "c"]);
        refs.insert("a".to_string(), BTreeSet::from(["c".to_string()]));
        assert!(insert_order(&tables, &refs).is_err());
    }

    /// tar stops at its first end-of-archive block. Placed at the very end
    /// of the first encrypted chunk, that block leaves the last chunk
    /// holding only tar's second zero block, which tar never asks for: cut
    /// there, the backup must still be refused as truncated.
    #[test]
    fn a_backup_cut_where_tar_no_longer_reads_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b");
        let pass = secrecy::SecretString::from("correct horse battery".to_owned());
        let mut sink = Sink::new(File::create(&path).unwrap(), Some(&pass)).unwrap();
        {
            let mut archive = tar::Builder::new(&mut sink);
            // Header, data and the first zero block fill the chunk exactly.
            let data = vec![7u8; CHUNK - 2 * 512];
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o600);
            header.set_cksum();
            archive
                .append_data(&mut header, "evidence/x", data.as_slice())
                .unwrap();
            archive.finish().unwrap();
        }
        assert_eq!(
            sink.written,
            (CHUNK + 512) as u64,
            "the layout the test needs"
        );
        sink.finish().unwrap();
        // Whole, the archive reads to its end; it is just not a backup.
        let err = check(&path, Some(&pass)).err().unwrap().to_string();
        assert!(err.contains("no manifest"), "{err}");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
        let err = check(&path, Some(&pass)).err().unwrap().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn encrypted_archives_round_trip_and_refuse_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b");
        let pass = secrecy::SecretString::from("correct horse battery".to_owned());
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut sink = Sink::new(File::create(&path).unwrap(), Some(&pass)).unwrap();
        sink.write_all(&data).unwrap();
        sink.finish().unwrap();
        let mut back = Vec::new();
        Source::open(&path, Some(&pass))
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        let wrong = secrecy::SecretString::from("wrong horse battery".to_owned());
        let err = Source::open(&path, Some(&wrong)).err().unwrap().to_string();
        assert!(err.contains("wrong passphrase"), "{err}");
        // Cut off the last chunk: the end is missing, and it shows.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
        let mut out = Vec::new();
        assert!(
            Source::open(&path, Some(&pass))
                .unwrap()
                .read_to_end(&mut out)
                .is_err()
        );
    }
}
