//! The one application error that crosses the wire.
//!
//! Each variant says what the user can do about it; the HTTP status it maps to
//! is given by [`AppError::status`]. Internal errors carry only an operation id
//! that also appears in the server log, never the cause.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 401: no session, or it expired.
    #[error(
        "Bitte melden Sie sich an. Ihre Sitzung ist abgelaufen oder Sie sind nicht angemeldet."
    )]
    Unauthenticated,
    /// 403: signed in, but the role does not allow this.
    #[error("Dafür fehlt Ihnen die Berechtigung.")]
    Forbidden,
    /// 404: does not exist, or belongs to another organisation (indistinguishable on purpose).
    #[error("{0} wurde nicht gefunden.")]
    NotFound(String),
    /// 422: a field failed validation; `field` names the form field.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// 409: somebody else changed the record since the form was loaded.
    #[error(
        "Der Datensatz wurde inzwischen von jemand anderem geändert. Bitte laden Sie die Seite neu und wiederholen Sie Ihre Änderung."
    )]
    Conflict,
    /// 401: the same answer for a wrong password, an unknown address and a locked account.
    #[error(
        "Anmeldung fehlgeschlagen: E-Mail-Adresse oder Passwort ist falsch, oder das Konto ist gesperrt."
    )]
    LoginFailed,
    /// 429: too many failed logins for this address.
    #[error("Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie {0} Sekunden.")]
    Throttled(u64),
    /// 400: the request itself was malformed (missing or unreadable form fields).
    #[error("Die Anfrage war unvollständig oder fehlerhaft: {0}")]
    BadRequest(String),
    /// 409: the request is understood but the current state forbids it; the message says why.
    #[error("{0}")]
    Refused(String),
    /// 413: an upload is larger than allowed; the message names the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 415: an upload's content is not an allowed type; the message lists the allowed ones.
    #[error("{0}")]
    UnsupportedType(String),
    /// 503: a required part is misconfigured or missing (e.g. the signing key); the message says which.
    #[error("{0}")]
    Unavailable(String),
    /// 500: logged on the server under this operation id.
    #[error("Ein interner Fehler ist aufgetreten (Vorgang {0}). Bitte versuchen Sie es erneut.")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated | Self::LoginFailed => 401,
            Self::Forbidden => 403,
            Self::NotFound(_) => 404,
            Self::Invalid { .. } => 422,
            Self::Conflict | Self::Refused(_) => 409,
            Self::Unavailable(_) => 503,
            Self::TooLarge(_) => 413,
            Self::UnsupportedType(_) => 415,
            Self::Throttled(_) => 429,
            Self::BadRequest(_) => 400,
            Self::Internal(_) => 500,
        }
    }

    /// The form field this error belongs to, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => {
                Self::BadRequest(msg)
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                Self::Internal("Netzwerk: der Server ist nicht erreichbar".to_owned())
            }
            other => Self::BadRequest(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl AppError {
        /// Logs an unexpected error with a fresh operation id and returns the
        /// error the client sees, which names only that id.
        pub fn internal(cause: impl std::fmt::Display) -> Self {
            let op = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
            tracing::error!(operation = %op, "internal error: {cause}");
            Self::Internal(op)
        }

        /// A write's database error, where a unique index refusing the
        /// row means `lost` (two saves at once: the other one won).
        pub fn unless_unique(e: sea_orm::DbErr, lost: AppError) -> Self {
            match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => lost,
                _ => e.into(),
            }
        }
    }

    impl From<sea_orm::DbErr> for AppError {
        fn from(e: sea_orm::DbErr) -> Self {
            Self::internal(e)
        }
    }

    impl From<sea_orm::TransactionError<AppError>> for AppError {
        fn from(e: sea_orm::TransactionError<AppError>) -> Self {
            match e {
                sea_orm::TransactionError::Connection(e) => Self::internal(e),
                sea_orm::TransactionError::Transaction(e) => e,
            }
        }
    }

    impl From<tower_sessions::session::Error> for AppError {
        fn from(e: tower_sessions::session::Error) -> Self {
            Self::internal(e)
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
