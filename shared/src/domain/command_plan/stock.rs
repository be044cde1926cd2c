//! `stock`: bring a SKU's shop availability to Afosto's absolute level. Beyond only adjusts
//! stock relatively (`adjust-available-stock` with a delta), so a retried call applies
//! twice; the planner therefore always works from a fresh read and the absolute target,
//! and stock commands are ordered by Afosto's `observedAt` (one clock: Afosto's) against
//! the last level applied.

use chrono::{DateTime, Utc};

use super::{Plan, PlanError, PlannedCall, SkipReason};
use crate::contracts::command::StockCommand;

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
