//! Privacy training: courses in Markdown with a quiz, versions (a changed
//! course is a new version; completions keep the version they passed),
//! attempts that can be paused and resumed, completion records with a
//! certificate PDF, and the DPO's overview of staff × courses and pledges.

mod page;
pub mod quiz;
pub use page::{AttemptPage, OpenTrainings, TrainingAdminPage, TrainingOverviewPage, TrainingPage};

use crate::ids::{AttemptId, CompletionId, CourseId, CourseVersionId, EvidenceId, UserId};
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::format::LocalTime;
use crate::pledges::{Block, PledgeState};

/// Training's plain routes (forms without JavaScript, certificate, images, CSV).
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;

/// The base course every organisation can take over.
pub const BASE_COURSE_TITLE: &str = "Datenschutz-Grundschulung";
pub const BASE_COURSE: &str = include_str!("grundschulung.md");
/// Pass mark of new courses, in percent.
pub const DEFAULT_PASS_PERCENT: i32 = 80;

crate::domain::codes! {
    /// Where a member stands in a course, as `/schulungen` shows it.
    pub enum CourseState in "state" {
        Open = "open", "offen";
        /// An attempt is under way.
        InProgress = "in_progress", "begonnen";
        /// Passed the current version.
        Passed = "passed", "bestanden";
        /// Passed an earlier version only.
        Outdated = "outdated", "neue Version – erneut teilnehmen";
        /// The last attempt failed.
        Failed = "failed", "nicht bestanden";
    }
}

crate::domain::codes! {
    /// A person's standing in one course, as the DPO's overview shows it.
    pub enum CellState in "state" {
        /// Holds a valid pass of the current version, not due soon.
        Done = "done", "geschult";
        /// Due now or soon (new, a new version, or a repeat coming up).
        Due = "due", "fällig";
        /// The date has passed.
        Overdue = "overdue", "überfällig";
        /// Failed since it became due, not yet overdue.
        Failed = "failed", "nicht bestanden";
    }
}

/// A course as the member sees it on `/schulungen`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyCourse {
    pub course_id: CourseId,
    pub title: String,
    pub version: i32,
    pub state: CourseState,
    pub attempt_id: Option<AttemptId>,
    /// The day of the newest pass, with its certificate.
    pub passed_at: Option<NaiveDate>,
    pub completion_id: Option<CompletionId>,
    /// When it is due for this person (the overview's rule); `None` while
    /// passed and not due again soon.
    pub due: Option<NaiveDate>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateView {
    pub id: CompletionId,
    pub title: String,
    pub version: i32,
    pub finished_at: LocalTime,
    pub score: i32,
    pub max_score: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyTraining {
    /// Whether the person's role takes the organisation's trainings
    /// (auditors do not).
    pub takes_part: bool,
    pub courses: Vec<MyCourse>,
    pub certificates: Vec<CertificateView>,
}

/// One question as an attempt shows it, options in the attempt's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionView {
    /// Original index: the form field is `q<index>`.
    pub index: usize,
    pub text: String,
    pub multiple: bool,
    /// (original option index, text)
    pub options: Vec<(usize, String)>,
    /// Original option indexes chosen so far.
    pub chosen: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub id: AttemptId,
    pub course_id: CourseId,
    pub title: String,
    pub version: i32,
    pub version_id: CourseVersionId,
    pub pass_percent: i32,
    pub content: Vec<Block>,
    pub questions: Vec<QuestionView>,
    pub finished: bool,
    pub score: Option<i32>,
    pub max_score: i32,
    pub passed: Option<bool>,
    pub completion_id: Option<CompletionId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseAdminView {
    pub id: CourseId,
    pub interval_months: i32,
    pub new_staff_days: i32,
    pub retry_days: i32,
    pub title: String,
    pub version: i32,
    pub pass_percent: i32,
    pub sha256: String,
    pub questions: usize,
    pub source: String,
    pub created_at: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseList {
    pub courses: Vec<CourseAdminView>,
    /// The base course has not been taken over yet.
    pub base_missing: bool,
    /// Image evidence a course can show: (evidence id, title).
    pub images: Vec<(EvidenceId, String)>,
    pub can_edit: bool,
}

/// One cell of the overview: a person's state in one course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub state: CellState,
    pub version: Option<i32>,
    /// The day of the newest pass.
    pub date: Option<NaiveDate>,
    pub completion_id: Option<CompletionId>,
    /// When it is (or was) due; none while done and not due soon.
    pub due: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewRow {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub role: String,
    pub cells: Vec<Cell>,
    pub pledge: PledgeState,
}

/// Which people the overview lists: the filter of its GET form (`zeigen`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Show {
    #[default]
    All,
    /// With an open training or a missing pledge (`offen`).
    Open,
    /// With a failed training (`nicht-bestanden`).
    Failed,
    /// With an overdue training (`ueberfaellig`).
    Overdue,
}

impl Show {
    /// From the query string's value; anything unknown lists everyone.
    pub fn parse(s: &str) -> Self {
        match s {
            "offen" => Self::Open,
            "nicht-bestanden" => Self::Failed,
            "ueberfaellig" => Self::Overdue,
            _ => Self::All,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "",
            Self::Open => "offen",
            Self::Failed => "nicht-bestanden",
            Self::Overdue => "ueberfaellig",
        }
    }

    pub fn matches(self, row: &OverviewRow) -> bool {
        match self {
            Self::All => true,
            Self::Open => {
                row.pledge != PledgeState::Signed
                    || row.cells.iter().any(|c| c.state != CellState::Done)
            }
            Self::Failed => row.cells.iter().any(|c| c.state == CellState::Failed),
            Self::Overdue => row.cells.iter().any(|c| c.state == CellState::Overdue),
        }
    }
}

/// What the overview lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverviewQuery {
    pub show: Show,
    /// Part of a name or an e-mail address, any case.
    pub search: String,
    /// The page, from 1; `None` lists every matching person (CSV, CLI).
    pub page: Option<usize>,
}

