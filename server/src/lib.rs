//! The Nachweis server: configuration, the command line, start-up and the
//! HTTP routes around the Leptos app. `main.rs` only parses and dispatches;
//! tests build the same [`startup::Application`] on port 0.

/// `nachweis backup` and `nachweis restore`.
pub mod backup;
/// Command-line interface (`nachweis serve`, `migrate`, `org`, `admin`, `demo`, `audit`).
pub mod cli;
/// Typed configuration from file, environment and flags.
pub mod config;
/// Connecting to SQLite or PostgreSQL and applying migrations.
pub mod db;
/// The demo organisations built from the two seed annexes.
pub mod demo;
/// The background worker: mail delivery and daily jobs.
pub mod jobs;
/// SMTP delivery of the outbox.
pub mod mailer;
/// `/metrics` in the Prometheus text format.
pub mod metrics;
/// The instance secret that encrypts generated signing keys.
pub mod secrets;
/// The site (WebAssembly, JS, CSS, assets), embedded in the binary.
pub mod site;
/// Building the HTTP application.
pub mod startup;
/// The evidence stores: local directory and S3.
pub mod storage;
