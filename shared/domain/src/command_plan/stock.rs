//! `stock`: bring a SKU's shop availability to Afosto's absolute level. Beyond only adjusts
//! stock relatively (`adjust-available-stock` with a delta), so a retried call applies
//! twice; the planner therefore always works from a fresh read and the absolute target,
//! and stock commands are ordered by Afosto's `observedAt` (one clock: Afosto's) against
//! the last level applied.

use chrono::{DateTime, Utc};

use super::{Plan, PlanError, PlannedCall, SkipReason};
use contracts::command::StockCommand;

/// What the consumer read before planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockState {
    /// `availableStock` of the product or variation; `None` when Beyond does not manage
    /// its stock.
    pub available_stock: Option<i64>,
    /// The `observedAt` of the last level applied for this SKU and location.
    pub last_applied: Option<DateTime<Utc>>,
}

/// The tenant's settings that decide a stock command. Kept apart from the tenant
/// configuration so the planner needs nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockSettings {
    /// Whether the command's Afosto location feeds the shop's (single) availability.
    pub location_synced: bool,
    /// Turn on stock management for an unmanaged product, with the target as its initial
    /// stock, instead of failing.
    pub enable_stock_management_if_unmanaged: bool,
}

pub fn plan_stock(
    command: &StockCommand,
    state: &StockState,
    settings: &StockSettings,
) -> Result<Plan, PlanError> {
    if !settings.location_synced {
        return Ok(Plan::skip(SkipReason::LocationNotSynced {
            location: command.location.to_string(),
        }));
    }
    if let Some(last_applied) = state.last_applied
        && command.observed_at <= last_applied
    {
        return Ok(Plan::skip(SkipReason::StaleObservation {
            observed_at: command.observed_at,
            last_applied,
        }));
    }
    let target = command.quantity.get();
    let call = match state.available_stock {
        None if settings.enable_stock_management_if_unmanaged => {
            PlannedCall::EnableStockManagement { initial: target }
        }
        None => {
            return Err(PlanError::StockUnmanaged {
                sku: command.sku.to_string(),
            });
        }
        Some(current) if current == target => return Ok(Plan::already_in_effect(Vec::new())),
        Some(current) => PlannedCall::AdjustStock {
            target,
            // Both sides are within i64 (the target is at most i32::MAX); saturate
            // rather than trust a shop's number.
            delta: target.saturating_sub(current),
        },
    };
    Ok(Plan::from_calls(vec![call], Vec::new()))
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
    use crate::command_plan::test_support::text;
    use contracts::command::StockLevel;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, second)
            .single()
            .expect("a valid time")
    }

    fn command(level: i64, observed: u32) -> StockCommand {
        StockCommand {
            sku: text("EB001"),
            quantity: StockLevel::new(level).expect("in range"),
            location: text("warehouse-1"),
            observed_at: at(observed),
        }
    }

    const SYNCED: StockSettings = StockSettings {
        location_synced: true,
        enable_stock_management_if_unmanaged: false,
    };

    fn state(available: Option<i64>, last: Option<u32>) -> StockState {
        StockState {
            available_stock: available,
            last_applied: last.map(at),
        }
    }

    #[test]
    fn the_delta_brings_the_stock_to_the_target() {
        let plan = plan_stock(&command(7, 5), &state(Some(10), Some(4)), &SYNCED).unwrap();
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
        let up = plan_stock(&command(12, 5), &state(Some(-2), None), &SYNCED).unwrap();
        assert_eq!(
            up.calls,
            vec![PlannedCall::AdjustStock {
                target: 12,
                delta: 14
            }]
        );
    }

    #[test]
    fn a_level_already_there_is_in_effect() {
        let plan = plan_stock(&command(10, 5), &state(Some(10), None), &SYNCED).unwrap();
        assert_eq!(plan.outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn observations_not_newer_than_the_mark_are_skipped() {
        for last in [5, 6] {
            let plan = plan_stock(&command(1, 5), &state(Some(10), Some(last)), &SYNCED).unwrap();
            assert_eq!(
                plan.outcome,
                Outcome::Skip(SkipReason::StaleObservation {
                    observed_at: at(5),
                    last_applied: at(last)
                })
            );
            assert!(plan.calls.is_empty());
        }
    }

    #[test]
    fn unmanaged_stock_is_enabled_only_when_the_tenant_allows() {
        let error = plan_stock(&command(4, 5), &state(None, None), &SYNCED).unwrap_err();
        assert_eq!(
            error,
            PlanError::StockUnmanaged {
                sku: "EB001".into()
            }
        );
        assert!(error.is_permanent());
        let allowed = StockSettings {
            enable_stock_management_if_unmanaged: true,
            ..SYNCED
        };
        let plan = plan_stock(&command(4, 5), &state(None, None), &allowed).unwrap();
        assert_eq!(
            plan.calls,
            vec![PlannedCall::EnableStockManagement { initial: 4 }]
        );
        let body = plan.calls[0].enable_body().expect("an enable call");
        assert_eq!(body.initial_available_stock, 4);
    }

    #[test]
    fn unsynced_locations_are_skipped() {
        let settings = StockSettings {
            location_synced: false,
            ..SYNCED
        };
        let plan = plan_stock(&command(4, 5), &state(Some(1), None), &settings).unwrap();
        assert!(matches!(
            plan.outcome,
            Outcome::Skip(SkipReason::LocationNotSynced { .. })
        ));
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
