//! Single sign-on: OpenID Connect providers per organisation (for one
//! customer's people, or for the organisation's own staff), the identities
//! people signed in with, and which customer a customer user belongs to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IdentityProviders::Table)
                .col(pk_auto(IdentityProviders::Id))
                .col(integer(IdentityProviders::OrgId))
                // NULL: the organisation's own staff sign in here.
                .col(integer_null(IdentityProviders::CustomerId))
                .col(string_len(IdentityProviders::Name, 120))
                .col(string_len(IdentityProviders::IssuerUrl, 512))
                .col(string_len(IdentityProviders::ClientId, 255))
                // nonce || XChaCha20-Poly1305 ciphertext under the instance secret.
                .col(binary_null(IdentityProviders::ClientSecretEnc))
                .col(string_len(IdentityProviders::Scopes, 255))
                // Comma-separated, lower case.
                .col(string_len(IdentityProviders::AllowedDomains, 1000))
                // `claim` or `claim=value`; empty: none required.
                .col(string_len(IdentityProviders::RequiredClaim, 200).default(""))
                // Staff providers: role of people signing in for the first time.
                .col(string_len(IdentityProviders::DefaultRole, 20).default("staff"))
                // Staff providers: `group=role` lines matched against the `groups` claim.
                .col(string_len(IdentityProviders::RoleMapping, 1000).default(""))
                .col(boolean(IdentityProviders::Enabled).default(true))
                // `admin` (made in the UI) or `config` (from the configuration file).
                .col(string_len(IdentityProviders::Source, 10).default("admin"))
                .col(timestamp_with_time_zone(IdentityProviders::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(IdentityProviders::Table, IdentityProviders::OrgId)
                        .to(Organisations::Table, Organisations::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(IdentityProviders::Table, IdentityProviders::CustomerId)
                        .to(Customers::Table, Customers::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_identity_providers_org")
                .table(IdentityProviders::Table)
                .col(IdentityProviders::OrgId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UserIdentities::Table)
                .col(pk_auto(UserIdentities::Id))
                .col(integer(UserIdentities::UserId))
                .col(integer(UserIdentities::ProviderId))
                .col(string_len(UserIdentities::Subject, 255))
                .col(timestamp_with_time_zone(UserIdentities::CreatedAt))
                .col(timestamp_with_time_zone(UserIdentities::LastLoginAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(UserIdentities::Table, UserIdentities::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(UserIdentities::Table, UserIdentities::ProviderId)
                        .to(IdentityProviders::Table, IdentityProviders::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_user_identities_subject")
                .table(UserIdentities::Table)
                .col(UserIdentities::ProviderId)
                .col(UserIdentities::Subject)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Memberships::Table)
                .add_column(integer_null(Memberships::CustomerId))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Memberships::Table)
                .drop_column(Memberships::CustomerId)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(UserIdentities::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(IdentityProviders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    CustomerId,
}

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Id,
    OrgId,
    CustomerId,
    Name,
    IssuerUrl,
    ClientId,
    ClientSecretEnc,
    Scopes,
    AllowedDomains,
    RequiredClaim,
    DefaultRole,
    RoleMapping,
    Enabled,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserIdentities {
    Table,
    Id,
    UserId,
    ProviderId,
    Subject,
    CreatedAt,
    LastLoginAt,
}
