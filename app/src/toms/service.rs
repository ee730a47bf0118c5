//! Queries and rules of the catalogue. Every query names the organisation;
//! every change writes its audit row (and for measures a revision) in the
//! same transaction.

use crate::entities::BeginWrite;
use crate::ids::OrgId;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::art32::DEFAULT_CATEGORIES;
use super::*;
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::Actor;
use crate::domain::{MeasureStatus, MeasureText, Role, parse_measure_title};
use crate::entities::{
    categories, measure_owners, measure_revisions, measures, memberships, users,
};
use crate::error::{AppError, AppResult};
use crate::ids::{CategoryId, MeasureId, UserId};

/// Validated fields of a measure form.
#[derive(Debug, Clone)]
pub struct MeasureInput {
    pub category_id: CategoryId,
    pub title: String,
    pub body: MeasureText,
    pub status: MeasureStatus,
}

impl MeasureInput {
    pub fn parse(
        category_id: CategoryId,
        title: &str,
        body: &str,
        status: &str,
    ) -> AppResult<Self> {
        Ok(Self {
            category_id,
            title: parse_measure_title(title)?,
            body: MeasureText::parse(body)?,
            status: status.parse()?,
        })
    }
}

pub fn parse_direction(direction: &str) -> AppResult<bool> {
    match direction {
        "up" => Ok(true),
        "down" => Ok(false),
        _ => Err(AppError::invalid(
            "direction",
            "Richtung muss „up“ oder „down“ sein.",
        )),
    }
}

