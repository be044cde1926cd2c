//! `stock`: bring a SKU's shop availability to the sum of Afosto's absolute levels over the
//! locations that count towards the shop. Beyond keeps one number per SKU and only adjusts
//! it relatively (`adjust-available-stock` with a delta), so a retried call applies twice;
//! the planner therefore always works from a fresh read and an absolute target.
//!
//! Three pure steps: [`judge_level`] (is the command's level newer than its location's
//! last? one clock per location: Afosto's `observedAt`), [`shop_target`] (the sum over the
//! counting locations, less the pieces of orders Afosto cannot know yet) and
//! [`plan_stock`] (the call that reaches the target from the fresh read).

use chrono::{DateTime, Utc};

use super::{Plan, PlanError, PlanNote, PlannedCall};
use crate::stock_mark::{LocationLevel, SkuStock};
use contracts::command::MAX_STOCK_LEVEL;

/// What to do with a command's level for its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelDecision {
    /// Newer than the location's last level (or the first): record it.
    Record,
    /// The location's last level is this command's own (a redelivery after a crash):
    /// finish bringing the shop to the target.
    Redelivered,
    /// Observed no later than the location's last level from another command: applying it
    /// would move the location back in time.
    Stale { last: DateTime<Utc> },
}

/// Judges a level observed at `observed_at` by command `command_id` against the
/// location's stored level.
pub fn judge_level(
    stored: Option<&LocationLevel>,
    command_id: &str,
    observed_at: DateTime<Utc>,
) -> LevelDecision {
    match stored {
        None => LevelDecision::Record,
        Some(last) if last.command_id == command_id && last.observed_at == observed_at => {
            LevelDecision::Redelivered
        }
        Some(last) if observed_at <= last.observed_at => LevelDecision::Stale {
            last: last.observed_at,
        },
        Some(_) => LevelDecision::Record,
    }
}

/// An order the shop took whose pieces Afosto's levels cannot include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOrder {
    pub order_id: String,
    pub quantity: i64,
}

/// The shop stock the levels ask for, and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopTarget {
    /// The counting locations' levels, by location.
    pub locations: Vec<(String, i64)>,
    /// Orders taken off the target: emitted after the newest counting level's
    /// `observedAt`.
    pub unknown_orders: Vec<UnknownOrder>,
    /// Emitted orders the newest counting level includes: no longer needed.
    pub known_orders: Vec<String>,
    /// `Σ levels − Σ unknown orders`, within `0..=MAX_STOCK_LEVEL`.
    pub target: i64,
}

impl ShopTarget {
    /// What the result's details say about the target.
    pub fn notes(&self) -> Vec<PlanNote> {
        let mut notes = Vec::new();
        if self.locations.len() > 1 {
            notes.push(PlanNote::StockSumOfLocations {
                locations: self.locations.clone(),
            });
        }
        if !self.unknown_orders.is_empty() {
            notes.push(PlanNote::OrdersAfostoCannotKnow {
                orders: self.unknown_orders.len(),
                pieces: self.unknown_orders.iter().map(|o| o.quantity).sum(),
            });
        }
        notes
    }
}

/// The target for the shop: the sum of the latest levels of the locations for which
/// `counts` is true, less the pieces of the orders Afosto cannot know yet. An emitted
/// order counts as unknown when it was emitted after the newest `observedAt` among the
/// counting levels: every order Afosto imports changes a level of some location, and that
/// level is observed after the import. Orders the shop took that the connector has not
/// emitted yet are not known here (docs/COMMANDS.md says why and what that costs).
pub fn shop_target(stock: &SkuStock, counts: impl Fn(&str) -> bool) -> ShopTarget {
    let counting: Vec<(&String, &LocationLevel)> = stock
        .levels
        .iter()
        .filter(|(location, _)| counts(location))
        .collect();
    let newest = counting.iter().map(|(_, level)| level.observed_at).max();
    let unknown_orders: Vec<UnknownOrder> = stock
        .orders
        .iter()
        .filter(|(_, order)| newest.is_none_or(|newest| order.emitted_at > newest))
        .map(|(order_id, order)| UnknownOrder {
            order_id: order_id.clone(),
            quantity: order.quantity.max(0),
        })
        .collect();
    let known_orders = stock
        .orders
        .iter()
        .filter(|(_, order)| newest.is_some_and(|newest| order.emitted_at <= newest))
        .map(|(order_id, _)| order_id.clone())
        .collect();
    let sum: i64 = counting
        .iter()
        .map(|(_, level)| level.level)
        .fold(0i64, i64::saturating_add);
    let unknown: i64 = unknown_orders
        .iter()
        .map(|o| o.quantity)
        .fold(0i64, i64::saturating_add);
    ShopTarget {
        locations: counting
            .into_iter()
            .map(|(location, level)| (location.clone(), level.level))
            .collect(),
        unknown_orders,
        known_orders,
        // Below zero nothing more can be sold either; above Beyond's 32 bits nothing can
        // be reached.
        target: sum.saturating_sub(unknown).clamp(0, MAX_STOCK_LEVEL),
    }
}

