//! Publishing the annex: immutable, signed versions, and what changed since
//! the last one.

use crate::entities::BeginWrite;
use crate::ids::OrgId;
use chrono::{DateTime, Utc};
use der::Encode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AnnexChange, AnnexData, AnnexOverview, ChangeKind, PublicationInfo};
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::service::Actor;
use crate::entities::{organisations, publications};
use crate::error::{AppError, AppResult};
use crate::ids::MeasureId;
use crate::pdf::keys::{KeySource, SigningSetup};
use crate::pdf::sign::{SignatureDetails, sign_pdf};

/// The reason in every signature dictionary.
pub const SIGNATURE_REASON: &str = "Anlage TOM zum AVV";

/// What a publication was rendered from, kept with it as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub annex: AnnexData,
    pub measures: Vec<SnapshotMeasure>,
}

/// One measure as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMeasure {
    pub id: MeasureId,
    /// "3.1 Zutrittskontrolle"
    pub section: String,
    pub text: String,
}

impl Snapshot {
    /// Whether the published text would be the same (date and version aside).
    fn same_text(&self, other: &Snapshot) -> bool {
        self.annex.org_name == other.annex.org_name
            && self.annex.display_short == other.annex.display_short
            && self.annex.intro == other.annex.intro
            && self.annex.sections == other.annex.sections
    }
}

async fn org(db: &DatabaseConnection, org_id: OrgId) -> AppResult<organisations::Model> {
    organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))
}

/// The catalogue as it would be published now.
pub async fn current(
    db: &DatabaseConnection,
    org_id: OrgId,
    now: DateTime<Utc>,
) -> AppResult<Snapshot> {
    let with_ids = super::service::annex_sections_with_ids(db, org_id, now).await?;
    let measures = with_ids
        .iter()
        .flat_map(|(section, ids)| {
            ids.iter()
                .zip(&section.measures)
                .map(move |(id, text)| SnapshotMeasure {
                    id: *id,
                    section: format!("{} {}", section.number, section.title),
                    text: text.clone(),
                })
        })
        .collect();
    let sections = with_ids.into_iter().map(|(s, _)| s).collect();
    let mut annex = super::service::with_sections(db, org_id, now, sections).await?;
    annex.draft = false;
    Ok(Snapshot { annex, measures })
}

async fn latest(db: &DatabaseConnection, org_id: OrgId) -> AppResult<Option<publications::Model>> {
    Ok(publications::Entity::find()
        .filter(publications::Column::OrgId.eq(org_id))
        .order_by_desc(publications::Column::Version)
        .one(db)
        .await?)
}

fn parse_snapshot(row: &publications::Model) -> AppResult<Snapshot> {
    serde_json::from_str(&row.snapshot).map_err(AppError::internal)
}

/// What changed between the last publication and now, measure by measure.
pub fn changes(before: &Snapshot, now: &Snapshot) -> (Vec<AnnexChange>, Vec<String>) {
    let mut list = Vec::new();
    for m in &now.measures {
        match before.measures.iter().find(|b| b.id == m.id) {
            None => list.push(AnnexChange {
                kind: ChangeKind::Added,
                section: m.section.clone(),
                old_section: None,
                old_text: None,
                new_text: Some(m.text.clone()),
            }),
            Some(b) if b.text != m.text || b.section != m.section => list.push(AnnexChange {
                kind: if b.text == m.text {
                    ChangeKind::Moved
                } else {
                    ChangeKind::Changed
                },
                section: m.section.clone(),
                old_section: (b.section != m.section).then(|| b.section.clone()),
                old_text: Some(b.text.clone()),
                new_text: Some(m.text.clone()),
            }),
            Some(_) => {}
        }
    }
    for b in &before.measures {
        if !now.measures.iter().any(|m| m.id == b.id) {
            list.push(AnnexChange {
                kind: ChangeKind::Removed,
                section: b.section.clone(),
                old_section: None,
                old_text: Some(b.text.clone()),
                new_text: None,
            });
        }
    }
    let mut other = Vec::new();
    if before.annex.org_name != now.annex.org_name
        || before.annex.display_short != now.annex.display_short
    {
        other.push("Name der Organisation geändert".to_owned());
    }
    if before.annex.intro != now.annex.intro {
        other.push("Einleitungstext geändert".to_owned());
    }
    let headings = |s: &Snapshot| {
        s.annex
            .sections
            .iter()
            .map(|x| format!("{} {}", x.number, x.title))
            .collect::<Vec<_>>()
    };
    if headings(before) != headings(now) {
        other.push("Gliederung oder Überschriften geändert".to_owned());
    }
    // Same measures and texts but a new order within a section.
    if list.is_empty() && other.is_empty() && !before.same_text(now) {
        other.push("Reihenfolge der Maßnahmen geändert".to_owned());
    }
    (list, other)
}