/// People per page of the overview.
pub const OVERVIEW_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingOverview {
    /// (course id, title, current version)
    pub courses: Vec<(CourseId, String, i32)>,
    /// The people on this page (all of them where no page was asked for).
    pub rows: Vec<OverviewRow>,
    /// How many people match the filter and the search.
    pub matching: usize,
    /// This page (from 1) and the number of pages.
    pub page: usize,
    pub pages: usize,
    pub trained: usize,
    pub total: usize,
    /// The reader may manage the courses (admins; auditors only read).
    pub can_manage: bool,
    /// The sentence the annex can state.
    pub summary: String,
    pub pledge_summary: String,
}

/// The signed-in member's courses and certificates.
#[server(endpoint = "training/mine")]
pub async fn get_my_training() -> Result<MyTraining, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::mine(&state.db, &actor, state.now()).await
}

/// Starts a course, or resumes the unfinished attempt; returns the attempt
/// id, and leads a form's browser straight to the attempt.
#[server(endpoint = "training/start")]
pub async fn start_course(course_id: CourseId) -> Result<AttemptId, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let id = service::start(&state.db, state.now(), &actor, course_id).await?;
    leptos_axum::redirect(&format!("/schulungen/durchgang/{id}"));
    Ok(id)
}

/// One of the member's own attempts.
#[server(endpoint = "training/attempt")]
pub async fn get_attempt(id: AttemptId) -> Result<AttemptView, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::attempt(&state.db, &actor, id).await
}

/// The organisation's courses (admins and auditors).
#[server(endpoint = "training/courses")]
pub async fn list_courses() -> Result<CourseList, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    service::courses(&state.db, &actor).await
}

/// A new course (admins): [`save_course`] with an endpoint of its own, so
/// that a refused form without JavaScript comes back to the new course's
/// form only, not to every course's.
#[server(endpoint = "training/courses/create")]
pub async fn create_course(
    title: String,
    source: String,
    #[server(default)] pass_percent: String,
) -> Result<CourseId, AppError> {
    save_course(CourseId::default(), title, source, pass_percent).await
}

/// A new course (`course_id` = 0) or a new version of one (admins).
#[server(endpoint = "training/courses/save")]
pub async fn save_course(
    #[server(default)] course_id: CourseId,
    title: String,
    source: String,
    #[server(default)] pass_percent: String,
) -> Result<CourseId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    let pass_percent = match pass_percent.trim() {
        "" => DEFAULT_PASS_PERCENT,
        p => p
            .parse::<i32>()
            .ok()
            .filter(|p| (1..=100).contains(p))
            .ok_or_else(|| {
                AppError::invalid(
                    "pass_percent",
                    "Die Bestehensgrenze ist eine Zahl von 1 bis 100.",
                )
            })?,
    };
    service::save_course(
        &state.db,
        state.now(),
        actor.org_id,
        Some(actor.user_id),
        &actor.audit(),
        (course_id != CourseId::default()).then_some(course_id),
        &title,
        &source,
        pass_percent,
    )
    .await
}

/// The assignment rules of a course (admins): repeat every
/// `interval_months`, new staff within `new_staff_days` of joining, again
/// within `retry_days` after failing.
#[server(endpoint = "training/courses/rules")]
pub async fn save_rules(
    course_id: CourseId,
    interval_months: i32,
    new_staff_days: i32,
    retry_days: i32,
) -> Result<(), AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::save_rules(
        &state.db,
        state.now(),
        &actor,
        course_id,
        interval_months,
        new_staff_days,
        retry_days,
    )
    .await
}

/// Takes over the base course "Datenschutz-Grundschulung" (admins).
#[server(endpoint = "training/courses/base")]
pub async fn add_base_course() -> Result<CourseId, AppError> {
    let (state, actor) = crate::auth::require_admin().await?;
    service::save_course(
        &state.db,
        state.now(),
        actor.org_id,
        Some(actor.user_id),
        &actor.audit(),
        None,
        BASE_COURSE_TITLE,
        BASE_COURSE,
        DEFAULT_PASS_PERCENT,
    )
    .await
}

/// Staff × courses and pledges (admins and auditors), one page of it:
/// `show` and `search` (name or e-mail address) narrow it down on the
/// server, `page` counts from 1.
#[server(endpoint = "training/overview")]
pub async fn get_training_overview(
    #[server(default)] show: String,
    #[server(default)] search: String,
    #[server(default)] page: usize,
) -> Result<TrainingOverview, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let query = OverviewQuery {
        show: Show::parse(&show),
        search,
        page: Some(page.max(1)),
    };
    service::overview(&state.db, &actor, state.now(), &query).await
}
