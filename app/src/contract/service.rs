//! The AVV for one customer: put together from the organisation's current
//! contract text, the customer's particulars, Anlage 1 (the current
//! published TOM annex, by version and SHA-256, with its section headings)
//! and Anlage 2 (the current published list, cut to this customer's
//! subprocessors), then the closing protocol.
//!
//! Offered, it is sealed and stored with the JSON it was rendered from; the
//! customer accepts exactly that document (its SHA-256), and the concluded
//! contract is the same JSON rendered again with the acceptance in the
//! closing protocol, sealed again. Offers and acceptances are written once.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    AcceptanceInfo, ContractDue, ContractOverview, ContractRow, ContractStanding, OfferInfo,
    PendingOffer, PortalContract,
};
use crate::audit::service::{AuditEvent, record};
use crate::auth::service::Actor;
use crate::customers::{PARTICULARS, Particulars};
use crate::domain::Role;
use crate::entities::{
    BeginWrite, avv_texts, contract_acceptances, contract_offers, customers, organisations,
    subprocessor_lists, subprocessors,
};
use crate::error::{AppError, AppResult};
use crate::format::{LocalTime, german_datetime};
use crate::ids::{CustomerId, OfferId, OrgId};
use crate::net::Client;
use crate::pdf::keys::SigningSetup;
use crate::pdf::typeset::Template;
use crate::pledges::Block;
use crate::state::AppState;
use crate::subprocessors::anlage2::{Entry, Snapshot};

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| Template::new("/contract.typ", include_str!("contract.typ")))
}

