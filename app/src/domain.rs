//! Domain types that parse input once. They compile to wasm too, so forms can
//! use the same rules before submitting.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::AppError;

/// A membership's role within one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The DPO: manages everything in the organisation.
    Admin,
    /// Responsible for measures; edits the measures they own.
    Owner,
    /// Internal staff: reads the catalogue.
    Staff,
    /// Reads everything internal, changes nothing.
    Auditor,
    /// A controller's user: only the customer portal.
    Customer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Owner,
        Role::Staff,
        Role::Auditor,
        Role::Customer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
            Role::Customer => "customer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Datenschutzbeauftragte/r (Admin)",
            Role::Owner => "Verantwortliche/r für Maßnahmen",
            Role::Staff => "Mitarbeiter/in",
            Role::Auditor => "Prüfer/in (nur lesen)",
            Role::Customer => "Kunde",
        }
    }

    /// Internal roles see the catalogue, the profile and the start page.
    pub fn is_internal(self) -> bool {
        !matches!(self, Role::Customer)
    }

    /// May be responsible for measures: the DPO and owners (staff have
    /// nothing to do as an owner, auditors must stay independent of what
    /// they audit).
    pub fn may_own_measures(self) -> bool {
        matches!(self, Role::Admin | Role::Owner)
    }

    /// May create, reorder, retire measures and manage categories, members, profile.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }

    /// The organisation's own people who sign the confidentiality pledge
    /// and take the privacy training (not auditors, not customers).
    pub fn must_sign_pledge(self) -> bool {
        matches!(self, Role::Admin | Role::Owner | Role::Staff)
    }

    /// May see the draft annex and what changed since the last publication.
    pub fn previews_annex(self) -> bool {
        matches!(self, Role::Admin | Role::Owner | Role::Auditor)
    }

    /// May read the audit log.
    pub fn reads_audit_log(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// May read the organisation's contract texts (the AVV) and, later,
    /// who concluded them: the people who answer for contracts.
    pub fn reads_contracts(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// May list and download evidence files.
    pub fn reads_evidence(self) -> bool {
        matches!(self, Role::Admin | Role::Owner | Role::Auditor)
    }

    /// May upload evidence and change its details.
    pub fn writes_evidence(self) -> bool {
        matches!(self, Role::Admin | Role::Owner)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, AppError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| AppError::invalid("role", format!("Unbekannte Rolle „{s}“.")))
    }
}

/// A normalised e-mail address (trimmed, lower case, one `@`, a dot in the domain).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let s = input.trim().to_lowercase();
        let err = || AppError::invalid("email", "Bitte geben Sie eine gültige E-Mail-Adresse an.");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err());
        }
        let (local, domain) = s.split_once('@').ok_or_else(err)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(err());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A required single-line text with a maximum length in characters.
fn line(field: &str, label: &str, input: &str, max: usize) -> Result<String, AppError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("{label} darf nicht leer sein."),
        ));
    }
    if s.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{label} darf höchstens {max} Zeichen lang sein."),
        ));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            field,
            format!("{label} muss einzeilig sein."),
        ));
    }
    Ok(s.to_owned())
}

/// The text of a measure: one or more paragraphs, at most 20,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureText(String);

