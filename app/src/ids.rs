//! Typed ids (kernel): a measure's id is a [`MeasureId`], not an `i32`, in
//! entities, DTOs, server functions and service signatures, so passing a
//! category's id where a measure's is meant does not compile. On the wire
//! and in the database each is the plain integer (`serde(transparent)`,
//! SeaORM's `DeriveValueType`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sea_orm::DeriveValueType))]
        pub struct $name(pub i32);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }
    )*};
}

ids! {
    /// An organisation (a tenant: a processor with its staff and customers).
    OrgId,
    /// A person's account (staff, DPO, auditor or a customer's contact).
    UserId,
    /// A measure of the TOM catalogue.
    MeasureId,
    /// A category (section) of the TOM catalogue.
    CategoryId,
    /// A subprocessor (Unterauftragsverarbeiter).
    SubprocessorId,
    /// A subprocessor's attestation (certificate, audit report).
    AttestationId,
    /// A piece of evidence (a file with its versions and validity).
    EvidenceId,
    /// One uploaded version of a piece of evidence.
    EvidenceVersionId,
    /// An effectiveness review cycle (Art. 32(1)(d)).
    CycleId,
    /// One measure's assessment within a review cycle.
    ReviewItemId,
    /// A finding of a review and its corrective action.
    FindingId,
    /// A customer (controller) of the organisation.
    CustomerId,
    /// A contact person at a customer.
    ContactId,
    /// A notice to customers about a subprocessor change.
    NoticeId,
    /// An OpenID Connect identity provider.
    ProviderId,
    /// A training course.
    CourseId,
    /// One published version of a training course.
    CourseVersionId,
    /// One attempt at a course's quiz.
    AttemptId,
    /// A passed course (the certificate's record).
    CompletionId,
    /// One version of the confidentiality pledge's text.
    PledgeTextId,
    /// A signed confidentiality pledge.
    SignatureId,
    /// An invitation to join an organisation.
    InvitationId,
    /// A mail in the outbox.
    MessageId,
    /// One version of the organisation's AVV text in one language.
    AvvTextId,
    /// One offer of the AVV to one customer (a sealed contract document).
    OfferId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_integers_on_the_wire() {
        let id = MeasureId(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<MeasureId>("42").unwrap(), id);
        assert_eq!(" 42 ".parse::<MeasureId>().unwrap(), id);
        assert_eq!(id.to_string(), "42");
        assert!("x".parse::<MeasureId>().is_err());
    }
}