fn info(row: &publications::Model) -> PublicationInfo {
    Listed {
        version: row.version,
        stand: row.stand,
        published_at: row.published_at,
        published_by_label: row.published_by_label.clone(),
        sha256: row.sha256.clone(),
        signer_subject: row.signer_subject.clone(),
        self_signed: row.self_signed,
        pdfa: row.pdfa,
        size: row.pdf.len() as i64,
    }
    .into()
}

/// A publication as lists show it: the columns, and the PDF's size only.
#[derive(sea_orm::FromQueryResult)]
struct Listed {
    version: i32,
    stand: chrono::NaiveDate,
    published_at: DateTime<Utc>,
    published_by_label: String,
    sha256: String,
    signer_subject: String,
    self_signed: bool,
    pdfa: bool,
    size: i64,
}

impl From<Listed> for PublicationInfo {
    fn from(r: Listed) -> Self {
        PublicationInfo {
            version: r.version,
            stand: r.stand.format("%d.%m.%Y").to_string(),
            published_at: crate::format::LocalTime::of(r.published_at),
            published_by: r.published_by_label,
            sha256: r.sha256,
            signer: r.signer_subject,
            self_signed: r.self_signed,
            pdfa: r.pdfa,
            size: r.size,
        }
    }
}

/// Publications of the organisation, newest first, without their bytes:
/// the portal lists every version on each view, and a PDF, its snapshot
/// and certificate are most of a row.
pub async fn list<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<PublicationInfo>> {
    use publications::Column as P;
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::Expr;
    Ok(publications::Entity::find()
        .select_only()
        .columns([
            P::Version,
            P::Stand,
            P::PublishedAt,
            P::PublishedByLabel,
            P::Sha256,
            P::SignerSubject,
            P::SelfSigned,
            P::Pdfa,
        ])
        // Bytes in both databases; BIGINT because PostgreSQL's is an int4.
        .column_as(Expr::cust("CAST(length(pdf) AS BIGINT)"), "size")
        .filter(P::OrgId.eq(org_id))
        .order_by_desc(P::Version)
        .into_model::<Listed>()
        .all(db)
        .await?
        .into_iter()
        .map(PublicationInfo::from)
        .collect())
}

/// The annex page: changes since the last publication and all versions.
pub async fn overview(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    actor: &Actor,
    now: DateTime<Utc>,
) -> AppResult<AnnexOverview> {
    if !actor.role.previews_annex() {
        return Err(AppError::Forbidden);
    }
    let org = org(db, actor.org_id).await?;
    let current = current(db, actor.org_id, now).await?;
    let last = latest(db, actor.org_id).await?;
    let (changes, other_changes) = match &last {
        Some(row) => changes(&parse_snapshot(row)?, &current),
        None => (Vec::new(), Vec::new()),
    };
    let unchanged = match &last {
        Some(row) => parse_snapshot(row)?.same_text(&current),
        None => false,
    };
    // Render the draft once to learn whether it can be PDF/A (an emoji no
    // bundled font has, say, cannot): better said before publishing than after.
    let annex = current.annex.clone();
    let pdfa_problem = tokio::task::spawn_blocking(move || super::render::render(&annex))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?
        .not_pdfa;
    Ok(AnnexOverview {
        pdfa_problem,
        can_publish: actor.role.is_admin(),
        last_version: last.as_ref().map(|r| r.version),
        unchanged,
        changes,
        other_changes,
        measure_count: current.measures.len() as i32,
        publications: list(db, actor.org_id).await?,
        key_self_signed: setup.source(&org.short_name) == KeySource::SelfSigned,
        not_effective: crate::reviews::service::not_effective(db, actor.org_id).await?,
    })
}

/// A finished publication.
#[derive(Debug)]
pub struct Published {
    pub info: PublicationInfo,
    pub pdf: Vec<u8>,
}

