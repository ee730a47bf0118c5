//! SeaORM entities: the database rows. Server-only; they never cross the wire
//! (DTOs in each domain module do).

pub mod attestations;
pub mod audit_head;
pub mod audit_log;
pub mod categories;
pub mod customer_contacts;
pub mod customers;
pub mod evidence;
pub mod evidence_versions;
pub mod identity_providers;
pub mod invitations;
pub mod job_runs;
pub mod login_links;
pub mod login_throttle;
pub mod measure_owners;
pub mod measure_revisions;
pub mod measure_subprocessors;
pub mod measures;
pub mod memberships;
pub mod notice_objections;
pub mod organisations;
pub mod outbox;
pub mod pledge_signatures;
pub mod pledge_texts;
pub mod portal_visits;
pub mod publications;
pub mod sessions;
pub mod signing_keys;
pub mod subprocessor_notices;
pub mod subprocessors;
pub mod training_attempts;
pub mod training_completions;
pub mod training_courses;
pub mod training_versions;
pub mod user_identities;
pub mod users;
