//! The soak: `SOAK_CONNECTIONS` clients for `NACHWEIS_SOAK_SECONDS`
//! (default 60) mixing page reads with writes (measure edits, catalogue
//! reorders, evidence uploads, pledge signatures and annex publications) on
//! Groß GmbH. Then it checks that nothing was lost: every acknowledged
//! write is in the database, the audit chain verifies, and no answer was an
//! error other than the expected 409 conflicts of concurrent edits.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app::domain::Role;
use app::entities::{evidence_versions, measure_revisions, measures, pledge_signatures};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::sync::Mutex;

pub const SOAK_CONNECTIONS: usize = 200;
const SIGNERS: usize = 40;
const SIGNER_PASSWORD: &str = "soak-password-2026";

fn seconds() -> u64 {
    std::env::var("NACHWEIS_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

/// What the server acknowledged, to be found afterwards.
#[derive(Default)]
struct Acknowledged {
    /// (measure, version after the edit, marker in its text)
    edits: Vec<(app::ids::MeasureId, i32, String)>,
    moves: usize,
    uploads: Vec<app::ids::EvidenceVersionId>,
    signatures: Vec<app::ids::SignatureId>,
    publications: Vec<i32>,
}

#[derive(Default)]
struct Tally {
    requests: AtomicUsize,
    conflicts: AtomicUsize,
    errors: Mutex<HashMap<String, usize>>,
}

impl Tally {
    async fn error(&self, what: &str, status: reqwest::StatusCode, body: &str) {
        let key = format!(
            "{what} {status}: {}",
            body.chars().take(120).collect::<String>()
        );
        *self.errors.lock().await.entry(key).or_default() += 1;
    }
}

/// Staff who sign the pledge during the soak, and the pledge text.
pub async fn prepare(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let system = app::audit::service::AuditActor::system("bench");
    let org = app::entities::organisations::Entity::find()
        .filter(app::entities::organisations::Column::ShortName.eq("gross"))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no Groß GmbH"))?;
    for i in 0..SIGNERS {
        let user = app::auth::service::create_user(
            db,
            now,
            &system,
            &app::domain::EmailAddress::parse(&format!("signer{i}@gross.example"))?,
            &format!("Signer {i}"),
            Some(SIGNER_PASSWORD),
        )
        .await?;
        app::orgs::service::add_membership(db, now, &system, org.id, user.id, Role::Staff).await?;
    }
    app::pledges::service::publish_as(
        db,
        now,
        org.id,
        None,
        &system,
        app::pledges::service::DEFAULT_TITLE,
        &app::pledges::service::default_body(&org.legal_name),
        &[],
    )
    .await?;
    Ok(())
}

struct Ctx {
    base: String,
    http: reqwest::Client,
    dpo: String,
    customer: String,
    /// Measures edited and given evidence: one category's, a few of them hot.
    measures: Vec<app::ids::MeasureId>,
    /// Measures reordered: the other categories'. A move changes the version
    /// of both measures it swaps, so reorders in the edited category would
    /// turn nearly every edit into a conflict and prove nothing about edits.
    movable: Vec<app::ids::MeasureId>,
    signers: Mutex<Vec<(String, String)>>,
    ack: Mutex<Acknowledged>,
    tally: Tally,
    next: AtomicUsize,
}

impl Ctx {
    fn cookie(h: &str) -> &str {
        h.strip_prefix("Cookie: ").unwrap_or(h)
    }

    async fn call(
        &self,
        who: &str,
        endpoint: &str,
        form: &[(&str, String)],
    ) -> anyhow::Result<(reqwest::StatusCode, String)> {
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "application/json")
            .header("Cookie", Self::cookie(who))
            .form(form)
            .send()
            .await?;
        Ok((res.status(), res.text().await?))
    }

    async fn get(&self, who: &str, path: &str) -> anyhow::Result<(reqwest::StatusCode, String)> {
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Accept", "text/html")
            .header("Cookie", Self::cookie(who))
            .send()
            .await?;
        Ok((res.status(), res.text().await?))
    }

    fn measure(&self) -> app::ids::MeasureId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // A few hot measures, so that edits really collide.
        self.measures[(n * 7) % self.measures.len().min(10)]
    }

    fn movable(&self) -> app::ids::MeasureId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.movable[(n * 7) % self.movable.len().min(20)]
    }

    async fn read(&self, i: usize) -> anyhow::Result<()> {
        let (who, path) = if i.is_multiple_of(2) {
            (&self.dpo, "/massnahmen")
        } else {
            (&self.customer, "/portal")
        };
        let (status, body) = self.get(who, path).await?;
        if status != reqwest::StatusCode::OK {
            self.tally.error(path, status, &body).await;
        }
        Ok(())
    }

    async fn edit(&self, n: usize) -> anyhow::Result<()> {
        let id = self.measure();
        let (status, body) = self
            .call(&self.dpo, "toms/measure", &[("id", id.to_string())])
            .await?;
        if status != reqwest::StatusCode::OK {
            self.tally.error("toms/measure", status, &body).await;
            return Ok(());
        }
        let m: app::toms::MeasureDetail = serde_json::from_str(&body)?;
        let marker = format!("[soak-edit-{n}]");
        let text = format!("Maßnahme im Dauertest, Fassung {marker}.");
        let (status, body) = self
            .call(
                &self.dpo,
                "toms/measure/update",
                &[
                    ("id", id.to_string()),
                    ("version", m.version.to_string()),
                    ("category_id", m.category_id.to_string()),
                    ("title", m.title.clone()),
                    ("body", text),
                    ("status", m.status.as_str().to_owned()),
                ],
            )
            .await?;
        match status {
            reqwest::StatusCode::OK => {
                self.ack
                    .lock()
                    .await
                    .edits
                    .push((id, m.version + 1, marker));
            }
            reqwest::StatusCode::CONFLICT => {
                self.tally.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            _ => self.tally.error("toms/measure/update", status, &body).await,
        }
        Ok(())
    }

    async fn reorder(&self, n: usize) -> anyhow::Result<()> {
        let id = self.movable();
        let direction = if n.is_multiple_of(2) { "up" } else { "down" };
        let (status, body) = self
            .call(
                &self.dpo,
                "toms/measure/move",
                &[("id", id.to_string()), ("direction", direction.into())],
            )
            .await?;
        match status {
            reqwest::StatusCode::OK => self.ack.lock().await.moves += 1,
            reqwest::StatusCode::CONFLICT => {
                self.tally.conflicts.fetch_add(1, Ordering::Relaxed);
            }
            // The first or last of its category cannot move further.
            reqwest::StatusCode::UNPROCESSABLE_ENTITY => {}
            _ => self.tally.error("toms/measure/move", status, &body).await,
        }
        Ok(())
    }

    async fn upload(&self, n: usize) -> anyhow::Result<()> {
        let id = self.measure();
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
        pdf.extend_from_slice(format!("% soak upload {n}\n").as_bytes());
        pdf.extend(std::iter::repeat_n(b'x', 64 * 1024));
        pdf.extend_from_slice(b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
        let form = reqwest::multipart::Form::new()
            .text("measure_id", id.to_string())
            .text("title", format!("Dauertest {n}"))
            .text("valid_until", "2099-12-31")
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf).file_name("bericht.pdf"),
            );
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let res = self
            .http
            .post(format!("{}/nachweise/hochladen", self.base))
            .header("Accept", "application/json")
            .header("Cookie", Self::cookie(&self.dpo))
            .multipart(form)
            .send()
            .await?;
        let status = res.status();
        let body = res.text().await?;
        if status.is_success() {
            let r: app::evidence::UploadResult = serde_json::from_str(&body)?;
            self.ack.lock().await.uploads.push(r.version_id);
        } else {
            self.tally.error("upload", status, &body).await;
        }
        Ok(())
    }

    async fn sign(&self) -> anyhow::Result<bool> {
        let Some((cookie, name)) = self.signers.lock().await.pop() else {
            return Ok(false);
        };
        let (status, body) = self.call(&cookie, "pledges/mine", &[]).await?;
        if status != reqwest::StatusCode::OK {
            self.tally.error("pledges/mine", status, &body).await;
            return Ok(true);
        }
        let mine: app::pledges::MyPledge = serde_json::from_str(&body)?;
        let text = mine
            .current
            .ok_or_else(|| anyhow::anyhow!("no pledge text"))?;
        let (status, body) = self
            .call(
                &cookie,
                "pledges/sign",
                &[
                    ("text_id", text.id.to_string()),
                    ("text_sha256", text.sha256),
                    ("typed_name", name),
                    ("password", SIGNER_PASSWORD.into()),
                    ("confirm", "on".into()),
                ],
            )
            .await?;
        if status == reqwest::StatusCode::OK {
            let id: app::ids::SignatureId = serde_json::from_str(&body)?;
            self.ack.lock().await.signatures.push(id);
        } else {
            self.tally.error("pledges/sign", status, &body).await;
        }
        Ok(true)
    }

    async fn publish(&self) -> anyhow::Result<()> {
        let (status, body) = self.call(&self.dpo, "annex/publish", &[]).await?;
        if status == reqwest::StatusCode::OK {
            let info: app::annex::PublicationInfo = serde_json::from_str(&body)?;
            self.ack.lock().await.publications.push(info.version);
        } else {
            self.tally.error("annex/publish", status, &body).await;
        }
        Ok(())
    }
}

