//! The chaos test's own model of one SKU's shop stock across Afosto locations, written from
//! docs/COMMANDS.md ("stock", "Orders Afosto cannot know yet"), not from the connector:
//! per-location levels that only move forward in `observedAt`, the shop brought to the sum
//! of the counting locations less the pieces of emitted orders Afosto could not know, and
//! the shop's own decrement when it takes an order.

use std::collections::BTreeMap;

use super::model::Outcome;

/// Locations of the workload: two count towards the shop, one is ignored.
pub const COUNTING_LOCATIONS: [&str; 2] = ["wh-1", "wh-3"];
pub const IGNORED_LOCATION: &str = "wh-2";

#[derive(Clone, Debug)]
pub struct Stock {
    /// The shop's `availableStock` as the model predicts it.
    pub shop: i64,
    /// Counting location → (level, `observedAt` ms) of its newest level.
    levels: BTreeMap<&'static str, (i64, i64)>,
    /// Whether the connector keeps a record for the SKU (after its first counting
    /// command): only then are emitted orders remembered.
    tracked: bool,
    /// Emitted orders not known to Afosto's newest level yet: (emitted ms, pieces).
    unknown: Vec<(i64, i64)>,
    /// Levels applied with orders Afosto could not know taken off (for the summary).
    pub targets_less_unknown_orders: usize,
}

impl Stock {
    pub fn new(initial: i64) -> Self {
        Self {
            shop: initial,
            levels: BTreeMap::new(),
            tracked: false,
            unknown: Vec::new(),
            targets_less_unknown_orders: 0,
        }
    }

    /// The shop took an order's pieces when it was placed.
    pub fn order_placed(&mut self, pieces: i64) {
        self.shop -= pieces;
    }

    /// A read emitted an order with `pieces` of this SKU at `emitted_ms`: the fast path's,
    /// before the round's stock levels, or the scheduled poll's, after them.
    pub fn order_emitted(&mut self, pieces: i64, emitted_ms: i64) {
        if self.tracked {
            self.unknown.push((emitted_ms, pieces));
        }
    }

    /// Applies one stock command in queue order (the SKU's FIFO group) and says how it
    /// must end.
    pub fn apply(&mut self, location: &'static str, quantity: i64, observed_ms: i64) -> Outcome {
        if !COUNTING_LOCATIONS.contains(&location) {
            return Outcome::Skipped("location_not_synced");
        }
        self.tracked = true;
        if self
            .levels
            .get(location)
            .is_some_and(|(_, last)| observed_ms <= *last)
        {
            return Outcome::Skipped("stale_observation");
        }
        self.levels.insert(location, (quantity, observed_ms));
        let newest = self.levels.values().map(|(_, at)| *at).max().unwrap_or(0);
        // Orders emitted up to the newest level are in it: known from now on.
        self.unknown.retain(|(emitted, _)| *emitted > newest);
        let sum: i64 = self.levels.values().map(|(level, _)| level).sum();
        let unknown: i64 = self.unknown.iter().map(|(_, pieces)| pieces).sum();
        if unknown > 0 {
            self.targets_less_unknown_orders += 1;
        }
        let target = (sum - unknown).clamp(0, i64::from(i32::MAX));
        if self.shop == target {
            Outcome::Skipped("already_in_effect")
        } else {
            self.shop = target;
            Outcome::Applied
        }
    }
}