const SIGNATURE_REASON: &str = "Vertrag zur Auftragsverarbeitung nach Art. 28 DSGVO";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Party {
    name: String,
    address: String,
    dpo: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Particular {
    label: String,
    text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Anlage1 {
    version: i32,
    stand: String,
    sha256: String,
    /// "3.1 Zutrittskontrolle", in document order.
    sections: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Anlage2 {
    version: i32,
    sha256: String,
    entries: Vec<Entry>,
}

/// One line of the closing protocol.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProtocolRow {
    label: String,
    value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Protocol {
    note: String,
    rows: Vec<ProtocolRow>,
}

/// The template's data; stored with each offer as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Document {
    title: String,
    draft: bool,
    text_version: i32,
    text_sha256: String,
    processor: Party,
    controller: Party,
    blocks: Vec<Block>,
    particulars: Vec<Particular>,
    anlage1: Anlage1,
    anlage2: Anlage2,
    protocol: Protocol,
}

impl Document {
    /// What a new offer is compared by: the particulars as offered,
    /// subprocessors included.
    fn particulars_sha256(&self) -> String {
        particulars_hash(
            &self.particulars,
            self.anlage2
                .entries
                .iter()
                .map(|e| e.name.as_str())
                .collect(),
        )
    }
}

/// The hash offers are compared by: the particulars and the names of the
/// customer's subprocessors (in any order).
fn particulars_hash(particulars: &[Particular], mut names: Vec<&str>) -> String {
    names.sort_unstable();
    let value = json!({ "particulars": particulars, "subprocessors": names });
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// An offer without its document and PDF: what lists and jobs read.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
struct OfferHead {
    id: OfferId,
    org_id: OrgId,
    customer_id: CustomerId,
    number: i32,
    text_version: i32,
    anlage1_version: i32,
    anlage2_version: i32,
    particulars_sha256: String,
    offered_at: DateTime<Utc>,
    offered_by_label: String,
    sha256: String,
}

/// The columns of an [`OfferHead`]: everything but the document and PDF.
const OFFER_HEAD: [contract_offers::Column; 11] = {
    use contract_offers::Column as C;
    [
        C::Id,
        C::OrgId,
        C::CustomerId,
        C::Number,
        C::TextVersion,
        C::Anlage1Version,
        C::Anlage2Version,
        C::ParticularsSha256,
        C::OfferedAt,
        C::OfferedByLabel,
        C::Sha256,
    ]
};

/// Offers as [`OfferHead`]s (the blobs stay in the database).
fn heads(
    q: sea_orm::Select<contract_offers::Entity>,
) -> sea_orm::Selector<sea_orm::SelectModel<OfferHead>> {
    q.select_only()
        .columns(OFFER_HEAD)
        .into_model::<OfferHead>()
}

/// An acceptance without its PDF.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
struct AcceptanceHead {
    offer_id: OfferId,
    accepted_at: DateTime<Utc>,
    typed_name: String,
    function: String,
    method: String,
    sha256: String,
}

/// The columns of an [`AcceptanceHead`]: everything but the PDF.
const ACCEPTANCE_HEAD: [contract_acceptances::Column; 6] = {
    use contract_acceptances::Column as C;
    [
        C::OfferId,
        C::AcceptedAt,
        C::TypedName,
        C::Function,
        C::Method,
        C::Sha256,
    ]
};

fn acceptance_heads(
    q: sea_orm::Select<contract_acceptances::Entity>,
) -> sea_orm::Selector<sea_orm::SelectModel<AcceptanceHead>> {
    q.select_only()
        .columns(ACCEPTANCE_HEAD)
        .into_model::<AcceptanceHead>()
}

/// An offer head with its acceptance (if any) and the organisation's
/// current text version: one row of [`offers_with_acceptances`].
#[derive(Debug, sea_orm::FromQueryResult)]
struct OfferRow {
    #[sea_orm(nested)]
    head: OfferHead,
    /// Read from the columns named `acceptance_…`: `None` where the left
    /// join found no acceptance.
    #[sea_orm(nested(prefix = "acceptance_"))]
    acceptance: Option<AcceptanceHead>,
    current_text: Option<i32>,
}

/// The organisation's offers, newest first, their acceptances, and the
/// current German text's version, in one statement (an offer is accepted
/// at most once). The text's version is `Some(None)` when there is no
/// text, `None` when there are no offers to carry it.
#[allow(clippy::type_complexity)]
async fn offers_with_acceptances<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<(Vec<OfferHead>, Vec<AcceptanceHead>, Option<Option<i32>>)> {
    use contract_acceptances::Column as A;
    use contract_offers::Column as O;
    use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
    use sea_orm::{IdenStatic, JoinType, RelationDef};
    let to_acceptance: RelationDef =
        contract_offers::Entity::belongs_to(contract_acceptances::Entity)
            .from(O::Id)
            .to(A::OfferId)
            .into();
    let text = Query::select()
        .expr(Func::max(Expr::col((
            avv_texts::Entity,
            avv_texts::Column::Version,
        ))))
        .from(avv_texts::Entity)
        .and_where(Expr::col((avv_texts::Entity, avv_texts::Column::OrgId)).eq(org_id))
        .and_where(Expr::col((avv_texts::Entity, avv_texts::Column::Locale)).eq("de"))
        .to_owned();
    let mut query = contract_offers::Entity::find()
        .select_only()
        .columns(OFFER_HEAD);
    for column in ACCEPTANCE_HEAD {
        query = query.column_as(column, format!("acceptance_{}", column.as_str()));
    }
    let rows = query
        .expr_as(Expr::SubQuery(None, Box::new(text.into())), "current_text")
        .join(JoinType::LeftJoin, to_acceptance)
        .filter(O::OrgId.eq(org_id))
        .order_by_desc(O::Number)
        .into_model::<OfferRow>()
        .all(db)
        .await?;
    let text = rows.first().map(|r| r.current_text);
    let mut offers = Vec::with_capacity(rows.len());
    let mut acceptances = Vec::new();
    for r in rows {
        offers.push(r.head);
        acceptances.extend(r.acceptance);
    }
    Ok((offers, acceptances, text))
}

/// What an offer to each of the organisation's customers would be made of
/// now: the current text version, and per customer the hash of its
/// particulars (see [`particulars_hash`]).
async fn inputs<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    customers: &[crate::customers::CustomerView],
) -> AppResult<(Option<i32>, BTreeMap<CustomerId, String>)> {
    let subs = crate::subprocessors::service::all_of(db, org_id).await?;
    inputs_with(db, org_id, customers, &subs, None).await
}

/// [`inputs`] with the organisation's subprocessors already read (and the
/// current text's version, if the caller read it).
async fn inputs_with<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    customers: &[crate::customers::CustomerView],
    subs: &[subprocessors::Model],
    text: Option<Option<i32>>,
) -> AppResult<(Option<i32>, BTreeMap<CustomerId, String>)> {
    let text = match text {
        Some(known) => known,
        None => current_text(db, org_id).await?.map(|t| t.version),
    };
    let names: BTreeMap<_, String> = subs
        .iter()
        .filter(|s| s.org_id == org_id)
        .map(|s| (s.id, s.name.trim().to_owned()))
        .collect();
    let hashes = customers
        .iter()
        .map(|c| {
            let subs: Vec<&str> = c
                .particulars
                .subprocessors
                .iter()
                .filter_map(|s| names.get(s).map(String::as_str))
                .collect();
            (
                c.id,
                particulars_hash(&particulars_of(&c.particulars), subs),
            )
        })
        .collect();
    Ok((text, hashes))
}

/// The contract for `customer` as it would be offered now. Refused, naming
/// what is missing, while the particulars are incomplete, no contract text
/// is set, or Anlage 1 or Anlage 2 (with this customer's subprocessors) is
/// not published.
async fn assemble(
    db: &DatabaseConnection,
    org_id: OrgId,
    customer: CustomerId,
) -> AppResult<Document> {
    let (c, particulars) = crate::customers::service::one(db, org_id, customer).await?;
    let missing = particulars.missing();
    if !missing.is_empty() {
        return Err(AppError::Refused(format!(
            "Für den AVV mit {} fehlen noch diese Angaben zur Verarbeitung: {}.",
            c.name,
            missing.join(", ")
        )));
    }
    let text = current_text(db, org_id).await?.ok_or_else(|| {
        AppError::Refused(
            "Es ist noch kein AVV-Vertragstext festgelegt (Seite „AVV-Vertragstext“).".into(),
        )
    })?;
    let annex = crate::annex::publish::list(db, org_id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            AppError::Refused(
                "Es ist noch keine TOM-Anlage veröffentlicht; der AVV verweist auf sie als Anlage 1."
                    .into(),
            )
        })?;
    let snapshot = crate::annex::publish::snapshot(db, org_id, annex.version).await?;
    let list = subprocessor_lists::Entity::find()
        .filter(subprocessor_lists::Column::OrgId.eq(org_id))
        .order_by_desc(subprocessor_lists::Column::Version)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::Refused(
                "Es ist noch keine Anlage 2 (Unterauftragsverarbeiter) veröffentlicht.".into(),
            )
        })?;
    let published: Snapshot = serde_json::from_str(&list.snapshot).map_err(AppError::internal)?;
    let names: Vec<String> = subprocessors::Entity::find()
        .filter(subprocessors::Column::OrgId.eq(org_id))
        .filter(subprocessors::Column::Id.is_in(particulars.subprocessors.clone()))
        .order_by_asc(subprocessors::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.name.trim().to_owned())
        .collect();
    let mut entries = Vec::with_capacity(names.len());
    for name in &names {
        match published.entries.iter().find(|e| &e.name == name) {
            Some(e) => entries.push(e.clone()),
            None => {
                return Err(AppError::Refused(format!(
                    "{name} steht in keiner veröffentlichten Anlage 2; veröffentlichen Sie zuerst die nächste Version der Anlage 2."
                )));
            }
        }
    }
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    Ok(Document {
        title: text.title.clone(),
        draft: false,
        text_version: text.version,
        text_sha256: text.sha256.clone(),
        processor: Party {
            name: org.legal_name.clone(),
            address: org.address.clone(),
            dpo: org.dpo_contact.clone(),
        },
        controller: Party {
            name: c.name.clone(),
            address: String::new(),
            dpo: particulars.controller_dpo.clone(),
        },
        blocks: crate::pledges::service::blocks(&text.body),
        particulars: particulars_of(&particulars),
        anlage1: Anlage1 {
            version: annex.version,
            stand: annex.stand.clone(),
            sha256: annex.sha256.clone(),
            sections: snapshot
                .annex
                .sections
                .iter()
                .map(|s| format!("{} {}", s.number, s.title))
                .collect(),
        },
        anlage2: Anlage2 {
            version: list.version,
            sha256: list.sha256.clone(),
            entries,
        },
        protocol: Protocol::default(),
    })
}

