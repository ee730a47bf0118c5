//! Integration tests: the real application on port 0, a fresh database per
//! test, each test on SQLite and on PostgreSQL. One test binary.

mod helpers;

mod annex;
mod audit;
mod auth;
mod authz;
mod avv;
mod backup;
mod bad_input;
mod catalogue;
mod cli;
mod contract;
mod escaping;
mod evidence;
mod evidence_process;
mod health;
mod import;
mod invitations;
mod login_links;
mod mail;
mod notices;
mod pages;
mod peers;
mod pledges;
mod portal;
mod publish;
mod queries;
mod reviews;
mod security;
mod sso;
mod subprocessors;
mod training;
