//! Database schema of Nachweis, one file per migration, applied in order at start.
//!
//! Every table that belongs to an organisation carries `org_id`, and the
//! indexes lead with it: every query in the app names the organisation.

pub use sea_orm_migration::prelude::*;

mod m0001_accounts;
mod m0002_sessions;
mod m0003_catalogue;
mod m0004_audit;
mod m0005_publications;
mod m0006_mail;
mod m0007_evidence;
mod m0008_subprocessors;
mod m0009_customers;
mod m0010_sso;
mod m0011_login_links;
mod m0012_portal_visits;
mod m0013_notices;
mod m0014_pledges;
mod m0015_training;
mod m0016_training_rules;
mod m0017_reviews;
mod m0018_one_open_cycle;
mod m0019_sso_trust;
mod m0020_keyed_audit;
mod m0021_anchored_records;
mod m0022_avv_texts;
mod m0023_customer_particulars;
mod m0024_subprocessor_lists;
mod m0025_contract_offers;
mod m0026_session_person;
mod m0027_memberships_by_user;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_accounts::Migration),
            Box::new(m0002_sessions::Migration),
            Box::new(m0003_catalogue::Migration),
            Box::new(m0004_audit::Migration),
            Box::new(m0005_publications::Migration),
            Box::new(m0006_mail::Migration),
            Box::new(m0007_evidence::Migration),
            Box::new(m0008_subprocessors::Migration),
            Box::new(m0009_customers::Migration),
            Box::new(m0010_sso::Migration),
            Box::new(m0011_login_links::Migration),
            Box::new(m0012_portal_visits::Migration),
            Box::new(m0013_notices::Migration),
            Box::new(m0014_pledges::Migration),
            Box::new(m0015_training::Migration),
            Box::new(m0016_training_rules::Migration),
            Box::new(m0017_reviews::Migration),
            Box::new(m0018_one_open_cycle::Migration),
            Box::new(m0019_sso_trust::Migration),
            Box::new(m0020_keyed_audit::Migration),
            Box::new(m0021_anchored_records::Migration),
            Box::new(m0022_avv_texts::Migration),
            Box::new(m0023_customer_particulars::Migration),
            Box::new(m0024_subprocessor_lists::Migration),
            Box::new(m0025_contract_offers::Migration),
            Box::new(m0026_session_person::Migration),
            Box::new(m0027_memberships_by_user::Migration),
        ]
    }
}
