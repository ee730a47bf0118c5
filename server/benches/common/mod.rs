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
    };
    Ok((org, dpo))
}
