//! Pledge texts, signing, the signer's PDF copy and the DPO's overview.

use crate::entities::BeginWrite;
use crate::ids::{OrgId, PledgeTextId, SignatureId, UserId};
use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    Block, MyPledge, PledgeOverview, PledgeRow, PledgeState, PledgeTextView, SignatureView,
};
use crate::audit::service::{AuditActor, AuditEvent, record};
use crate::auth::service::Actor;
use crate::domain::Role;
use crate::entities::{memberships, organisations, pledge_signatures, pledge_texts, users};
use crate::error::{AppError, AppResult};
use crate::format::german_datetime;
use crate::pdf::typeset::Template;
use crate::state::AppState;

pub const DEFAULT_TITLE: &str = "Verpflichtung auf die Vertraulichkeit";
const DEFAULT_BODY: &str = include_str!("default_text.md");
const CLAUSE_203: &str = include_str!("clause_203.md");
const CLAUSE_SECRETS: &str = include_str!("clause_secrets.md");
const MAX_BODY: usize = 30_000;
/// Why the organisation signs the copy (the PDF signature's reason).
pub const SIGNATURE_REASON: &str = "Verpflichtung auf die Vertraulichkeit";

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/pledge.typ", include_str!("pledge.typ")))
}

/// The default text with the organisation's name filled in.
pub fn default_body(org_name: &str) -> String {
    DEFAULT_BODY.replace("{org}", org_name)
}

fn clause_text(key: &str, org_name: &str) -> Option<String> {
    let text = match key {
        "stgb203" => CLAUSE_203,
        "geschgehg" => CLAUSE_SECRETS,
        _ => return None,
    };
    Some(text.replace("{org}", org_name))
}

/// Splits Markdown into headings, paragraphs and list items (plain text:
/// emphasis and links keep their words, raw HTML stays literal text; an
/// image's description stays as text).
pub fn blocks(markdown: &str) -> Vec<Block> {
    parse_blocks(markdown, false)
}

/// Like [`blocks`], with images as blocks of their own (kind `image`, the
/// description as text, the address as `src`), for course content.
pub fn blocks_with_images(markdown: &str) -> Vec<Block> {
    parse_blocks(markdown, true)
}

fn parse_blocks(markdown: &str, images: bool) -> Vec<Block> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut current: Option<(&'static str, String)> = None;
    let mut in_item = 0usize;
    // An image being read: its address and description so far.
    let mut image: Option<(String, String)> = None;
    let flush = |current: &mut Option<(&'static str, String)>, out: &mut Vec<Block>| {
        if let Some((kind, text)) = current.take() {
            let text = text.trim().to_owned();
            if !text.is_empty() {
                out.push(Block {
                    kind: kind.to_owned(),
                    text,
                    src: None,
                });
            }
        }
    };
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) if images => {
                flush(&mut current, &mut out);
                image = Some((dest_url.to_string(), String::new()));
            }
            Event::End(TagEnd::Image) if images => {
                if let Some((src, alt)) = image.take() {
                    out.push(Block {
                        kind: "image".to_owned(),
                        text: alt.trim().to_owned(),
                        src: Some(src),
                    });
                }
                // The rest of the paragraph continues as a paragraph.
                if in_item == 0 {
                    current = Some(("paragraph", String::new()));
                }
            }
            Event::Text(t) | Event::Code(t) if image.is_some() => {
                if let Some((_, alt)) = image.as_mut() {
                    alt.push_str(&t);
                }
            }
            Event::Start(Tag::Heading { .. }) => {
                flush(&mut current, &mut out);
                current = Some(("heading", String::new()));
            }
            Event::Start(Tag::Item) => {
                flush(&mut current, &mut out);
                in_item += 1;
                current = Some(("item", String::new()));
            }
            Event::Start(Tag::Paragraph) if in_item == 0 => {
                flush(&mut current, &mut out);
                current = Some(("paragraph", String::new()));
            }
            Event::End(TagEnd::Heading(_)) => flush(&mut current, &mut out),
            Event::End(TagEnd::Paragraph) if in_item == 0 => flush(&mut current, &mut out),
            Event::End(TagEnd::Item) => {
                in_item = in_item.saturating_sub(1);
                flush(&mut current, &mut out);
            }
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                current
                    .get_or_insert_with(|| ("paragraph", String::new()))
                    .1
                    .push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, text)) = current.as_mut() {
                    text.push(' ');
                }
            }
            _ => {}
        }
    }
    flush(&mut current, &mut out);
    out
}

