//! The audit log (Eingabekontrolle): who changed what, when, before and after.
//! Written in the same transaction as the change; hash-chained so that
//! `nachweis audit verify` detects tampering.

mod page;
pub use page::AuditPage;

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod service;

use crate::error::AppError;
use leptos::prelude::*;

/// One row of the audit log as shown to admins and auditors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Filters of the audit page; empty strings mean "any".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub entity: String,
    pub action: String,
    pub actor: String,
}

/// The newest 200 rows of the current organisation's audit log matching the filter.
#[server(endpoint = "audit/list")]
pub async fn list_audit(filter: AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    if !actor.role.reads_audit_log() {
        return Err(AppError::Forbidden);
    }
    service::list(&state.db, actor.org_id, &filter, 200).await
}
