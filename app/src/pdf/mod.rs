//! The PDF engine (platform): Typst rendering, PAdES signatures and the
//! organisations' signing keys. Features hand it data and a template; it
//! knows nothing of annexes, pledges or reviews.

/// Signing keys: generated per organisation or loaded from the operator's files.
pub mod keys;
mod pkcs12;
/// PAdES signatures in an incremental update, and their verification.
pub mod sign;
/// The sealed Typst world and the render to PDF/A-2b.
pub mod typeset;

use chrono::{Datelike, NaiveDate};

use crate::error::{AppError, AppResult};

/// Typesets `data` with `template` as the document of `day` and signs it
/// with the organisation's `identity`, off the async runtime: the one path
/// of certificates, signed pledges and review reports.
pub async fn typeset_signed(
    template: &'static typeset::Template,
    data: &impl serde::Serialize,
    day: NaiveDate,
    ident: String,
    identity: keys::OrgIdentity,
    details: sign::SignatureDetails,
) -> AppResult<Vec<u8>> {
    let data = serde_json::to_vec(data).map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        let date = (day.year(), day.month() as u8, day.day() as u8);
        let rendered =
            typeset::typeset(template, data, Some(date), ident).map_err(AppError::internal)?;
        sign::sign_pdf(&rendered.pdf, &identity.identity, &details).map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}