/// The tenant's settings that decide a stock plan. Kept apart from the tenant
/// configuration so the planner needs nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockSettings {
    /// Turn on stock management for an unmanaged product, with the target as its initial
    /// stock, instead of failing.
    pub enable_stock_management_if_unmanaged: bool,
}

/// The call that brings `available` (a fresh read; `None` when Beyond does not manage the
/// item's stock) to `target`; already in effect when it is there.
pub fn plan_stock(
    sku: &str,
    target: i64,
    available: Option<i64>,
    settings: &StockSettings,
    notes: Vec<PlanNote>,
) -> Result<Plan, PlanError> {
    let call = match available {
        None if settings.enable_stock_management_if_unmanaged => {
            PlannedCall::EnableStockManagement { initial: target }
        }
        None => {
            return Err(PlanError::StockUnmanaged {
                sku: sku.to_owned(),
            });
        }
        Some(current) if current == target => return Ok(Plan::already_in_effect(notes)),
        Some(current) => PlannedCall::AdjustStock {
            target,
            // Saturate rather than trust a shop's number.
            delta: target.saturating_sub(current),
        },
    };
    Ok(Plan::from_calls(vec![call], notes))
}

/// An adjustment whose outcome is unknown (the POST timed out or the connection broke):
/// the level read before it and the delta posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdjustIntent {
    pub before: i64,
    pub delta: i64,
}

/// What a fresh read says about an ambiguous adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustReconciliation {
    /// The stock is `before + delta`: the adjustment landed; advance the mark.
    Applied,
    /// The stock is still `before`: it did not land; posting the same delta is safe.
    NotApplied,
    /// Anything else: someone else changed the stock too (a sale, the merchant), so
    /// whether ours landed cannot be told. Plan again from `current` towards the absolute
    /// target, which is right either way.
    ChangedElsewhere { current: Option<i64> },
}