/// Renders, signs and stores the next version. Nothing is stored unless all
/// of it succeeded; publishing an unchanged catalogue is refused.
pub async fn publish(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    actor: &Actor,
    now: DateTime<Utc>,
    public_url: &str,
) -> AppResult<Published> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    publish_for(db, setup, actor.org_id, &actor.audit(), now, public_url).await
}

/// Publishes on behalf of `by` (a signed-in admin, or the command line),
/// and queues the notice to every customer contact in the same transaction.
pub async fn publish_for(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    org_id: OrgId,
    by: &AuditActor,
    now: DateTime<Utc>,
    public_url: &str,
) -> AppResult<Published> {
    let org = org(db, org_id).await?;
    let mut snapshot = current(db, org_id, now).await?;
    let last = latest(db, org_id).await?;
    if let Some(row) = &last
        && parse_snapshot(row)?.same_text(&snapshot)
    {
        return Err(AppError::Refused(format!(
            "Seit Version {} hat sich am Inhalt der Anlage nichts geändert; eine neue Version wäre mit ihr identisch. Es wurde nichts veröffentlicht.",
            row.version
        )));
    }
    if snapshot.measures.is_empty() {
        return Err(AppError::Refused(
            "Der Katalog enthält keine umgesetzte Maßnahme; eine leere Anlage wird nicht veröffentlicht.".into(),
        ));
    }
    let version = last.as_ref().map_or(1, |r| r.version + 1);
    // What changed since the last version (everything is new for the first).
    let before = match &last {
        Some(row) => parse_snapshot(row)?,
        None => Snapshot {
            annex: snapshot.annex.clone(),
            measures: Vec::new(),
        },
    };
    let notice_changes = changes(&before, &snapshot).0;
    snapshot.annex.version = Some(version);
    let stand = crate::format::german_day(now);

    let identity = setup.identity(db, &org, now).await?;
    let details = SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: SIGNATURE_REASON.to_owned(),
        location: crate::pdf::sign::location(&org),
        time: now,
    };
    // The audit log's head goes into the signed PDF: a copy a customer
    // holds attests the log up to this point (`audit verify` checks it).
    let anchor = crate::audit::service::head(db).await?;
    let mut annex = snapshot.annex.clone();
    annex.audit_anchor = Some(anchor.label());
    let (pdf, not_pdfa, identity) = tokio::task::spawn_blocking(move || {
        let rendered = super::render::render(&annex).map_err(AppError::internal)?;
        let signed =
            sign_pdf(&rendered.pdf, &identity.identity, &details).map_err(AppError::internal)?;
        Ok::<_, AppError>((signed, rendered.not_pdfa, identity))
    })
    .await
    .map_err(AppError::internal)??;

    let sha256 = hex::encode(Sha256::digest(&pdf));
    let leaf = identity.identity.leaf();
    let row = publications::ActiveModel {
        org_id: Set(org_id),
        version: Set(version),
        stand: Set(stand),
        published_at: Set(now),
        published_by: Set(by.user_id),
        published_by_label: Set(by.label.clone()),
        snapshot: Set(serde_json::to_string(&snapshot).map_err(AppError::internal)?),
        pdf: Set(pdf.clone()),
        sha256: Set(sha256.clone()),
        signer_subject: Set(leaf.tbs_certificate.subject.to_string()),
        signer_cert_der: Set(leaf.to_der().map_err(AppError::internal)?),
        self_signed: Set(identity.self_signed),
        pdfa: Set(not_pdfa.is_none()),
        audit_seq: Set(Some(anchor.seq)),
        audit_hash: Set(Some(anchor.hash)),
        ..Default::default()
    };
    let measures = snapshot.measures.len();
    // One transaction holding the write lock from its start (a concurrent
    // writer waits rather than failing when this one upgrades).
    let txn = db.begin_write().await?;
    // Re-read inside the transaction: a concurrent publication wins, this one stops.
    let newest = publications::Entity::find()
        .filter(publications::Column::OrgId.eq(org_id))
        .select_only()
        .column_as(publications::Column::Version.max(), "max")
        .into_tuple::<Option<i32>>()
        .one(&txn)
        .await?
        .flatten();
    if newest != last.as_ref().map(|r| r.version) {
        return Err(AppError::Refused(
            "Gerade wurde eine andere Version veröffentlicht. Bitte prüfen Sie die Änderungen erneut.".into(),
        ));
    }
    let saved = row.insert(&txn).await?;
    super::customer_notice::queue_publication_notices(
        &txn,
        now,
        org_id,
        &org.legal_name,
        version,
        &saved.stand.format("%d.%m.%Y").to_string(),
        &notice_changes,
        public_url,
    )
    .await?;
    record(
        &txn,
        now,
        AuditEvent::new(by, "annex", version.to_string(), "publish")
            .in_org(org_id)
            .after(serde_json::json!({
                "version": version,
                "sha256": sha256,
                "measures": measures,
                "self_signed": saved.self_signed,
                "pdfa": saved.pdfa,
            })),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(org = %org.short_name, version, "annex published");
    Ok(Published {
        info: info(&saved),
        pdf,
    })
}