/// Creates the Art. 32 categories for a new organisation.
pub async fn create_default_catalogue<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org_id: OrgId,
) -> AppResult<()> {
    let mut ids: HashMap<&str, CategoryId> = HashMap::new();
    let mut positions: HashMap<Option<&str>, i32> = HashMap::new();
    for c in DEFAULT_CATEGORIES {
        let pos = positions.entry(c.parent).or_insert(0);
        *pos += 1;
        let row = categories::ActiveModel {
            org_id: Set(org_id),
            parent_id: Set(c.parent.and_then(|p| ids.get(p).copied())),
            kind: Set(c.kind.to_owned()),
            title: Set(c.title.to_owned()),
            position: Set(*pos),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        ids.insert(c.kind, row.id);
    }
    Ok(())
}

/// Categories in document order with their numbers ("3.1").
pub async fn ordered_categories<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<(String, categories::Model)>> {
    let all = categories::Entity::find()
        .filter(categories::Column::OrgId.eq(org_id))
        .order_by_asc(categories::Column::Position)
        .order_by_asc(categories::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(all.len());
    for (i, top) in all.iter().filter(|c| c.parent_id.is_none()).enumerate() {
        out.push((format!("{}", i + 1), top.clone()));
        for (j, child) in all
            .iter()
            .filter(|c| c.parent_id == Some(top.id))
            .enumerate()
        {
            out.push((format!("{}.{}", i + 1, j + 1), child.clone()));
        }
    }
    Ok(out)
}

pub async fn category_refs(db: &DatabaseConnection, org_id: OrgId) -> AppResult<Vec<CategoryRef>> {
    Ok(ordered_categories(db, org_id)
        .await?
        .into_iter()
        .map(|(n, c)| CategoryRef {
            id: c.id,
            label: format!("{n} {}", c.title),
        })
        .collect())
}

async fn owner_names<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<HashMap<MeasureId, Vec<PersonRef>>> {
    let owners = measure_owners::Entity::find()
        .filter(measure_owners::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    let people = users::Entity::find()
        .filter(users::Column::Id.is_in(owners.iter().map(|o| o.user_id)))
        .all(db)
        .await?;
    let mut map: HashMap<MeasureId, Vec<PersonRef>> = HashMap::new();
    for o in owners {
        if let Some(u) = people.iter().find(|u| u.id == o.user_id) {
            map.entry(o.measure_id).or_default().push(PersonRef {
                user_id: u.id,
                display_name: u.display_name.clone(),
            });
        }
    }
    for v in map.values_mut() {
        v.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    }
    Ok(map)
}

/// Where a measure stands, as the layer above computes it (evidence and
/// reviews are features of their own): see `measure::standings`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Standing {
    pub evidence: Option<crate::domain::Validity>,
    pub next_review: Option<NaiveDate>,
    pub review_due: bool,
}

/// A measure for lists: `reader` decides `mine`, `standing` the rest.
fn summary(
    m: measures::Model,
    owners: &HashMap<MeasureId, Vec<PersonRef>>,
    reader: UserId,
    standing: Standing,
) -> MeasureSummary {
    let names = owners.get(&m.id);
    MeasureSummary {
        id: m.id,
        owners: names
            .map(|v| v.iter().map(|p| p.display_name.clone()).collect())
            .unwrap_or_default(),
        mine: names.is_some_and(|v| v.iter().any(|p| p.user_id == reader)),
        evidence: standing.evidence,
        next_review: standing.next_review,
        review_due: standing.review_due,
        title: m.title,
        body: m.body,
        status: m.status,
    }
}

/// The catalogue by category, narrowed down by `query`.
pub async fn catalogue<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    query: &CatalogueQuery,
    standing: &(dyn Fn(&measures::Model) -> Standing + Sync),
) -> AppResult<CatalogueView> {
    let cats = ordered_categories(db, actor.org_id).await?;
    let all = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .order_by_asc(measures::Column::Position)
        .order_by_asc(measures::Column::Id)
        .all(db)
        .await?;
    let total = all.len();
    let owners = owner_names(db, actor.org_id).await?;
    let mut by_cat: HashMap<CategoryId, Vec<MeasureSummary>> = HashMap::new();
    let mut shown = 0;
    for m in all {
        let category = m.category_id;
        let st = standing(&m);
        let s = summary(m, &owners, actor.user_id, st);
        if query.matches(&s) {
            shown += 1;
            by_cat.entry(category).or_default().push(s);
        }
    }
    Ok(CatalogueView {
        categories: cats
            .into_iter()
            .map(|(number, c)| CategoryView {
                measures: by_cat.remove(&c.id).unwrap_or_default(),
                id: c.id,
                number,
                title: c.title,
                parent_id: c.parent_id,
            })
            .filter(|c| query.is_empty() || !c.measures.is_empty())
            .collect(),
        can_edit: actor.role.is_admin(),
        shown,
        total,
    })
}

/// The organisation's catalogue as a page reads it once, in three
/// statements: every measure (retired ones included) in the order of its
/// category and place, the categories in document order with their
/// numbers, and who owns which measure, with names. The start page cuts
/// its panels (due reviews, attention lists, "Meine Maßnahmen") from one
/// of these instead of reading the same tables for each.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub measures: Vec<measures::Model>,
    pub categories: Vec<(String, categories::Model)>,
    /// (measure, owner, the owner's name).
    owners: Vec<(MeasureId, UserId, String)>,
}

impl Catalogue {
    pub async fn load<C: ConnectionTrait>(db: &C, org_id: OrgId) -> AppResult<Self> {
        use sea_orm::{JoinType, RelationDef};
        let measures = measures::Entity::find()
            .filter(measures::Column::OrgId.eq(org_id))
            .order_by_asc(measures::Column::CategoryId)
            .order_by_asc(measures::Column::Position)
            .all(db)
            .await?;
        let categories = ordered_categories(db, org_id).await?;
        let to_user: RelationDef = measure_owners::Entity::belongs_to(users::Entity)
            .from(measure_owners::Column::UserId)
            .to(users::Column::Id)
            .into();
        let owners = measure_owners::Entity::find()
            .select_only()
            .columns([
                measure_owners::Column::MeasureId,
                measure_owners::Column::UserId,
            ])
            .column(users::Column::DisplayName)
            .join(JoinType::InnerJoin, to_user)
            .filter(measure_owners::Column::OrgId.eq(org_id))
            .into_tuple()
            .all(db)
            .await?;
        Ok(Self {
            measures,
            categories,
            owners,
        })
    }

