//! The measure's page (aggregator): one measure of the catalogue with what
//! the features below know about it. Its data and server functions belong
//! to `toms`; this folder only composes.

mod page;
pub use page::MeasurePage;