/// One publication of the organisation, bytes included.
pub async fn row(
    db: &DatabaseConnection,
    org_id: OrgId,
    version: i32,
) -> AppResult<publications::Model> {
    publications::Entity::find()
        .filter(publications::Column::OrgId.eq(org_id))
        .filter(publications::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Version {version} der Anlage")))
}

/// What version `version` of the organisation was rendered from.
pub async fn snapshot(db: &DatabaseConnection, org_id: OrgId, version: i32) -> AppResult<Snapshot> {
    parse_snapshot(&row(db, org_id, version).await?)
}

/// Records who received which version, for the DPO (Weitergabekontrolle).
pub async fn log_download(
    audit: &crate::audit::batch::AuditBatcher,
    now: DateTime<Utc>,
    actor: &crate::auth::service::Actor,
    file: &crate::state::PublishedFile,
) -> AppResult<()> {
    // Group-committed with other downloads: returns once the row is in.
    audit
        .append(crate::audit::batch::OwnedEvent {
            at: now,
            org_id: Some(file.org_id),
            actor: actor.audit(),
            entity: "annex",
            entity_id: file.version.to_string(),
            action: "download",
            after: Some(serde_json::json!({
                "version": file.version,
                "sha256": file.sha256,
                "role": actor.role,
            })),
        })
        .await
}

/// The publication whose stored bytes have this SHA-256, if any.
pub async fn by_sha256(
    db: &DatabaseConnection,
    sha256: &str,
) -> AppResult<Option<(publications::Model, organisations::Model)>> {
    let Some(row) = publications::Entity::find()
        .filter(publications::Column::Sha256.eq(sha256))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let org = org(db, row.org_id).await?;
    Ok(Some((row, org)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annex::AnnexSection;

    fn snapshot(measures: &[(i32, &str, &str)]) -> Snapshot {
        let mut sections: Vec<AnnexSection> = Vec::new();
        for (_, section, text) in measures {
            match sections.iter_mut().find(|s| s.title == *section) {
                Some(s) => s.measures.push((*text).to_owned()),
                None => sections.push(AnnexSection {
                    number: "1".into(),
                    title: (*section).to_owned(),
                    level: 1,
                    measures: vec![(*text).to_owned()],
                    reviewed: None,
                }),
            }
        }
        Snapshot {
            annex: AnnexData {
                org_name: "Muster GmbH".into(),
                display_short: "Muster".into(),
                intro: vec![],
                sections,
                stand: "01.01.2026".into(),
                version: Some(1),
                draft: false,
                audit_anchor: None,
            },
            measures: measures
                .iter()
                .map(|(id, section, text)| SnapshotMeasure {
                    id: MeasureId(*id),
                    section: (*section).to_owned(),
                    text: (*text).to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn changes_name_each_measure_once() {
        let before = snapshot(&[(1, "A", "eins"), (2, "A", "zwei"), (3, "B", "drei")]);
        let now = snapshot(&[(1, "A", "eins, neu"), (2, "B", "zwei"), (4, "B", "vier")]);
        let (list, _) = changes(&before, &now);
        let kinds: Vec<(ChangeKind, i32)> = list
            .iter()
            .map(|c| {
                let text = c.new_text.as_deref().or(c.old_text.as_deref()).unwrap();
                let id = match text {
                    "eins, neu" => 1,
                    "zwei" => 2,
                    "vier" => 4,
                    "drei" => 3,
                    other => panic!("{other}"),
                };
                (c.kind, id)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (ChangeKind::Changed, 1),
                (ChangeKind::Moved, 2),
                (ChangeKind::Added, 4),
                (ChangeKind::Removed, 3)
            ]
        );
        assert_eq!(list[1].old_section.as_deref(), Some("A"));
        assert!(changes(&now, &now).0.is_empty());
        assert!(now.same_text(&now.clone()));
        assert!(!before.same_text(&now));
    }
}