/// Decides an ambiguous adjustment from a fresh read. A concurrent change of exactly
/// `-delta` after ours landed looks like `NotApplied`; Beyond offers no way to tell them
/// apart, and the next stock command corrects the level again.
pub fn reconcile_ambiguous_adjustment(
    intent: &AdjustIntent,
    fresh: Option<i64>,
) -> AdjustReconciliation {
    match fresh {
        Some(current) if Some(current) == intent.before.checked_add(intent.delta) => {
            AdjustReconciliation::Applied
        }
        Some(current) if current == intent.before => AdjustReconciliation::NotApplied,
        current => AdjustReconciliation::ChangedElsewhere { current },
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::command_plan::Outcome;
    use crate::stock_mark::EmittedOrder;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, second)
            .single()
            .expect("a valid time")
    }

    fn level(level: i64, second: u32, command: &str) -> LocationLevel {
        LocationLevel {
            level,
            observed_at: at(second),
            command_id: command.to_owned(),
        }
    }

    const SETTINGS: StockSettings = StockSettings {
        enable_stock_management_if_unmanaged: false,
    };

    #[test]
    fn levels_are_judged_per_location_by_observed_at() {
        assert_eq!(judge_level(None, "c1", at(5)), LevelDecision::Record);
        let stored = level(10, 5, "c1");
        assert_eq!(
            judge_level(Some(&stored), "c2", at(6)),
            LevelDecision::Record
        );
        for second in [4, 5] {
            assert_eq!(
                judge_level(Some(&stored), "c2", at(second)),
                LevelDecision::Stale { last: at(5) }
            );
        }
        assert_eq!(
            judge_level(Some(&stored), "c1", at(5)),
            LevelDecision::Redelivered
        );
    }

    #[test]
    fn the_target_is_the_sum_of_the_counting_locations() {
        let mut stock = SkuStock::new("EB001");
        stock.levels.insert("wh1".into(), level(10, 1, "a"));
        stock.levels.insert("wh2".into(), level(5, 2, "b"));
        stock.levels.insert("wh3".into(), level(100, 3, "c"));
        let target = shop_target(&stock, |l| l != "wh3");
        assert_eq!(target.target, 15);
        assert_eq!(
            target.locations,
            vec![("wh1".to_owned(), 10), ("wh2".to_owned(), 5)]
        );
        assert_eq!(target.notes().len(), 1, "the sum is explained");
        assert_eq!(shop_target(&SkuStock::new("x"), |_| true).target, 0);
    }

    #[test]
    fn orders_emitted_after_the_newest_level_are_taken_off() {
        let mut stock = SkuStock::new("EB001");
        stock.levels.insert("wh1".into(), level(10, 10, "a"));
        stock.levels.insert("wh2".into(), level(5, 20, "b"));
        // Ignored locations do not make an order known.
        stock.levels.insert("wh3".into(), level(100, 50, "c"));
        for (order, quantity, second) in [("known", 1, 15), ("edge", 2, 20), ("new", 3, 21)] {
            stock.orders.insert(
                order.into(),
                EmittedOrder {
                    quantity,
                    emitted_at: at(second),
                },
            );
        }
        let target = shop_target(&stock, |l| l != "wh3");
        // 15 − 3: only "new" was emitted after wh2's level, the newest counting one.
        assert_eq!(target.target, 12);
        assert_eq!(target.unknown_orders.len(), 1);
        assert_eq!(
            target.known_orders,
            vec!["edge".to_owned(), "known".to_owned()]
        );
        assert!(
            target.notes().iter().any(|n| matches!(
                n,
                PlanNote::OrdersAfostoCannotKnow {
                    orders: 1,
                    pieces: 3
                }
            )),
            "{:?}",
            target.notes()
        );
        // Never below zero, never beyond Beyond's 32 bits.
        stock.orders.insert(
            "big".into(),
            EmittedOrder {
                quantity: 1000,
                emitted_at: at(40),
            },
        );
        assert_eq!(shop_target(&stock, |l| l != "wh3").target, 0);
        stock.orders.clear();
        stock
            .levels
            .insert("wh1".into(), level(MAX_STOCK_LEVEL, 10, "a"));
        assert_eq!(shop_target(&stock, |_| true).target, MAX_STOCK_LEVEL);
    }

    #[test]
    fn the_delta_brings_the_stock_to_the_target() {
        let plan = plan_stock("EB001", 7, Some(10), &SETTINGS, Vec::new()).unwrap();
        assert_eq!(
            plan.calls,
            vec![PlannedCall::AdjustStock {
                target: 7,
                delta: -3
            }]
        );
        assert_eq!(
            plan.calls[0].adjust_body().map(|b| b.relative_amount),
            Some(-3)
        );
        let up = plan_stock("EB001", 12, Some(-2), &SETTINGS, Vec::new()).unwrap();
        assert_eq!(
            up.calls,
            vec![PlannedCall::AdjustStock {
                target: 12,
                delta: 14
            }]
        );
        let there = plan_stock("EB001", 10, Some(10), &SETTINGS, Vec::new()).unwrap();
        assert_eq!(there.outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn unmanaged_stock_is_enabled_only_when_the_tenant_allows() {
        let error = plan_stock("EB001", 4, None, &SETTINGS, Vec::new()).unwrap_err();
        assert_eq!(
            error,
            PlanError::StockUnmanaged {
                sku: "EB001".into()
            }
        );
        assert!(error.is_permanent());
        let allowed = StockSettings {
            enable_stock_management_if_unmanaged: true,
        };
        let plan = plan_stock("EB001", 4, None, &allowed, Vec::new()).unwrap();
        assert_eq!(
            plan.calls,
            vec![PlannedCall::EnableStockManagement { initial: 4 }]
        );
        let body = plan.calls[0].enable_body().expect("an enable call");
        assert_eq!(body.initial_available_stock, 4);
    }

    #[test]
    fn ambiguous_adjustments_are_reconciled_from_a_fresh_read() {
        let intent = AdjustIntent {
            before: 10,
            delta: -3,
        };
        assert_eq!(
            reconcile_ambiguous_adjustment(&intent, Some(7)),
            AdjustReconciliation::Applied
        );
        assert_eq!(
            reconcile_ambiguous_adjustment(&intent, Some(10)),
            AdjustReconciliation::NotApplied
        );
        assert_eq!(
            reconcile_ambiguous_adjustment(&intent, Some(6)),
            AdjustReconciliation::ChangedElsewhere { current: Some(6) }
        );
        assert_eq!(
            reconcile_ambiguous_adjustment(&intent, None),
            AdjustReconciliation::ChangedElsewhere { current: None }
        );
    }
}
