//! What the poller has already emitted for one ePages order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One order's ledger record. `data` belongs to the order logic (emitted quantities per
/// line, flags); the store treats it as an opaque JSON value. `version` is owned by the
/// store: 0 = absent, 1 after the first put, +1 per accepted put.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderLedgerEntry {
    pub order_id: String,
    pub data: serde_json::Value,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}
