//! ePages → Afosto order events: the pure decision logic (no I/O).
//!
//! Per tenant, the poller lists the orders changed since its cursor. For each order it:
//!
//! 1. loads the [`LedgerState`] (what was already emitted) and, when [`shipment_detected`]
//!    says so, the order's shipped shipping processes with their tracking data;
//! 2. calls [`diff()`]; an [`InvalidOrder`] goes to the activity log and the order is left
//!    for a later poll (nothing written), anomalies and skip reasons are logged;
//! 3. writes [`Decision::pre_send_state`] when it is set (conditionally on the version it
//!    read): the record that the order is being imported;
//! 4. sends [`Decision::events`] in order to the SQS FIFO queue (group `{tenant}:{orderId}`,
//!    deduplication id = event id);
//! 5. writes [`Decision::next_state`] when [`Decision::ledger_changed`], conditionally on
//!    the version it holds;
//! 6. and only after the whole page, advances its cursor.
//!
//! A crash anywhere re-runs [`diff()`] on the stored state, which yields the same events with
//! the same ids for the same snapshot; see `docs/ORDER-EVENTS.md`.
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
