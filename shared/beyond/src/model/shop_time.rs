//! The shop's time zone: what Beyond's offset-less timestamps mean.
//!
//! Beyond writes `2023-09-26T10:01:50.657` with no offset (beyond-api.md §2), and the
//! official spec's examples read like Central European (Summer) Time, two hours ahead of
//! the token's `iat` of the same run. So a timestamp is a **reading** of the shop's wall
//! clock, and only the shop's zone turns it into an instant. [`BeyondTimestamp`] keeps the
//! reading as it came (held in a `DateTime<Utc>` whose fields are the wall-clock fields);
//! [`ShopTimeZone`] converts:
//!
//! - [`ShopTimeZone::instant`]: a reading → the instant it stands for. A reading of the
//!   hour that repeats when daylight saving ends stands for two instants: the **earlier**
//!   one is taken, so a cursor built from it never passes an order that was not read. A
//!   reading of the hour that is skipped when it starts names no instant: the transition
//!   itself is taken. Both keep the conversion monotone (a later reading never gives an
//!   earlier instant), which is what a sorted read checkpoints on.
//! - [`ShopTimeZone::reading_bounds`]: instants `(lower, upper)` → the exclusive bounds
//!   `updatedAfter` / `updatedBefore` to send, wide enough to hold the reading of every
//!   instant in between: across the end of daylight saving that is both readings of the
//!   repeated hour (the ledger drops what was read before).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{BeyondTimestamp, Order};

/// A shop's time zone: `UTC` or an IANA name (`Europe/Berlin`), validated against the
/// time zone database compiled into the binary.
#[derive(Clone)]
pub struct ShopTimeZone {
    name: String,
    zone: TimeZone,
}

/// The name is not a time zone.
#[derive(Debug, thiserror::Error)]
#[error("not a time zone: {name:?} (use an IANA name such as Europe/Berlin, or UTC)")]
pub struct InvalidTimeZone {
    name: String,
    #[source]
    source: jiff::Error,
}

/// How far apart in time two readings of one transition can lie: more than any offset
/// change the database holds, so every transition that can widen a window is looked at.
const TRANSITION_REACH: TimeDelta = TimeDelta::days(2);

