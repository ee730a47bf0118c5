//! Sign-in providers must vouch for the e-mail address (`email_verified`);
//! only the instance operator can mark a provider as one that does not
//! send the claim (Microsoft Entra ID), in the configuration file.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    EmailVerifiedOptional,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(IdentityProviders::Table)
                .add_column(
                    ColumnDef::new(IdentityProviders::EmailVerifiedOptional)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(IdentityProviders::Table)
                .drop_column(IdentityProviders::EmailVerifiedOptional)
                .to_owned(),
        )
        .await
    }
}
