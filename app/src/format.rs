//! Dates, times and URLs as Nachweis writes and reads them: the one place
//! for German date formats, the German calendar day, date input and
//! percent-encoding (kernel: used by every layer, on both sides of the wire).

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{AppError, AppResult};

/// A calendar day as German readers write it: `31.12.2026`.
pub fn german_date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// A day as it crosses the wire and sits in date inputs: `2026-12-31`.
pub fn iso_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A required date from a form field, as `2026-12-31` (date inputs) or
/// `31.12.2026` (typed by hand); the error names the field.
pub fn parse_date(field: &str, s: &str) -> AppResult<NaiveDate> {
    parse_optional_date(field, s)?.ok_or_else(|| {
        AppError::invalid(
            field,
            "Bitte geben Sie ein Datum an (TT.MM.JJJJ bzw. JJJJ-MM-TT).",
        )
    })
}

/// An optional date from a form field: empty is `None`, see [`parse_date`].
pub fn parse_optional_date(field: &str, s: &str) -> AppResult<Option<NaiveDate>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .map(Some)
        .map_err(|_| AppError::invalid(field, format!("„{s}“ ist kein Datum (TT.MM.JJJJ).")))
}

/// A moment as it is shown: the local time in Germany, typed. Services
/// hand it to pages, which write it (`31.12.2026 14:05`); the server makes
/// it ([`LocalTime::of`]), since only it carries the time zone rules. On
/// the wire it is the ISO local time, `2026-12-31T14:05:00`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct LocalTime(pub NaiveDateTime);

impl LocalTime {
    /// The calendar day of this moment in Germany.
    pub fn day(self) -> NaiveDate {
        self.0.date()
    }
}

impl fmt::Display for LocalTime {
    /// `31.12.2026 14:05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.format("%d.%m.%Y %H:%M").fmt(f)
    }
}

/// What a query value keeps unencoded: the unreserved characters of
/// RFC 3986 and `/`, so a path like `/login?next=/anlage` stays readable.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes a query value (UTF-8, RFC 3986).
pub fn query_value(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// The server's side: the time zone the organisations live in.
#[cfg(feature = "ssr")]
mod berlin {
    use chrono::{DateTime, NaiveDate, Utc};
    use chrono_tz::Europe::Berlin;

    impl super::LocalTime {
        /// A stored moment in German local time.
        pub fn of(at: DateTime<Utc>) -> Self {
            Self(at.with_timezone(&Berlin).naive_local())
        }
    }

    /// A timestamp for German readers in German local time: `31.12.2026 14:05`.
    pub fn german_datetime(at: DateTime<Utc>) -> String {
        super::LocalTime::of(at).to_string()
    }

    /// The German calendar day of a timestamp (deadlines and validity are
    /// calendar days in Germany, whatever the server's time zone).
    pub fn german_day(at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&Berlin).date_naive()
    }

    /// The moment a German calendar day begins (midnight in Berlin).
    pub fn german_midnight(day: NaiveDate) -> DateTime<Utc> {
        use chrono::TimeZone;
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        Berlin
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc())
    }

    /// The German calendar day of a timestamp, written `31.12.2026`.
    pub fn german_day_text(at: DateTime<Utc>) -> String {
        super::german_date(german_day(at))
    }
}
#[cfg(feature = "ssr")]
pub use berlin::{german_datetime, german_day, german_day_text, german_midnight};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_dates_both_ways() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(german_date(d), "09.03.2026");
        assert_eq!(iso_date(d), "2026-03-09");
        assert_eq!(parse_date("d", "2026-03-09").unwrap(), d);
        assert_eq!(parse_date("d", " 09.03.2026 ").unwrap(), d);
        assert_eq!(parse_optional_date("d", "  ").unwrap(), None);
        assert!(parse_date("d", "").is_err());
        assert!(parse_date("d", "2026-02-30").is_err());
    }

    #[test]
    fn query_values_keep_paths_readable_and_encode_the_rest() {
        assert_eq!(query_value("/anlage/v3.pdf"), "/anlage/v3.pdf");
        assert_eq!(query_value("a b&c=d?é#"), "a%20b%26c%3Dd%3F%C3%A9%23");
        assert_eq!(query_value("x@y.de"), "x%40y.de");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_german_day_turns_at_german_midnight() {
        use chrono::{TimeZone, Utc};
        // 23:30 UTC on 31 March is already 1 April in Berlin (summer time).
        let at = Utc.with_ymd_and_hms(2026, 3, 31, 23, 30, 0).unwrap();
        assert_eq!(german_day(at), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert_eq!(german_day_text(at), "01.04.2026");
        assert_eq!(german_datetime(at), "01.04.2026 01:30");
        let local = LocalTime::of(at);
        assert_eq!(local.day(), german_day(at));
        assert_eq!(
            serde_json::to_string(&local).unwrap(),
            "\"2026-04-01T01:30:00\""
        );
        assert_eq!(local.to_string(), "01.04.2026 01:30");
    }
}