    /// Category titles with their numbers ("3.1 Zutrittskontrolle").
    pub fn numbered_titles(&self) -> HashMap<CategoryId, String> {
        self.categories
            .iter()
            .map(|(number, c)| (c.id, format!("{number} {}", c.title)))
            .collect()
    }

    /// Category titles as they are.
    pub fn titles(&self) -> HashMap<CategoryId, String> {
        self.categories
            .iter()
            .map(|(_, c)| (c.id, c.title.clone()))
            .collect()
    }

    /// The measures `user` owns.
    pub fn owned_by(&self, user: UserId) -> std::collections::HashSet<MeasureId> {
        self.owners
            .iter()
            .filter(|(_, u, _)| *u == user)
            .map(|(m, _, _)| *m)
            .collect()
    }

    /// Each measure's owners.
    pub fn owners_by_measure(&self) -> HashMap<MeasureId, Vec<UserId>> {
        let mut out: HashMap<MeasureId, Vec<UserId>> = HashMap::new();
        for (m, u, _) in &self.owners {
            out.entry(*m).or_default().push(*u);
        }
        out
    }

    /// The names of everyone who owns a measure, by person.
    pub fn names_of_owners(&self) -> HashMap<UserId, String> {
        self.owners
            .iter()
            .map(|(_, u, name)| (*u, name.clone()))
            .collect()
    }

    /// The measures somebody owns.
    pub fn owned(&self) -> std::collections::HashSet<MeasureId> {
        self.owners.iter().map(|(m, _, _)| *m).collect()
    }

    /// Each measure's owners, by name.
    fn owner_names(&self) -> HashMap<MeasureId, Vec<PersonRef>> {
        let mut map: HashMap<MeasureId, Vec<PersonRef>> = HashMap::new();
        for (measure, user_id, name) in &self.owners {
            map.entry(*measure).or_default().push(PersonRef {
                user_id: *user_id,
                display_name: name.clone(),
            });
        }
        for v in map.values_mut() {
            v.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        }
        map
    }

    /// The measures `user_id` owns, in catalogue order, as the start page
    /// lists them.
    pub fn owned_summaries(
        &self,
        user_id: UserId,
        standing: &(dyn Fn(&measures::Model) -> Standing + Sync),
    ) -> Vec<MeasureSummary> {
        let mine = self.owned_by(user_id);
        let owners = self.owner_names();
        self.measures
            .iter()
            .filter(|m| mine.contains(&m.id))
            .map(|m| summary(m.clone(), &owners, user_id, standing(m)))
            .collect()
    }
}

pub async fn owned_by(
    db: &DatabaseConnection,
    org_id: OrgId,
    user_id: UserId,
    standing: &(dyn Fn(&measures::Model) -> Standing + Sync),
) -> AppResult<Vec<MeasureSummary>> {
    Ok(Catalogue::load(db, org_id)
        .await?
        .owned_summaries(user_id, standing))
}

/// A measure of this organisation, or NotFound (also for other organisations' ids).
async fn find_measure<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: MeasureId,
) -> AppResult<measures::Model> {
    measures::Entity::find_by_id(id)
        .filter(measures::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Maßnahme".into()))
}

async fn find_category<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    id: CategoryId,
) -> AppResult<categories::Model> {
    categories::Entity::find_by_id(id)
        .filter(categories::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid("category_id", "Diese Kategorie gibt es nicht."))
}

