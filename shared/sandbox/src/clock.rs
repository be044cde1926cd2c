//! The sandbox clock. Every timestamp the sandbox writes (order `createdAt`/`updatedAt`,
//! events, token expiry, journal entries) comes from here, so tests of incremental polling
//! can freeze, set and advance time instead of sleeping.
//!
//! The shop's **zone** (default UTC; `epages-sync sandbox --time-zone`, env
//! `SANDBOX_TIME_ZONE`, or [`SandboxClock::set_zone`]): like a real shop whose clock is
//! local, the sandbox writes, filters and sorts shop data in the zone's offset-less
//! wall-clock readings ([`SandboxClock::reading`]). Across the end of daylight saving its
//! readings repeat an hour, as such a shop's would. Tokens, the journal and the admin API
//! stay in UTC instants.

use std::sync::Mutex;

use beyond::model::ShopTimeZone;
use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

/// How the clock currently tells time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum ClockMode {
    /// Real UTC time shifted by `offset_ms` (0 unless the clock was advanced while running).
    Real {
        #[serde(rename = "offsetMs")]
        offset_ms: i64,
    },
    /// Time stands still at `at` until set or advanced.
    Frozen { at: DateTime<Utc> },
}

/// A clock that defaults to real UTC now and can be frozen, set and advanced.
#[derive(Debug)]
pub struct SandboxClock {
    mode: Mutex<ClockMode>,
    zone: Mutex<ShopTimeZone>,
}

impl Default for SandboxClock {
    fn default() -> Self {
        Self {
            mode: Mutex::new(ClockMode::Real { offset_ms: 0 }),
            zone: Mutex::new(ShopTimeZone::utc()),
        }
    }
}

impl SandboxClock {
    /// The current sandbox time, truncated to milliseconds: that is the precision the
    /// sandbox writes, so a client that filters with a timestamp it read back compares
    /// against exactly the stored value.
    pub fn now(&self) -> DateTime<Utc> {
        let now = match self.mode() {
            ClockMode::Real { offset_ms } => {
                let real = Utc::now();
                Duration::try_milliseconds(offset_ms)
                    .and_then(|offset| real.checked_add_signed(offset))
                    .unwrap_or(real)
            }
            ClockMode::Frozen { at } => at,
        };
        now.trunc_subsecs(3)
    }

    pub fn mode(&self) -> ClockMode {
        *self
            .mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stops time at the current instant.
    pub fn freeze(&self) -> DateTime<Utc> {
        let at = self.now();
        self.set_mode(ClockMode::Frozen { at });
        at
    }

    /// Stops time at `at` (which may lie in the past or the future).
    pub fn set(&self, at: DateTime<Utc>) {
        self.set_mode(ClockMode::Frozen {
            at: at.trunc_subsecs(3),
        });
    }

    /// Moves time forward (or backward for a negative duration). A frozen clock stays frozen
    /// at the new instant; a running clock keeps running with a larger offset.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let mut mode = self
            .mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *mode = match *mode {
            ClockMode::Real { offset_ms } => ClockMode::Real {
                offset_ms: offset_ms.saturating_add(by.num_milliseconds()),
            },
            ClockMode::Frozen { at } => ClockMode::Frozen {
                at: at.checked_add_signed(by).unwrap_or(at),
            },
        };
        drop(mode);
        self.now()
    }

    /// The zone the shop's timestamps are written in.
    pub fn zone(&self) -> ShopTimeZone {
        self.zone
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Writes (and filters) the shop's timestamps in `zone` from now on.
    pub fn set_zone(&self, zone: ShopTimeZone) {
        *self
            .zone
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = zone;
    }

    /// The shop's offset-less wall-clock reading of `instant` in its zone, as the sandbox
    /// stores and writes shop timestamps.
    pub fn reading(&self, instant: DateTime<Utc>) -> DateTime<Utc> {
        self.zone().reading(instant).0
    }

    /// Back to real UTC time with no offset.
    pub fn reset_to_real(&self) {
        self.set_mode(ClockMode::Real { offset_ms: 0 });
    }

    fn set_mode(&self, mode: ClockMode) {
        *self
            .mode
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = mode;
    }
}

/// Beyond writes timestamps as ISO 8601 without an offset (`2023-09-26T09:52:57.567`); the
/// sandbox does the same, with millisecond precision (shop data as readings in its zone).
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// Parses a timestamp filter the way a lenient Spring converter would: with or without an
/// offset (`Z`, `+02:00`), with or without fractional seconds, or a bare date. Timestamps
/// without an offset are taken as UTC, like the ones the sandbox writes.
pub fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(raw) {
        return Some(with_offset.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(naive.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_stands_still_and_advances_on_request() {
        let clock = SandboxClock::default();
        let at = clock.freeze();
        assert_eq!(clock.now(), at);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), at + Duration::seconds(90));
    }

    #[test]
    fn running_clock_keeps_an_offset_after_advance() {
        let clock = SandboxClock::default();
        clock.advance(Duration::hours(2));
        let drift = clock.now() - Utc::now();
        assert!(drift > Duration::minutes(119) && drift <= Duration::hours(2));
        clock.reset_to_real();
        assert!((clock.now() - Utc::now()).num_seconds().abs() < 5);
    }

    #[test]
    fn readings_follow_the_zone_across_the_end_of_daylight_saving() {
        let clock = SandboxClock::default();
        let at = "2026-10-25T00:30:00Z".parse::<DateTime<Utc>>().ok();
        let Some(at) = at else {
            panic!("valid instant")
        };
        assert_eq!(clock.reading(at), at, "UTC by default");
        clock.set_zone(ShopTimeZone::parse("Europe/Berlin").unwrap_or_default());
        let hour = Duration::hours(1);
        // 02:30 CEST, then an hour later 02:30 CET again.
        assert_eq!(
            format_timestamp(clock.reading(at)),
            "2026-10-25T02:30:00.000"
        );
        assert_eq!(
            format_timestamp(clock.reading(at + hour)),
            "2026-10-25T02:30:00.000"
        );
        assert_eq!(
            format_timestamp(clock.reading(at + hour * 2)),
            "2026-10-25T03:30:00.000"
        );
    }

    #[test]
    fn parses_the_formats_clients_send() {
        let expected = "2020-11-29T11:32:00Z".parse::<DateTime<Utc>>().ok();
        assert_eq!(parse_timestamp("2020-11-29T11:32:00"), expected);
        assert_eq!(parse_timestamp("2020-11-29T11:32:00.000"), expected);
        assert_eq!(parse_timestamp("2020-11-29T11:32:00Z"), expected);
        assert_eq!(parse_timestamp("2020-11-29T12:32:00+01:00"), expected);
        assert_eq!(parse_timestamp("2020-11-29T11:32"), expected);
        assert!(parse_timestamp("yesterday").is_none());
    }

    #[test]
    fn formats_without_offset_with_millis() {
        let at = "2023-09-26T09:52:57.567Z".parse::<DateTime<Utc>>();
        assert_eq!(
            at.map(format_timestamp).ok().as_deref(),
            Some("2023-09-26T09:52:57.567")
        );
    }
}
