//! The PDF engine (platform): Typst rendering, PAdES signatures and the
//! organisations' signing keys. Features hand it data and a template; it
//! knows nothing of annexes, pledges or reviews.

/// Signing keys: generated per organisation or loaded from the operator's files.
pub mod keys;
mod pkcs12;
/// PAdES signatures in an incremental update, and their verification.
pub mod sign;
/// The sealed Typst world and the render to PDF/A-2b.
pub mod typeset;
