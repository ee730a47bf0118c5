//! Training overview at scale: `cargo bench -p server --bench training`.
//!
//! An organisation with 5,000 staff and 3 courses (the base course and two
//! more), a real SQLite database in a temporary directory: 90 % passed
//! course 1 (half of them an earlier version), 40 % course 2, 10 % failed
//! course 3, 80 % signed the pledge. Prints the median server time of the
//! overview (the service the page calls, the same through HTTP as the
//! browser's server function call, the page as the server renders it, and
//! the CSV of everyone) over several runs (target: under 200 ms), then the
//! daily reminder run for all of them (target: under 10 s).

mod common;

use std::sync::Arc;
use std::time::Instant;

use app::domain::Role;
use common::{median, ms};
use sea_orm::{ActiveValue::Set, EntityTrait};

const STAFF: usize = 5_000;
const RUNS: usize = 7;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    use app::entities::{
        memberships, pledge_signatures, training_attempts, training_completions, users,
    };
    let dir = tempfile::tempdir()?;
    let config = common::config(dir.path())?;
    let app =
        server::startup::Application::build_with_clock(&config, Arc::new(app::state::SystemClock))
            .await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let db = app.db.clone();
    tokio::spawn(app.run_until(std::future::pending()));

    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let system = app::audit::service::AuditActor::system("bench");
    let (org, reader) = common::org_with_dpo(&db, now).await?;

    let started = Instant::now();
    // Staff, in batches (a bulk insert, not 5,000 audited sign-ups).
    for chunk in (0..STAFF).collect::<Vec<_>>().chunks(500) {
        users::Entity::insert_many(chunk.iter().map(|i| users::ActiveModel {
            email: Set(format!("person{i:05}@gross.example")),
            display_name: Set(format!("Person {i:05}")),
            password_hash: Set(None),
            locked: Set(false),
            locale: Set("de".into()),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(&db)
        .await?;
    }
    let people: Vec<users::Model> = users::Entity::find().all(&db).await?;
    let staff: Vec<&users::Model> = people.iter().filter(|u| u.id != reader.user_id).collect();
    for chunk in staff.chunks(500) {
        memberships::Entity::insert_many(chunk.iter().map(|u| memberships::ActiveModel {
            org_id: Set(org.id),
            user_id: Set(u.id),
            role: Set(Role::Staff.as_str().into()),
            customer_id: Set(None),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(&db)
        .await?;
    }
    let save = |title: &'static str, source: String| {
        let db = db.clone();
        let system = system.clone();
        async move {
            app::training::service::save_course(
                &db, now, org.id, None, &system, None, title, &source, 80,
            )
            .await
        }
    };
    let c1 = save(
        app::training::BASE_COURSE_TITLE,
        app::training::BASE_COURSE.to_owned(),
    )
    .await?;
    let v1_old = app::entities::training_versions::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .find(|v| v.course_id == c1)
        .ok_or_else(|| anyhow::anyhow!("no version"))?;
    app::training::service::save_course(
        &db,
        now,
        org.id,
        None,
        &system,
        Some(c1),
        app::training::BASE_COURSE_TITLE,
        &format!(
            "{}\n? Zusatzfrage\n- [x] ja\n- [ ] nein\n",
            app::training::BASE_COURSE
        ),
        80,
    )
    .await?;
    let quiz = "\n---quiz---\n? Frage\n- [x] ja\n- [ ] nein\n";
    let c2 = save(
        "Informationssicherheit",
        format!("# Informationssicherheit\n\nInhalt.{quiz}"),
    )
    .await?;
    let c3 = save("Homeoffice", format!("# Homeoffice\n\nInhalt.{quiz}")).await?;
    let versions = app::entities::training_versions::Entity::find()
        .all(&db)
        .await?;
    let current = |course: app::ids::CourseId| {
        versions
            .iter()
            .filter(|v| v.course_id == course)
            .max_by_key(|v| v.version)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no version"))
    };
    let (v1, v2, v3) = (current(c1)?, current(c2)?, current(c3)?);
    let pledge = app::pledges::service::publish_as(
        &db,
        now,
        org.id,
        None,
        &system,
        app::pledges::service::DEFAULT_TITLE,
        &app::pledges::service::default_body("Groß GmbH"),
        &[],
    )
    .await?;

    // Attempts and completions, as many as a real year would leave behind.
    let mut plan: Vec<(
        app::ids::UserId,
        &app::entities::training_versions::Model,
        bool,
    )> = Vec::new();
    for (i, u) in staff.iter().enumerate() {
        if i % 10 != 0 {
            plan.push((u.id, if i % 2 == 0 { &v1 } else { &v1_old }, true));
        }
        if i % 5 < 2 {
            plan.push((u.id, &v2, true));
        }
        if i % 10 == 3 {
            plan.push((u.id, &v3, false));
        }
    }
    for chunk in plan.chunks(500) {
        training_attempts::Entity::insert_many(chunk.iter().map(|(user, v, passed)| {
            training_attempts::ActiveModel {
                org_id: Set(org.id),
                user_id: Set(*user),
                course_id: Set(v.course_id),
                version_id: Set(v.id),
                layout: Set("{}".into()),
                answers: Set("[]".into()),
                started_at: Set(now),
                updated_at: Set(now),
                finished_at: Set(Some(now)),
                score: Set(Some(if *passed { 14 } else { 3 })),
                max_score: Set(15),
                passed: Set(Some(*passed)),
                ..Default::default()
            }
        }))
        .exec(&db)
        .await?;
    }
    let attempts = training_attempts::Entity::find().all(&db).await?;
    // A real certificate, rendered once, stored with every completion.
    let pdf = app::annex::render::render_pdf(&app::annex::AnnexData {
        org_name: "Groß GmbH".into(),
        display_short: "Groß".into(),
        intro: vec!["Teilnahmebescheinigung".into()],
        sections: Vec::new(),
        stand: "01.12.2026".into(),
        version: Some(1),
        draft: false,
        audit_anchor: None,
    })?;
    let passed: Vec<&training_attempts::Model> =
        attempts.iter().filter(|a| a.passed == Some(true)).collect();
    for chunk in passed.chunks(200) {
        training_completions::Entity::insert_many(chunk.iter().map(|a| {
            let v = versions
                .iter()
                .find(|v| v.id == a.version_id)
                .cloned()
                .unwrap_or_else(|| v1.clone());
            training_completions::ActiveModel {
                org_id: Set(org.id),
                user_id: Set(a.user_id),
                course_id: Set(a.course_id),
                version_id: Set(v.id),
                version: Set(v.version),
                content_sha256: Set(v.sha256.clone()),
                attempt_id: Set(a.id),
                score: Set(14),
                max_score: Set(15),
                started_at: Set(now),
                finished_at: Set(now),
                certificate_pdf: Set(pdf.clone()),
                certificate_sha256: Set("0".repeat(64)),
                ..Default::default()
            }
        }))
        .exec(&db)
        .await?;
    }
    for chunk in staff
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 0)
        .map(|(_, u)| u)
        .collect::<Vec<_>>()
        .chunks(200)
    {
        pledge_signatures::Entity::insert_many(chunk.iter().map(|u| {
            pledge_signatures::ActiveModel {
                org_id: Set(org.id),
                user_id: Set(u.id),
                pledge_text_id: Set(pledge),
                version: Set(1),
                text_sha256: Set("0".repeat(64)),
                typed_name: Set(u.display_name.clone()),
                method: Set("password".into()),
                client_ip: Set(String::new()),
                user_agent: Set(String::new()),
                signed_at: Set(now),
                pdf: Set(Vec::new()),
                pdf_sha256: Set("0".repeat(64)),
                ..Default::default()
            }
        }))
        .exec(&db)
        .await?;
    }
    println!(
        "Training overview, {STAFF} staff × 3 courses + pledge, SQLite (set up in {:.1} s; {} attempts, {} completions)",
        started.elapsed().as_secs_f64(),
        attempts.len(),
        passed.len()
    );

    let first_page = app::training::OverviewQuery {
        page: Some(1),
        ..Default::default()
    };
    let mut service = Vec::new();
    let mut summary = String::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let o = app::training::service::overview(&db, &reader, now, &first_page).await?;
        service.push(t.elapsed());
        anyhow::ensure!(
            // Everyone who must train: the staff and the DPO.
            o.rows.len() == app::training::OVERVIEW_PAGE_SIZE && o.total == STAFF + 1,
            "a full first page of all staff: {} rows of {}",
            o.rows.len(),
            o.total
        );
        summary = o.summary;
    }
    println!("  {summary}");
    println!(
        "  overview (service, first page):  median {}",
        ms(median(service))
    );

    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let login = http
        .post(format!("{base}/api/auth/login"))
        .header("Accept", "application/json")
        .form(&[
            ("email", common::DPO_EMAIL),
            ("password", common::DPO_PASSWORD),
        ])
        .send()
        .await?;
    anyhow::ensure!(login.status().is_success(), "login: {}", login.status());
    // The server function the page calls, the whole page as the server
    // renders it (a filtered one), and the CSV of everyone.
    let targets = [
        (
            "overview (HTTP server function):",
            "POST",
            "/api/training/overview",
        ),
        (
            "overview page, rendered:        ",
            "GET",
            "/schulungen/uebersicht",
        ),
        (
            "overview page, filtered, p. 2:  ",
            "GET",
            "/schulungen/uebersicht?zeigen=offen&seite=2",
        ),
        (
            "CSV of all 5,000:               ",
            "GET",
            "/schulungen/uebersicht.csv",
        ),
    ];
    for (label, method, path) in targets {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let req = if method == "POST" {
                http.post(format!("{base}{path}"))
                    .header("Accept", "application/json")
            } else {
                http.get(format!("{base}{path}"))
            };
            let res = req.send().await?;
            anyhow::ensure!(res.status().is_success(), "{path}: {}", res.status());
            bytes = res.bytes().await?.len();
            times.push(t.elapsed());
        }
        println!(
            "  {label} median {} ({} KB)",
            ms(median(times)),
            bytes / 1024
        );
    }

    // The daily run: the DPO's digest and every staff reminder, queued in the outbox.
    let t = Instant::now();
    let digest = app::reminders::service::run_digest(&db, now, "bench", &base).await?;
    let reminders = app::training::service::send_reminders(&db, now, &base).await?;
    println!(
        "  daily reminder run:             {} ({} digest mails, {} training reminders queued)",
        ms(t.elapsed()),
        digest.mails,
        reminders
    );
    let t = Instant::now();
    let again = app::training::service::send_reminders(&db, now, &base).await?;
    println!(
        "  the same run again:             {} ({again} reminders: each goes out once)",
        ms(t.elapsed())
    );
    Ok(())
}