impl MeasureText {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(input: &str) -> Result<Self, AppError> {
        // Normalise line endings; keep paragraphs, drop trailing blanks.
        let s = input.replace("\r\n", "\n").replace('\r', "\n");
        let s = s.trim();
        if s.is_empty() {
            return Err(AppError::invalid(
                "body",
                "Der Text der Maßnahme darf nicht leer sein.",
            ));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(AppError::invalid(
                "body",
                format!(
                    "Der Text der Maßnahme darf höchstens {} Zeichen lang sein.",
                    Self::MAX_CHARS
                ),
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(AppError::invalid(
                "body",
                "Der Text enthält unzulässige Steuerzeichen.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional short title of a measure (empty means none).
pub fn parse_measure_title(input: &str) -> Result<String, AppError> {
    if input.trim().is_empty() {
        return Ok(String::new());
    }
    line("title", "Der Titel", input, 200)
}

/// A category title.
pub fn parse_category_title(input: &str) -> Result<String, AppError> {
    line("title", "Der Titel der Kategorie", input, 200)
}

/// A person's display name.
pub fn parse_display_name(input: &str) -> Result<String, AppError> {
    line("display_name", "Der Name", input, 120)
}

/// An organisation's legal name.
pub fn parse_legal_name(input: &str) -> Result<String, AppError> {
    line("legal_name", "Der Firmenname", input, 200)
}

/// The short name used in URLs and on the CLI: lower-case letters, digits, dashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortName(String);

impl ShortName {
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let s = input.trim();
        let ok = (2..=40).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(AppError::invalid(
                "short_name",
                "Das Kürzel besteht aus 2 bis 40 Kleinbuchstaben, Ziffern oder Bindestrichen.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 12 characters, at most 1,000.
pub fn check_new_password(input: &str) -> Result<(), AppError> {
    let n = input.chars().count();
    if n < 12 {
        return Err(AppError::invalid(
            "password",
            "Das Passwort muss mindestens 12 Zeichen lang sein.",
        ));
    }
    if n > 1000 {
        return Err(AppError::invalid("password", "Das Passwort ist zu lang."));
    }
    Ok(())
}

/// Days before `valid_until` from which evidence or an attestation counts
/// as expiring.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Where a validity date stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validity {
    /// No end date, or more than 30 days left.
    Current,
    /// Ends within 30 days.
    Expiring,
    Expired,
}

impl Validity {
    pub fn of(valid_until: Option<chrono::NaiveDate>, today: chrono::NaiveDate) -> Self {
        match valid_until {
            Some(d) if d < today => Validity::Expired,
            Some(d) if d <= today + chrono::Duration::days(EXPIRY_WARNING_DAYS) => {
                Validity::Expiring
            }
            _ => Validity::Current,
        }
    }

    /// Whether a measure whose best evidence file stands at `best` has
    /// valid evidence: a current or expiring file, not an expired one or none.
    pub fn counts(best: Option<Validity>) -> bool {
        matches!(best, Some(Validity::Current | Validity::Expiring))
    }

    /// The better of two: current over expiring over expired.
    pub fn best(a: Option<Validity>, b: Validity) -> Validity {
        let rank = |v: Validity| match v {
            Validity::Current => 2,
            Validity::Expiring => 1,
            Validity::Expired => 0,
        };
        match a {
            Some(a) if rank(a) >= rank(b) => a,
            _ => b,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Validity::Current => "current",
            Validity::Expiring => "expiring",
            Validity::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Validity::Current => "gültig",
            Validity::Expiring => "läuft bald ab",
            Validity::Expired => "abgelaufen",
        }
    }
}

/// A state or status with a fixed set of values: an enum in the code, a
/// lowercase code on the wire and in the database (a text column, through
/// SeaORM's `DeriveActiveEnum`), and a German label for people. Comparing
/// against a misspelt string no longer compiles.
macro_rules! codes {
    (
        $(#[$doc:meta])*
        pub enum $name:ident in $field:literal {
            $($(#[$vdoc:meta])* $variant:ident = $code:literal, $label:literal;)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $code)]
                #[cfg_attr(feature = "ssr", sea_orm(string_value = $code))]
                $variant,
            )*
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),*];

            /// The code stored and sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// The German label people read.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)*
                }
            }

            pub fn parse(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == code)
            }
        }

        /// From a form: the code, or an error at the field.
        impl std::str::FromStr for $name {
            type Err = $crate::error::AppError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s.trim()).ok_or_else(|| {
                    $crate::error::AppError::invalid($field, format!("Unbekannter Wert „{s}“."))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// Where an effectiveness review cycle stands.
    pub enum CycleStatus in "status" {
        /// Assessments are being made and decided.
        Open = "open", "offen";
        /// Locked, with its signed report.
        Closed = "closed", "abgeschlossen";
    }
}

codes! {
    /// Where a finding's corrective action stands.
    pub enum FindingStatus in "status" {
        Open = "open", "offen";
        /// Done, with a note and perhaps evidence.
        Closed = "closed", "erledigt";
    }
}

codes! {
    /// Where an assessment stands.
    pub enum ItemState in "state" {
        /// Waiting for the owner's assessment.
        Pending = "pending", "offen";
        /// Assessed, waiting for the DPO's decision ("in Prüfung").
        Submitted = "submitted", "in Prüfung";
        /// Sent back by the DPO with a comment; the owner revises it.
        Returned = "returned", "zurückgegeben";
        /// Approved by the DPO; final.
        Approved = "approved", "freigegeben";
    }
}

codes! {
    /// Lifecycle of a measure. Only implemented measures appear in the annex.
    pub enum MeasureStatus in "status" {
        Planned = "planned", "geplant";
        Implemented = "implemented", "umgesetzt";
        Retired = "retired", "außer Kraft";
    }
}

codes! {
    /// Whether a subprocessor works for the organisation.
    pub enum SubStatus in "status" {
        Planned = "planned", "geplant";
        Active = "active", "aktiv";
        Terminated = "terminated", "beendet";
    }
}

codes! {
    /// The safeguard of a subprocessor's transfers (Art. 44 ff. DSGVO).
    pub enum Safeguard in "safeguard" {
        Eu = "eu", "keine Drittlandübermittlung (EU/EWR)";
        Adequacy = "adequacy", "Angemessenheitsbeschluss (Art. 45 DSGVO)";
        Scc = "scc", "Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)";
        Bcr = "bcr", "verbindliche interne Datenschutzvorschriften (Art. 47 DSGVO)";
        Other = "other", "andere Garantie (siehe Beschreibung)";
    }
}

impl AttestationKind {
    /// What the attestation shows, in words for a customer who is not an
    /// auditor.
    pub fn for_customers(self) -> &'static str {
        match self {
            Self::Iso27001 => {
                "Zertifikat nach ISO/IEC 27001: ein unabhängig geprüftes Managementsystem für Informationssicherheit"
            }
            Self::Iso27017 => {
                "Zertifikat nach ISO/IEC 27017: unabhängig geprüfte Sicherheitsmaßnahmen für Cloud-Dienste"
            }
            Self::Iso27018 => {
                "Zertifikat nach ISO/IEC 27018: unabhängig geprüfter Schutz personenbezogener Daten in der Cloud"
            }
            Self::Soc2 => {
                "SOC-2-Typ-II-Bericht: Wirtschaftsprüfer haben die Sicherheitskontrollen über einen Zeitraum geprüft"
            }
            Self::C5 => {
                "BSI-C5-Testat: Prüfung nach dem Kriterienkatalog des Bundesamts für Sicherheit in der Informationstechnik"
            }
            Self::Tisax => {
                "TISAX-Prüfung: geprüfte Informationssicherheit nach dem Standard der Automobilindustrie"
            }
            Self::Other => "Nachweis zur Datensicherheit",
        }
    }
}

codes! {
    /// What a subprocessor's attestation is.
    pub enum AttestationKind in "kind" {
        Iso27001 = "iso27001", "ISO/IEC 27001";
        Iso27017 = "iso27017", "ISO/IEC 27017";
        Iso27018 = "iso27018", "ISO/IEC 27018";
        Soc2 = "soc2", "SOC 2 Typ II";
        C5 = "c5", "BSI C5";
        Tisax = "tisax", "TISAX";
        Other = "other", "anderer Nachweis";
    }
}

codes! {
    /// Where a message in the outbox stands.
    pub enum OutboxStatus in "status" {
        Queued = "queued", "wartet";
        Sending = "sending", "wird gesendet";
        Sent = "sent", "gesendet";
        Failed = "failed", "fehlgeschlagen";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            EmailAddress::parse(" DPO@ConRat.de ").unwrap().as_str(),
            "dpo@conrat.de"
        );
        for bad in [
            "", "a", "a@b", "@b.de", "a@@b.de", "a b@c.de", "a@.de", "a@de.",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn measure_text_limits() {
        assert!(MeasureText::parse("   ").is_err());
        assert!(MeasureText::parse(&"x".repeat(20_001)).is_err());
        assert_eq!(MeasureText::parse("a\r\nb\n\n").unwrap().as_str(), "a\nb");
        assert!(MeasureText::parse("a\u{0}b").is_err());
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn short_names() {
        assert!(ShortName::parse("conrat").is_ok());
        assert!(ShortName::parse("Conrat").is_err());
        assert!(ShortName::parse("-x").is_err());
        assert!(ShortName::parse("a").is_err());
    }
}
