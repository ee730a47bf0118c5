use crate::ids::{CycleId, OrgId, UserId};
use sea_orm::entity::prelude::*;

use crate::domain::CycleStatus;

/// A review cycle (Wirksamkeitsprüfung): `open` or `closed`. A closed cycle
/// and its assessments never change; its signed report is stored here.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_cycles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CycleId,
    pub org_id: OrgId,
    pub title: String,
    pub due_date: Date,
    pub status: CycleStatus,
    /// `all` or `subset`.
    pub scope: String,
    pub method: String,
    pub opened_by: Option<UserId>,
    pub opened_at: DateTimeUtc,
    pub closed_by: Option<UserId>,
    pub closed_at: Option<DateTimeUtc>,
    pub close_comment: String,
    pub report_pdf: Option<Vec<u8>>,
    pub report_sha256: Option<String>,
    pub report_version: i32,
    /// The audit chain's head when the PDF was signed (printed in it).
    pub audit_seq: Option<i64>,
    pub audit_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