async fn is_owner<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    measure_id: MeasureId,
    user_id: UserId,
) -> AppResult<bool> {
    Ok(measure_owners::Entity::find()
        .filter(measure_owners::Column::OrgId.eq(org_id))
        .filter(measure_owners::Column::MeasureId.eq(measure_id))
        .filter(measure_owners::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

/// The stored form of a revision: the measure as it was after the change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Snapshot {
    category_id: CategoryId,
    category: String,
    title: String,
    body: String,
    status: MeasureStatus,
    position: i32,
    owners: Vec<String>,
}

async fn snapshot<C: ConnectionTrait>(db: &C, m: &measures::Model) -> AppResult<Snapshot> {
    let cat = find_category(db, m.org_id, m.category_id).await?;
    let mut owners: Vec<String> = owner_names(db, m.org_id)
        .await?
        .remove(&m.id)
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.display_name)
        .collect();
    owners.sort();
    Ok(Snapshot {
        category_id: m.category_id,
        category: cat.title,
        title: m.title.clone(),
        body: m.body.clone(),
        status: m.status,
        position: m.position,
        owners,
    })
}

/// Writes the revision and the audit row for a change of a measure.
async fn log_change<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &AuditActor,
    before: Option<Snapshot>,
    after_model: &measures::Model,
    change: &str,
) -> AppResult<()> {
    let after = snapshot(db, after_model).await?;
    measure_revisions::ActiveModel {
        org_id: Set(after_model.org_id),
        measure_id: Set(after_model.id),
        version: Set(after_model.version),
        actor_id: Set(actor.user_id),
        change: Set(change.to_owned()),
        snapshot: Set(serde_json::to_string(&after).map_err(AppError::internal)?),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    record(
        db,
        now,
        AuditEvent::new(actor, "measure", after_model.id.to_string(), change)
            .in_org(after_model.org_id)
            .before_opt(before.map(|b| serde_json::to_value(b).unwrap_or_default()))
            .after(serde_json::to_value(&after).map_err(AppError::internal)?),
    )
    .await
}

async fn next_position<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    category_id: CategoryId,
) -> AppResult<i32> {
    Ok(measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org_id))
        .filter(measures::Column::CategoryId.eq(category_id))
        .order_by_desc(measures::Column::Position)
        .one(db)
        .await?
        .map(|m| m.position + 1)
        .unwrap_or(1))
}

