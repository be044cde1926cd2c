//! Per (tenant, SKU, location) stock ordering marks and in-flight adjustment intents.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Identifies one stock level: a SKU at a stock location (the location key is the domain's
/// choice, e.g. `shop` for the single Beyond availability).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StockKey {
    pub sku: String,
    pub location: String,
}

impl StockKey {
    pub fn new(sku: impl Into<String>, location: impl Into<String>) -> Self {
        Self {
            sku: sku.into(),
            location: location.into(),
        }
    }
}

/// A relative adjustment about to be posted to ePages. It is recorded before the POST and
/// committed (or cleared) after, so a crash in between leaves a trace to reconcile:
/// Beyond's `adjust-available-stock` is relative and not idempotent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockIntent {
    /// Unique per attempt: a late commit or clear of an older attempt cannot touch it.
    pub intent_id: String,
    /// The command making the adjustment: redelivered after a crash, it recognises that
    /// the adjustment that landed was its own.
    pub command_id: String,
    /// The shop's available stock read just before the POST. With `relative_amount` it
    /// tells, from a fresh read, whether an interrupted POST landed.
    pub level_before: i64,
    pub relative_amount: i64,
    /// The Afosto `observedAt` of the stock level this adjustment brings the shop to.
    pub observed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
}

/// What is stored for one stock key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMark {
    pub key: StockKey,
    /// The `observedAt` of the last stock level applied to the shop.
    pub observed_at: Option<DateTime<Utc>>,
    pub pending: Option<StockIntent>,
}
