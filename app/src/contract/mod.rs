//! The AVV as one document per customer (an aggregator: it reads the AVV
//! text, the customer's particulars, the published TOM annex and Anlage 2).
//! Today the draft for the DPO; the offer and its electronic acceptance in
//! the portal build on it.

#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service;
