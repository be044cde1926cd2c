//! What the connector keeps per (tenant, SKU) to bring the shop's single stock number to
//! Afosto's levels: the latest absolute level per Afosto location, the orders the shop took
//! that were emitted to Afosto (so a level Afosto observed before it knew them is not
//! pushed as if it did), and the one in-flight relative adjustment of the shop's stock.
//!
//! One record per SKU, whatever the location: the shop has one number per SKU, so all of a
//! SKU's stock commands are applied one at a time (one FIFO group per SKU) and every write
//! to the record is conditional.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The latest absolute level Afosto reported for a SKU at one of its locations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationLevel {
    pub level: i64,
    /// Afosto's `observedAt`: levels of one location only move forward in this time.
    pub observed_at: DateTime<Utc>,
    /// The command that reported it: its redelivery after a crash finds its own level
    /// and finishes the shop adjustment instead of being taken for outdated.
    pub command_id: String,
}

/// An order the shop took for the SKU, as emitted to Afosto (`order.created`). Its pieces
/// left the shop's stock when it was placed; an Afosto level observed before the event
/// was emitted cannot include them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmittedOrder {
    /// The pieces of the SKU on the order (its lines' ordered quantities).
    pub quantity: i64,
    /// When the connector sent the event (after the queue accepted it).
    pub emitted_at: DateTime<Utc>,
}

/// A relative adjustment about to be posted to ePages. It is recorded before the POST and
/// cleared after, so a crash in between leaves a trace to reconcile: Beyond's
/// `adjust-available-stock` is relative and not idempotent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockIntent {
    /// Unique per attempt: a late clear of an older attempt cannot touch it.
    pub intent_id: String,
    /// The command making the adjustment: redelivered after a crash, it recognises that
    /// the adjustment that landed was its own.
    pub command_id: String,
    /// The shop's available stock read just before the POST. With `relative_amount` it
    /// tells, from a fresh read, whether an interrupted POST landed.
    pub level_before: i64,
    pub relative_amount: i64,
    /// The shop target this adjustment brings the stock to.
    pub target: i64,
    pub recorded_at: DateTime<Utc>,
}

/// Everything stored for one SKU of a tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuStock {
    pub sku: String,
    /// Afosto location id → its latest level (only locations that count towards the shop
    /// at the time the level arrived are recorded).
    #[serde(default)]
    pub levels: BTreeMap<String, LocationLevel>,
    /// ePages order id → the order's pieces of this SKU, while Afosto may not know it yet.
    #[serde(default)]
    pub orders: BTreeMap<String, EmittedOrder>,
    #[serde(default)]
    pub pending: Option<StockIntent>,
}

impl SkuStock {
    pub fn new(sku: impl Into<String>) -> Self {
        Self {
            sku: sku.into(),
            ..Self::default()
        }
    }
}
