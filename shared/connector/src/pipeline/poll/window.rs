//! Which slice of a shop's orders one poll reads, and the checks that make an incremental
//! read safe to checkpoint. Pure: no I/O, so every rule is unit-tested.
//!
//! A poll reads the window `updatedAt ∈ (lower, upper)` of orders created after the
//! tenant's sync start, sorted by `updatedAt` ascending:
//!
//! - `upper` is fixed at the start of the poll to `now − skew`. An order updated while the
//!   poll runs gets an `updatedAt` after `upper`, so it is not half-read now but caught whole
//!   by the next poll; and because nothing can *enter* a window whose end lies in the past,
//!   the window only ever shrinks while it is read (an order updated meanwhile leaves it).
//! - `lower` is the cursor minus an overlap (clock skew between ePages and us, ties at the
//!   cursor's millisecond); a re-read order yields no event, because `diff` compares it with
//!   the ledger.
//! - A resync reads from its `since`, never moving the cursor backwards.
//!
//! Window, cursor and checkpoints are UTC instants. The shop filters and sorts on its own
//! offset-less readings, so [`shop_bounds`] turns the window into the readings to send
//! (across the end of daylight saving, both readings of the repeated hour) and
//! [`to_instants`] turns every order read back into instants, monotonically, so the sort
//! check and the checkpoints below hold in either form (`beyond::model::shop_time`).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::pipeline::poll_request::PollTrigger;
use beyond::model::{BeyondTimestamp, Order, ShopTimeZone};
use domain::tenant::TenantConfig;

/// The bounds of one poll's read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Exclusive; `None` reads from the tenant's sync start.
    pub lower: Option<DateTime<Utc>>,
    /// Exclusive.
    pub upper: DateTime<Utc>,
}

/// The window a poll with `trigger` reads, given the stored cursor.
pub fn plan(
    trigger: &PollTrigger,
    cursor: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    skew: Duration,
    overlap: Duration,
) -> Window {
    let upper = now - delta(skew);
    let lower = match trigger {
        // A targeted read (`Order`) reads no window; planned like the schedule if asked.
        PollTrigger::Schedule | PollTrigger::Webhook | PollTrigger::Order { .. } => {
            cursor.map(|at| at - delta(overlap))
        }
        // The bound is exclusive: one millisecond earlier includes orders updated exactly
        // at `since`.
        PollTrigger::Resync { since, .. } => Some(*since - TimeDelta::milliseconds(1)),
    };
    Window { lower, upper }
}

/// `createdAfter` for a tenant whose sync starts at `sync_start`: exclusive, so one
/// millisecond earlier (an order created exactly at the start is imported).
pub fn created_after(sync_start: DateTime<Utc>) -> DateTime<Utc> {
    sync_start - TimeDelta::milliseconds(1)
}

/// The bounds a read sends to the shop, as the shop's readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopBounds {
    pub created_after: BeyondTimestamp,
    pub updated_after: Option<BeyondTimestamp>,
    pub updated_before: BeyondTimestamp,
}

/// `window` (and the tenant's sync start) in the shop's readings: wide enough to hold the
/// reading of every instant inside, in any zone and across a daylight-saving change.
pub fn shop_bounds(zone: &ShopTimeZone, sync_start: DateTime<Utc>, window: Window) -> ShopBounds {
    let (updated_after, updated_before) = zone.reading_bounds(window.lower, window.upper);
    let (created_after, _) = zone.reading_bounds(Some(created_after(sync_start)), window.upper);
    ShopBounds {
        created_after: created_after.unwrap_or_else(|| zone.reading(sync_start)),
        updated_after,
        updated_before,
    }
}

/// How far a learned offset may be off before something teaches the new one: the shift of
/// a daylight-saving change (docs/ORDER-EVENTS.md, "Learning the offset").
pub const LEARNED_OFFSET_SLACK: TimeDelta = TimeDelta::hours(1);

