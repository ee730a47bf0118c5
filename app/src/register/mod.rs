//! The record of processing activities the processor keeps under
//! Art. 30(2) GDPR, generated from the data the AVV is made of (an
//! aggregator: customers and their particulars, the subprocessors, the
//! published TOM annex): per controller the names and contacts of both
//! sides and their DPOs, the categories of processing, the transfers to
//! third countries with their safeguards, and the general description of
//! the measures. As a signed PDF, as XLSX and as CSV with the same rows.

#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;
