//! The audit log (Eingabekontrolle): who changed what, when, before and after.
//! Written in the same transaction as the change; hash-chained so that
//! `nachweis audit verify` detects tampering. The page that reads it is
//! the feature `protocol`.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod batch;
#[cfg(feature = "ssr")]
pub mod service;

/// One row of the audit log as shown to admins and auditors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: crate::format::LocalTime,
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