/// The window to read when the shop's time is a learned offset rather than a configured
/// zone: its start moved back by [`LEARNED_OFFSET_SLACK`]. After daylight saving ends the
/// learned offset is an hour ahead of the shop's clock, so the reading bounds are an hour
/// late; without the slack the orders changed in the hour after each window's end would
/// fall between two windows and never be read. The orders read twice cost reads, not
/// events (the ledger knows them). A configured zone knows its changes: no slack.
pub fn with_learned_offset_slack(tenant: &TenantConfig, window: Window) -> Window {
    if tenant.shop_time_zone.is_some() || tenant.learned_shop_offset.is_none() {
        return window;
    }
    Window {
        lower: window.lower.map(|lower| lower - LEARNED_OFFSET_SLACK),
        ..window
    }
}

/// The orders' readings as the instants they stand for in `zone`.
pub fn to_instants(zone: &ShopTimeZone, orders: &mut [Order]) {
    for order in orders {
        zone.to_utc_readings(order);
    }
}

/// Where a read restarts after a checkpoint at `at`: one millisecond earlier, so orders
/// sharing the checkpoint's millisecond that were not read yet are included.
pub fn restart_after(at: DateTime<Utc>) -> DateTime<Utc> {
    at - TimeDelta::milliseconds(1)
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// Tracks whether the shop really returns the window sorted by `updatedAt` ascending, and
/// whether the window shifted under the offset-based paging.
///
/// Sorting by `updatedAt` is not confirmed by any Beyond source, so it is checked on every
/// page: an order older than one already seen, or an order without `updatedAt`, means the
/// sort does not hold, and the poll may then only advance its cursor once it read the whole
/// window.
#[derive(Debug, Clone, Default)]
pub struct ReadTracker {
    last_seen: Option<DateTime<Utc>>,
    sorted: bool,
    first_total: Option<u64>,
    started: bool,
}

impl ReadTracker {
    pub fn new() -> Self {
        Self {
            sorted: true,
            ..Self::default()
        }
    }

    /// Whether every page so far was sorted.
    pub fn sorted(&self) -> bool {
        self.sorted
    }

    /// Looks at one page. Returns `true` when the window shrank since the first page of
    /// this read (`totalElements` went down): an order moved out, the offsets shifted and an
    /// order may have slipped onto a page already read.
    pub fn observe(&mut self, orders: &[Order], total_elements: Option<u64>) -> bool {
        for order in orders {
            match order.updated_at.map(|at| at.as_utc()) {
                Some(at) => {
                    if self.last_seen.is_some_and(|last| at < last) {
                        self.sorted = false;
                    }
                    self.last_seen = Some(self.last_seen.map_or(at, |last| last.max(at)));
                }
                None => self.sorted = false,
            }
        }
        let shifted = match (self.first_total, total_elements) {
            (Some(first), Some(now)) => now != first,
            _ => false,
        };
        if !self.started {
            self.first_total = total_elements;
            self.started = true;
        }
        shifted
    }

    /// Starts a new read of the window (after a shift); the sort verdict is kept.
    pub fn restart(&mut self) {
        self.first_total = None;
        self.started = false;
        self.last_seen = None;
    }
}

/// The newest `updatedAt` of a page: the checkpoint after it, in a sorted read.
pub fn last_updated(orders: &[Order]) -> Option<DateTime<Utc>> {
    orders
        .iter()
        .filter_map(|order| order.updated_at.map(|at| at.as_utc()))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("valid time")
    }

    fn order(updated: Option<i64>) -> Order {
        let mut value = serde_json::json!({ "_id": Uuid::new_v4() });
        if let Some(seconds) = updated {
            value["updatedAt"] = serde_json::json!(BeyondTimestamp(at(seconds)).to_wire());
        }
        serde_json::from_value(value).expect("a minimal order parses")
    }

    #[test]
    fn incremental_window_overlaps_the_cursor_and_ends_before_now() {
        let window = plan(
            &PollTrigger::Schedule,
            Some(at(1000)),
            at(2000),
            Duration::from_secs(30),
            Duration::from_secs(120),
        );
        assert_eq!(window.lower, Some(at(880)));
        assert_eq!(window.upper, at(1970));
        let first = plan(
            &PollTrigger::Webhook,
            None,
            at(2000),
            Duration::from_secs(30),
            Duration::from_secs(120),
        );
        assert_eq!(first.lower, None);
    }

    #[test]
    fn resync_reads_from_since_whatever_the_cursor() {
        let window = plan(
            &PollTrigger::Resync {
                since: at(10),
                force: false,
            },
            Some(at(1000)),
            at(2000),
            Duration::from_secs(30),
            Duration::from_secs(120),
        );
        assert_eq!(window.lower, Some(at(10) - TimeDelta::milliseconds(1)));
    }

    #[test]
    fn shop_bounds_are_the_shop_readings_and_cover_the_repeated_hour() {
        let utc = |text: &str| text.parse::<DateTime<Utc>>().expect("an instant");
        let reading = |text: &str| text.parse::<BeyondTimestamp>().expect("a reading");
        let berlin = ShopTimeZone::parse("Europe/Berlin").expect("a zone");
        // A poll at 01:05 UTC on 2026-10-25, cursor at 00:59:30: the clocks went back at
        // 01:00 UTC (03:00 CEST → 02:00 CET).
        let window = plan(
            &PollTrigger::Schedule,
            Some(utc("2026-10-25T00:59:30Z")),
            utc("2026-10-25T01:05:00Z"),
            Duration::from_secs(30),
            Duration::from_secs(60),
        );
        let bounds = shop_bounds(&berlin, utc("2026-10-01T00:00:00Z"), window);
        assert_eq!(bounds.created_after, reading("2026-10-01T01:59:59.999"));
        assert_eq!(
            bounds.updated_after,
            Some(reading("2026-10-25T01:59:59.999"))
        );
        assert_eq!(bounds.updated_before, reading("2026-10-25T03:00:00"));
        let plain = shop_bounds(&ShopTimeZone::utc(), utc("2026-10-01T00:00:00Z"), window);
        assert_eq!(plain.updated_after, Some(reading("2026-10-25T00:58:30")));
        assert_eq!(plain.updated_before, reading("2026-10-25T01:04:30"));

        let mut orders = vec![order(None)];
        orders[0].updated_at = Some(reading("2026-10-25T02:30:00"));
        to_instants(&berlin, &mut orders);
        assert_eq!(
            orders[0].updated_at.map(|at| at.as_utc()),
            Some(utc("2026-10-25T00:30:00Z")),
            "the earlier instant of a repeated reading"
        );
    }

    #[test]
    fn sorted_pages_pass_and_a_step_back_or_a_missing_time_fails() {
        let mut tracker = ReadTracker::new();
        assert!(!tracker.observe(&[order(Some(1)), order(Some(1)), order(Some(2))], Some(5)));
        assert!(!tracker.observe(&[order(Some(3)), order(Some(4))], Some(5)));
        assert!(tracker.sorted());

        let mut unsorted = ReadTracker::new();
        unsorted.observe(&[order(Some(3))], Some(2));
        unsorted.observe(&[order(Some(2))], Some(2));
        assert!(!unsorted.sorted());

        let mut missing = ReadTracker::new();
        missing.observe(&[order(None)], Some(1));
        assert!(!missing.sorted());
    }

    #[test]
    fn a_shrinking_total_is_a_shift_and_restart_forgets_it() {
        let mut tracker = ReadTracker::new();
        assert!(!tracker.observe(&[order(Some(1))], Some(3)));
        assert!(tracker.observe(&[order(Some(2))], Some(2)));
        tracker.restart();
        assert!(!tracker.observe(&[order(Some(2))], Some(2)));
        assert_eq!(last_updated(&[order(Some(2)), order(Some(7))]), Some(at(7)));
    }
}
