//! Sends the outbox over SMTP with lettre: a worker claims due rows, sends
//! each, and records the server's answer or the error. See
//! `app::mail::service` for the delivery rules (retries, at-most-once).

use std::time::Duration;

use app::entities::outbox;
use app::error::AppResult;
use app::mail::OutboxStatus;
use app::mail::service as outbox_service;
use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;

use crate::config::{SmtpConfig, SmtpTls};

/// An SMTP connection setup and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Self> {
        let builder = match cfg.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)?,
        };
        let mut builder = builder
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        let from: Mailbox = cfg.from.parse().map_err(|e| {
            anyhow::anyhow!("configuration: setting `smtp.from` (NACHWEIS_SMTP_FROM): {e}")
        })?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one outbox row; `Ok` carries the server's reply.
    pub async fn send(&self, row: &outbox::Model) -> Result<String, String> {
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| format!("Ungültige Empfängeradresse: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(format!("<{}>", row.message_id)))
            .header(ContentLanguage(row.locale.clone()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(row.body_text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(row.body_html.clone()),
                    ),
            )
            .map_err(|e| format!("Nachricht konnte nicht erstellt werden: {e}"))?;
        match self.transport.send(message).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// `Content-Language` header of the message.
#[derive(Clone)]
struct ContentLanguage(String);

impl lettre::message::header::Header for ContentLanguage {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// What one pass of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: u32,
    pub retry_later: u32,
    pub failed: u32,
    pub interrupted: u64,
}

/// One pass: settle interrupted claims, then send every due message this
/// process manages to claim.
pub async fn send_due(
    db: &DatabaseConnection,
    mailer: &Mailer,
    now: DateTime<Utc>,
    node: &str,
) -> AppResult<Pass> {
    let mut pass = Pass {
        interrupted: outbox_service::settle_interrupted(db, now).await?,
        ..Pass::default()
    };
    for id in outbox_service::due(db, now, 50).await? {
        let Some(row) = outbox_service::claim(db, now, node, id).await? else {
            continue;
        };
        match mailer.send(&row).await {
            Ok(reply) => {
                outbox_service::mark_sent(db, now, &row, &reply).await?;
                tracing::info!(outbox = %row.id, kind = %row.kind, "mail sent");
                pass.sent += 1;
            }
            Err(error) => match outbox_service::mark_attempt_failed(db, now, &row, &error).await? {
                OutboxStatus::Failed => {
                    tracing::warn!(
                        outbox = %row.id,
                        attempts = row.attempts,
                        "mail failed for good: {error}"
                    );
                    pass.failed += 1;
                }
                _ => {
                    tracing::warn!(
                        outbox = %row.id,
                        attempts = row.attempts,
                        "mail attempt failed, will retry: {error}"
                    );
                    pass.retry_later += 1;
                }
            },
        }
    }
    Ok(pass)
}

/// A name for this process in claims: host, pid and a random part.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    let random = uuid_like();
    format!("{host}-{}-{random}", std::process::id())
}

fn uuid_like() -> String {
    use rand::Rng;
    let n: u32 = rand::thread_rng().r#gen();
    format!("{n:08x}")
}
