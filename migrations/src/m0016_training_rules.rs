//! Training assignment rules per course (repeat every N months, new staff
//! within N days of joining, again within N days after failing) and the
//! reminders sent, one row each, so none goes out twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for col in [
            integer(TrainingCourses::IntervalMonths)
                .default(12)
                .to_owned(),
            integer(TrainingCourses::NewStaffDays)
                .default(30)
                .to_owned(),
            integer(TrainingCourses::RetryDays).default(14).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(TrainingCourses::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(TrainingReminders::Table)
                .col(pk_auto(TrainingReminders::Id))
                .col(integer(TrainingReminders::OrgId))
                .col(integer(TrainingReminders::UserId))
                .col(integer(TrainingReminders::CourseId))
                .col(integer(TrainingReminders::VersionId))
                // `due` or `overdue`.
                .col(string_len(TrainingReminders::Kind, 20))
                .col(date(TrainingReminders::DueDate))
                .col(timestamp_with_time_zone(TrainingReminders::SentAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_training_reminders_once")
                .table(TrainingReminders::Table)
                .col(TrainingReminders::UserId)
                .col(TrainingReminders::CourseId)
                .col(TrainingReminders::VersionId)
                .col(TrainingReminders::Kind)
                .col(TrainingReminders::DueDate)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TrainingReminders::Table).to_owned())
            .await?;
        for col in [
            TrainingCourses::IntervalMonths,
            TrainingCourses::NewStaffDays,
            TrainingCourses::RetryDays,
        ] {
            m.alter_table(
                Table::alter()
                    .table(TrainingCourses::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TrainingCourses {
    Table,
    IntervalMonths,
    NewStaffDays,
    RetryDays,
}

#[derive(DeriveIden)]
enum TrainingReminders {
    Table,
    Id,
    OrgId,
    UserId,
    CourseId,
    VersionId,
    Kind,
    DueDate,
    SentAt,
}