/// Runs the soak against the server at `base` and checks the outcome.
pub async fn run(
    label: &str,
    base: &str,
    db: &sea_orm::DatabaseConnection,
    dpo: String,
    customer: String,
) -> anyhow::Result<()> {
    let all = measures::Entity::find()
        .filter(measures::Column::Body.like("Maßnahme %: Der Zugriff%"))
        .all(db)
        .await?;
    let edited = all
        .iter()
        .map(|m| m.category_id)
        .min()
        .ok_or_else(|| anyhow::anyhow!("no measures"))?;
    let (measures, movable): (Vec<_>, Vec<_>) = all.iter().partition(|m| m.category_id == edited);
    let measures: Vec<_> = measures.iter().map(|m| m.id).collect();
    let movable: Vec<_> = movable.iter().map(|m| m.id).collect();
    anyhow::ensure!(
        measures.len() >= 10 && movable.len() >= 20,
        "too few measures"
    );
    let mut signers = Vec::new();
    for i in 0..SIGNERS {
        let cookie =
            super::session(base, &format!("signer{i}@gross.example"), SIGNER_PASSWORD).await?;
        signers.push((cookie, format!("Signer {i}")));
    }
    let ctx = Arc::new(Ctx {
        base: base.to_owned(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(SOAK_CONNECTIONS)
            .build()?,
        dpo,
        customer,
        measures,
        movable,
        signers: Mutex::new(signers),
        ack: Mutex::default(),
        tally: Tally::default(),
        next: AtomicUsize::new(0),
    });
    let secs = seconds();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..SOAK_CONNECTIONS {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = i;
            let mut published = Instant::now();
            while Instant::now() < deadline {
                n += SOAK_CONNECTIONS;
                let step = match i % 10 {
                    0..=4 => ctx.read(n).await,
                    5 | 6 => ctx.edit(n).await,
                    7 => ctx.reorder(n).await,
                    8 => ctx.upload(n).await,
                    _ if i == 9 && published.elapsed() > Duration::from_secs(10) => {
                        published = Instant::now();
                        ctx.publish().await
                    }
                    _ => match ctx.sign().await {
                        Ok(true) => Ok(()),
                        Ok(false) => ctx.read(n).await,
                        Err(e) => Err(e),
                    },
                };
                if let Err(e) = step {
                    ctx.tally
                        .error(
                            "transport",
                            reqwest::StatusCode::IM_A_TEAPOT,
                            &e.to_string(),
                        )
                        .await;
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ack = ctx.ack.lock().await;
    let errors = ctx.tally.errors.lock().await;
    let requests = ctx.tally.requests.load(Ordering::Relaxed);

    // Everything acknowledged is there.
    let mut missing = Vec::new();
    for (id, version, marker) in &ack.edits {
        let found = measure_revisions::Entity::find()
            .filter(measure_revisions::Column::MeasureId.eq(*id))
            .filter(measure_revisions::Column::Version.eq(*version))
            .filter(measure_revisions::Column::Snapshot.contains(marker))
            .count(db)
            .await?;
        if found != 1 {
            missing.push(format!("edit {marker} of measure {id} (version {version})"));
        }
    }
    for id in &ack.uploads {
        if evidence_versions::Entity::find_by_id(*id)
            .one(db)
            .await?
            .is_none()
        {
            missing.push(format!("evidence version {id}"));
        }
    }
    for id in &ack.signatures {
        if pledge_signatures::Entity::find_by_id(*id)
            .one(db)
            .await?
            .is_none()
        {
            missing.push(format!("signature {id}"));
        }
    }
    for version in &ack.publications {
        let found = app::entities::publications::Entity::find()
            .filter(app::entities::publications::Column::Version.eq(*version))
            .count(db)
            .await?;
        if found == 0 {
            missing.push(format!("annex version {version}"));
        }
    }
    let verified = app::audit::service::verify(db).await?;

    println!(
        "{label} soak: {SOAK_CONNECTIONS} clients, {secs} s: {requests} requests ({:.0}/s); acknowledged {} edits, {} reorders, {} uploads, {} signatures, {} publications; {} conflicts (409)",
        requests as f64 / elapsed,
        ack.edits.len(),
        ack.moves,
        ack.uploads.len(),
        ack.signatures.len(),
        ack.publications.len(),
        ctx.tally.conflicts.load(Ordering::Relaxed),
    );
    let error_count: usize = errors.values().sum();
    println!(
        "{label} soak: {error_count} other errors; {} acknowledged writes missing; audit chain {verified:?}",
        missing.len()
    );
    for (e, n) in errors.iter() {
        println!("  {n} × {e}");
    }
    for m in missing.iter().take(10) {
        println!("  missing: {m}");
    }
    anyhow::ensure!(
        error_count == 0 && missing.is_empty(),
        "{label} soak lost or refused writes"
    );
    anyhow::ensure!(
        matches!(verified, app::audit::service::Verification::Intact { .. }),
        "{label} soak: the audit chain does not verify"
    );
    Ok(())
}