/// SHA-256 (hex) of a versioned text's title and body: what a signature
/// or a concluded contract names. The AVV texts use it too.
pub fn text_hash(title: &str, body: &str) -> String {
    hex::encode(Sha256::digest(format!("{title}\n\n{body}").as_bytes()))
}

fn view(t: &pledge_texts::Model) -> PledgeTextView {
    PledgeTextView {
        id: t.id,
        version: t.version,
        title: t.title.clone(),
        blocks: blocks(&t.body),
        sha256: t.sha256.clone(),
        clauses: t
            .clauses
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: crate::format::german_day(t.created_at),
    }
}

fn signature_view(s: &pledge_signatures::Model) -> SignatureView {
    SignatureView {
        id: s.id,
        version: s.version,
        typed_name: s.typed_name.clone(),
        signed_at: crate::format::LocalTime::of(s.signed_at),
        pdf_sha256: s.pdf_sha256.clone(),
    }
}

pub async fn current<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Option<pledge_texts::Model>> {
    Ok(pledge_texts::Entity::find()
        .filter(pledge_texts::Column::OrgId.eq(org_id))
        .order_by_desc(pledge_texts::Column::Version)
        .one(db)
        .await?)
}

/// Sets a new version of the text. The complete text is what the DPO wrote
/// plus the chosen clauses; its hash is what signatures refer to.
pub async fn publish(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    title: &str,
    base: &str,
    clauses: &[&str],
) -> AppResult<PledgeTextId> {
    publish_as(
        db,
        now,
        actor.org_id,
        Some(actor.user_id),
        &actor.audit(),
        title,
        base,
        clauses,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn publish_as(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    org_id: OrgId,
    user_id: Option<UserId>,
    audit: &AuditActor,
    title: &str,
    base: &str,
    clauses: &[&str],
) -> AppResult<PledgeTextId> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid(
            "title",
            "Bitte geben Sie einen Titel an (höchstens 200 Zeichen).",
        ));
    }
    let base = base.replace("\r\n", "\n").trim().to_owned();
    if blocks(&base).is_empty() {
        return Err(AppError::invalid("body", "Bitte geben Sie den Text ein."));
    }
    if base.chars().count() > MAX_BODY {
        return Err(AppError::invalid(
            "body",
            format!("Der Text ist zu lang (höchstens {MAX_BODY} Zeichen)."),
        ));
    }
    let txn = db.begin_write().await?;
    let org = organisations::Entity::find_by_id(org_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let mut body = base.clone();
    let mut keys = Vec::new();
    for key in clauses {
        let text = clause_text(key, &org.legal_name)
            .ok_or_else(|| AppError::invalid("clauses", format!("Unbekannte Klausel „{key}“.")))?;
        body.push_str("\n\n");
        body.push_str(text.trim());
        keys.push(*key);
    }
    let previous = current(&txn, org_id).await?;
    let sha256 = text_hash(title, &body);
    if previous.as_ref().is_some_and(|p| p.sha256 == sha256) {
        return Err(AppError::invalid(
            "body",
            "Der Text ist unverändert; eine neue Fassung entsteht nur mit Änderungen.",
        ));
    }
    let version = previous.map_or(1, |p| p.version + 1);
    // Two admins at once: the unique (org, version) index lets one win.
    let row = pledge_texts::ActiveModel {
        org_id: Set(org_id),
        version: Set(version),
        title: Set(title.to_owned()),
        base: Set(base),
        body: Set(body),
        clauses: Set(keys.join(",")),
        sha256: Set(sha256),
        created_by: Set(user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::unless_unique(e, AppError::Conflict))?;
    record(
        &txn,
        now,
        AuditEvent::new(audit, "pledge_text", row.id.to_string(), "publish")
            .in_org(org_id)
            .after(json!({ "version": row.version, "sha256": row.sha256, "clauses": row.clauses })),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Whether the person still has to sign the current text: what the start
/// page shows, in one statement (the newest text and whether this person
/// signed it); [`mine`] reads what the pledge page needs besides.
pub async fn due<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<bool> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    if !actor.role.must_sign_pledge() {
        return Ok(false);
    }
    let signed = Query::select()
        .expr(Expr::val(1))
        .from(pledge_signatures::Entity)
        .and_where(
            Expr::col((
                pledge_signatures::Entity,
                pledge_signatures::Column::PledgeTextId,
            ))
            .equals((pledge_texts::Entity, pledge_texts::Column::Id)),
        )
        .and_where(pledge_signatures::Column::UserId.eq(actor.user_id))
        .to_owned();
    let newest = pledge_texts::Entity::find()
        .select_only()
        .expr(Expr::exists(signed))
        .filter(pledge_texts::Column::OrgId.eq(actor.org_id))
        .order_by_desc(pledge_texts::Column::Version)
        .into_tuple::<bool>()
        .one(db)
        .await?;
    Ok(newest == Some(false))
}

pub async fn mine(db: &DatabaseConnection, actor: &Actor) -> AppResult<MyPledge> {
    let current = current(db, actor.org_id).await?;
    let signatures = pledge_signatures::Entity::find()
        .filter(pledge_signatures::Column::OrgId.eq(actor.org_id))
        .filter(pledge_signatures::Column::UserId.eq(actor.user_id))
        .order_by_desc(pledge_signatures::Column::Version)
        .all(db)
        .await?;
    let signed = current
        .as_ref()
        .and_then(|c| signatures.iter().find(|s| s.pledge_text_id == c.id))
        .map(signature_view);
    Ok(MyPledge {
        earlier: signatures
            .iter()
            .filter(|s| current.as_ref().is_none_or(|c| s.pledge_text_id != c.id))
            .map(signature_view)
            .collect(),
        current: current.as_ref().map(view),
        signed,
        display_name: actor.display_name.clone(),
        must_sign: actor.role.must_sign_pledge(),
        has_password: users::Entity::find_by_id(actor.user_id)
            .one(db)
            .await?
            .is_some_and(|u| u.password_hash.is_some()),
        sso: crate::sso::service::confirmation_providers(db, actor).await?,
    })
}

pub use crate::net::Client;

#[derive(Debug)]
pub struct Signing {
    pub text_id: PledgeTextId,
    pub text_sha256: String,
    pub typed_name: String,
    pub confirmed: bool,
}

/// How the signer proved it is them.
pub enum Confirmation {
    /// The account password, checked (and throttled) while signing.
    Password(String),
    /// A fresh login at the organisation's identity provider, already
    /// checked by `sso::service::finish_confirmation`.
    FreshSso { provider_name: String },
}

impl Confirmation {
    fn column(&self) -> &'static str {
        match self {
            Self::Password(_) => "password",
            Self::FreshSso { .. } => "sso",
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Password(_) => "Passwort des Kontos".to_owned(),
            Self::FreshSso { provider_name } => {
                format!("erneute Anmeldung bei {provider_name} (Single Sign-on)")
            }
        }
    }
}

/// A signing that passed every check but the confirmation.
pub struct Checked {
    text: pledge_texts::Model,
    typed: String,
}

/// The data of the signer's PDF copy (`pledge.typ`).
#[derive(Debug, Serialize)]
pub struct PledgePdf {
    pub org_name: String,
    pub title: String,
    pub version: i32,
    pub text_sha256: String,
    pub blocks: Vec<Block>,
    pub signer_name: String,
    pub signer_email: String,
    pub typed_name: String,
    pub signed_at: String,
    pub method: String,
    pub client_ip: String,
    pub user_agent: String,
    /// The audit chain's head at signing.
    pub audit_anchor: String,
}

/// Checks a signing of the current text by the signed-in person: the text
/// is the current one and unchanged, it was read, the name typed is theirs,
/// they have not signed it yet. Runs again inside `sign`; a person who
/// confirms at their provider hears of a mistake before leaving.
pub async fn check(state: &AppState, actor: &Actor, input: &Signing) -> AppResult<Checked> {
    if !actor.role.must_sign_pledge() {
        return Err(AppError::Forbidden);
    }
    let text = pledge_texts::Entity::find_by_id(input.text_id)
        .filter(pledge_texts::Column::OrgId.eq(actor.org_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Text".into()))?;
    let current = current(&state.db, actor.org_id).await?;
    if current.as_ref().is_none_or(|c| c.id != text.id) || text.sha256 != input.text_sha256.trim() {
        return Err(AppError::invalid(
            "text_sha256",
            "Der Text wurde inzwischen geändert. Bitte lesen Sie die aktuelle Fassung und unterschreiben Sie diese.",
        ));
    }
    if !input.confirmed {
        return Err(AppError::invalid(
            "confirm",
            "Bitte bestätigen Sie, dass Sie den Text vollständig gelesen haben.",
        ));
    }
    let typed = actor.typed_own_name(&input.typed_name)?;
    if pledge_signatures::Entity::find()
        .filter(pledge_signatures::Column::PledgeTextId.eq(text.id))
        .filter(pledge_signatures::Column::UserId.eq(actor.user_id))
        .count(&state.db)
        .await?
        > 0
    {
        return Err(AppError::invalid(
            "text_sha256",
            "Sie haben diese Fassung bereits unterschrieben.",
        ));
    }
    Ok(Checked { text, typed })
}

/// Signs the current text for the signed-in person. Everything is checked
/// before anything is written; the signature row and its PDF are written in
/// one statement and never changed.
pub async fn sign(
    state: &AppState,
    actor: &Actor,
    input: Signing,
    confirmation: Confirmation,
    client: Client,
) -> AppResult<SignatureId> {
    let Checked { text, typed } = check(state, actor, &input).await?;
    if let Confirmation::Password(password) = &confirmation {
        crate::auth::service::confirm_password(state, actor, password).await?;
    }
    let now = state.now();
    let org = organisations::Entity::find_by_id(actor.org_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let method = confirmation.describe();
    // Resolved before the transaction: on SQLite the pool's one writer
    // would be held by it while the key is read.
    let identity = state.signing.identity(&state.db, &org, now).await?;
    let anchor = crate::audit::service::head(&state.db).await?;
    let data = PledgePdf {
        org_name: org.legal_name.clone(),
        title: text.title.clone(),
        version: text.version,
        text_sha256: text.sha256.clone(),
        blocks: blocks(&text.body),
        signer_name: actor.display_name.clone(),
        signer_email: actor.email.clone(),
        typed_name: typed.clone(),
        signed_at: format!("{} (deutsche Zeit)", german_datetime(now)),
        method: method.clone(),
        client_ip: if client.ip.is_empty() {
            "direkt verbunden".into()
        } else {
            client.ip.clone()
        },
        user_agent: client.user_agent.clone(),
        audit_anchor: anchor.label(),
    };
    let day = crate::format::german_day(now);
    let details = crate::pdf::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: SIGNATURE_REASON.to_owned(),
        location: crate::pdf::sign::location(&org),
        time: now,
    };
    let ident = format!(
        "nachweis-verpflichtung/{}/{}/{}",
        org.id, actor.user_id, text.version
    );
    let pdf = crate::pdf::typeset_signed(template(), &data, day, ident, identity, details).await?;
    let pdf_sha256 = hex::encode(Sha256::digest(&pdf));
    let txn = state.db.begin_write().await?;
    let row = pledge_signatures::ActiveModel {
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        pledge_text_id: Set(text.id),
        version: Set(text.version),
        text_sha256: Set(text.sha256.clone()),
        typed_name: Set(typed),
        method: Set(confirmation.column().into()),
        client_ip: Set(client.ip),
        user_agent: Set(client.user_agent),
        signed_at: Set(now),
        pdf: Set(pdf),
        pdf_sha256: Set(pdf_sha256.clone()),
        audit_seq: Set(Some(anchor.seq)),
        audit_hash: Set(Some(anchor.hash)),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::invalid(
            "text_sha256",
            "Sie haben diese Fassung bereits unterschrieben.",
        ),
        _ => e.into(),
    })?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "pledge", row.id.to_string(), "sign")
            .in_org(actor.org_id)
            .after(json!({
                "version": text.version, "text_sha256": text.sha256, "pdf_sha256": pdf_sha256,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// A signature's PDF for download: the signer, and admins and auditors of
/// the same organisation.
pub async fn pdf(
    db: &DatabaseConnection,
    actor: &Actor,
    id: SignatureId,
) -> AppResult<pledge_signatures::Model> {
    let row = pledge_signatures::Entity::find_by_id(id)
        .filter(pledge_signatures::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Verpflichtung".into()))?;
    if !actor.reads_personal_record_of(row.user_id) {
        // Not the signer's and not the DPO's: as if it did not exist.
        return Err(AppError::NotFound("Die Verpflichtung".into()));
    }
    Ok(row)
}

/// Every member who has to sign, with the state of their pledge.
pub async fn overview(db: &DatabaseConnection, actor: &Actor) -> AppResult<PledgeOverview> {
    if !matches!(actor.role, Role::Admin | Role::Auditor) {
        return Err(AppError::Forbidden);
    }
    let org = organisations::Entity::find_by_id(actor.org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let current = current(db, actor.org_id).await?;
    let rows = rows(db, actor.org_id, current.as_ref()).await?;
    let signed = rows
        .iter()
        .filter(|r| r.state == PledgeState::Signed)
        .count();
    let total = rows.len();
    let summary = match &current {
        None => "Es ist noch kein Text der Verpflichtung festgelegt.".to_owned(),
        Some(c) => format!(
            "Verpflichtung auf die Vertraulichkeit: {signed} von {total} Mitarbeitenden verpflichtet (Fassung {}).",
            c.version
        ),
    };
    Ok(PledgeOverview {
        draft_title: current
            .as_ref()
            .map_or_else(|| DEFAULT_TITLE.to_owned(), |c| c.title.clone()),
        draft_body: current
            .as_ref()
            .map_or_else(|| default_body(&org.legal_name), |c| c.base.clone()),
        current: current.as_ref().map(view),
        rows,
        signed,
        total,
        summary,
        can_edit: actor.role.is_admin(),
    })
}

/// The members who have to sign, ordered by name, with their state.
/// A person's newest signature, as the overview needs it.
struct Signed {
    id: SignatureId,
    pledge_text_id: PledgeTextId,
    version: i32,
    signed_at: DateTime<Utc>,
}

pub async fn rows<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    current: Option<&pledge_texts::Model>,
) -> AppResult<Vec<PledgeRow>> {
    rows_of(db, org_id, current, &members(db, org_id).await?, true).await
}

/// A membership as the overviews need it.
pub struct Member {
    pub role: Option<Role>,
    pub joined: DateTime<Utc>,
}

/// The organisation's members with their names: one statement, columns
/// only (the stored PDFs stay in the database); the training overview
/// reads them once for its pledge rows and its dates.
pub struct Members {
    by_id: HashMap<UserId, Member>,
    /// (id, name, email), ordered by name.
    people: Vec<(UserId, String, String)>,
}

impl Members {
    pub fn get(&self, user: &UserId) -> Option<&Member> {
        self.by_id.get(user)
    }
}

pub async fn members<C: ConnectionTrait>(db: &C, org_id: OrgId) -> AppResult<Members> {
    use sea_orm::{JoinType, QuerySelect, RelationDef};
    let to_membership: RelationDef = users::Entity::belongs_to(memberships::Entity)
        .from(users::Column::Id)
        .to(memberships::Column::UserId)
        .into();
    let rows: Vec<(UserId, String, String, String, DateTime<Utc>)> = users::Entity::find()
        .select_only()
        .columns([
            users::Column::Id,
            users::Column::DisplayName,
            users::Column::Email,
        ])
        .columns([memberships::Column::Role, memberships::Column::CreatedAt])
        .join(JoinType::InnerJoin, to_membership)
        .filter(memberships::Column::OrgId.eq(org_id))
        .order_by_asc(users::Column::DisplayName)
        .order_by_asc(users::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_id = HashMap::with_capacity(rows.len());
    let mut people = Vec::with_capacity(rows.len());
    for (id, name, email, role, joined) in rows {
        let role = role.parse::<Role>().ok();
        by_id.insert(id, Member { role, joined });
        people.push((id, name, email));
    }
    Ok(Members { by_id, people })
}

/// [`rows`] for `members` already read. Without `signatures`, only who
/// must sign is read (every row then says "missing"): the lists of due
/// trainings need the people, not their pledges.
pub async fn rows_of<C: ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    current: Option<&pledge_texts::Model>,
    members: &Members,
    signatures: bool,
) -> AppResult<Vec<PledgeRow>> {
    let roles: HashMap<UserId, Role> = members
        .by_id
        .iter()
        .filter_map(|(id, m)| Some((*id, m.role?)))
        .filter(|(_, r)| r.must_sign_pledge())
        .collect();
    use sea_orm::QuerySelect;
    let people = members.people.iter().cloned();
    // Each person's newest signature.
    use pledge_signatures::Column as S;
    let mut newest: HashMap<UserId, Signed> = HashMap::new();
    let read = if signatures {
        pledge_signatures::Entity::find()
            .select_only()
            .columns([S::UserId, S::Id, S::PledgeTextId, S::Version, S::SignedAt])
            .filter(S::OrgId.eq(org_id))
            .order_by_asc(S::Version)
            .into_tuple::<(UserId, SignatureId, PledgeTextId, i32, DateTime<Utc>)>()
            .all(db)
            .await?
    } else {
        Vec::new()
    };
    for (user_id, id, pledge_text_id, version, signed_at) in read {
        newest.insert(
            user_id,
            Signed {
                id,
                pledge_text_id,
                version,
                signed_at,
            },
        );
    }
    Ok(people
        .into_iter()
        .filter(|(id, _, _)| roles.contains_key(id))
        .map(|(id, name, email)| {
            let s = newest.get(&id);
            let state = match (s, current) {
                (Some(s), Some(c)) if s.pledge_text_id == c.id => PledgeState::Signed,
                (Some(_), _) => PledgeState::Outdated,
                (None, _) => PledgeState::Missing,
            };
            PledgeRow {
                user_id: id,
                role: roles
                    .get(&id)
                    .map(|r| r.label())
                    .unwrap_or_default()
                    .to_owned(),
                name,
                email,
                state,
                signed_version: s.map(|s| s.version),
                signed_at: s.map(|s| crate::format::LocalTime::of(s.signed_at)),
                signature_id: s.map(|s| s.id),
            }
        })
        .collect())
}

/// The overview as CSV.
pub fn csv(rows: &[PledgeRow]) -> String {
    crate::http::csv(
        &[
            "Name",
            "E-Mail",
            "Rolle",
            "Stand",
            "Fassung",
            "Unterschrieben am",
        ],
        rows.iter().map(|r| {
            vec![
                r.name.clone(),
                r.email.clone(),
                r.role.clone(),
                r.state.label().to_owned(),
                r.signed_version.map(|v| v.to_string()).unwrap_or_default(),
                r.signed_at.map(|t| t.to_string()).unwrap_or_default(),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_plain_blocks() {
        let b =
            blocks("Erster *Absatz*\nzweite Zeile.\n\n## Dauer\n\n- eins\n- <b>zwei</b>\n\nEnde.");
        let kinds: Vec<&str> = b.iter().map(|b| b.kind.as_str()).collect();
        assert_eq!(kinds, ["paragraph", "heading", "item", "item", "paragraph"]);
        assert_eq!(b[0].text, "Erster Absatz zweite Zeile.");
        assert_eq!(b[1].text, "Dauer");
        assert_eq!(b[3].text, "<b>zwei</b>", "HTML stays literal text");
    }

    #[test]
    fn course_images_become_blocks_of_their_own() {
        let md = "Vorher ![Ein *Schloss* am Tor](nachweis:42) nachher.\n\n![Zweites](nachweis:7)";
        let b = blocks_with_images(md);
        let parts: Vec<(&str, &str, Option<&str>)> = b
            .iter()
            .map(|b| (b.kind.as_str(), b.text.as_str(), b.src.as_deref()))
            .collect();
        assert_eq!(
            parts,
            [
                ("paragraph", "Vorher", None),
                ("image", "Ein Schloss am Tor", Some("nachweis:42")),
                ("paragraph", "nachher.", None),
                ("image", "Zweites", Some("nachweis:7")),
            ]
        );
        // Elsewhere (pledge texts) the description stays text.
        let kinds: Vec<String> = blocks(md).into_iter().map(|b| b.kind).collect();
        assert_eq!(kinds, ["paragraph", "paragraph"]);
    }

    #[test]
    fn the_default_text_names_the_organisation_and_the_law() {
        let body = default_body("ConRat WebSolutions GmbH");
        assert!(!body.contains("{org}"));
        assert!(body.contains("ConRat WebSolutions GmbH"));
        for needle in ["Art. 29", "Art. 32 Abs. 4", "Art. 28 Abs. 3", "Art. 33"] {
            assert!(body.contains(needle), "{needle}");
        }
        let b = blocks(&body);
        assert!(b.iter().any(|b| b.kind == "heading"));
    }

    #[test]
    fn names_match_ignoring_case_and_spacing() {
        use crate::auth::service::normalise_name;
        assert_eq!(
            normalise_name("  mia   SCHULZ "),
            normalise_name("Mia Schulz")
        );
        assert_ne!(normalise_name("Mia Schulze"), normalise_name("Mia Schulz"));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let rows = vec![PledgeRow {
            user_id: crate::ids::UserId(1),
            name: "Schulz; Mia".into(),
            email: "m@x.example".into(),
            role: "Mitarbeiter/in".into(),
            state: PledgeState::Signed,
            signed_version: Some(2),
            signed_at: Some(crate::format::LocalTime(
                chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                    .unwrap()
                    .and_hms_opt(10, 0, 0)
                    .unwrap(),
            )),
            signature_id: Some(crate::ids::SignatureId(7)),
        }];
        let c = csv(&rows);
        assert!(c.contains("\"Schulz; Mia\";m@x.example;"), "{c}");
        assert!(c.contains(";verpflichtet;2;"), "{c}");
    }
}
