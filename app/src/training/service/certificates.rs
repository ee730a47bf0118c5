//! Certificates: rendered, signed and stored when an attempt passes.

use super::*;

/// The data of a certificate (`certificate.typ`).
#[derive(Debug, Serialize)]
pub(super) struct CertificateData {
    org_name: String,
    name: String,
    email: String,
    title: String,
    version: i32,
    sha256: String,
    score: u32,
    max: u32,
    pass_percent: i32,
    started_at: String,
    finished_at: String,
    date: String,
    audit_anchor: String,
}

/// Why the organisation signs a certificate (the PDF signature's reason).
pub const CERTIFICATE_REASON: &str = "Schulungsnachweis";

/// Renders the certificate, with the audit chain's head at signing, and
/// signs it with the organisation's certificate (off the async runtime).
#[allow(clippy::too_many_arguments)]
pub(super) async fn certificate(
    db: &DatabaseConnection,
    signing: &crate::pdf::keys::SigningSetup,
    org: &organisations::Model,
    actor: &Actor,
    v: &training_versions::Model,
    a: &training_attempts::Model,
    now: DateTime<Utc>,
    score: u32,
    max: u32,
) -> AppResult<(Vec<u8>, crate::audit::service::Anchor)> {
    let identity = signing.identity(db, org, now).await?;
    let anchor = crate::audit::service::head(db).await?;
    let data = CertificateData {
        org_name: org.legal_name.clone(),
        name: actor.display_name.clone(),
        email: actor.email.clone(),
        title: v.title.clone(),
        version: v.version,
        sha256: v.sha256.clone(),
        score,
        max,
        pass_percent: v.pass_percent,
        started_at: german_datetime(a.started_at),
        finished_at: german_datetime(now),
        date: crate::format::german_day_text(now),
        audit_anchor: anchor.label(),
    };
    let details = crate::pdf::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: CERTIFICATE_REASON.to_owned(),
        location: crate::pdf::sign::location(org),
        time: now,
    };
    let day = crate::format::german_day(now);
    let ident = format!("nachweis-schulung/{}/{}/{}", org.id, actor.user_id, a.id);
    let pdf = crate::pdf::typeset_signed(template(), &data, day, ident, identity, details).await?;
    Ok((pdf, anchor))
}

/// A certificate for download: its holder, and admins and auditors of the
/// same organisation.
pub async fn certificate_pdf(
    db: &DatabaseConnection,
    actor: &Actor,
    id: CompletionId,
) -> AppResult<training_completions::Model> {
    let row = training_completions::Entity::find_by_id(id)
        .filter(training_completions::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Das Zertifikat".into()))?;
    if !actor.reads_personal_record_of(row.user_id) {
        return Err(AppError::NotFound("Das Zertifikat".into()));
    }
    Ok(row)
}
