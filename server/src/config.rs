//! Typed configuration: defaults, then an optional TOML file, then the
//! environment, then command-line flags. A wrong value stops the start with
//! one line naming the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// How mail leaves the building (used by the mail outbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP, for a relay on the same host.
    None,
    /// STARTTLS on the submission port.
    Starttls,
    /// Implicit TLS (SMTPS).
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub from: String,
}

/// S3-compatible object storage for evidence (several nodes share it).
#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// e.g. `http://127.0.0.1:9000` for MinIO; `None`: AWS.
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// Key prefix inside the bucket.
    pub prefix: String,
}

/// Where evidence files are kept.
#[derive(Debug, Clone)]
pub enum StorageConfig {
    /// `<data_dir>/evidence/blobs` (the default).
    Local,
    S3(S3Config),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `database_pool` (NACHWEIS_DATABASE_POOL): connections in the pool
    /// (default: [`default_database_pool`]). On SQLite writers have one
    /// more, of their own (`app::entities::attach_writer`).
    pub database_pool: u32,
    pub public_url: String,
    /// A directory to serve the site from instead of the copy embedded in
    /// the binary (`LEPTOS_SITE_ROOT`); `None` serves the embedded one.
    pub site_root: Option<PathBuf>,
    pub session_idle_minutes: i64,
    pub smtp: Option<SmtpConfig>,
    /// Operator-provided signing keys: `<short>.key.pem` + `<short>.chain.pem`.
    pub signing_dir: PathBuf,
    /// The instance secret (64 hex digits); `None`: kept in `<data_dir>/secret.key`.
    pub secret_key: Option<secrecy::SecretString>,
    /// Seconds between passes of the background worker (mail, daily jobs).
    pub worker_interval_secs: u64,
    pub storage: StorageConfig,
    /// From this hour (German time) on, the daily digest goes out.
    pub digest_hour: u32,
    /// Largest evidence upload in bytes.
    pub evidence_max_bytes: u64,
    /// `[[sso.providers]]` from the config file, synced into the database at start.
    pub sso_providers: Vec<app::sso::service::ConfiguredProvider>,
    /// `sso.allow_private_addresses`: providers on loopback or private
    /// addresses (tests, a provider inside the company network).
    pub sso_allow_private_addresses: bool,
    /// `trusted_proxies` (NACHWEIS_TRUSTED_PROXIES, comma-separated):
    /// addresses or networks whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `metrics_token` (NACHWEIS_METRICS_TOKEN): the bearer token that
    /// `/metrics` asks for; without one, `/metrics` does not exist.
    pub metrics_token: Option<SecretString>,
}

/// The pool size when none is configured. SQLite: 8 readers; its
/// connections run in this process, and on 2 cores 4 or 8 served the same.
/// PostgreSQL: twice the cores this server may use, at least 4 and at most
/// 16. A statement keeps a PostgreSQL process busy while this one waits, so
/// a few connections per core keep both busy; more only take turns for
/// the same cores. On 2 cores, with PostgreSQL on the same machine, 4
/// connections served the start page at 990–1,030 req/s with a p99 of
/// 50–54 ms, 16 connections at 750–890 req/s with a p99 of 110–130 ms
/// (32 clients).
pub fn default_database_pool(database_url: &str) -> u32 {
    if database_url.starts_with("sqlite:") {
        return 8;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    postgres_pool_for(cores)
}

fn postgres_pool_for(cores: usize) -> u32 {
    // At most 16: the fixed default before, so no installation opens more
    // connections than it did.
    u32::try_from(cores.saturating_mul(2).clamp(4, 16)).unwrap_or(16)
}

/// The file format: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_pool: Option<u32>,
    public_url: Option<String>,
    site_root: Option<PathBuf>,
    session_idle_minutes: Option<i64>,
    smtp: Option<FileSmtp>,
    signing_dir: Option<PathBuf>,
    worker_interval_secs: Option<u64>,
    evidence_max_mb: Option<u64>,
    digest_hour: Option<u32>,
    sso: Option<FileSso>,
    trusted_proxies: Option<Vec<String>>,
    metrics_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSso {
    #[serde(default)]
    providers: Vec<FileProvider>,
    /// Allow discovery, keys and tokens from loopback or private addresses.
    #[serde(default)]
    allow_private_addresses: bool,
}

/// One `[[sso.providers]]` entry: the fields of the admin UI, plus where it belongs.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProvider {
    org: String,
    customer: Option<String>,
    name: String,
    issuer_url: String,
    client_id: String,
    /// Prefer `client_secret_env`: the name of an environment variable.
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    allowed_domains: String,
    #[serde(default)]
    required_claim: String,
    #[serde(default)]
    default_role: String,
    #[serde(default)]
    role_mapping: String,
    enabled: Option<bool>,
    /// The provider sends no `email_verified` claim (Microsoft Entra ID):
    /// its addresses are taken as verified. Only the operator can say so.
    #[serde(default)]
    email_verified_optional: bool,
}

