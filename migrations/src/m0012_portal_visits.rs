//! When each person last looked at their portal and which annex version was
//! current then: the portal's "changes since your last visit".

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PortalVisits::Table)
                .col(pk_auto(PortalVisits::Id))
                .col(integer(PortalVisits::OrgId))
                .col(integer(PortalVisits::UserId))
                // 0: no version was published at that visit.
                .col(integer(PortalVisits::LastVersion))
                .col(timestamp_with_time_zone(PortalVisits::VisitedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_portal_visits_org_user")
                .table(PortalVisits::Table)
                .col(PortalVisits::OrgId)
                .col(PortalVisits::UserId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PortalVisits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PortalVisits {
    Table,
    Id,
    OrgId,
    UserId,
    LastVersion,
    VisitedAt,
}
