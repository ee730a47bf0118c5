//! Mail: messages in German or English (plain text + HTML), the outbox they
//! wait in, and the admin's view of it (queued, sent, failed with reason).

mod page;
#[cfg(feature = "ssr")]
pub mod templates;
pub use page::OutboxPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ids::MessageId;

#[cfg(feature = "ssr")]
pub mod service;

/// The language of a message (and of the person it goes to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    De,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::De => "de",
            Locale::En => "en",
        }
    }

    /// Unknown values fall back to German, the product's first language.
    pub fn parse_lenient(s: &str) -> Self {
        if s.trim().eq_ignore_ascii_case("en") {
            Locale::En
        } else {
            Locale::De
        }
    }
}

/// A rendered message: subject, plain text and HTML in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub locale: Locale,
    pub subject: String,
    pub text: String,
    pub html: MailHtml,
}

/// A message's HTML part. Only [`templates::html_page`] makes one, from view
/// markup, so every value in it has been escaped; nothing else can build an
/// HTML body from a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailHtml(String);

impl std::ops::Deref for MailHtml {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

pub use crate::domain::OutboxStatus;

/// One message as the admin sees it (no body: it may hold an invitation link).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: MessageId,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub created_at: crate::format::LocalTime,
    pub next_attempt_at: crate::format::LocalTime,
    pub sent_at: Option<crate::format::LocalTime>,
    pub last_error: Option<String>,
    pub server_reply: Option<String>,
}

/// The newest 200 messages of the current organisation (admins).
#[server(endpoint = "mail/outbox")]
pub async fn list_outbox() -> Result<Vec<OutboxEntry>, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::list(&state.db, &actor, 200).await
}

/// Puts a failed message back in the queue (admins).
#[server(endpoint = "mail/retry")]
pub async fn retry_message(id: MessageId) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::retry(&state.db, state.now(), &actor, id).await
}
