//! What every signed-in person sees first (aggregator): the frame of every
//! page with the navigation by role, and the start page that gathers what
//! needs the person's attention from the features.

mod layout;
mod login_page;
mod start_page;
pub use layout::Layout;
pub use login_page::LoginPage;
pub use start_page::HomePage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::reminders::AttentionPreview;
use crate::reviews::ReviewDashboard;
use crate::toms::MeasureSummary;
use crate::training::MyCourse;

/// Everything the start page shows besides the person's name, fetched in
/// one call: a page's data comes from one resource created by the page
/// itself, never from panels that each fetch their own (a panel built inside
/// a `Suspend` is built again on each of its re-runs, and so is its fetch).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartPanels {
    /// The current pledge text is still to be signed.
    pub pledge_due: bool,
    /// Courses not passed in their current version.
    pub open_trainings: Vec<MyCourse>,
    /// Admins, owners and auditors: the effectiveness review in figures.
    pub reviews: Option<ReviewDashboard>,
    /// Admins, owners and auditors: what needs attention, first entries only.
    pub attention: Option<AttentionPreview>,
    /// The measures the person is responsible for.
    pub mine: Vec<MeasureSummary>,
}

#[server(endpoint = "home/start")]
pub async fn get_start() -> Result<StartPanels, AppError> {
    use crate::domain::Role;
    let (state, actor) = crate::auth::require_signed_in().await?;
    if !actor.role.is_internal() {
        return Ok(StartPanels::default());
    }
    // One read transaction for the whole page (see `BeginRead`).
    use crate::entities::BeginRead;
    let txn = state.db.begin_read().await?;
    let db = &txn;
    // Read once, used by the dashboard, the attention lists and "Meine
    // Maßnahmen": the evidence files, the catalogue and the assessments.
    let files = crate::evidence::service::Files::load(db, actor.org_id).await?;
    let basis = crate::reviews::service::Basis::load(db, actor.org_id).await?;
    let last_reviews = basis.last_reviews();
    let pledge_due = crate::pledges::service::due(db, &actor).await?;
    // The person's courses and everyone's due trainings from one reading
    // of the courses and one of who passed or failed what (the person's
    // own attempts, and everyone's for those who see the organisation's
    // lists).
    let takes_part = actor.role.must_sign_pledge();
    let (courses, progress) = match takes_part || actor.role.reads_evidence() {
        true => (
            crate::training::service::Courses::load(db, actor.org_id).await?,
            crate::training::service::Progress::load(
                db,
                actor.org_id,
                actor.role.reads_evidence(),
                takes_part.then_some(actor.user_id),
            )
            .await?,
        ),
        false => Default::default(),
    };
    let my_courses = crate::training::service::my_courses(&actor, state.now(), &courses, &progress);
    // The review figures are read once and shown twice: in the dashboard
    // and in the attention lists (the organisation's admin view). Only an
    // owner's dashboard differs from that view: it counts their measures.
    let (reviews, attention) = if actor.role.reads_evidence() {
        let org_view = match actor.role {
            Role::Admin => actor.clone(),
            _ => crate::reminders::service::reader(actor.org_id, None),
        };
        let read = crate::reviews::service::ReviewRead::load(db, actor.org_id, &basis).await?;
        let org_state = read.state(&org_view, None, state.now(), &basis);
        let dashboard = match actor.role {
            Role::Owner => read
                .state(&actor, Some(actor.user_id), state.now(), &basis)
                .dashboard(actor.role, state.now()),
            _ => org_state.dashboard(actor.role, state.now()),
        };
        let attention = crate::reminders::service::attention_with(
            db,
            actor.org_id,
            None,
            state.now(),
            org_state,
            crate::reminders::service::Read {
                files: &files,
                catalogue: &basis.catalogue,
                courses: &courses,
                progress: &progress,
                // Customers' contracts are for those who read them (not owners).
                contracts: actor.role.reads_contracts(),
            },
        )
        .await?;
        let attention = attention.preview(crate::reminders::PREVIEW);
        (Some(dashboard), Some(attention))
    } else {
        (None, None)
    };
    let mine = {
        let standings =
            crate::measure::standings::Standings::of_read(&files, &last_reviews, state.now());
        basis
            .catalogue
            .owned_summaries(actor.user_id, &|m| standings.of(m))
    };
    txn.commit().await?;
    Ok(StartPanels {
        pledge_due,
        open_trainings: my_courses
            .into_iter()
            .filter(|c| c.state != crate::training::CourseState::Passed)
            .collect(),
        reviews,
        attention,
        mine,
    })
}
