//! What the order ledger remembers per (tenant, order): the cumulative quantities already
//! emitted per line and bucket, the flags and the last sequence number. It is the `data`
//! of an [`OrderLedgerEntry`](crate::order_ledger::OrderLedgerEntry); the store
//! keeps it opaque, this module owns its shape.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The layout version written into `data.format`, so a later layout can migrate old
/// records instead of misreading them.
pub const LEDGER_FORMAT: u32 = 1;

/// One order's emitted state. Every counter only ever moves forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerState {
    pub format: u32,
    /// `order.created` was emitted.
    #[serde(default)]
    pub imported: bool,
    /// The order passed the import policy and `order.created` is about to be sent (written
    /// before sending, see [`Decision::pre_send_state`](super::diff::Decision)). From then
    /// on the order is imported whatever the policy says of a later snapshot: the created
    /// event may already be out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub import_decided: bool,
    /// An `order.canceled` with `wholeOrder: true` was emitted.
    #[serde(default)]
    pub whole_order_canceled: bool,
    /// The sequence number of the last emitted event; 0 before the first.
    #[serde(default)]
    pub last_sequence: u64,
    /// Cumulative emitted quantities per ePages line item id.
    #[serde(default)]
    pub lines: BTreeMap<Uuid, LineCounters>,
    /// Shipping processes already reported in an `order.shipped`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub reported_shipments: BTreeSet<Uuid>,
    /// Set when this state was written *ahead* of sending the events of an import: the
    /// `updatedAt` (milliseconds) of the snapshot it was computed from. The poller writes an
    /// import's state once, before sending, and counts it as possibly unsent while the
    /// tenant's committed cursor is before this time (the cursor passes an order only after
    /// its page was sent): a poll that reads it then re-derives the import from the
    /// pre-import state and sends the same events again under the same ids. Owned by the
    /// poller (`pipeline/poll/page.rs`, docs/POLLING.md); `diff` never sees it set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_ahead_at: Option<DateTime<Utc>>,
    /// Set when the poller parked the order: its events for the snapshot with this
    /// `updatedAt` could not be sent (over the queue's size limit after shrinking, or
    /// otherwise invalid), so nothing was emitted for it and the cursor moved on. A
    /// snapshot no newer than this is skipped without a second dead letter; a newer one
    /// gets another chance from the state above, which parking left as it was. Owned by
    /// the poller (`pipeline/poll/events.rs`, docs/ORDER-EVENTS.md "Size limit").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked_at: Option<DateTime<Utc>>,
    /// The newest `updatedAt` of a snapshot this state was decided from. A snapshot older
    /// than it (an eventually consistent list, a late retry, a webhook-triggered read
    /// racing a poll) is stale: [`diff`](super::diff()) emits nothing for it and changes
    /// nothing, so it can neither import an order a newer snapshot showed canceled nor
    /// give an event id another sequence number. `None` in records written before it
    /// existed: no guard until the next write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_updated_at: Option<DateTime<Utc>>,
}

impl Default for LedgerState {
    fn default() -> Self {
        Self {
            format: LEDGER_FORMAT,
            imported: false,
            import_decided: false,
            whole_order_canceled: false,
            last_sequence: 0,
            lines: BTreeMap::new(),
            reported_shipments: BTreeSet::new(),
            written_ahead_at: None,
            parked_at: None,
            seen_updated_at: None,
        }
    }
}

