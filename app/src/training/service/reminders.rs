//! Reminders: mails to people whose training is due or overdue.

use super::*;
use crate::entities::BeginWrite;
use crate::ids::{CourseId, CourseVersionId, UserId};

/// Reminders written per transaction: one commit per mail would make the
/// first run of a large organisation a few thousand disk syncs.
pub(super) const REMINDER_BATCH: usize = 200;

/// Mails each person their due and overdue trainings: one reminder per
/// course version, kind and due date, ever (a unique row written with the
/// mail in one transaction), so restarts and several nodes send nothing
/// twice. What was sent before is read once and skipped; a row another
/// node wrote meanwhile is not inserted (`ON CONFLICT DO NOTHING`) and its
/// mail not queued.
pub async fn send_reminders(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    public_url: &str,
) -> AppResult<u32> {
    use crate::entities::{memberships, training_reminders, users};
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{OnConflict, Query};
    use std::collections::HashSet;
    use training_reminders::Column as R;
    let mut sent = 0;
    for org in organisations::Entity::find().all(db).await? {
        let due = due_trainings(db, org.id, now).await?;
        if due.is_empty() {
            continue;
        }
        let done: HashSet<(UserId, CourseId, CourseVersionId, String, NaiveDate)> =
            training_reminders::Entity::find()
                .select_only()
                .columns([R::UserId, R::CourseId, R::VersionId, R::Kind, R::DueDate])
                .filter(R::OrgId.eq(org.id))
                .into_tuple()
                .all(db)
                .await?
                .into_iter()
                .collect();
        let kind = |d: &DueTraining| if d.overdue { "overdue" } else { "due" };
        let open: Vec<DueTraining> = due
            .into_iter()
            .filter(|d| {
                !done.contains(&(
                    d.user_id,
                    d.course_id,
                    d.version_id,
                    kind(d).to_owned(),
                    d.due,
                ))
            })
            .collect();
        if open.is_empty() {
            continue;
        }
        let locales: HashMap<UserId, String> = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::Locale])
            .filter(
                users::Column::Id.in_subquery(
                    Query::select()
                        .column(memberships::Column::UserId)
                        .from(memberships::Entity)
                        .and_where(memberships::Column::OrgId.eq(org.id))
                        .to_owned(),
                ),
            )
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for batch in open.chunks(REMINDER_BATCH) {
            let txn = db.begin_write().await?;
            for d in batch {
                let claimed = training_reminders::Entity::insert(training_reminders::ActiveModel {
                    org_id: Set(org.id),
                    user_id: Set(d.user_id),
                    course_id: Set(d.course_id),
                    version_id: Set(d.version_id),
                    kind: Set(kind(d).to_owned()),
                    due_date: Set(d.due),
                    sent_at: Set(now),
                    ..Default::default()
                })
                .on_conflict(
                    OnConflict::columns([
                        R::UserId,
                        R::CourseId,
                        R::VersionId,
                        R::Kind,
                        R::DueDate,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
                if claimed == 0 {
                    continue;
                }
                let locale = locales
                    .get(&d.user_id)
                    .map(|l| crate::mail::Locale::parse_lenient(l))
                    .unwrap_or_default();
                let mail = reminder_mail(locale, &org.legal_name, d, public_url);
                crate::mail::service::enqueue(
                    &txn,
                    now,
                    Some(org.id),
                    "training_reminder",
                    &d.email,
                    &mail,
                )
                .await?;
                sent += 1;
            }
            txn.commit().await?;
        }
    }
    Ok(sent)
}

pub(super) fn reminder_mail(
    locale: crate::mail::Locale,
    org_name: &str,
    d: &DueTraining,
    public_url: &str,
) -> crate::mail::Mail {
    let due = d.due.format("%d.%m.%Y").to_string();
    let link = format!("{public_url}/schulungen");
    let (subject, body) = match (locale, d.overdue) {
        (crate::mail::Locale::De, false) => (
            format!("Schulung „{}“ bis {due}", d.title),
            format!(
                "Guten Tag {},\n\nbitte schließen Sie die Schulung „{}“ bei {org_name} bis zum {due} ab. Sie dauert etwa 20 Minuten und kann unterbrochen werden.",
                d.name, d.title
            ),
        ),
        (crate::mail::Locale::De, true) => (
            format!("Überfällig: Schulung „{}“", d.title),
            format!(
                "Guten Tag {},\n\ndie Schulung „{}“ bei {org_name} war bis zum {due} fällig und ist noch nicht abgeschlossen. Bitte holen Sie sie bald nach.",
                d.name, d.title
            ),
        ),
        (crate::mail::Locale::En, false) => (
            format!("Training \"{}\" due by {due}", d.title),
            format!(
                "Hello {},\n\nplease complete the training \"{}\" at {org_name} by {due}. It takes about 20 minutes and can be paused.",
                d.name, d.title
            ),
        ),
        (crate::mail::Locale::En, true) => (
            format!("Overdue: training \"{}\"", d.title),
            format!(
                "Hello {},\n\nthe training \"{}\" at {org_name} was due on {due} and is not completed yet. Please catch up soon.",
                d.name, d.title
            ),
        ),
    };
    crate::mail::templates::simple(locale, subject, &body, &link)
}
