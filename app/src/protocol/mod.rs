//! Protokoll: the audit log's page for admins and auditors (a feature on
//! top of the platform's log in `audit`).

mod page;
pub use page::AuditPage;

use leptos::prelude::*;

use crate::audit::{AuditEntry, AuditFilter};
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