/// Inserts a measure (used by the UI, the CLI and the demo loader).
pub async fn insert_measure<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    actor: &AuditActor,
    org_id: OrgId,
    input: MeasureInput,
    owners: &[UserId],
) -> AppResult<MeasureId> {
    find_category(db, org_id, input.category_id).await?;
    let m = measures::ActiveModel {
        org_id: Set(org_id),
        category_id: Set(input.category_id),
        title: Set(input.title),
        body: Set(input.body.as_str().to_owned()),
        status: Set(input.status),
        position: Set(next_position(db, org_id, input.category_id).await?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for &user_id in owners {
        measure_owners::ActiveModel {
            measure_id: Set(m.id),
            user_id: Set(user_id),
            org_id: Set(org_id),
        }
        .insert(db)
        .await?;
    }
    log_change(db, now, actor, None, &m, "create").await?;
    Ok(m.id)
}

pub async fn create_measure(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    input: MeasureInput,
) -> AppResult<MeasureId> {
    let txn = db.begin_write().await?;
    let id = insert_measure(&txn, now, &actor.audit(), actor.org_id, input, &[]).await?;
    txn.commit().await?;
    Ok(id)
}

pub async fn update_measure(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: MeasureId,
    expected_version: i32,
    input: MeasureInput,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let m = find_measure(&txn, actor.org_id, id).await?;
    let owner = is_owner(&txn, actor.org_id, id, actor.user_id).await?;
    if !(actor.role.is_admin() || (actor.role == Role::Owner && owner)) {
        return Err(AppError::Forbidden);
    }
    if m.version != expected_version {
        return Err(AppError::Conflict);
    }
    if input.category_id != m.category_id && !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    find_category(&txn, actor.org_id, input.category_id).await?;
    if m.title == input.title
        && m.body == input.body.as_str()
        && m.status == input.status
        && m.category_id == input.category_id
    {
        return Ok(()); // nothing changed, nothing to record
    }
    let before = snapshot(&txn, &m).await?;
    let moved = input.category_id != m.category_id;
    let mut am: measures::ActiveModel = m.clone().into();
    if moved {
        am.position = Set(next_position(&txn, actor.org_id, input.category_id).await?);
    }
    am.category_id = Set(input.category_id);
    am.title = Set(input.title);
    am.body = Set(input.body.as_str().to_owned());
    am.status = Set(input.status);
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    // The version in the WHERE clause makes a concurrent edit lose cleanly.
    let res = measures::Entity::update_many()
        .set(am)
        .filter(measures::Column::Id.eq(id))
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .filter(measures::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::Conflict);
    }
    let after = find_measure(&txn, actor.org_id, id).await?;
    log_change(&txn, now, &actor.audit(), Some(before), &after, "update").await?;
    txn.commit().await?;
    Ok(())
}

pub async fn retire_measure(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: MeasureId,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let m = find_measure(&txn, actor.org_id, id).await?;
    if m.status == MeasureStatus::Retired {
        return Err(AppError::invalid(
            "status",
            "Die Maßnahme ist bereits außer Kraft gesetzt.",
        ));
    }
    let before = snapshot(&txn, &m).await?;
    let mut am: measures::ActiveModel = m.clone().into();
    am.status = Set(MeasureStatus::Retired);
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let after = am.update(&txn).await?;
    log_change(&txn, now, &actor.audit(), Some(before), &after, "retire").await?;
    txn.commit().await?;
    Ok(())
}

/// The index an item at `i` of `len` swaps with when moved up or down, if any.
fn neighbour(i: usize, len: usize, up: bool) -> Option<usize> {
    if up {
        i.checked_sub(1)
    } else {
        Some(i + 1).filter(|&j| j < len)
    }
}

pub async fn move_measure(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: MeasureId,
    up: bool,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let m = find_measure(&txn, actor.org_id, id).await?;
    // Locked (in id order), so that concurrent moves in one category take
    // turns and each renumbers what the one before left. Unlocked, two moves
    // on PostgreSQL renumbered from the same reading: the second wrote
    // revision versions the first had taken, or they deadlocked. SQLite's
    // writers take turns anyway (`begin_write`); it has no lock clause.
    let mut siblings = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(actor.org_id))
        .filter(measures::Column::CategoryId.eq(m.category_id))
        .order_by_asc(measures::Column::Id)
        .lock_exclusive()
        .all(&txn)
        .await?;
    siblings.sort_by_key(|s| (s.position, s.id));
    let i = siblings.iter().position(|s| s.id == id).unwrap_or(0);
    let j = neighbour(i, siblings.len(), up);
    let Some(j) = j else {
        return Ok(()); // already first or last
    };
    // Renumber the whole category densely with the two swapped.
    let mut order: Vec<measures::Model> = siblings;
    order.swap(i, j);
    for (pos, s) in order.iter().enumerate() {
        let pos = pos as i32 + 1;
        if s.position != pos {
            let before = snapshot(&txn, s).await?;
            let mut am: measures::ActiveModel = s.clone().into();
            am.position = Set(pos);
            am.version = Set(s.version + 1);
            am.updated_at = Set(now);
            let after = am.update(&txn).await?;
            log_change(&txn, now, &actor.audit(), Some(before), &after, "reorder").await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

pub async fn set_owner(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    measure_id: MeasureId,
    user_id: UserId,
    add: bool,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let m = find_measure(&txn, actor.org_id, measure_id).await?;
    let role = memberships::Entity::find()
        .filter(memberships::Column::OrgId.eq(actor.org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .and_then(|ms| ms.role.parse::<Role>().ok())
        .filter(|r| r.is_internal());
    let Some(role) = role else {
        return Err(AppError::invalid(
            "user_id",
            "Diese Person gehört nicht zu Ihrer Organisation.",
        ));
    };
    // Removing stays possible whatever the role is now (it may have changed).
    if add && !role.may_own_measures() {
        return Err(AppError::invalid(
            "user_id",
            "Verantwortlich für Maßnahmen können nur Datenschutzbeauftragte und Verantwortliche für Maßnahmen sein (Rolle unter „Mitglieder“).",
        ));
    }
    let already = is_owner(&txn, actor.org_id, measure_id, user_id).await?;
    if already == add {
        return Ok(());
    }
    let before = snapshot(&txn, &m).await?;
    if add {
        measure_owners::ActiveModel {
            measure_id: Set(measure_id),
            user_id: Set(user_id),
            org_id: Set(actor.org_id),
        }
        .insert(&txn)
        .await?;
    } else {
        measure_owners::Entity::delete_many()
            .filter(measure_owners::Column::OrgId.eq(actor.org_id))
            .filter(measure_owners::Column::MeasureId.eq(measure_id))
            .filter(measure_owners::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
    }
    let mut am: measures::ActiveModel = m.clone().into();
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let after = am.update(&txn).await?;
    log_change(
        &txn,
        now,
        &actor.audit(),
        Some(before),
        &after,
        if add { "owner_add" } else { "owner_remove" },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn change_label(change: &str) -> &'static str {
    match change {
        "create" => "angelegt",
        "update" => "bearbeitet",
        "retire" => "außer Kraft gesetzt",
        "reorder" => "Reihenfolge geändert",
        "owner_add" => "Verantwortliche/r hinzugefügt",
        "owner_remove" => "Verantwortliche/r entfernt",
        _ => "geändert",
    }
}

fn describe(prev: Option<&Snapshot>, cur: &Snapshot) -> Vec<String> {
    let Some(p) = prev else {
        return vec![format!("Status: {}", cur.status.label())];
    };
    let mut out = Vec::new();
    if p.category_id != cur.category_id {
        out.push(format!("Kategorie: {} → {}", p.category, cur.category));
    }
    if p.title != cur.title {
        out.push(format!("Titel: „{}“ → „{}“", p.title, cur.title));
    }
    if p.body != cur.body {
        out.push("Text geändert".to_owned());
    }
    if p.status != cur.status {
        out.push(format!(
            "Status: {} → {}",
            p.status.label(),
            cur.status.label()
        ));
    }
    if p.position != cur.position {
        out.push(format!("Position: {} → {}", p.position, cur.position));
    }
    if p.owners != cur.owners {
        out.push(format!(
            "Verantwortlich: {} → {}",
            list_or_none(&p.owners),
            list_or_none(&cur.owners)
        ));
    }
    out
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "niemand".to_owned()
    } else {
        v.join(", ")
    }
}

pub async fn measure_detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: MeasureId,
) -> AppResult<MeasureDetail> {
    let m = find_measure(db, actor.org_id, id).await?;
    let cats = ordered_categories(db, actor.org_id).await?;
    let category = cats
        .iter()
        .find(|(_, c)| c.id == m.category_id)
        .map(|(n, c)| format!("{n} {}", c.title))
        .unwrap_or_default();
    let owners = owner_names(db, actor.org_id)
        .await?
        .remove(&id)
        .unwrap_or_default();
    let revs = measure_revisions::Entity::find()
        .filter(measure_revisions::Column::OrgId.eq(actor.org_id))
        .filter(measure_revisions::Column::MeasureId.eq(id))
        .order_by_asc(measure_revisions::Column::Version)
        .all(db)
        .await?;
    let actor_names: HashMap<UserId, String> = users::Entity::find()
        .filter(users::Column::Id.is_in(revs.iter().filter_map(|r| r.actor_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let mut prev: Option<Snapshot> = None;
    let mut revisions = Vec::with_capacity(revs.len());
    for r in revs {
        let snap: Snapshot = serde_json::from_str(&r.snapshot).map_err(AppError::internal)?;
        revisions.push(RevisionView {
            version: r.version,
            at: crate::format::LocalTime::of(r.at),
            actor: r
                .actor_id
                .and_then(|a| actor_names.get(&a).cloned())
                .unwrap_or_else(|| "System".to_owned()),
            change: change_label(&r.change).to_owned(),
            changes: describe(prev.as_ref(), &snap),
            previous_body: prev
                .as_ref()
                .filter(|p| p.body != snap.body)
                .map(|p| p.body.clone()),
            body: snap.body.clone(),
        });
        prev = Some(snap);
    }
    revisions.reverse(); // newest first
    let is_owner = owners.iter().any(|o| o.user_id == actor.user_id);
    let members = if actor.role.is_admin() {
        let ms = memberships::Entity::find()
            .filter(memberships::Column::OrgId.eq(actor.org_id))
            .all(db)
            .await?;
        let ids: Vec<UserId> = ms
            .iter()
            .filter(|m| m.role.parse::<Role>().is_ok_and(|r| r.may_own_measures()))
            .map(|m| m.user_id)
            .collect();
        let mut people: Vec<PersonRef> = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| PersonRef {
                user_id: u.id,
                display_name: u.display_name,
            })
            .collect();
        people.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        people
    } else {
        Vec::new()
    };
    Ok(MeasureDetail {
        id: m.id,
        category_id: m.category_id,
        category,
        title: m.title,
        body: m.body,
        status: m.status,
        version: m.version,
        owners,
        can_edit: actor.role.is_admin() || (actor.role == Role::Owner && is_owner),
        is_admin: actor.role.is_admin(),
        revisions,
        categories: cats
            .into_iter()
            .map(|(n, c)| CategoryRef {
                id: c.id,
                label: format!("{n} {}", c.title),
            })
            .collect(),
        members,
    })
}

pub async fn add_category(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    parent_id: Option<CategoryId>,
    title: &str,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    if let Some(p) = parent_id {
        let parent = find_category(&txn, actor.org_id, p).await?;
        if parent.parent_id.is_some() {
            return Err(AppError::invalid(
                "parent_id",
                "Unterkategorien können keine weiteren Unterkategorien haben.",
            ));
        }
    }
    let siblings = categories::Entity::find()
        .filter(categories::Column::OrgId.eq(actor.org_id))
        .filter(match parent_id {
            Some(p) => categories::Column::ParentId.eq(p),
            None => categories::Column::ParentId.is_null(),
        })
        .order_by_desc(categories::Column::Position)
        .one(&txn)
        .await?;
    let c = categories::ActiveModel {
        org_id: Set(actor.org_id),
        parent_id: Set(parent_id),
        kind: Set(String::new()),
        title: Set(title.to_owned()),
        position: Set(siblings.map(|s| s.position + 1).unwrap_or(1)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "category", c.id.to_string(), "create")
            .in_org(actor.org_id)
            .after(json!({ "title": c.title, "parent_id": c.parent_id, "position": c.position })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn rename_category(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: CategoryId,
    title: &str,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let c = find_category(&txn, actor.org_id, id).await?;
    if c.title == title {
        return Ok(());
    }
    let before = json!({ "title": c.title });
    let mut am: categories::ActiveModel = c.into();
    am.title = Set(title.to_owned());
    am.update(&txn).await?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "category", id.to_string(), "rename")
            .in_org(actor.org_id)
            .before(before)
            .after(json!({ "title": title })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn move_category(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    id: CategoryId,
    up: bool,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let c = find_category(&txn, actor.org_id, id).await?;
    // Locked like a measure's siblings in `move_measure`.
    let mut siblings = categories::Entity::find()
        .filter(categories::Column::OrgId.eq(actor.org_id))
        .filter(match c.parent_id {
            Some(p) => categories::Column::ParentId.eq(p),
            None => categories::Column::ParentId.is_null(),
        })
        .order_by_asc(categories::Column::Id)
        .lock_exclusive()
        .all(&txn)
        .await?;
    siblings.sort_by_key(|s| (s.position, s.id));
    let i = siblings.iter().position(|s| s.id == id).unwrap_or(0);
    let j = neighbour(i, siblings.len(), up);
    let Some(j) = j else {
        return Ok(());
    };
    siblings.swap(i, j);
    for (pos, s) in siblings.into_iter().enumerate() {
        let pos = pos as i32 + 1;
        if s.position != pos {
            let mut am: categories::ActiveModel = s.into();
            am.position = Set(pos);
            am.update(&txn).await?;
        }
    }
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "category", id.to_string(), "reorder")
            .in_org(actor.org_id)
            .before(json!({ "position": i + 1 }))
            .after(json!({ "position": j + 1 })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
