//! Protokoll: the audit log's page for admins and auditors (a feature on
//! top of the platform's log in `audit`).

mod page;
pub use page::AuditPage;

use leptos::prelude::*;

use crate::audit::{AuditEntry, AuditFilter, AuditLogPage};
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
