//! Organisations, people, their memberships (with a role per organisation),
//! invitations and the login throttle.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organisations::Table)
                .col(pk_auto(Organisations::Id))
                .col(string_len_uniq(Organisations::ShortName, 40))
                .col(string_len(Organisations::LegalName, 200))
                .col(string_len(Organisations::DisplayShort, 60).default(""))
                .col(text(Organisations::Address).default(""))
                .col(text(Organisations::DpoContact).default(""))
                .col(text(Organisations::IntroText).default(""))
                .col(timestamp_with_time_zone(Organisations::CreatedAt))
                .col(timestamp_with_time_zone(Organisations::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(pk_auto(Users::Id))
                .col(string_len_uniq(Users::Email, 254))
                .col(string_len(Users::DisplayName, 120))
                .col(text_null(Users::PasswordHash))
                .col(boolean(Users::Locked).default(false))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(pk_auto(Memberships::Id))
                .col(integer(Memberships::OrgId))
                .col(integer(Memberships::UserId))
                .col(string_len(Memberships::Role, 20))
                .col(timestamp_with_time_zone(Memberships::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Memberships::Table, Memberships::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Memberships::Table, Memberships::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_memberships_org_user")
                .table(Memberships::Table)
                .col(Memberships::OrgId)
                .col(Memberships::UserId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(pk_auto(Invitations::Id))
                .col(integer(Invitations::OrgId))
                .col(string_len(Invitations::Email, 254))
                .col(string_len(Invitations::Role, 20))
                .col(string_len_uniq(Invitations::TokenHash, 64))
                .col(integer(Invitations::InvitedBy))
                .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                .col(timestamp_with_time_zone(Invitations::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Invitations::Table, Invitations::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .to_owned(),
        )
        .await?;

        // Failed logins per normalised e-mail address, whether or not an account
        // exists for it: the throttle must not reveal which addresses are known.
        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .col(string_len(LoginThrottle::Key, 254).primary_key())
                .col(integer(LoginThrottle::Failures))
                .col(timestamp_with_time_zone(LoginThrottle::LastFailureAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            LoginThrottle::Table.into_iden(),
            Invitations::Table.into_iden(),
            Memberships::Table.into_iden(),
            Users::Table.into_iden(),
            Organisations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Organisations {
    Table,
    Id,
    ShortName,
    LegalName,
    DisplayShort,
    Address,
    DpoContact,
    IntroText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    Locked,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    OrgId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    OrgId,
    Email,
    Role,
    TokenHash,
    InvitedBy,
    ExpiresAt,
    AcceptedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    LastFailureAt,
}
