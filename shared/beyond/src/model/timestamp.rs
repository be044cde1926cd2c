//! Beyond timestamps: ISO 8601 without an offset (`2023-09-26T10:01:50.657`, sometimes with
//! nanoseconds). The time zone is undocumented (beyond-api.md §2); we read them as UTC and
//! also accept an explicit offset, so a future change to RFC 3339 does not break parsing.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time as Beyond writes it, held as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BeyondTimestamp(pub DateTime<Utc>);

/// The text was not an ISO 8601 date-time.
#[derive(Debug, thiserror::Error)]
#[error("not an ISO 8601 date-time: {input:?}")]
pub struct TimestampParseError {
    input: String,
    #[source]
    source: chrono::ParseError,
}

impl BeyondTimestamp {
    /// The current time.
    pub fn now() -> Self {
        Self(Utc::now())
    }

    /// The wrapped UTC time.
    pub fn as_utc(&self) -> DateTime<Utc> {
        self.0
    }

    /// The spec's wire form: no offset, at least milliseconds (`2023-09-26T10:01:50.657`).
    /// Finer digits are kept when present (the spec's own examples carry nanoseconds), so
    /// a value survives a round trip exactly and an `updatedAfter` filter built from it
    /// neither skips nor repeats an order at the boundary.
    pub fn to_wire(&self) -> String {
        let nanos = self.0.timestamp_subsec_nanos();
        let format = if nanos.is_multiple_of(1_000_000) {
            "%Y-%m-%dT%H:%M:%S%.3f"
        } else if nanos.is_multiple_of(1_000) {
            "%Y-%m-%dT%H:%M:%S%.6f"
        } else {
            "%Y-%m-%dT%H:%M:%S%.9f"
        };
        self.0.naive_utc().format(format).to_string()
    }

    /// RFC 3339 with a `Z`, for logs and our own storage.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl FromStr for BeyondTimestamp {
    type Err = TimestampParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim();
        if let Ok(with_offset) = DateTime::parse_from_rfc3339(trimmed) {
            return Ok(Self(with_offset.with_timezone(&Utc)));
        }
        NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M"))
            .map(|naive| Self(naive.and_utc()))
            .map_err(|source| TimestampParseError {
                input: input.to_owned(),
                source,
            })
    }
}

impl fmt::Display for BeyondTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl From<DateTime<Utc>> for BeyondTimestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

impl From<BeyondTimestamp> for DateTime<Utc> {
    fn from(value: BeyondTimestamp) -> Self {
        value.0
    }
}

impl Serialize for BeyondTimestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for BeyondTimestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_the_spec_form_as_utc() {
        let ts: BeyondTimestamp = "2023-09-26T10:01:50.657".parse().unwrap();
        let expected = Utc.with_ymd_and_hms(2023, 9, 26, 10, 1, 50).unwrap()
            + chrono::Duration::milliseconds(657);
        assert_eq!(ts.0, expected);
    }

    #[test]
    fn parses_nanoseconds_seconds_only_and_offsets() {
        let nanos: BeyondTimestamp = "2023-09-26T09:56:05.22420299".parse().unwrap();
        assert_eq!(nanos.to_wire(), "2023-09-26T09:56:05.224202990");
        let micros: BeyondTimestamp = "2023-09-21T10:05:24.164854".parse().unwrap();
        assert_eq!(micros.to_wire(), "2023-09-21T10:05:24.164854");
        let plain: BeyondTimestamp = "2020-11-29T11:32:00".parse().unwrap();
        assert_eq!(plain.to_wire(), "2020-11-29T11:32:00.000");
        let minutes: BeyondTimestamp = "2020-11-29T11:32".parse().unwrap();
        assert_eq!(minutes, plain);
        let offset: BeyondTimestamp = "2023-09-26T12:01:50.657+02:00".parse().unwrap();
        assert_eq!(offset.to_wire(), "2023-09-26T10:01:50.657");
        let zulu: BeyondTimestamp = "2023-09-26T10:01:50.657Z".parse().unwrap();
        assert_eq!(zulu, offset);
    }

    #[test]
    fn serde_round_trip_uses_the_wire_form() {
        let ts: BeyondTimestamp = serde_json::from_str("\"2023-09-26T10:01:50.657\"").unwrap();
        assert_eq!(
            serde_json::to_string(&ts).unwrap(),
            "\"2023-09-26T10:01:50.657\""
        );
    }

    #[test]
    fn garbage_is_a_typed_error() {
        let err = "yesterday".parse::<BeyondTimestamp>().unwrap_err();
        assert!(err.to_string().contains("yesterday"));
        assert!(serde_json::from_str::<BeyondTimestamp>("\"26.09.2023\"").is_err());
    }
}
