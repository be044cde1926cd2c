//! ePages → Afosto order events: the pure decision logic (no I/O).
//!
//! Per tenant, the poller lists the orders changed since its cursor. For each order it
//! loads the [`LedgerState`] (what was already emitted), calls [`diff`], sends the events
//! to the SQS FIFO queue (group `{tenant}:{orderId}`, deduplication id = event id), writes
//! the next ledger state conditionally on the version it read, and only then advances the
//! cursor. A crash anywhere in between re-runs [`diff`] on the old state, which yields the
//! same events with the same ids; see `docs/ORDER-EVENTS.md`.
//!
//! - [`normalize`](normalize::normalize): Beyond `Order` → the `order.created` payload.
//! - [`policy`]: whether a not yet imported order is imported now.
//! - [`quantities`]: the cumulative view of ePages' per-line buckets.
//! - [`diff`](diff::diff): snapshot + ledger → events + next ledger state.
//! - [`event_id`]: deterministic UUIDv5 event ids.

pub mod diff;
pub mod event_id;
pub mod ledger;
pub mod normalize;
pub mod policy;
pub mod quantities;

#[cfg(test)]
mod diff_tests;
#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod normalize_tests;
#[cfg(test)]
mod proptests;

pub use diff::{Anomaly, Decision, DiffContext, diff, shipment_detected};
pub use ledger::{Bucket, LedgerDataError, LedgerState, LineCounters};
pub use normalize::{InvalidOrder, normalize};
pub use policy::{Admission, SkipReason, SyncPolicy};
