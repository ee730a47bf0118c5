//! Protokoll: the audit log's page for admins and auditors (a feature on
//! top of the platform's log in `audit`).

#[cfg(feature = "ssr")]
pub mod http;
mod page;
pub use page::AuditPage;

use leptos::prelude::*;

use crate::audit::{AuditEntry, AuditFilter, AuditLogPage, ChainCheck};
use crate::error::AppError;

/// The newest 200 rows of the current organisation's audit log matching the filter.
#[server(endpoint = "audit/list")]
pub async fn list_audit(filter: AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    if !actor.role.reads_audit_log() {
        return Err(AppError::Forbidden);
    }
    crate::audit::service::list(&state.db, actor.org_id, &filter, 200).await
}

/// Page `page` (1-based) of the current organisation's audit log matching
/// the filter, newest first.
#[server(endpoint = "audit/page")]
pub async fn audit_page(filter: AuditFilter, page: u64) -> Result<AuditLogPage, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    if !actor.role.reads_audit_log() {
        return Err(AppError::Forbidden);
    }
    let page = page.max(1);
    let size = crate::audit::PAGE_SIZE;
    let mut entries = crate::audit::service::list_from(
        &state.db,
        actor.org_id,
        &filter,
        (page - 1) * size,
        size + 1,
    )
    .await?;
    let more = entries.len() as u64 > size;
    entries.truncate(size as usize);
    Ok(AuditLogPage {
        entries,
        page,
        more,
    })
}

/// Recomputes the whole chain (`nachweis audit verify`) for an admin or
/// auditor. It reads every row of the installation, so one check runs at a
/// time; a second asks to wait.
#[server(endpoint = "audit/verify")]
pub async fn verify_chain() -> Result<ChainCheck, AppError> {
    use crate::audit::service::Verification;
    let (state, actor) = crate::auth::require_internal().await?;
    if !actor.role.reads_audit_log() {
        return Err(AppError::Forbidden);
    }
    let Ok(_one) = state.chain_check.try_lock() else {
        return Err(AppError::Refused(
            "Die Kette wird gerade schon geprüft. Bitte versuchen Sie es in einer Minute noch einmal."
                .into(),
        ));
    };
    Ok(match crate::audit::service::verify(&state.db).await? {
        Verification::Intact { rows } => ChainCheck::Intact { up_to: rows as i64 },
        Verification::Broken {
            seq, kind, org_id, ..
        } => ChainCheck::Broken {
            seq,
            finding: (org_id == Some(actor.org_id)).then(|| kind.german().to_owned()),
        },
    })
}
