//! Effectiveness reviews at scale: `cargo bench -p server --bench reviews`.
//!
//! An organisation with 1,000 implemented measures across the Art. 32
//! categories, 10 owners with 100 measures each, in a real SQLite database
//! in a temporary directory. Prints the time to open a cycle over all of
//! them (items, events, audit row and the owners' mails in one
//! transaction), the median server time of the dashboard (the review
//! figures and the attention lists, as the start page asks for them) and of
//! the cycle page, and the median time to render and sign the report with
//! every assessment approved.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::{median, ms};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

const MEASURES: usize = 1_000;
const OWNERS: usize = 10;
const RUNS: usize = 7;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    use app::entities::{measure_owners, measures, memberships, review_items, users};
    let dir = tempfile::tempdir()?;
    let config = common::config(dir.path())?;
    let app =
        server::startup::Application::build_with_clock(&config, Arc::new(app::state::SystemClock))
            .await?;
    let db = app.db.clone();
    let setup = server::secrets::signing_setup(&config)?;

    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let (org, actor) = common::org_with_dpo(&db, now).await?;

    // Owners and measures, in bulk.
    users::Entity::insert_many((0..OWNERS).map(|i| users::ActiveModel {
        email: Set(format!("owner{i}@gross.example")),
        display_name: Set(format!("Owner {i}")),
        password_hash: Set(None),
        locale: Set("de".into()),
        locked: Set(false),
        created_at: Set(now),
        ..Default::default()
    }))
    .exec(&db)
    .await?;
    let owners: Vec<app::ids::UserId> = users::Entity::find()
        .filter(users::Column::Email.like("owner%@gross.example"))
        .all(&db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    memberships::Entity::insert_many(owners.iter().map(|u| memberships::ActiveModel {
        org_id: Set(org.id),
        user_id: Set(*u),
        role: Set("owner".into()),
        created_at: Set(now),
        ..Default::default()
    }))
    .exec(&db)
    .await?;
    common::insert_measures(&db, org.id, MEASURES, now).await?;
    let ids: Vec<app::ids::MeasureId> = measures::Entity::find()
        .filter(measures::Column::OrgId.eq(org.id))
        .all(&db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    for chunk in ids.chunks(300) {
        measure_owners::Entity::insert_many(chunk.iter().enumerate().map(|(i, m)| {
            measure_owners::ActiveModel {
                measure_id: Set(*m),
                user_id: Set(owners[(m.0 as usize + i) % owners.len()]),
                org_id: Set(org.id),
            }
        }))
        .exec(&db)
        .await?;
    }
    println!("{MEASURES} measures, {OWNERS} owners (SQLite)");

    // Opening the cycle over all of them.
    let started = Instant::now();
    let cycle = app::reviews::service::open_cycle(
        &db,
        now,
        &actor,
        app::reviews::service::OpenInput {
            title: "Wirksamkeitsprüfung 2026".into(),
            due_date: (app::format::german_day(now) + chrono::Duration::days(30))
                .format("%Y-%m-%d")
                .to_string(),
            method: String::new(),
            measures: None,
        },
        "https://nachweis.example",
    )
    .await?;
    println!(
        "open a cycle over {MEASURES} measures: {}",
        ms(started.elapsed())
    );

    // Half of the assessments submitted, a quarter approved.
    let items = review_items::Entity::find()
        .filter(review_items::Column::CycleId.eq(cycle))
        .all(&db)
        .await?;
    let half: Vec<app::ids::ReviewItemId> = items.iter().take(MEASURES / 2).map(|i| i.id).collect();
    review_items::Entity::update_many()
        .col_expr(review_items::Column::State, Expr::value("submitted"))
        .col_expr(review_items::Column::Result, Expr::value("effective"))
        .col_expr(
            review_items::Column::Tested,
            Expr::value("Stichprobe geprüft."),
        )
        .col_expr(review_items::Column::Rationale, Expr::value("Ohne Befund."))
        .col_expr(review_items::Column::StateOfArt, Expr::value("yes"))
        .col_expr(review_items::Column::AssessedAt, Expr::value(now))
        .filter(review_items::Column::Id.is_in(half.clone()))
        .exec(&db)
        .await?;

    let mut dash = Vec::new();
    let mut page = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let d = app::reviews::service::dashboard(&db, &actor, now).await?;
        let a = app::reminders::service::attention(&db, org.id, None, now).await?;
        dash.push(t.elapsed());
        assert_eq!(d.cycle.as_ref().map(|c| c.submitted), Some(MEASURES / 2));
        assert_eq!(a.assessments_waiting.len(), MEASURES / 2);
        let t = Instant::now();
        let v = app::reviews::service::cycle_view(&db, &actor, cycle, now).await?;
        page.push(t.elapsed());
        assert_eq!(v.items.len(), MEASURES);
    }
    println!(
        "dashboard (review figures + attention lists), median of {RUNS}: {}",
        ms(median(dash))
    );
    println!("cycle page, median of {RUNS}: {}", ms(median(page)));

    // Everything approved: the report over all 1,000 assessments.
    review_items::Entity::update_many()
        .col_expr(review_items::Column::State, Expr::value("approved"))
        .col_expr(review_items::Column::Result, Expr::value("effective"))
        .col_expr(
            review_items::Column::Tested,
            Expr::value("Stichprobe geprüft."),
        )
        .col_expr(review_items::Column::Rationale, Expr::value("Ohne Befund."))
        .col_expr(review_items::Column::StateOfArt, Expr::value("yes"))
        .col_expr(review_items::Column::AssessedAt, Expr::value(now))
        .col_expr(review_items::Column::DecidedAt, Expr::value(now))
        .col_expr(review_items::Column::DecidedBy, Expr::value(actor.user_id))
        .filter(review_items::Column::CycleId.eq(cycle))
        .exec(&db)
        .await?;
    let row = app::entities::review_cycles::Entity::find_by_id(cycle)
        .one(&db)
        .await?
        .expect("cycle");
    let mut render = Vec::new();
    let mut size = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let pdf = app::reviews::service::report(&db, &setup, &row, now, None).await?;
        render.push(t.elapsed());
        size = pdf.len();
    }
    println!(
        "report over {MEASURES} assessments, render + sign, median of 3: {} ({} KiB)",
        ms(median(render)),
        size / 1024
    );
    Ok(())
}
