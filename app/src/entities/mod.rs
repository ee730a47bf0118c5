//! SeaORM entities: the database rows. Server-only; they never cross the wire
//! (DTOs in each domain module do).

pub mod audit_head;
pub mod audit_log;
pub mod categories;
pub mod invitations;
pub mod login_throttle;
pub mod measure_owners;
pub mod measure_revisions;
pub mod measures;
pub mod memberships;
pub mod organisations;
pub mod publications;
pub mod sessions;
pub mod signing_keys;
pub mod users;
