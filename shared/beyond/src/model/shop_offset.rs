//! Learning the offset of a shop's offset-less timestamps from its own answers.
//!
//! Beyond stamps every HTTP answer with a `Date` header (an instant: UTC, whole seconds)
//! and writes its data as wall-clock readings without an offset (see [`super::shop_time`]).
//! When an order changed moments before an answer that carries it (the answer to the
//! command that changed it, or a read triggered by the webhook of that change), its
//! `updatedAt` reading and the answer's `Date` name almost the same instant, so their
//! difference is the shop's offset at that instant, less the order's age. Offsets are
//! whole quarter hours (every zone in use), so the difference rounded to the nearest
//! quarter hour is the offset, provided the age is small: [`observed_offset`] accepts an
//! observation only when the order changed at most [`MAX_AGE`] before the answer and the
//! offset is within ±14 h; anything else (a slow or stale answer, clocks far apart) teaches
//! nothing.
//!
//! A stale observation can only teach an offset that is too **low** (an order 15 minutes
//! old reads as an offset a quarter hour less), never one too high: the accepted residual
//! lies between −[`MAX_AGE`] and +[`DATE_SLACK`], so rounding never goes up past the truth.
//! Too low only delays orders (the window ends earlier in the shop's readings); too high
//! would let the window reach into the shop's future (docs/ORDER-EVENTS.md, "Shop time").

use chrono::{DateTime, TimeDelta, Utc};

use super::BeyondTimestamp;

/// A decoded answer with the `Date` the shop stamped on it: `None` when the header was
/// absent or not an HTTP date (nothing is learned from it then).
#[derive(Debug, Clone, PartialEq)]
pub struct Dated<T> {
    pub value: T,
    pub date: Option<DateTime<Utc>>,
}

impl<T> Dated<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Dated<U> {
        Dated {
            value: f(self.value),
            date: self.date,
        }
    }
}

/// Offsets are whole quarter hours (UTC+05:45 and UTC+12:45 are the finest in use).
pub const OFFSET_STEP: TimeDelta = TimeDelta::minutes(15);
/// The largest offset in use (UTC+14:00, UTC−12:00).
pub const MAX_OFFSET: TimeDelta = TimeDelta::hours(14);
/// How long before the answer the order may have changed for the answer to teach its
/// offset: a command's own answer is well within it, a webhook-triggered read usually.
pub const MAX_AGE: TimeDelta = TimeDelta::minutes(2);
/// How far the reading may lie *after* the answer's `Date`: the header is cut to whole
/// seconds, and the machine that wrote the order and the one that answered may disagree by
/// a little.
pub const DATE_SLACK: TimeDelta = TimeDelta::seconds(5);

/// The shop's offset (east of UTC) at `answer_date`, learned from the `updatedAt`
/// reading of an order that changed just before that answer; `None` when the pair is not
/// plausible (see the module docs).
pub fn observed_offset(answer_date: DateTime<Utc>, updated: BeyondTimestamp) -> Option<TimeDelta> {
    let difference = updated.0.signed_duration_since(answer_date);
    let step = OFFSET_STEP.num_milliseconds();
    let millis = difference.num_milliseconds();
    // Nearest quarter hour, halves away from zero.
    let quarters = (millis + step / 2 * millis.signum()) / step;
    let offset = TimeDelta::milliseconds(quarters.checked_mul(step)?);
    let residual = difference - offset;
    let plausible = residual >= -MAX_AGE && residual <= DATE_SLACK && offset.abs() <= MAX_OFFSET;
    plausible.then_some(offset)
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

    #[test]
    fn a_fresh_change_teaches_the_offset() {
        let date = utc("2026-07-01T10:00:05Z");
        // Berlin in summer: the reading is two hours ahead, the change 3.2 s before.
        assert_eq!(
            observed_offset(date, reading("2026-07-01T12:00:01.800")),
            Some(TimeDelta::hours(2))
        );
        // UTC; the Date cut to the second lies before the reading's millisecond.
        assert_eq!(
            observed_offset(date, reading("2026-07-01T10:00:05.400")),
            Some(TimeDelta::zero())
        );
        // New York, Kathmandu, Chatham.
        assert_eq!(
            observed_offset(date, reading("2026-07-01T06:00:00")),
            Some(TimeDelta::hours(-4))
        );
        assert_eq!(
            observed_offset(date, reading("2026-07-01T15:45:00.100")),
            Some(TimeDelta::minutes(5 * 60 + 45))
        );
        assert_eq!(
            observed_offset(date, reading("2026-07-01T22:44:10")),
            Some(TimeDelta::minutes(12 * 60 + 45))
        );
    }

    #[test]
    fn old_changes_far_clocks_and_impossible_offsets_teach_nothing() {
        let date = utc("2026-07-01T10:00:00Z");
        // Changed 5 minutes before the answer (a slow answer, a late webhook).
        assert_eq!(observed_offset(date, reading("2026-07-01T11:55:00")), None);
        // A reading well after the answer: not the change just made.
        assert_eq!(observed_offset(date, reading("2026-07-01T12:00:30")), None);
        // Offsets beyond ±14 h.
        assert_eq!(observed_offset(date, reading("2026-07-02T01:00:00")), None);
        assert_eq!(observed_offset(date, reading("2026-06-30T19:00:00")), None);
        assert_eq!(observed_offset(date, reading("1970-01-01T00:00:00")), None);
    }

    #[test]
    fn a_stale_change_never_teaches_a_higher_offset() {
        let date = utc("2026-07-01T10:00:00Z");
        let truth = TimeDelta::hours(2);
        for age_seconds in (0..(3 * 3600)).step_by(7) {
            let age = TimeDelta::seconds(age_seconds);
            let updated = BeyondTimestamp(date - age + truth);
            if let Some(offset) = observed_offset(date, updated) {
                assert!(offset <= truth, "age {age}: {offset}");
            }
        }
    }
}