/// The ledger `data` could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum LedgerDataError {
    #[error("order ledger data is not a valid ledger state")]
    Malformed(#[source] serde_json::Error),
    #[error("order ledger data has format {found}; this version reads format {LEDGER_FORMAT}")]
    UnknownFormat { found: u32 },
    #[error("order ledger state cannot be serialized")]
    Serialize(#[source] serde_json::Error),
}

impl LedgerState {
    /// Reads the ledger's opaque `data`. `null` (a record written without data) is a fresh
    /// state.
    pub fn from_ledger_data(data: &serde_json::Value) -> Result<Self, LedgerDataError> {
        if data.is_null() {
            return Ok(Self::default());
        }
        let state = Self::deserialize(data).map_err(LedgerDataError::Malformed)?;
        if state.format != LEDGER_FORMAT {
            return Err(LedgerDataError::UnknownFormat {
                found: state.format,
            });
        }
        Ok(state)
    }

    /// The value to store as the ledger's `data`.
    pub fn to_ledger_data(&self) -> Result<serde_json::Value, LedgerDataError> {
        serde_json::to_value(self).map_err(LedgerDataError::Serialize)
    }

    /// Whether nothing was emitted from this state yet: the only state an import starts
    /// from (a skipped order's ledger is at most the pre-send `import_decided` record).
    pub fn is_before_import(&self) -> bool {
        let Self {
            format: _,
            imported,
            import_decided: _,
            whole_order_canceled,
            last_sequence,
            lines,
            reported_shipments,
            written_ahead_at: _,
            parked_at: _,
            seen_updated_at: _,
        } = self;
        !imported
            && !whole_order_canceled
            && *last_sequence == 0
            && lines.is_empty()
            && reported_shipments.is_empty()
    }

    /// The emitted counters of a line (zero when nothing was emitted for it).
    pub fn line(&self, line_item_id: Uuid) -> LineCounters {
        self.lines.get(&line_item_id).copied().unwrap_or_default()
    }
}

/// The buckets of a line whose changes become events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Bucket {
    Canceled,
    Shipped,
    Delivered,
    ReadyForPickup,
    PickedUp,
    Returned,
    Broken,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::Canceled,
        Bucket::Shipped,
        Bucket::Delivered,
        Bucket::ReadyForPickup,
        Bucket::PickedUp,
        Bucket::Returned,
        Bucket::Broken,
    ];
}

/// Cumulative piece counts of one line, per bucket. In the ledger they are what was
/// emitted; computed from an order snapshot they are what ePages shows (see
/// [`observed_counters`](super::quantities::observed_counters)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineCounters {
    #[serde(default)]
    pub canceled: u32,
    #[serde(default)]
    pub shipped: u32,
    #[serde(default)]
    pub delivered: u32,
    #[serde(default)]
    pub ready_for_pickup: u32,
    #[serde(default)]
    pub picked_up: u32,
    #[serde(default)]
    pub returned: u32,
    #[serde(default)]
    pub broken: u32,
}

impl LineCounters {
    pub fn get(&self, bucket: Bucket) -> u32 {
        match bucket {
            Bucket::Canceled => self.canceled,
            Bucket::Shipped => self.shipped,
            Bucket::Delivered => self.delivered,
            Bucket::ReadyForPickup => self.ready_for_pickup,
            Bucket::PickedUp => self.picked_up,
            Bucket::Returned => self.returned,
            Bucket::Broken => self.broken,
        }
    }

    pub fn set(&mut self, bucket: Bucket, value: u32) {
        let slot = match bucket {
            Bucket::Canceled => &mut self.canceled,
            Bucket::Shipped => &mut self.shipped,
            Bucket::Delivered => &mut self.delivered,
            Bucket::ReadyForPickup => &mut self.ready_for_pickup,
            Bucket::PickedUp => &mut self.picked_up,
            Bucket::Returned => &mut self.returned,
            Bucket::Broken => &mut self.broken,
        };
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_ledger_data() {
        let mut state = LedgerState {
            imported: true,
            last_sequence: 3,
            ..LedgerState::default()
        };
        let line = Uuid::from_u128(7);
        state.lines.insert(
            line,
            LineCounters {
                shipped: 2,
                returned: 1,
                ..LineCounters::default()
            },
        );
        state.reported_shipments.insert(Uuid::from_u128(9));
        let data = state.to_ledger_data().expect("serializes");
        assert_eq!(data["lines"][line.to_string()]["shipped"], 2);
        assert_eq!(LedgerState::from_ledger_data(&data).expect("reads"), state);
    }

    #[test]
    fn null_is_a_fresh_state_and_garbage_is_a_typed_error() {
        assert_eq!(
            LedgerState::from_ledger_data(&serde_json::Value::Null).expect("fresh"),
            LedgerState::default()
        );
        assert!(matches!(
            LedgerState::from_ledger_data(&serde_json::json!({"format": 1, "lines": 5})),
            Err(LedgerDataError::Malformed(_))
        ));
        assert!(matches!(
            LedgerState::from_ledger_data(&serde_json::json!({"format": 2})),
            Err(LedgerDataError::UnknownFormat { found: 2 })
        ));
    }

    #[test]
    fn counters_get_what_they_set() {
        let mut counters = LineCounters::default();
        for (value, bucket) in (1..).zip(Bucket::ALL) {
            counters.set(bucket, value);
        }
        for (value, bucket) in (1..).zip(Bucket::ALL) {
            assert_eq!(counters.get(bucket), value);
        }
    }
}
