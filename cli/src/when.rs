//! One grammar for every option that takes a duration or a point in time, so what works
//! for `log --since` works for `resync --since`, `tenant add --start-date` and `run
//! --interval` alike:
//!
//! - a duration is `humantime`'s (`90s`, `5m`, `24h`, `7d`, `1h 30m`, `500ms`), or a bare
//!   number of seconds;
//! - a point in time is an RFC 3339 time (`2026-11-23T05:06:07Z`, any offset), a date
//!   (`YYYY-MM-DD`, midnight UTC), or a duration back from now (`24h` = 24 hours ago).
//!
//! The parsers are clap value parsers: a refused value is a usage error (exit code 2) whose
//! message names the grammar.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

const DURATION_GRAMMAR: &str = "expected a duration like 90s, 5m, 24h, 7d or 1h 30m";
const POINT_GRAMMAR: &str =
    "expected a duration back from now (30m, 24h, 7d), a date (YYYY-MM-DD) or an RFC 3339 time";

/// A duration: `humantime`'s grammar, or a bare number of seconds.
pub fn duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    if let Ok(seconds) = raw.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(raw).map_err(|e| format!("{raw:?}: {DURATION_GRAMMAR} ({e})"))
}

/// A duration of more than zero (intervals and timeouts).
pub fn positive_duration(raw: &str) -> Result<Duration, String> {
    let parsed = duration(raw)?;
    if parsed.is_zero() {
        return Err(format!("{:?}: must be more than zero", raw.trim()));
    }
    Ok(parsed)
}

/// A point in time as written: fixed, or relative to when the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointInTime {
    At(DateTime<Utc>),
    Ago(Duration),
}

impl PointInTime {
    /// The instant meant, `now` being when the command runs; `None` when a duration reaches
    /// back before the calendar chrono knows.
    pub fn resolve(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::At(at) => Some(at),
            Self::Ago(back) => TimeDelta::from_std(back)
                .ok()
                .and_then(|back| now.checked_sub_signed(back)),
        }
    }
}

/// A point in time: RFC 3339, `YYYY-MM-DD` (midnight UTC) or a duration back from now.
pub fn point_in_time(raw: &str) -> Result<PointInTime, String> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(PointInTime::At(at.with_timezone(&Utc)));
    }
    if let Some(at) = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        return Ok(PointInTime::At(at.and_utc()));
    }
    match duration(raw) {
        Ok(back) => Ok(PointInTime::Ago(back)),
        Err(_) => Err(format!("{raw:?}: {POINT_GRAMMAR}")),
    }
}

/// A point in time resolved against the system clock at once, as RFC 3339: for options whose
/// command takes the time as text (`resync --since`, read by the connector's own parser).
pub fn point_in_time_rfc3339(raw: &str) -> Result<String, String> {
    point_in_time(raw)?
        .resolve(Utc::now())
        .map(|at| at.to_rfc3339())
        .ok_or_else(|| format!("{:?}: too far back", raw.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn durations_in_humantime_or_bare_seconds() {
        for (raw, seconds) in [
            ("90s", 90),
            ("5m", 300),
            ("24h", 86_400),
            ("7d", 604_800),
            ("1h 30m", 5_400),
            ("300", 300),
            (" 2m ", 120),
        ] {
            assert_eq!(duration(raw), Ok(Duration::from_secs(seconds)), "{raw}");
        }
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["", "5 parsecs", "-5m", "h", "yesterday"] {
            let error = duration(bad).expect_err(bad);
            assert!(error.contains("expected a duration"), "{bad}: {error}");
        }
        assert!(positive_duration("0s").is_err());
        assert!(positive_duration("0").is_err());
    }

    #[test]
    fn points_in_time_as_dates_times_or_durations_back() {
        let at = |raw: &str| point_in_time(raw).map(|p| p.resolve(now()));
        assert_eq!(
            at("24h"),
            Ok(Some(now() - TimeDelta::hours(24))),
            "resync --since 24h"
        );
        assert_eq!(at("7d"), Ok(Some(now() - TimeDelta::days(7))));
        assert_eq!(at("1h 30m"), Ok(Some(now() - TimeDelta::minutes(90))));
        assert_eq!(
            at("2026-11-01"),
            Ok(Some(
                DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
                    .map(|a| a.with_timezone(&Utc))
                    .unwrap_or_else(|e| panic!("{e}"))
            ))
        );
        assert_eq!(
            at("2026-11-01T10:00:00+02:00"),
            Ok(Some(
                DateTime::parse_from_rfc3339("2026-11-01T08:00:00Z")
                    .map(|a| a.with_timezone(&Utc))
                    .unwrap_or_else(|e| panic!("{e}"))
            ))
        );
        for bad in ["yesterday", "2026-13-01", "", "24 hours ago"] {
            let error = point_in_time(bad).expect_err(bad);
            assert!(error.contains("YYYY-MM-DD"), "{bad}: {error}");
        }
        assert_eq!(
            point_in_time("100000000000d").map(|p| p.resolve(now())),
            Ok(None)
        );
    }
}