impl std::fmt::Debug for FileProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileProvider")
            .field("org", &self.org)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSmtp {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<SmtpTls>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
}

/// A configuration error: which setting, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: setting `{setting}`{source_hint}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub source_hint: String,
    pub message: String,
}

fn err(setting: &str, env: Option<&str>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_owned(),
        source_hint: env.map(|e| format!(" ({e})")).unwrap_or_default(),
        message: message.into(),
    }
}

/// Values given on the command line (they win over everything else).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
}

/// Where settings come from besides flags; the process environment in production.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Config {
    pub fn load(flags: &Overrides, env: &dyn Env) -> Result<Config, ConfigError> {
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| env.var("NACHWEIS_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("data"));
        let file_path = flags
            .config_file
            .clone()
            .or_else(|| env.var("NACHWEIS_CONFIG").map(PathBuf::from));
        let file = match &file_path {
            Some(p) => read_file(p, true)?,
            None => read_file(&data_dir.join("nachweis.toml"), false)?,
        };
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| env.var("NACHWEIS_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or(data_dir);

        let listen_raw = flags
            .listen
            .clone()
            .or_else(|| env.var("NACHWEIS_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let listen: SocketAddr = listen_raw.parse().map_err(|_| {
            err(
                "listen",
                Some("NACHWEIS_LISTEN / --listen"),
                format!("`{listen_raw}` is not an address like 127.0.0.1:3000"),
            )
        })?;

        let database_url = flags
            .database_url
            .clone()
            .or_else(|| env.var("DATABASE_URL"))
            .or(file.database_url)
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("nachweis.db").display()
                )
            });
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(err(
                "database_url",
                Some("DATABASE_URL / --database-url"),
                "must start with sqlite: or postgres:// (the URL itself is not shown, it may hold a password)",
            ));
        }

        let public_url = env
            .var("NACHWEIS_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
            || public_url.contains(' ')
        {
            return Err(err(
                "public_url",
                Some("NACHWEIS_PUBLIC_URL"),
                format!("`{public_url}` is not an http(s) URL"),
            ));
        }

        let site_root = env
            .var("LEPTOS_SITE_ROOT")
            .map(PathBuf::from)
            .or(file.site_root);

        let session_idle_minutes = match env.var("NACHWEIS_SESSION_IDLE_MINUTES") {
            Some(v) => v.parse::<i64>().map_err(|_| {
                err(
                    "session_idle_minutes",
                    Some("NACHWEIS_SESSION_IDLE_MINUTES"),
                    format!("`{v}` is not a number of minutes"),
                )
            })?,
            None => file.session_idle_minutes.unwrap_or(120),
        };
        if !(1..=7 * 24 * 60).contains(&session_idle_minutes) {
            return Err(err(
                "session_idle_minutes",
                Some("NACHWEIS_SESSION_IDLE_MINUTES"),
                "must be between 1 and 10080",
            ));
        }

        let smtp = smtp_config(file.smtp.unwrap_or_default(), env)?;

        let signing_dir = env
            .var("NACHWEIS_SIGNING_DIR")
            .map(PathBuf::from)
            .or(file.signing_dir)
            .unwrap_or_else(|| data_dir.join("signing"));
        let secret_key = match env.var("NACHWEIS_SECRET_KEY") {
            Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(secrecy::SecretString::from(v))
            }
            Some(_) => {
                return Err(err(
                    "secret_key",
                    Some("NACHWEIS_SECRET_KEY"),
                    "must be 64 hexadecimal digits (32 bytes); the value is not shown",
                ));
            }
            None => None,
        };

        let database_pool = match env.var("NACHWEIS_DATABASE_POOL") {
            Some(v) => v.parse::<u32>().ok(),
            None => Some(
                file.database_pool
                    .unwrap_or_else(|| default_database_pool(&database_url)),
            ),
        };
        let database_pool = match database_pool {
            Some(n) if (1..=256).contains(&n) => n,
            _ => {
                return Err(err(
                    "database_pool",
                    Some("NACHWEIS_DATABASE_POOL"),
                    "must be a number of connections between 1 and 256",
                ));
            }
        };

        let worker_interval_secs = match env.var("NACHWEIS_WORKER_INTERVAL_SECS") {
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=3600).contains(&n) => n,
                _ => {
                    return Err(err(
                        "worker_interval_secs",
                        Some("NACHWEIS_WORKER_INTERVAL_SECS"),
                        format!("`{v}` is not a number of seconds between 1 and 3600"),
                    ));
                }
            },
            None => file.worker_interval_secs.unwrap_or(15),
        };

        let evidence_max_mb = match env.var("NACHWEIS_EVIDENCE_MAX_MB") {
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    err(
                        "evidence_max_mb",
                        Some("NACHWEIS_EVIDENCE_MAX_MB"),
                        format!("`{v}` is not a size in MB between 1 and 100000"),
                    )
                })?,
            None => file.evidence_max_mb.unwrap_or(50),
        };
        let storage = storage_config(env)?;
        let digest_hour = match env.var("NACHWEIS_DIGEST_HOUR") {
            Some(v) => v.parse::<u32>().ok().filter(|h| *h < 24).ok_or_else(|| {
                err(
                    "digest_hour",
                    Some("NACHWEIS_DIGEST_HOUR"),
                    format!("`{v}` is not an hour between 0 and 23"),
                )
            })?,
            None => file.digest_hour.unwrap_or(7),
        };

        let trusted_proxies = match env.var("NACHWEIS_TRUSTED_PROXIES") {
            Some(v) => v
                .split(',')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        }
        .iter()
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    err(
                        "trusted_proxies",
                        Some("NACHWEIS_TRUSTED_PROXIES"),
                        format!("`{p}` is not an IP address or network (e.g. 10.0.0.0/8)"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
        let sso = file.sso.unwrap_or_default();
        let sso_allow_private_addresses = sso.allow_private_addresses;
        let sso_providers = sso_providers(sso, env)?;

        let metrics_token = match env.var("NACHWEIS_METRICS_TOKEN").or(file.metrics_token) {
            None => None,
            Some(t) if t.len() >= 24 && !t.chars().any(char::is_whitespace) => {
                Some(SecretString::from(t))
            }
            Some(_) => {
                return Err(err(
                    "metrics_token",
                    Some("NACHWEIS_METRICS_TOKEN"),
                    "must be at least 24 characters without spaces (e.g. `openssl rand -hex 24`)",
                ));
            }
        };

        Ok(Config {
            listen,
            data_dir,
            database_url,
            database_pool,
            public_url,
            site_root,
            session_idle_minutes,
            smtp,
            signing_dir,
            secret_key,
            worker_interval_secs,
            storage,
            digest_hour,
            evidence_max_bytes: evidence_max_mb * 1024 * 1024,
            sso_providers,
            sso_allow_private_addresses,
            trusted_proxies,
            metrics_token,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn smtp_config(file: FileSmtp, env: &dyn Env) -> Result<Option<SmtpConfig>, ConfigError> {
    let Some(host) = env.var("NACHWEIS_SMTP_HOST").or(file.host) else {
        return Ok(None);
    };
    let tls = match env.var("NACHWEIS_SMTP_TLS") {
        Some(v) => match v.as_str() {
            "none" => SmtpTls::None,
            "starttls" => SmtpTls::Starttls,
            "tls" => SmtpTls::Tls,
            other => {
                return Err(err(
                    "smtp.tls",
                    Some("NACHWEIS_SMTP_TLS"),
                    format!("`{other}` is not one of none, starttls, tls"),
                ));
            }
        },
        None => file.tls.unwrap_or(SmtpTls::Starttls),
    };
    let port = match env.var("NACHWEIS_SMTP_PORT") {
        Some(v) => v.parse().map_err(|_| {
            err(
                "smtp.port",
                Some("NACHWEIS_SMTP_PORT"),
                format!("`{v}` is not a port number"),
            )
        })?,
        None => file.port.unwrap_or(match tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }),
    };
    let from = env.var("NACHWEIS_SMTP_FROM").or(file.from).ok_or_else(|| {
        err(
            "smtp.from",
            Some("NACHWEIS_SMTP_FROM"),
            "is required when an SMTP host is set",
        )
    })?;
    if app::domain::EmailAddress::parse(
        from.rsplit('<')
            .next()
            .unwrap_or(&from)
            .trim_end_matches('>'),
    )
    .is_err()
    {
        return Err(err(
            "smtp.from",
            Some("NACHWEIS_SMTP_FROM"),
            format!("`{from}` is not an e-mail address"),
        ));
    }
    Ok(Some(SmtpConfig {
        host,
        port,
        tls,
        username: env.var("NACHWEIS_SMTP_USERNAME").or(file.username),
        password: env
            .var("NACHWEIS_SMTP_PASSWORD")
            .or(file.password)
            .map(SecretString::from),
        from,
    }))
}

fn sso_providers(
    file: FileSso,
    env: &dyn Env,
) -> Result<Vec<app::sso::service::ConfiguredProvider>, ConfigError> {
    file.providers
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let setting = format!("sso.providers[{i}] ({})", p.name);
            let client_secret = match (p.client_secret, p.client_secret_env) {
                (Some(_), Some(_)) => {
                    return Err(err(
                        &setting,
                        None,
                        "give client_secret or client_secret_env, not both",
                    ));
                }
                (Some(s), None) => s,
                (None, Some(var)) => env.var(&var).ok_or_else(|| {
                    err(
                        &setting,
                        Some(&var),
                        format!("client_secret_env names `{var}`, which is not set"),
                    )
                })?,
                (None, None) => String::new(),
            };
            Ok(app::sso::service::ConfiguredProvider {
                org: p.org,
                customer: p.customer.filter(|c| !c.trim().is_empty()),
                fields: app::sso::NewProvider {
                    customer_id: None,
                    name: p.name,
                    issuer_url: p.issuer_url,
                    client_id: p.client_id,
                    client_secret,
                    scopes: p.scopes,
                    allowed_domains: p.allowed_domains,
                    required_claim: p.required_claim,
                    default_role: p.default_role,
                    role_mapping: p.role_mapping,
                },
                enabled: p.enabled.unwrap_or(true),
                email_verified_optional: p.email_verified_optional,
            })
        })
        .collect()
}

fn storage_config(env: &dyn Env) -> Result<StorageConfig, ConfigError> {
    match env.var("NACHWEIS_STORAGE").as_deref() {
        None | Some("local") => Ok(StorageConfig::Local),
        Some("s3") => {
            let need = |key: &str, setting: &str| {
                env.var(key)
                    .ok_or_else(|| err(setting, Some(key), "is required when NACHWEIS_STORAGE=s3"))
            };
            Ok(StorageConfig::S3(S3Config {
                bucket: need("NACHWEIS_S3_BUCKET", "storage.s3.bucket")?,
                region: env
                    .var("NACHWEIS_S3_REGION")
                    .unwrap_or_else(|| "us-east-1".into()),
                endpoint: env.var("NACHWEIS_S3_ENDPOINT"),
                access_key_id: need("NACHWEIS_S3_ACCESS_KEY_ID", "storage.s3.access_key_id")?,
                secret_access_key: SecretString::from(need(
                    "NACHWEIS_S3_SECRET_ACCESS_KEY",
                    "storage.s3.secret_access_key",
                )?),
                prefix: env
                    .var("NACHWEIS_S3_PREFIX")
                    .unwrap_or_else(|| "evidence".into()),
            }))
        }
        Some(other) => Err(err(
            "storage",
            Some("NACHWEIS_STORAGE"),
            format!("`{other}` is not one of local, s3"),
        )),
    }
}

fn read_file(path: &Path, required: bool) -> Result<FileConfig, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            err(
                "config file",
                None,
                format!("{}: {}", path.display(), e.message()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok(FileConfig::default())
        }
        Err(e) => Err(err(
            "config file",
            Some("NACHWEIS_CONFIG / --config"),
            format!("{}: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, &'static str>);
    impl Env for MapEnv {
        fn var(&self, key: &str) -> Option<String> {
            self.0.get(key).map(|v| v.to_string())
        }
    }

    fn load(vars: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join("nachweis-config-test-nonexistent");
        let flags = Overrides {
            data_dir: Some(dir),
            ..Default::default()
        };
        Config::load(&flags, &MapEnv(vars.iter().copied().collect()))
    }

    #[test]
    fn defaults_are_sqlite_in_the_data_dir() {
        let c = load(&[]).unwrap();
        assert!(c.database_url.starts_with("sqlite://"));
        assert!(c.database_url.contains("nachweis.db"));
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
    }

    #[test]
    fn the_pool_follows_the_cores_on_postgres_only() {
        assert_eq!(load(&[]).unwrap().database_pool, 8);
        let pg = load(&[("DATABASE_URL", "postgres://nachweis@db.example/nachweis")]).unwrap();
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(pg.database_pool, postgres_pool_for(cores));
        assert_eq!(
            [1, 2, 3, 8, 64].map(postgres_pool_for),
            [4, 4, 6, 16, 16],
            "twice the cores, between 4 and 16"
        );
        let set = load(&[
            ("DATABASE_URL", "postgres://nachweis@db.example/nachweis"),
            ("NACHWEIS_DATABASE_POOL", "40"),
        ])
        .unwrap();
        assert_eq!(set.database_pool, 40, "a configured size is kept");
    }

    #[test]
    fn wrong_values_name_the_setting() {
        let e = load(&[("NACHWEIS_LISTEN", "nowhere")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`listen`") && e.contains("NACHWEIS_LISTEN"),
            "{e}"
        );
        let e = load(&[("DATABASE_URL", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`database_url`"), "{e}");
        let e = load(&[("NACHWEIS_SMTP_HOST", "mail.example")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`smtp.from`"), "{e}");
        let e = load(&[("NACHWEIS_SESSION_IDLE_MINUTES", "0")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("session_idle_minutes"), "{e}");
    }

    #[test]
    fn sso_providers_come_from_the_file_with_secrets_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nachweis.toml");
        std::fs::write(
            &file,
            r#"
[[sso.providers]]
org = "conrat"
name = "Keycloak"
issuer_url = "https://sso.conrat.example/realms/staff"
client_id = "nachweis"
client_secret_env = "KC_SECRET"
allowed_domains = "conrat.example"
role_mapping = "nachweis-admins=admin"

[[sso.providers]]
org = "conrat"
customer = "Kanzlei Hoffmann & Partner"
name = "Entra ID der Kanzlei"
issuer_url = "https://login.microsoftonline.com/tenant/v2.0"
client_id = "abc"
enabled = false
"#,
        )
        .unwrap();
        let flags = Overrides {
            config_file: Some(file.clone()),
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let env = MapEnv([("KC_SECRET", "s3cret-value")].into_iter().collect());
        let c = Config::load(&flags, &env).unwrap();
        assert_eq!(c.sso_providers.len(), 2);
        assert_eq!(c.sso_providers[0].fields.client_secret, "s3cret-value");
        assert!(c.sso_providers[0].enabled);
        assert_eq!(
            c.sso_providers[1].customer.as_deref(),
            Some("Kanzlei Hoffmann & Partner")
        );
        assert!(!c.sso_providers[1].enabled);
        assert!(
            !format!("{c:?}").contains("s3cret-value"),
            "secret in Debug"
        );

        let e = Config::load(&flags, &MapEnv(HashMap::new()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("KC_SECRET") && e.contains("Keycloak"), "{e}");
        std::fs::write(&file, "[[sso.providers]]\norg = \"x\"\nnme = \"typo\"\n").unwrap();
        let e = Config::load(&flags, &env).unwrap_err().to_string();
        assert!(e.contains("nme"), "{e}");
    }

    #[test]
    fn database_password_never_appears_in_errors() {
        let e = load(&[("DATABASE_URL", "mysql://u:hunter2@db/x")])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"));
    }
}