impl ShopTimeZone {
    /// Readings are UTC: what the connector assumed before shop zones existed, and the
    /// default of a tenant without a zone.
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            zone: TimeZone::UTC,
        }
    }

    /// A fixed offset east of UTC (`UTC+02:00`), with no daylight saving: what the
    /// connector learns of a shop without a configured zone (`super::shop_offset`).
    /// `None` beyond ±18 h or for an offset that is not whole seconds.
    pub fn fixed(offset: TimeDelta) -> Option<Self> {
        if offset.is_zero() {
            return Some(Self::utc());
        }
        if offset.subsec_nanos() != 0 {
            return None;
        }
        let seconds = i32::try_from(offset.num_seconds()).ok()?;
        let zone = TimeZone::fixed(jiff::tz::Offset::from_seconds(seconds).ok()?);
        let (sign, magnitude) = if seconds < 0 {
            ('-', -seconds)
        } else {
            ('+', seconds)
        };
        let (hours, minutes) = (magnitude / 3600, magnitude % 3600 / 60);
        let mut name = format!("UTC{sign}{hours:02}:{minutes:02}");
        if magnitude % 60 != 0 {
            name.push_str(&format!(":{:02}", magnitude % 60));
        }
        Some(Self { name, zone })
    }

    /// A zone by its IANA name (`Europe/Berlin`), `UTC`, or a fixed offset
    /// (`UTC+02:00`, `UTC-05:30`).
    pub fn parse(name: &str) -> Result<Self, InvalidTimeZone> {
        let name = name.trim();
        if let Some(fixed) = parse_fixed(name) {
            return Ok(fixed);
        }
        let zone = TimeZone::get(name).map_err(|source| InvalidTimeZone {
            name: name.to_owned(),
            source,
        })?;
        Ok(Self {
            name: zone.iana_name().unwrap_or(name).to_owned(),
            zone,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_utc(&self) -> bool {
        self.offset_free()
    }

    /// The offset in force at `instant`.
    pub fn offset_at(&self, instant: DateTime<Utc>) -> TimeDelta {
        TimeDelta::seconds(i64::from(self.zone.to_offset(timestamp(instant)).seconds()))
    }

    /// The shop's wall-clock reading of `instant`.
    pub fn reading(&self, instant: DateTime<Utc>) -> BeyondTimestamp {
        BeyondTimestamp(instant + self.offset_at(instant))
    }

    /// The instant a reading stands for (see the module docs for the repeated and the
    /// skipped hour).
    pub fn instant(&self, reading: BeyondTimestamp) -> DateTime<Utc> {
        let at = reading.0;
        if self.offset_free() {
            return at;
        }
        let Some(civil) = civil(at) else {
            return at;
        };
        match self.zone.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => at - seconds(offset),
            AmbiguousOffset::Fold { before, after } => at - seconds(before).max(seconds(after)),
            AmbiguousOffset::Gap { before, .. } => {
                // The skipped readings start at `transition + before`.
                let past_the_gap = at - seconds(before);
                self.transitions_between(past_the_gap - TRANSITION_REACH, past_the_gap)
                    .last()
                    .copied()
                    .unwrap_or(past_the_gap)
            }
        }
    }

    /// The **later** instant a reading may stand for: differs from [`Self::instant`] only
    /// for a reading of the hour that repeats.
    pub fn latest_instant(&self, reading: BeyondTimestamp) -> DateTime<Utc> {
        let at = reading.0;
        if self.offset_free() {
            return at;
        }
        match civil(at).map(|civil| self.zone.to_ambiguous_timestamp(civil).offset()) {
            Some(AmbiguousOffset::Fold { before, after }) => {
                at - seconds(before).min(seconds(after))
            }
            _ => self.instant(reading),
        }
    }

    /// Turns the order's readings (`createdAt`, `updatedAt`, `entryDate`) into the UTC
    /// instants they stand for, so everything downstream compares instants. An
    /// `updatedAt` of the repeated hour also keeps its later instant
    /// (`Order::updated_at_latest`): a snapshot is only certainly older than another when
    /// even that is older (the stale-read guard of the order diff).
    pub fn to_utc_readings(&self, order: &mut Order) {
        if self.offset_free() {
            return;
        }
        order.updated_at_latest = order.updated_at.and_then(|reading| {
            let latest = self.latest_instant(reading);
            (latest != self.instant(reading)).then_some(BeyondTimestamp(latest))
        });
        for at in [
            &mut order.created_at,
            &mut order.updated_at,
            &mut order.entry_date,
        ]
        .into_iter()
        .flatten()
        {
            *at = BeyondTimestamp(self.instant(*at));
        }
    }

    /// Exclusive reading bounds holding the reading of every instant in `(lower, upper)`.
    /// `lower = None` reads from the beginning.
    pub fn reading_bounds(
        &self,
        lower: Option<DateTime<Utc>>,
        upper: DateTime<Utc>,
    ) -> (Option<BeyondTimestamp>, BeyondTimestamp) {
        let lower_bound = lower.map(|lower| {
            // Just after a transition back the readings restart lower: one millisecond
            // below the first of them, so it is included.
            let end = (lower + TRANSITION_REACH).min(upper);
            self.transitions_between(lower, end)
                .iter()
                .map(|&at| self.reading(at).0 - TimeDelta::milliseconds(1))
                .fold(self.reading(lower).0, DateTime::min)
        });
        // Just before a transition back the readings ran up to `at + offset before`.
        let start = lower.map_or(upper - TRANSITION_REACH, |lower| {
            lower.max(upper - TRANSITION_REACH)
        });
        let upper_bound = self
            .transitions_between(start, upper)
            .iter()
            .map(|&at| at + self.offset_at(at - TimeDelta::milliseconds(1)))
            .fold(self.reading(upper).0, DateTime::max);
        (
            lower_bound.map(BeyondTimestamp),
            BeyondTimestamp(upper_bound),
        )
    }

    /// Offset changes strictly after `from` and at or before `to`.
    fn transitions_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        if self.offset_free() || from >= to {
            return Vec::new();
        }
        self.zone
            .following(timestamp(from))
            .map(|transition| instant_of(transition.timestamp()))
            .take_while(|&at| at <= to)
            .collect()
    }

    fn offset_free(&self) -> bool {
        self.zone
            .to_fixed_offset()
            .is_ok_and(|offset| offset.seconds() == 0)
    }
}

/// `UTC+HH:MM` / `UTC-HH:MM` (seconds optional), as [`ShopTimeZone::fixed`] names them.
fn parse_fixed(name: &str) -> Option<ShopTimeZone> {
    let rest = name.strip_prefix("UTC")?;
    let (sign, rest) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let mut parts = rest.split(':');
    let mut next = || -> Option<i64> {
        let part = parts.next()?;
        (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let hours = next()?;
    let minutes = next()?;
    let seconds = match parts.next() {
        None => 0,
        Some(part) if part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()) => {
            part.parse().ok()?
        }
        Some(_) => return None,
    };
    if parts.next().is_some() || minutes >= 60 || seconds >= 60 {
        return None;
    }
    ShopTimeZone::fixed(TimeDelta::seconds(
        sign * (hours * 3600 + minutes * 60 + seconds),
    ))
}

fn timestamp(instant: DateTime<Utc>) -> jiff::Timestamp {
    let nanos = i32::try_from(instant.timestamp_subsec_nanos().min(999_999_999)).unwrap_or(0);
    jiff::Timestamp::new(instant.timestamp(), nanos).unwrap_or(if instant.timestamp() < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    })
}

