//! Set-up shared by the training and review benches: a configuration on a
//! temporary SQLite data directory, the "Groß GmbH" organisation with its
//! DPO, and the figures' arithmetic. (Not every bench uses every part.)
#![allow(dead_code)]

use std::time::Duration;

use app::domain::Role;

pub const DPO_EMAIL: &str = "dpo@gross.example";
pub const DPO_PASSWORD: &str = "bench-password-2026";

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The defaults on `dir`, any free port, nothing from the environment.
/// The server's own worker is held off for a day: benches time the daily
/// run themselves (it would start 15 s after start on a slow build).
pub fn config(dir: &std::path::Path) -> anyhow::Result<server::config::Config> {
    struct NoEnv;
    impl server::config::Env for NoEnv {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
    }
    let mut config = server::config::Config::load(
        &server::config::Overrides {
            data_dir: Some(dir.to_path_buf()),
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        },
        &NoEnv,
    )?;
    config.worker_interval_secs = 24 * 3600;
    Ok(config)
}

/// The organisation "Groß GmbH" (`gross`) and its DPO, who signs in with
/// [`DPO_EMAIL`] and [`DPO_PASSWORD`].
pub async fn org_with_dpo(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(
    app::entities::organisations::Model,
    app::auth::service::Actor,
)> {
    let system = app::audit::service::AuditActor::system("bench");
    let org = app::orgs::service::create_org(
        db,
        now,
        &system,
        &app::domain::ShortName::parse("gross")?,
        "Groß GmbH",
    )
    .await?;
    let admin = app::auth::service::create_user(
        db,
        now,
        &system,
        &app::domain::EmailAddress::parse(DPO_EMAIL)?,
        "DPO",
        Some(DPO_PASSWORD),
    )
    .await?;
    app::orgs::service::add_membership(db, now, &system, org.id, admin.id, Role::Admin).await?;
    let dpo = app::auth::service::Actor {
        user_id: admin.id,
        org_id: org.id,
        role: Role::Admin,
        display_name: "DPO".into(),
        email: DPO_EMAIL.into(),
        single_org: false,
        customer_id: None,
        joined: None,
    };
    Ok((org, dpo))
}

/// `n` measures of the organisation, spread over its categories, inserted
/// in bulk (not `n` audited requests).
pub async fn insert_measures(
    db: &sea_orm::DatabaseConnection,
    org_id: app::ids::OrgId,
    n: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use app::entities::{categories, measures};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
    let cats: Vec<app::ids::CategoryId> = categories::Entity::find()
        .filter(categories::Column::OrgId.eq(org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        measures::Entity::insert_many(chunk.iter().map(|i| measures::ActiveModel {
            org_id: Set(org_id),
            category_id: Set(cats[i % cats.len()]),
            title: Set(String::new()),
            body: Set(format!(
                "Maßnahme {i}: Der Zugriff auf System {i} erfolgt nur über personalisierte Konten mit Zwei-Faktor-Anmeldung; Berechtigungen werden halbjährlich überprüft."
            )),
            status: Set(app::domain::MeasureStatus::Implemented),
            position: Set(*i as i32),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmHWM`, …).
pub fn proc_status_kb(field: &str) -> Option<u64> {
    pid_status_kb("self", field)
}

/// A field of `/proc/<pid>/status` in kB (`pid` may be `self`).
#[allow(dead_code)]
pub fn pid_status_kb(pid: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
}