fn particulars_of(p: &Particulars) -> Vec<Particular> {
    PARTICULARS
        .iter()
        .map(|(field, label, _)| Particular {
            label: (*label).to_owned(),
            text: p.text(field).trim().to_owned(),
        })
        .collect()
}

/// The organisation's current German contract text.
async fn current_text<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Option<avv_texts::Model>> {
    Ok(avv_texts::Entity::find()
        .filter(avv_texts::Column::OrgId.eq(org_id))
        .filter(avv_texts::Column::Locale.eq("de"))
        .order_by_desc(avv_texts::Column::Version)
        .one(db)
        .await?)
}

async fn render(document: &Document, now: DateTime<Utc>, ident: String) -> AppResult<Vec<u8>> {
    let day = crate::format::german_day(now);
    let data = serde_json::to_vec(document).map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        use chrono::Datelike;
        let date = (day.year(), day.month() as u8, day.day() as u8);
        crate::pdf::typeset::typeset(template(), data, Some(date), ident)
            .map(|r| r.pdf)
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

async fn render_sealed(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    org_id: OrgId,
    document: &Document,
    now: DateTime<Utc>,
    ident: String,
) -> AppResult<Vec<u8>> {
    let org = organisations::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let identity = setup.identity(db, &org, now).await?;
    let details = crate::pdf::sign::SignatureDetails {
        signer_name: org.legal_name.clone(),
        reason: SIGNATURE_REASON.to_owned(),
        location: crate::pdf::sign::location(&org),
        time: now,
    };
    crate::pdf::typeset_signed(
        template(),
        document,
        crate::format::german_day(now),
        ident,
        identity,
        details,
    )
    .await
}

/// The contract as it would be offered to `customer` now, as a draft PDF
/// (unsigned, marked "ENTWURF") for the organisation's admins and
/// auditors; never stored.
pub async fn draft(
    db: &DatabaseConnection,
    actor: &Actor,
    customer: CustomerId,
    now: DateTime<Utc>,
) -> AppResult<Vec<u8>> {
    if !actor.role.reads_contracts() {
        return Err(AppError::Forbidden);
    }
    let mut document = assemble(db, actor.org_id, customer).await?;
    document.draft = true;
    document.protocol.note = "Entwurf: Dieser Vertrag ist noch nicht angeboten und nicht angenommen. Nach der Annahme im Kundenportal stehen hier Name und Funktion der annehmenden Person, der Zeitpunkt und die Prüfsumme des angenommenen Dokuments.".into();
    render(
        &document,
        now,
        format!("nachweis-avv-entwurf/{}/{customer}", actor.org_id),
    )
    .await
}

/// Who made an offer: a person, or Nachweis itself after the text or the
/// particulars changed.
enum Offerer<'a> {
    Person(&'a Actor),
    Automatic,
}

/// Offers the AVV to `customer` (admins): the contract as it is now,
/// sealed and stored. Refused while something is missing, and when the
/// newest offer has the same text version and particulars.
pub async fn offer(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    public_url: &str,
    actor: &Actor,
    customer: CustomerId,
    now: DateTime<Utc>,
) -> AppResult<i32> {
    if !actor.role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let document = assemble(db, actor.org_id, customer).await?;
    make_offer(
        db,
        setup,
        public_url,
        actor.org_id,
        customer,
        document,
        Offerer::Person(actor),
        now,
    )
    .await
}

async fn newest_offer(
    db: &impl sea_orm::ConnectionTrait,
    org_id: OrgId,
    customer: CustomerId,
) -> AppResult<Option<OfferHead>> {
    Ok(heads(
        contract_offers::Entity::find()
            .filter(contract_offers::Column::OrgId.eq(org_id))
            .filter(contract_offers::Column::CustomerId.eq(customer))
            .order_by_desc(contract_offers::Column::Number),
    )
    .one(db)
    .await?)
}

/// Locks the customer's row until the transaction ends (PostgreSQL; on
/// SQLite the write transaction holds the database already), so an offer
/// and an acceptance for one customer never interleave.
async fn lock_customer(
    txn: &sea_orm::DatabaseTransaction,
    org_id: OrgId,
    customer: CustomerId,
) -> AppResult<()> {
    customers::Entity::find_by_id(customer)
        .filter(customers::Column::OrgId.eq(org_id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("Der Kunde".into()))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn make_offer(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    public_url: &str,
    org_id: OrgId,
    customer: CustomerId,
    mut document: Document,
    by: Offerer<'_>,
    now: DateTime<Utc>,
) -> AppResult<i32> {
    let particulars_sha256 = document.particulars_sha256();
    let last = newest_offer(db, org_id, customer).await?;
    if let Some(l) = last.as_ref().filter(|l| {
        l.text_version == document.text_version && l.particulars_sha256 == particulars_sha256
    }) {
        return Err(AppError::Refused(format!(
            "Angebot {} hat bereits diese Fassung des Vertragstexts und diese Angaben; ein neues Angebot wäre damit identisch.",
            l.number
        )));
    }
    let number = last.as_ref().map_or(1, |l| l.number + 1);
    let (by_id, by_label) = match by {
        Offerer::Person(a) => (Some(a.user_id), a.email.clone()),
        Offerer::Automatic => (
            None,
            "Nachweis (nach Änderung von Text oder Angaben)".to_owned(),
        ),
    };
    document.protocol = Protocol {
        note: format!(
            "Angebot {number}, erstellt am {} (deutsche Zeit). Der Verantwortliche nimmt den Vertrag im Kundenportal an; dabei wird diese Seite um die Annahme ergänzt und der Vertrag erneut gesiegelt. Angenommen wird genau dieses Dokument, erkennbar an seiner SHA-256-Prüfsumme im Kundenportal.",
            german_datetime(now)
        ),
        rows: Vec::new(),
    };
    let ident = format!("nachweis-avv/{org_id}/{customer}/{number}");
    let pdf = render_sealed(db, setup, org_id, &document, now, ident).await?;
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let txn = db.begin_write().await?;
    lock_customer(&txn, org_id, customer).await?;
    if newest_offer(&txn, org_id, customer)
        .await?
        .map(|n| n.number)
        != last.map(|l| l.number)
    {
        return Err(AppError::Refused(
            "Gerade wurde diesem Kunden ein anderes Angebot gemacht. Bitte laden Sie die Seite neu."
                .into(),
        ));
    }
    let row = contract_offers::ActiveModel {
        org_id: Set(org_id),
        customer_id: Set(customer),
        number: Set(number),
        text_version: Set(document.text_version),
        text_sha256: Set(document.text_sha256.clone()),
        anlage1_version: Set(document.anlage1.version),
        anlage1_sha256: Set(document.anlage1.sha256.clone()),
        anlage2_version: Set(document.anlage2.version),
        anlage2_sha256: Set(document.anlage2.sha256.clone()),
        particulars_sha256: Set(particulars_sha256),
        offered_at: Set(now),
        offered_by: Set(by_id),
        offered_by_label: Set(by_label.clone()),
        document: Set(serde_json::to_string(&document).map_err(AppError::internal)?),
        pdf: Set(pdf),
        sha256: Set(sha256.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        AppError::unless_unique(
            e,
            AppError::Refused(
                "Gerade wurde diesem Kunden ein anderes Angebot gemacht. Bitte laden Sie die Seite neu.".into(),
            ),
        )
    })?;
    let mails = queue_mails(
        &txn,
        now,
        org_id,
        customer,
        &document.processor.name,
        if number == 1 {
            Mailing::Offer
        } else {
            Mailing::NewOffer
        },
        public_url,
    )
    .await?;
    let actor = crate::audit::service::AuditActor {
        user_id: by_id,
        label: by_label,
    };
    record(
        &txn,
        now,
        AuditEvent::new(&actor, "contract", row.id.to_string(), "offer")
            .in_org(org_id)
            .after(json!({
                "customer": customer, "number": number, "text_version": document.text_version,
                "anlage1_version": document.anlage1.version, "anlage2_version": document.anlage2.version,
                "sha256": sha256, "mails": mails,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(number)
}

/// A new offer for every customer whose newest offer no longer matches the
/// current text version or its particulars (the worker runs this; several
/// nodes at once make one offer: the customer's lock and the unique number
/// decide). Customers never offered are left alone: the first offer is the
/// DPO's decision. A customer that cannot be offered now (a particular
/// removed, a subprocessor not yet in Anlage 2) is skipped until it can; an
/// error with one customer is logged and the others go on. Answers how many
/// offers were made.
pub async fn reoffer_changed(
    db: &DatabaseConnection,
    setup: &SigningSetup,
    public_url: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let newest = newest_offers(db, None).await?;
    let mut by_org: BTreeMap<OrgId, Vec<OfferHead>> = BTreeMap::new();
    for o in newest.into_values() {
        by_org.entry(o.org_id).or_default().push(o);
    }
    let mut made = 0;
    for (org_id, offers) in by_org {
        let list = crate::customers::service::list(db, org_id).await?;
        let (text, hashes) = inputs(db, org_id, &list).await?;
        for last in offers {
            let Some(hash) = hashes.get(&last.customer_id) else {
                continue;
            };
            if text.is_none_or(|t| t == last.text_version) && *hash == last.particulars_sha256 {
                continue;
            }
            let outcome = match assemble(db, org_id, last.customer_id).await {
                Ok(document) => {
                    make_offer(
                        db,
                        setup,
                        public_url,
                        org_id,
                        last.customer_id,
                        document,
                        Offerer::Automatic,
                        now,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(_) => made += 1,
                // Not offerable now, or another node was first: the
                // overview says what is missing.
                Err(AppError::Refused(_) | AppError::NotFound(_)) => {}
                Err(e) => tracing::warn!(
                    org = %org_id,
                    customer = %last.customer_id,
                    "a new AVV offer after a change failed: {e}"
                ),
            }
        }
    }
    Ok(made)
}

/// The newest offer per customer (of one organisation, or of all).
async fn newest_offers(
    db: &DatabaseConnection,
    org_id: Option<OrgId>,
) -> AppResult<BTreeMap<CustomerId, OfferHead>> {
    let mut q = contract_offers::Entity::find();
    if let Some(org_id) = org_id {
        q = q.filter(contract_offers::Column::OrgId.eq(org_id));
    }
    let mut out: BTreeMap<CustomerId, OfferHead> = BTreeMap::new();
    for o in heads(q).all(db).await? {
        if out.get(&o.customer_id).is_none_or(|n| n.number < o.number) {
            out.insert(o.customer_id, o);
        }
    }
    Ok(out)
}

fn offer_info(o: &OfferHead) -> OfferInfo {
    OfferInfo {
        id: o.id,
        number: o.number,
        text_version: o.text_version,
        anlage1_version: o.anlage1_version,
        anlage2_version: o.anlage2_version,
        offered_at: LocalTime::of(o.offered_at),
        offered_by: o.offered_by_label.clone(),
        sha256: o.sha256.clone(),
    }
}

fn acceptance_info(a: &AcceptanceHead) -> AcceptanceInfo {
    AcceptanceInfo {
        accepted_at: LocalTime::of(a.accepted_at),
        typed_name: a.typed_name.clone(),
        function: a.function.clone(),
        method: match a.method.as_str() {
            "sso" => "erneute Anmeldung (Single Sign-on)".to_owned(),
            _ => "Passwort des Kontos".to_owned(),
        },
        sha256: a.sha256.clone(),
    }
}

/// Per customer: offered since, accepted (which version, by whom, when),
/// outdated (admins and auditors).
pub async fn overview(db: &DatabaseConnection, actor: &Actor) -> AppResult<ContractOverview> {
    if !actor.role.reads_contracts() {
        return Err(AppError::Forbidden);
    }
    Ok(ContractOverview {
        rows: rows(db, actor.org_id).await?,
        can_offer: actor.role.is_admin(),
    })
}

/// The customers whose contract is not concluded in its current form:
/// never offered, offered and waiting, or outdated (a newer offer waits, or
/// the text or the particulars changed since the concluded one). For the
/// start page and the daily digest.
pub async fn open<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<ContractDue>> {
    let subs = crate::subprocessors::service::all_of(db, org_id).await?;
    open_with(db, org_id, &subs).await
}

/// [`open`] with the organisation's subprocessors (all of them, as
/// `subprocessors::service::all_of` reads them) already read.
pub async fn open_with<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    subs: &[subprocessors::Model],
) -> AppResult<Vec<ContractDue>> {
    Ok(rows_with(db, org_id, subs)
        .await?
        .into_iter()
        .filter(|r| r.standing != ContractStanding::Accepted || r.changed)
        .map(|r| ContractDue {
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            standing: match r.standing {
                ContractStanding::Accepted => ContractStanding::Outdated,
                s => s,
            },
            since: r.newest.map(|o| o.offered_at),
        })
        .collect())
}

/// Every customer's contract, in the order of the customer list. Reads the
/// offers and acceptances without their documents.
pub async fn rows<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
) -> AppResult<Vec<ContractRow>> {
    let subs = crate::subprocessors::service::all_of(db, org_id).await?;
    rows_with(db, org_id, &subs).await
}

async fn rows_with<C: sea_orm::ConnectionTrait>(
    db: &C,
    org_id: OrgId,
    subs: &[subprocessors::Model],
) -> AppResult<Vec<ContractRow>> {
    let list = crate::customers::service::list_of(db, org_id, false).await?;
    let (offers, acceptances, text) = offers_with_acceptances(db, org_id).await?;
    // Without offers the text's version is not needed (nothing to compare).
    let (text, hashes) = inputs_with(db, org_id, &list, subs, Some(text.flatten())).await?;
    let rows = list
        .into_iter()
        .map(|c| {
            let mine: Vec<&OfferHead> = offers.iter().filter(|o| o.customer_id == c.id).collect();
            let newest = mine.first().copied();
            let concluded = mine.iter().find_map(|o| {
                acceptances
                    .iter()
                    .find(|a| a.offer_id == o.id)
                    .map(|a| (offer_info(o), acceptance_info(a)))
            });
            let standing = match (newest, &concluded) {
                (None, _) => ContractStanding::NotOffered,
                (Some(n), Some((info, _))) if info.id == n.id => ContractStanding::Accepted,
                (Some(_), Some(_)) => ContractStanding::Outdated,
                (Some(_), None) => ContractStanding::Offered,
            };
            // Would a new offer differ from the newest one? (What the
            // worker compares too.)
            let changed = newest.is_some_and(|n| {
                text.is_some_and(|t| t != n.text_version)
                    || hashes
                        .get(&c.id)
                        .is_some_and(|h| *h != n.particulars_sha256)
            });
            ContractRow {
                customer_id: c.id,
                customer_name: c.name.clone(),
                missing: c
                    .particulars
                    .missing()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                standing,
                newest: newest.map(offer_info),
                concluded,
                changed,
            }
        })
        .collect();
    Ok(rows)
}

/// The customer a customer user acts for, if any (read with the actor).
fn customer_of(actor: &Actor) -> Option<CustomerId> {
    if actor.role != Role::Customer {
        return None;
    }
    actor.customer_id
}

/// The contract part of the portal: for a customer user, the offer waiting
/// for acceptance (with the full text as offered) and the concluded
/// contract; `None` for everyone else.
pub async fn for_portal(
    db: &DatabaseConnection,
    actor: &Actor,
) -> AppResult<Option<PortalContract>> {
    let Some(customer) = customer_of(actor) else {
        return Ok(None);
    };
    let Some(c) = customers::Entity::find_by_id(customer)
        .filter(customers::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let offers = heads(
        contract_offers::Entity::find()
            .filter(contract_offers::Column::OrgId.eq(actor.org_id))
            .filter(contract_offers::Column::CustomerId.eq(customer))
            .order_by_desc(contract_offers::Column::Number),
    )
    .all(db)
    .await?;
    if offers.is_empty() {
        return Ok(None);
    }
    let acceptances = acceptance_heads(
        contract_acceptances::Entity::find()
            .filter(contract_acceptances::Column::OrgId.eq(actor.org_id))
            .filter(contract_acceptances::Column::CustomerId.eq(customer)),
    )
    .all(db)
    .await?;
    let concluded = offers.iter().find_map(|o| {
        acceptances
            .iter()
            .find(|a| a.offer_id == o.id)
            .map(|a| (offer_info(o), acceptance_info(a)))
    });
    let newest = &offers[0];
    let pending = if acceptances.iter().any(|a| a.offer_id == newest.id) {
        None
    } else {
        let document = contract_offers::Entity::find_by_id(newest.id)
            .filter(contract_offers::Column::OrgId.eq(actor.org_id))
            .select_only()
            .column(contract_offers::Column::Document)
            .into_tuple::<String>()
            .one(db)
            .await?
            .ok_or_else(|| AppError::NotFound("Das Angebot".into()))?;
        let d: Document = serde_json::from_str(&document).map_err(AppError::internal)?;
        Some(PendingOffer {
            offer: offer_info(newest),
            title: d.title,
            blocks: d.blocks,
            particulars: d
                .particulars
                .into_iter()
                .map(|p| (p.label, p.text))
                .collect(),
            subprocessors: d.anlage2.entries.into_iter().map(|e| e.name).collect(),
            anlage1: (d.anlage1.version, d.anlage1.sha256),
            anlage2: (d.anlage2.version, d.anlage2.sha256),
        })
    };
    let has_password = crate::entities::users::Entity::find_by_id(actor.user_id)
        .one(db)
        .await?
        .is_some_and(|u| u.password_hash.is_some());
    Ok(Some(PortalContract {
        customer_name: c.name,
        pending,
        concluded,
        display_name: actor.display_name.clone(),
        has_password,
        sso: crate::sso::service::confirmation_providers(db, actor).await?,
    }))
}

/// What a customer user declares when accepting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Acceptance {
    pub offer_id: OfferId,
    /// SHA-256 of the offered PDF the person read.
    pub sha256: String,
    pub typed_name: String,
    pub function: String,
    pub confirmed: bool,
}

/// How the person proved it is them.
pub enum Confirmation {
    /// The account password, checked (and throttled) while accepting.
    Password(String),
    /// A fresh login at the provider, checked by single sign-on.
    FreshSso {
        provider_name: String,
        subject: String,
    },
}

/// An acceptance that passed every check but the confirmation.
pub struct Checked {
    offer: contract_offers::Model,
    typed_name: String,
    function: String,
}

fn stale() -> AppError {
    AppError::Refused(
        "Der Vertrag wurde inzwischen geändert: Das angezeigte Angebot ist nicht mehr aktuell. Bitte lesen Sie die neue Fassung und nehmen Sie diese an. Es wurde nichts gespeichert.".into(),
    )
}

/// Checks an acceptance by the signed-in person: a customer user of the
/// offer's customer, the offer is the newest one and the document they
/// read (its hash) is unchanged, not yet accepted, the name typed is theirs
/// and a function is given. Runs again inside [`accept`].
pub async fn check(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &Acceptance,
) -> AppResult<Checked> {
    if actor.role != Role::Customer {
        // Staff, owners and the DPO cannot accept on a customer's behalf.
        return Err(AppError::Forbidden);
    }
    let customer = customer_of(actor);
    let offer = contract_offers::Entity::find_by_id(input.offer_id)
        .filter(contract_offers::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .filter(|o| Some(o.customer_id) == customer)
        .ok_or_else(|| AppError::NotFound("Das Angebot".into()))?;
    let newest = newest_offer(db, offer.org_id, offer.customer_id).await?;
    if newest.as_ref().is_none_or(|n| n.id != offer.id) || offer.sha256 != input.sha256.trim() {
        return Err(stale());
    }
    if contract_acceptances::Entity::find()
        .filter(contract_acceptances::Column::OfferId.eq(offer.id))
        .one(db)
        .await?
        .is_some()
    {
        return Err(already_accepted());
    }
    if !input.confirmed {
        return Err(AppError::invalid(
            "confirm",
            "Bitte bestätigen Sie, dass Sie den Vertrag mit seinen Anlagen gelesen haben und für den Verantwortlichen annehmen dürfen.",
        ));
    }
    if input
        .typed_name
        .chars()
        .chain(input.function.chars())
        .any(|c| c.is_control() && !c.is_whitespace())
    {
        return Err(AppError::invalid(
            "function",
            "Name und Funktion dürfen keine Steuerzeichen enthalten.",
        ));
    }
    let typed_name = actor.typed_own_name(&input.typed_name)?;
    let function = input
        .function
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if function.is_empty() || function.chars().count() > 200 {
        return Err(AppError::invalid(
            "function",
            "Bitte geben Sie Ihre Funktion beim Verantwortlichen an, z. B. „Geschäftsführerin“ (höchstens 200 Zeichen).",
        ));
    }
    Ok(Checked {
        offer,
        typed_name,
        function,
    })
}

fn already_accepted() -> AppError {
    AppError::Refused("Dieses Angebot ist bereits angenommen.".into())
}

/// Accepts the newest offer for the signed-in customer user: every check
/// of [`check`] again, then the password (or the fresh login already
/// checked), then the concluded contract is rendered from the offer's data
/// with the acceptance in its closing protocol, sealed and stored once.
pub async fn accept(
    state: &AppState,
    actor: &Actor,
    input: Acceptance,
    confirmation: Confirmation,
    client: Client,
) -> AppResult<OfferId> {
    let Checked {
        offer,
        typed_name,
        function,
    } = check(&state.db, actor, &input).await?;
    if let Confirmation::Password(password) = &confirmation {
        crate::auth::service::confirm_password(state, actor, password).await?;
    }
    let now = state.now();
    let (method, method_text, identity) = match &confirmation {
        Confirmation::Password(_) => (
            "password",
            "Passwort des Kontos".to_owned(),
            format!("Konto {} bei Nachweis", actor.email),
        ),
        Confirmation::FreshSso {
            provider_name,
            subject,
        } => (
            "sso",
            format!("erneute Anmeldung bei {provider_name} (Single Sign-on)"),
            format!("{provider_name}, Subjekt {subject} (Konto {})", actor.email),
        ),
    };
    let client_ip = if client.ip.is_empty() {
        "direkt verbunden".to_owned()
    } else {
        client.ip.clone()
    };
    let mut document: Document =
        serde_json::from_str(&offer.document).map_err(AppError::internal)?;
    let row = |label: &str, value: String| ProtocolRow {
        label: label.to_owned(),
        value,
    };
    document.protocol = Protocol {
        note: format!(
            "Der Verantwortliche hat den Vertrag mit seinen Anlagen im Kundenportal elektronisch angenommen (Art. 28 Abs. 9 DSGVO). Angenommen wurde Angebot {} in genau der Fassung mit dieser Prüfsumme:",
            offer.number
        ),
        rows: vec![
            row("Dokument (SHA-256)", offer.sha256.clone()),
            row(
                "Angeboten am",
                format!("{} (deutsche Zeit)", german_datetime(offer.offered_at)),
            ),
            row("Angenommen von", typed_name.clone()),
            row("Funktion", function.clone()),
            row(
                "Angenommen am",
                format!("{} (deutsche Zeit)", german_datetime(now)),
            ),
            row("Bestätigt durch", method_text),
            row("Identität", identity.clone()),
            row("Client-Adresse", client_ip.clone()),
            row("Browser", client.user_agent.clone()),
        ],
    };
    let ident = format!(
        "nachweis-avv/{}/{}/{}/angenommen",
        offer.org_id, offer.customer_id, offer.number
    );
    let pdf = render_sealed(
        &state.db,
        &state.signing,
        offer.org_id,
        &document,
        now,
        ident,
    )
    .await?;
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let txn = state.db.begin_write().await?;
    lock_customer(&txn, offer.org_id, offer.customer_id).await?;
    // A newer offer made while the person was reading (or at the provider).
    if newest_offer(&txn, offer.org_id, offer.customer_id)
        .await?
        .is_none_or(|n| n.id != offer.id)
    {
        return Err(stale());
    }
    contract_acceptances::ActiveModel {
        org_id: Set(offer.org_id),
        customer_id: Set(offer.customer_id),
        offer_id: Set(offer.id),
        user_id: Set(actor.user_id),
        typed_name: Set(typed_name.clone()),
        function: Set(function.clone()),
        method: Set(method.to_owned()),
        identity: Set(identity),
        client_ip: Set(client.ip),
        user_agent: Set(client.user_agent),
        accepted_at: Set(now),
        pdf: Set(pdf),
        sha256: Set(sha256.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| AppError::unless_unique(e, already_accepted()))?;
    record(
        &txn,
        now,
        AuditEvent::new(&actor.audit(), "contract", offer.id.to_string(), "accept")
            .in_org(offer.org_id)
            .after(json!({
                "customer": offer.customer_id, "number": offer.number,
                "offer_sha256": offer.sha256, "sha256": sha256,
                "typed_name": typed_name, "function": function, "method": method,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(offer.id)
}

/// Which PDF of an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The sealed offer as the customer reads it.
    Offer,
    /// The concluded contract (after acceptance).
    Concluded,
}

/// A stored contract PDF and its SHA-256, for the organisation's admins and
/// auditors and the customer users of that customer. Another customer's
/// user, or another organisation's, is told it does not exist.
pub async fn pdf(
    db: &DatabaseConnection,
    actor: &Actor,
    id: OfferId,
    which: Which,
) -> AppResult<(i32, Vec<u8>, String)> {
    let not_found = || AppError::NotFound("Der Vertrag".into());
    let offer = contract_offers::Entity::find_by_id(id)
        .filter(contract_offers::Column::OrgId.eq(actor.org_id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    match actor.role {
        Role::Admin | Role::Auditor => {}
        Role::Customer => {
            if customer_of(actor) != Some(offer.customer_id) {
                return Err(not_found());
            }
        }
        _ => return Err(AppError::Forbidden),
    }
    match which {
        Which::Offer => Ok((offer.number, offer.pdf, offer.sha256)),
        Which::Concluded => {
            let a = contract_acceptances::Entity::find()
                .filter(contract_acceptances::Column::OfferId.eq(offer.id))
                .one(db)
                .await?
                .ok_or_else(not_found)?;
            Ok((offer.number, a.pdf, a.sha256))
        }
    }
}

/// Which mail goes to a customer's contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mailing {
    /// The first offer.
    Offer,
    /// A new offer after the text or the particulars changed.
    NewOffer,
    /// An offer still not accepted after [`REMINDER_DAYS`].
    Reminder,
}

/// After how many days an offer not accepted is recalled to the contacts, once.
pub const REMINDER_DAYS: i64 = 14;

fn mail_for(
    mailing: Mailing,
    locale: crate::mail::Locale,
    org_name: &str,
    customer: &str,
    portal: &str,
) -> crate::mail::Mail {
    let de = locale == crate::mail::Locale::De;
    let (subject, body) = match (mailing, de) {
        (Mailing::Offer, true) => (
            format!("{org_name}: Vertrag zur Auftragsverarbeitung zur Annahme"),
            format!(
                "{org_name} bietet {customer} den Vertrag zur Auftragsverarbeitung nach Art. 28 DSGVO mit seinen Anlagen (technische und organisatorische Maßnahmen, Unterauftragsverarbeiter) elektronisch zum Abschluss an.\n\nSie finden ihn im Kundenportal unter „AVV zur Annahme“: Lesen Sie ihn dort und nehmen Sie ihn an, wenn Sie dazu berechtigt sind. Annahme und Vertrag werden gesiegelt gespeichert; beide Seiten können den geschlossenen Vertrag jederzeit herunterladen."
            ),
        ),
        (Mailing::Offer, false) => (
            format!("{org_name}: data processing agreement for acceptance"),
            format!(
                "{org_name} offers {customer} the data processing agreement under Art. 28 GDPR with its annexes (technical and organisational measures, subprocessors) for conclusion online.\n\nYou find it in the customer portal under \"AVV zur Annahme\": read it there and accept it if you are authorised to. The acceptance and the agreement are stored sealed; both sides can download the concluded agreement at any time."
            ),
        ),
        (Mailing::NewOffer, true) => (
            format!("{org_name}: neue Fassung des Vertrags zur Auftragsverarbeitung"),
            format!(
                "{org_name} hat den Vertrag zur Auftragsverarbeitung mit {customer} geändert und bietet Ihnen die neue Fassung zur Annahme an. Ein bereits geschlossener Vertrag gilt weiter, bis Sie die neue Fassung annehmen.\n\nSie finden sie im Kundenportal unter „AVV zur Annahme“."
            ),
        ),
        (Mailing::NewOffer, false) => (
            format!("{org_name}: new version of the data processing agreement"),
            format!(
                "{org_name} has changed the data processing agreement with {customer} and offers you the new version for acceptance. An agreement already concluded stays valid until you accept the new version.\n\nYou find it in the customer portal under \"AVV zur Annahme\"."
            ),
        ),
        (Mailing::Reminder, true) => (
            format!("Erinnerung: Vertrag zur Auftragsverarbeitung mit {org_name}"),
            format!(
                "Vor {REMINDER_DAYS} Tagen hat {org_name} {customer} den Vertrag zur Auftragsverarbeitung zur Annahme angeboten; er ist noch nicht angenommen. Bitte lesen Sie ihn im Kundenportal unter „AVV zur Annahme“ und nehmen Sie ihn an, oder sagen Sie uns, was Sie daran ändern möchten.\n\nDies ist die einzige Erinnerung."
            ),
        ),
        (Mailing::Reminder, false) => (
            format!("Reminder: data processing agreement with {org_name}"),
            format!(
                "{REMINDER_DAYS} days ago {org_name} offered {customer} the data processing agreement for acceptance; it has not been accepted yet. Please read it in the customer portal under \"AVV zur Annahme\" and accept it, or tell us what you would like to change.\n\nThis is the only reminder."
            ),
        ),
    };
    crate::mail::templates::simple(locale, subject, &body, portal)
}

/// Queues `mailing` to every contact of `customer`, in the caller's
/// transaction; answers how many.
async fn queue_mails<C: sea_orm::ConnectionTrait>(
    txn: &C,
    now: DateTime<Utc>,
    org_id: OrgId,
    customer: CustomerId,
    org_name: &str,
    mailing: Mailing,
    public_url: &str,
) -> AppResult<usize> {
    let Some(c) = customers::Entity::find_by_id(customer)
        .filter(customers::Column::OrgId.eq(org_id))
        .one(txn)
        .await?
    else {
        return Ok(0);
    };
    let contacts = crate::entities::customer_contacts::Entity::find()
        .filter(crate::entities::customer_contacts::Column::OrgId.eq(org_id))
        .filter(crate::entities::customer_contacts::Column::CustomerId.eq(customer))
        .order_by_asc(crate::entities::customer_contacts::Column::Id)
        .all(txn)
        .await?;
    let portal = format!("{public_url}/portal#avv");
    let kind = match mailing {
        Mailing::Reminder => "contract_reminder",
        _ => "contract_offer",
    };
    for contact in &contacts {
        let mail = mail_for(
            mailing,
            crate::mail::Locale::parse_lenient(&contact.locale),
            org_name,
            &c.name,
            &portal,
        );
        crate::mail::service::enqueue(txn, now, Some(org_id), kind, &contact.email, &mail).await?;
    }
    Ok(contacts.len())
}

/// Recalls every offer not accepted [`REMINDER_DAYS`] after it was made
/// to its customer's contacts, once per offer across restarts and nodes
/// (the reminder's row and its mails are written in one transaction; the
/// offer is its key). A superseded offer is not recalled: its successor
/// has its own days. Answers how many offers were recalled.
pub async fn remind(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    public_url: &str,
) -> AppResult<usize> {
    let cutoff = now - chrono::Duration::days(REMINDER_DAYS);
    let newest = newest_offers(db, None).await?;
    let waiting: Vec<OfferHead> = newest
        .into_values()
        .filter(|o| o.offered_at <= cutoff)
        .collect();
    if waiting.is_empty() {
        return Ok(0);
    }
    let ids: Vec<OfferId> = waiting.iter().map(|o| o.id).collect();
    let accepted: std::collections::HashSet<OfferId> = contract_acceptances::Entity::find()
        .filter(contract_acceptances::Column::OfferId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.offer_id)
        .collect();
    let reminded: std::collections::HashSet<OfferId> =
        crate::entities::contract_reminders::Entity::find()
            .filter(crate::entities::contract_reminders::Column::OfferId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.offer_id)
            .collect();
    let mut sent = 0;
    for o in waiting {
        if accepted.contains(&o.id) || reminded.contains(&o.id) {
            continue;
        }
        match remind_one(db, now, public_url, &o).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            // One organisation's trouble does not hold back the others.
            Err(e) => tracing::warn!(offer = %o.id, "the AVV offer reminder failed: {e}"),
        }
    }
    Ok(sent)
}

/// The reminder of one offer: claimed and queued in one transaction, or
/// not at all (another node was first, or the customer has no contact to
/// remind yet: then a later pass tries again).
async fn remind_one(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    public_url: &str,
    o: &OfferHead,
) -> AppResult<bool> {
    let org = organisations::Entity::find_by_id(o.org_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Die Organisation".into()))?;
    let txn = db.begin_write().await?;
    let claimed = crate::entities::contract_reminders::ActiveModel {
        offer_id: Set(o.id),
        org_id: Set(o.org_id),
        queued_at: Set(now),
    }
    .insert(&txn)
    .await;
    match claimed {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    }
    let mails = queue_mails(
        &txn,
        now,
        o.org_id,
        o.customer_id,
        &org.legal_name,
        Mailing::Reminder,
        public_url,
    )
    .await?;
    if mails == 0 {
        // Dropped: rolled back.
        return Ok(false);
    }
    txn.commit().await?;
    Ok(true)
}

/// The overview as CSV (for spreadsheets set to German; formulas defused).
pub fn csv(rows: &[ContractRow]) -> String {
    crate::http::csv(
        &[
            "Kunde",
            "Stand",
            "Angebot",
            "Angeboten am",
            "Vertragstext Fassung",
            "Anlage 1 Version",
            "Anlage 2 Version",
            "Abgeschlossen (Angebot)",
            "Angenommen am",
            "Angenommen von",
            "Funktion",
            "Fehlende Angaben",
        ],
        rows.iter().map(|r| {
            let n = r.newest.as_ref();
            let c = r.concluded.as_ref();
            vec![
                r.customer_name.clone(),
                r.standing.label().to_owned(),
                n.map(|o| o.number.to_string()).unwrap_or_default(),
                n.map(|o| o.offered_at.to_string()).unwrap_or_default(),
                n.map(|o| o.text_version.to_string()).unwrap_or_default(),
                n.map(|o| o.anlage1_version.to_string()).unwrap_or_default(),
                n.map(|o| o.anlage2_version.to_string()).unwrap_or_default(),
                c.map(|(o, _)| o.number.to_string()).unwrap_or_default(),
                c.map(|(_, a)| a.accepted_at.to_string())
                    .unwrap_or_default(),
                c.map(|(_, a)| a.typed_name.clone()).unwrap_or_default(),
                c.map(|(_, a)| a.function.clone()).unwrap_or_default(),
                r.missing.join(", "),
            ]
        }),
    )
}