fn instant_of(at: jiff::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(
        at.as_second(),
        u32::try_from(at.subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn civil(reading: DateTime<Utc>) -> Option<jiff::civil::DateTime> {
    use chrono::{Datelike, Timelike};
    let naive = reading.naive_utc();
    jiff::civil::DateTime::new(
        i16::try_from(naive.year()).ok()?,
        i8::try_from(naive.month()).ok()?,
        i8::try_from(naive.day()).ok()?,
        i8::try_from(naive.hour()).ok()?,
        i8::try_from(naive.minute()).ok()?,
        i8::try_from(naive.second()).ok()?,
        i32::try_from(naive.nanosecond().min(999_999_999)).ok()?,
    )
    .ok()
}

fn seconds(offset: jiff::tz::Offset) -> TimeDelta {
    TimeDelta::seconds(i64::from(offset.seconds()))
}

impl Default for ShopTimeZone {
    fn default() -> Self {
        Self::utc()
    }
}

impl PartialEq for ShopTimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ShopTimeZone {}

impl fmt::Debug for ShopTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShopTimeZone({})", self.name)
    }
}

impl fmt::Display for ShopTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for ShopTimeZone {
    type Err = InvalidTimeZone;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::parse(name)
    }
}

impl Serialize for ShopTimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for ShopTimeZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 instant")
    }

    fn reading(text: &str) -> BeyondTimestamp {
        text.parse().expect("a Beyond timestamp")
    }

    fn berlin() -> ShopTimeZone {
        ShopTimeZone::parse("Europe/Berlin").expect("a known zone")
    }

    #[test]
    fn names_are_validated_and_round_trip() {
        assert_eq!(berlin().name(), "Europe/Berlin");
        assert!(ShopTimeZone::parse("UTC").expect("UTC").is_utc());
        assert!(!berlin().is_utc());
        let error = ShopTimeZone::parse("Europe/Atlantis").expect_err("unknown");
        assert!(error.to_string().contains("Europe/Atlantis"));
        assert!(ShopTimeZone::parse("").is_err());
        let json = serde_json::to_string(&berlin()).expect("serializes");
        assert_eq!(json, "\"Europe/Berlin\"");
        let back: ShopTimeZone = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, berlin());
        assert!(serde_json::from_str::<ShopTimeZone>("\"Mars/Olympus\"").is_err());
    }

    #[test]
    fn fixed_offsets_are_named_and_round_trip() {
        let plus_two = ShopTimeZone::fixed(TimeDelta::hours(2)).expect("an offset");
        assert_eq!(plus_two.name(), "UTC+02:00");
        assert_eq!(
            plus_two.instant(reading("2026-12-01T12:00:00")),
            utc("2026-12-01T10:00:00Z"),
            "a fixed offset keeps no daylight saving"
        );
        let minus = ShopTimeZone::fixed(TimeDelta::minutes(-(9 * 60 + 30))).expect("an offset");
        assert_eq!(minus.name(), "UTC-09:30");
        assert_eq!(ShopTimeZone::parse("UTC-09:30").expect("parses"), minus);
        assert_eq!(
            ShopTimeZone::parse(" UTC+05:45 ")
                .expect("parses")
                .offset_at(Utc::now()),
            TimeDelta::minutes(345)
        );
        assert!(
            ShopTimeZone::fixed(TimeDelta::zero())
                .expect("UTC")
                .is_utc()
        );
        assert!(ShopTimeZone::fixed(TimeDelta::hours(30)).is_none());
        assert!(ShopTimeZone::fixed(TimeDelta::milliseconds(1500)).is_none());
        for bad in [
            "UTC+2",
            "UTC+02:60",
            "UTC+02:00:00:00",
            "UTC*02:00",
            "UTC+0a:00",
            "UTC+99:00",
        ] {
            assert!(ShopTimeZone::parse(bad).is_err(), "{bad}");
        }
        let json = serde_json::to_string(&plus_two).expect("serializes");
        assert_eq!(
            serde_json::from_str::<ShopTimeZone>(&json).expect("deserializes"),
            plus_two
        );
    }

    #[test]
    fn readings_and_instants_in_summer_and_winter() {
        let zone = berlin();
        // The spec's example: `iat` 07:17:42 UTC, timestamps of the same run at 09:20.
        assert_eq!(
            zone.reading(utc("2023-09-26T07:17:42Z")),
            reading("2023-09-26T09:17:42")
        );
        assert_eq!(
            zone.instant(reading("2023-09-26T09:20:00")),
            utc("2023-09-26T07:20:00Z")
        );
        assert_eq!(
            zone.instant(reading("2024-01-10T12:00:00.250")),
            utc("2024-01-10T11:00:00.250Z")
        );
        let plain = ShopTimeZone::utc();
        let at = utc("2024-01-10T12:00:00Z");
        assert_eq!(plain.instant(plain.reading(at)), at);
    }

    #[test]
    fn the_latest_instant_of_a_repeated_reading_is_its_second_pass() {
        let zone = berlin();
        let repeated = reading("2026-10-25T02:30:00");
        assert_eq!(zone.latest_instant(repeated), utc("2026-10-25T01:30:00Z"));
        // Outside the repeated hour there is one instant; UTC has no repeated hour.
        let summer = reading("2026-07-01T12:00:00");
        assert_eq!(zone.latest_instant(summer), zone.instant(summer));
        let utc_zone = ShopTimeZone::parse("UTC").expect("UTC");
        assert_eq!(utc_zone.latest_instant(repeated), repeated.0);
    }

    #[test]
    fn the_repeated_hour_reads_as_its_earlier_instant_and_stays_monotone() {
        // 2026-10-25: 03:00 CEST (01:00 UTC) becomes 02:00 CET.
        let zone = berlin();
        assert_eq!(
            zone.instant(reading("2026-10-25T02:30:00")),
            utc("2026-10-25T00:30:00Z")
        );
        assert_eq!(
            zone.reading(utc("2026-10-25T01:30:00Z")),
            reading("2026-10-25T02:30:00")
        );
        assert_eq!(
            zone.latest_instant(reading("2026-10-25T02:30:00")),
            utc("2026-10-25T01:30:00Z"),
            "the later instant of a repeated reading"
        );
        assert_eq!(
            zone.latest_instant(reading("2026-10-25T03:30:00")),
            zone.instant(reading("2026-10-25T03:30:00"))
        );
        let mut last = None;
        for minute in 0..(5 * 60) {
            let at = reading("2026-10-25T00:00:00").0 + TimeDelta::minutes(minute);
            let instant = zone.instant(BeyondTimestamp(at));
            assert!(last.is_none_or(|last| instant >= last), "{at}");
            last = Some(instant);
        }
    }

    #[test]
    fn a_skipped_reading_is_the_transition_and_stays_monotone() {
        // 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST.
        let zone = berlin();
        let transition = utc("2026-03-29T01:00:00Z");
        assert_eq!(zone.instant(reading("2026-03-29T02:30:00")), transition);
        assert_eq!(zone.instant(reading("2026-03-29T03:00:00")), transition);
        assert_eq!(
            zone.instant(reading("2026-03-29T01:59:00")),
            utc("2026-03-29T00:59:00Z")
        );
    }

    #[test]
    fn bounds_hold_every_reading_of_the_window() {
        let zone = berlin();
        for (lower, upper) in [
            // Summer, winter, across the end and across the start of daylight saving.
            ("2026-07-01T10:00:00Z", "2026-07-01T10:05:00Z"),
            ("2026-12-01T10:00:00Z", "2026-12-01T10:05:00Z"),
            ("2026-10-25T00:58:00Z", "2026-10-25T01:04:30Z"),
            ("2026-10-25T00:10:00Z", "2026-10-25T02:10:00Z"),
            ("2026-10-25T01:20:00Z", "2026-10-25T01:25:00Z"),
            ("2026-03-29T00:58:00Z", "2026-03-29T01:04:30Z"),
        ] {
            let (lower, upper) = (utc(lower), utc(upper));
            let (after, before) = zone.reading_bounds(Some(lower), upper);
            let after = after.expect("a lower bound");
            let mut at = lower + TimeDelta::milliseconds(1);
            while at < upper {
                let read = zone.reading(at);
                assert!(
                    after < read && read < before,
                    "{at}: {after} < {read} < {before}"
                );
                at += TimeDelta::seconds(7);
            }
        }
        // Across the end of daylight saving both readings of the repeated hour are read.
        let (after, before) = zone.reading_bounds(
            Some(utc("2026-10-25T00:58:00Z")),
            utc("2026-10-25T01:04:30Z"),
        );
        assert_eq!(after, Some(reading("2026-10-25T01:59:59.999")));
        assert_eq!(before, reading("2026-10-25T03:00:00"));
        // Plain windows are the plain readings.
        let (after, before) = zone.reading_bounds(
            Some(utc("2026-12-01T10:00:00Z")),
            utc("2026-12-01T10:05:00Z"),
        );
        assert_eq!(after, Some(reading("2026-12-01T11:00:00")));
        assert_eq!(before, reading("2026-12-01T11:05:00"));
        let (none, before) = ShopTimeZone::utc().reading_bounds(None, utc("2026-12-01T10:05:00Z"));
        assert_eq!((none, before), (None, reading("2026-12-01T10:05:00")));
    }
}
