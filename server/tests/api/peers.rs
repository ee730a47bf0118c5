//! Real peer processes the tests talk to: an SMTP server (aiosmtpd) and an
//! S3-compatible object store (moto), started from the venv that
//! `scripts/setup-tools.sh` prepares, and an OpenID Connect provider (the
//! npm package `oidc-provider`, installed in `end2end/`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Python with the test peers installed.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("NACHWEIS_TEST_VENV") {
        return PathBuf::from(p).join("bin/python");
    }
    let home = std::env::var("HOME").expect("HOME");
    PathBuf::from(home).join(".cache/nachweis/pyenv/bin/python")
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().unwrap().port()
}

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Starts `cmd` and waits until it prints a line starting with `READY`.
fn start_until_ready(mut cmd: Command, what: &str) -> Child {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start the {what} ({:?}): {e}; run scripts/setup-tools.sh",
                cmd.get_program()
            )
        });
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.starts_with("READY") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("the {what} did not become ready"));
    child
}

/// aiosmtpd on loopback writing each accepted message to a directory.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    /// A server that answers every recipient with `code` (e.g. 550).
    pub fn refusing(code: u16) -> Self {
        Self::start_on(free_port(), Some(code))
    }

    pub fn start_on(port: u16, refuse: Option<u16>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(python());
        cmd.arg(peers_dir().join("smtp_sink.py"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir.path());
        if let Some(code) = refuse {
            cmd.arg("--refuse").arg(code.to_string());
        }
        let child = start_until_ready(cmd, "SMTP test server");
        Self { port, dir, child }
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        read_messages(self.dir.path())
            .iter()
            .map(|m| parse(m))
            .collect()
    }

    pub fn smtp_config(&self) -> server::config::SmtpConfig {
        smtp_config(self.port)
    }
}

pub fn smtp_config(port: u16) -> server::config::SmtpConfig {
    server::config::SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: server::config::SmtpTls::None,
        username: None,
        password: None,
        from: "Nachweis <nachweis@test.example>".into(),
    }
}

fn read_messages(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("sink dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| std::fs::read_to_string(p).expect("message"))
        .collect()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A received message, parsed: the headers and the decoded text and HTML parts.
#[derive(Debug)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

pub fn parse(raw: &str) -> Received {
    let m = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a parsable message");
    Received {
        to: m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned(),
        subject: m.subject().unwrap_or_default().to_owned(),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        raw: raw.to_owned(),
    }
}

/// moto's S3 server on loopback with one empty bucket.
pub struct S3Server {
    pub port: u16,
    pub bucket: String,
    child: Child,
}

impl S3Server {
    pub async fn start() -> Self {
        let port = free_port();
        let mut cmd = Command::new(python());
        cmd.arg(peers_dir().join("s3_server.py"))
            .arg("--port")
            .arg(port.to_string());
        let child = start_until_ready(cmd, "S3 test server (moto)");
        let bucket = format!("nachweis-{}", uuid::Uuid::new_v4().simple());
        let res = reqwest::Client::new()
            .put(format!("http://127.0.0.1:{port}/{bucket}"))
            .send()
            .await
            .expect("create bucket");
        assert!(res.status().is_success(), "create bucket: {}", res.status());
        Self {
            port,
            bucket,
            child,
        }
    }

    pub fn config(&self) -> server::config::S3Config {
        server::config::S3Config {
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            endpoint: Some(format!("http://127.0.0.1:{}", self.port)),
            access_key_id: "test".into(),
            secret_access_key: "test".to_owned().into(),
            prefix: "evidence".into(),
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `oidc-provider` on loopback with the clients `nachweis` (secret
/// `nachweis-secret`) and `other-app`, and the test users of
/// `end2end/peers/oidc-provider.mjs`.
pub struct OidcProvider {
    pub port: u16,
    pub issuer: String,
    child: Child,
}

impl OidcProvider {
    /// A provider that sends people back to `redirect` (our callback URL).
    pub fn start(redirect: &str) -> Self {
        let port = free_port();
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/peers/oidc-provider.mjs");
        let mut cmd = Command::new("node");
        cmd.arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--redirect")
            .arg(redirect);
        let child = start_until_ready(cmd, "OpenID Connect test provider (node)");
        Self {
            port,
            issuer: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// Makes the provider misbehave (see the script); `{}` resets.
    pub async fn tamper(&self, how: serde_json::Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/__test/tamper", self.issuer))
            .body(how.to_string())
            .send()
            .await
            .expect("tamper");
        assert!(res.status().is_success(), "tamper: {}", res.status());
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
