//! The decision for one order snapshot: which events to send and what the ledger records.
//!
//! `diff(previous ledger state, current snapshot) → events + next state`. It is pure: the
//! same inputs give the same events with the same ids and sequence numbers, which is what
//! makes a crash at any point of the poller safe (see `docs/ORDER-EVENTS.md`).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::tenant::TenantId;
use beyond::model::order::Order;
use contracts::order_event::{
    EventHeader, EventKind, LineQuantity, OrderCanceled, OrderCreated, OrderEvent,
    OrderLinesChanged, OrderReturned, OrderShipped, ReturnLine, SchemaVersion1, Shipment,
};

use super::event_id::{bucket_state, canceled_state, event_id, returned_state};
use super::ledger::{Bucket, LedgerState, LineCounters};
use super::normalize::{InvalidOrder, line_skus, normalize, order_number};
use super::policy::{Admission, SkipReason, SyncPolicy, admission, is_wholly_canceled};
use super::quantities::{Fulfilment, observed_counters};

/// What stays the same for every order of one poll.
#[derive(Debug, Clone, Copy)]
pub struct DiffContext<'a> {
    pub tenant: &'a TenantId,
    pub policy: &'a SyncPolicy,
    /// When the poller read the snapshot; becomes `detectedAt` (never part of an id).
    pub detected_at: DateTime<Utc>,
}

/// What to do for one order snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// To send in this order (created, canceled, shipped, delivered, ready for pickup,
    /// picked up, returned), before writing `next_state`.
    pub events: Vec<OrderEvent>,
    /// Set when the events import the order: write it (conditionally) *before* sending.
    /// Sending first and writing after is safe for everything else, because a re-run on a
    /// newer snapshot re-sends cumulative quantities; but the import policy is not
    /// monotone (a cancelation or a payment status change can turn "import" into "skip"),
    /// so without this record a crash between sending `order.created` and the ledger write
    /// could leave Afosto with an order whose later cancelation it never hears of.
    pub pre_send_state: Option<LedgerState>,
    /// The ledger state after these events.
    pub next_state: LedgerState,
    /// Set when the order is not imported (yet); no events then.
    pub skipped_reason: Option<SkipReason>,
    /// Data that contradicts what was emitted; nothing is emitted for it. To log.
    pub anomalies: Vec<Anomaly>,
    /// Set when the snapshot is older than the newest the ledger has seen (this time):
    /// nothing is emitted and the state stays as it is.
    pub stale_since: Option<DateTime<Utc>>,
}

impl Decision {
    /// Whether `next_state` needs writing. `previous` is what the ledger holds now: the
    /// state read, or `pre_send_state` once that was written.
    pub fn ledger_changed(&self, previous: Option<&LedgerState>) -> bool {
        match previous {
            Some(previous) => previous != &self.next_state,
            None => self.next_state != LedgerState::default(),
        }
    }
}

/// ePages shows something that contradicts what was already emitted. It "should not
/// happen" (ePages quantities only move forward); when it does (a data correction, a bug),
/// nothing is emitted for it and the poller logs it, because a negative quantity would
/// make Afosto undo a cancelation or a shipment it already acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "anomaly", rename_all = "camelCase")]
pub enum Anomaly {
    #[serde(rename_all = "camelCase")]
    QuantityWentBack {
        line_item_id: Uuid,
        bucket: Bucket,
        emitted: u32,
        observed: u32,
    },
    /// A line with emitted quantities is no longer in the order.
    #[serde(rename_all = "camelCase")]
    LineDisappeared { line_item_id: Uuid },
    /// The whole order was emitted as canceled, but ePages no longer shows it canceled.
    CancelationWithdrawn,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::QuantityWentBack {
                line_item_id,
                bucket,
                emitted,
                observed,
            } => write!(
                f,
                "line {line_item_id}: ePages shows {observed} pieces {bucket:?} but {emitted} were already reported; the decrease is ignored"
            ),
            Anomaly::LineDisappeared { line_item_id } => write!(
                f,
                "line {line_item_id} was reported before but is no longer in the order"
            ),
            Anomaly::CancelationWithdrawn => f.write_str(
                "the order was reported canceled but ePages no longer shows it canceled",
            ),
        }
    }
}

/// Compares a snapshot with what was already emitted. `shipments` are the order's shipped
/// shipping processes with tracking data; the poller reads them only when
/// [`shipment_detected`] says a shipment is coming, and passes `None` otherwise. They never
/// change event ids.
pub fn diff(
    context: &DiffContext<'_>,
    previous: Option<&LedgerState>,
    order: &Order,
    shipments: Option<&[Shipment]>,
) -> Result<Decision, InvalidOrder> {
    let mut next = previous.cloned().unwrap_or_default();
    if let Some(seen) = stale_against(previous, order) {
        return Ok(Decision {
            events: Vec::new(),
            pre_send_state: None,
            next_state: next,
            skipped_reason: None,
            anomalies: Vec::new(),
            stale_since: Some(seen),
        });
    }
    let snapshot_at = order.updated_at.map(|at| at.as_utc());
    let seen_updated_at = next.seen_updated_at.max(snapshot_at);
    let created = if next.imported {
        None
    } else if next.import_decided {
        // A previous run decided to import and may have sent `order.created` before it
        // crashed: the policy must not take that back on a newer snapshot (a cancelation
        // meanwhile would otherwise never reach Afosto).
        Some(normalize(order)?)
    } else {
        match admission(context.policy, order)? {
            Admission::Skip(reason) => {
                // Of the skips only this one can an older snapshot contradict (showing the
                // order alive): recorded, so that it cannot import the order. The others
                // write nothing, as before (a test order stays one; a held order is read
                // again every poll and would cost a write each time).
                if reason == SkipReason::CanceledBeforeImport {
                    next.seen_updated_at = seen_updated_at;
                }
                return Ok(Decision {
                    events: Vec::new(),
                    pre_send_state: None,
                    next_state: next,
                    skipped_reason: Some(reason),
                    anomalies: Vec::new(),
                    stale_since: None,
                });
            }
            Admission::Import => Some(normalize(order)?),
        }
    };
    next.seen_updated_at = seen_updated_at;
    let pre_send_state = (created.is_some() && !next.import_decided).then(|| LedgerState {
        import_decided: true,
        ..next.clone()
    });
    let skus: BTreeMap<Uuid, String> = line_skus(order)?.into_iter().collect();
    let fulfilment = Fulfilment::of(order);
    let observed: Vec<(Uuid, LineCounters)> = order
        .product_line_items
        .iter()
        .map(|line| (line.id, observed_counters(line, fulfilment)))
        .collect();
    let mut out = Emitter {
        tenant: context.tenant.as_str(),
        order_id: order.id,
        order_number: order_number(order)?,
        detected_at: context.detected_at,
        events: Vec::new(),
    };
    let mut anomalies = Vec::new();

    if let Some(normalized) = created {
        next.imported = true;
        // Only meaningful until the import is recorded; cleared so a replay from the
        // pre-send state ends in the same state as the run that crashed.
        next.import_decided = false;
        let occurred_at = normalized.created_at;
        out.emit(
            &mut next,
            EventKind::Created,
            String::new(),
            occurred_at,
            |header| {
                OrderEvent::Created(OrderCreated {
                    header,
                    order: Box::new(normalized),
                })
            },
        );
    }

    // ePages has no per-change timestamp on the order; its last update is the closest.
    let changed_at = order
        .updated_at
        .map_or(context.detected_at, |at| at.as_utc());

    let canceled = advance(&mut next, &observed, Bucket::Canceled, &mut anomalies);
    let wholly_canceled = is_wholly_canceled(order);
    let newly_wholly_canceled = wholly_canceled && !next.whole_order_canceled;
    if next.whole_order_canceled && !wholly_canceled {
        anomalies.push(Anomaly::CancelationWithdrawn);
    }
    if newly_wholly_canceled || !canceled.is_empty() {
        next.whole_order_canceled |= newly_wholly_canceled;
        let lines = line_quantities(&canceled, &skus);
        let state = canceled_state(&next);
        out.emit(
            &mut next,
            EventKind::Canceled,
            state,
            changed_at,
            |header| {
                OrderEvent::Canceled(OrderCanceled {
                    header,
                    whole_order: newly_wholly_canceled,
                    lines,
                })
            },
        );
    }

    let shipped = advance(&mut next, &observed, Bucket::Shipped, &mut anomalies);
    if !shipped.is_empty() {
        let new_shipments: Vec<Shipment> = shipments
            .unwrap_or_default()
            .iter()
            .filter(|shipment| {
                !next
                    .reported_shipments
                    .contains(&shipment.shipping_process_id)
            })
            .cloned()
            .collect();
        next.reported_shipments.extend(
            new_shipments
                .iter()
                .map(|shipment| shipment.shipping_process_id),
        );
        let lines = line_quantities(&shipped, &skus);
        let state = bucket_state(&next, Bucket::Shipped);
        out.emit(&mut next, EventKind::Shipped, state, changed_at, |header| {
            OrderEvent::Shipped(OrderShipped {
                header,
                lines,
                shipments: new_shipments,
            })
        });
    }

    let simple: [(Bucket, EventKind, LinesEvent); 3] = [
        (
            Bucket::Delivered,
            EventKind::Delivered,
            OrderEvent::Delivered,
        ),
        (
            Bucket::ReadyForPickup,
            EventKind::ReadyForPickup,
            OrderEvent::ReadyForPickup,
        ),
        (Bucket::PickedUp, EventKind::PickedUp, OrderEvent::PickedUp),
    ];
    for (bucket, kind, variant) in simple {
        let changed = advance(&mut next, &observed, bucket, &mut anomalies);
        if !changed.is_empty() {
            let lines = line_quantities(&changed, &skus);
            let state = bucket_state(&next, bucket);
            out.emit(&mut next, kind, state, changed_at, |header| {
                variant(OrderLinesChanged { header, lines })
            });
        }
    }

    let returned = advance(&mut next, &observed, Bucket::Returned, &mut anomalies);
    let broken = advance(&mut next, &observed, Bucket::Broken, &mut anomalies);
    if !returned.is_empty() || !broken.is_empty() {
        let lines = return_lines(&observed, &returned, &broken, &next, &skus);
        let state = returned_state(&next);
        out.emit(
            &mut next,
            EventKind::Returned,
            state,
            changed_at,
            |header| OrderEvent::Returned(OrderReturned { header, lines }),
        );
    }

    for line_item_id in next.lines.keys() {
        if !observed.iter().any(|(id, _)| id == line_item_id) {
            anomalies.push(Anomaly::LineDisappeared {
                line_item_id: *line_item_id,
            });
        }
    }

    Ok(Decision {
        events: out.events,
        pre_send_state,
        next_state: next,
        skipped_reason: None,
        anomalies,
        stale_since: None,
    })
}

/// The newest `updatedAt` the ledger has seen, when `order` is older than it. Equal
/// times are the same snapshot (or one the shop could not tell apart): not stale. A
/// reading of the hour that repeats when daylight saving ends may stand for a later
/// instant than `updatedAt` (`Order::updated_at_latest`): stale only when even that is
/// older, or a change in the hour's second pass would be dropped for good.
fn stale_against(previous: Option<&LedgerState>, order: &Order) -> Option<DateTime<Utc>> {
    let seen = previous?.seen_updated_at?;
    let at = order.updated_at_latest.or(order.updated_at)?.as_utc();
    (at < seen).then_some(seen)
}

/// Whether the snapshot shows pieces shipped that were not reported yet: then the poller
/// reads the order's shipping processes for their tracking data before calling [`diff`].
pub fn shipment_detected(previous: Option<&LedgerState>, order: &Order) -> bool {
    if stale_against(previous, order).is_some() {
        return false;
    }
    let fulfilment = Fulfilment::of(order);
    order.product_line_items.iter().any(|line| {
        let emitted = previous.map_or(0, |state| state.line(line.id).shipped);
        observed_counters(line, fulfilment).shipped > emitted
    })
}

/// One line's change in one bucket: (line item id, newly, cumulative after).
type Change = (Uuid, u32, u32);

/// The variant constructor of an event that only lists line quantities.
type LinesEvent = fn(OrderLinesChanged) -> OrderEvent;

/// Moves the ledger forward to what ePages shows in `bucket`, returning the lines that
/// grew. A decrease is never emitted: it is an anomaly, except for pieces ready for pickup
/// that were canceled afterwards (see `quantities`), which the cancelation accounts for.
fn advance(
    next: &mut LedgerState,
    observed: &[(Uuid, LineCounters)],
    bucket: Bucket,
    anomalies: &mut Vec<Anomaly>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (line_item_id, counters) in observed {
        let emitted = next.line(*line_item_id).get(bucket);
        let seen = counters.get(bucket);
        if seen > emitted {
            next.lines
                .entry(*line_item_id)
                .or_default()
                .set(bucket, seen);
            changes.push((*line_item_id, seen - emitted, seen));
        } else if seen < emitted {
            let canceled_from_ready = bucket == Bucket::ReadyForPickup
                && seen.saturating_add(counters.canceled) >= emitted;
            if !canceled_from_ready {
                anomalies.push(Anomaly::QuantityWentBack {
                    line_item_id: *line_item_id,
                    bucket,
                    emitted,
                    observed: seen,
                });
            }
        }
    }
    changes
}

fn line_quantities(changes: &[Change], skus: &BTreeMap<Uuid, String>) -> Vec<LineQuantity> {
    changes
        .iter()
        .map(
            |&(line_item_id, quantity, cumulative_quantity)| LineQuantity {
                line_item_id,
                sku: sku(skus, line_item_id),
                quantity,
                cumulative_quantity,
            },
        )
        .collect()
}

fn return_lines(
    observed: &[(Uuid, LineCounters)],
    returned: &[Change],
    broken: &[Change],
    next: &LedgerState,
    skus: &BTreeMap<Uuid, String>,
) -> Vec<ReturnLine> {
    let newly = |changes: &[Change], id: Uuid| {
        changes
            .iter()
            .find(|(line, _, _)| *line == id)
            .map_or(0, |(_, newly, _)| *newly)
    };
    observed
        .iter()
        .filter_map(|(line_item_id, _)| {
            let returned_now = newly(returned, *line_item_id);
            let broken_now = newly(broken, *line_item_id);
            (returned_now > 0 || broken_now > 0).then(|| {
                let emitted = next.line(*line_item_id);
                ReturnLine {
                    line_item_id: *line_item_id,
                    sku: sku(skus, *line_item_id),
                    returned: returned_now,
                    broken: broken_now,
                    cumulative_returned: emitted.returned,
                    cumulative_broken: emitted.broken,
                }
            })
        })
        .collect()
}

/// `line_skus` validated every line of the snapshot, and changes only name snapshot lines.
fn sku(skus: &BTreeMap<Uuid, String>, line_item_id: Uuid) -> String {
    skus.get(&line_item_id).cloned().unwrap_or_default()
}

/// Stamps headers with ids and consecutive sequence numbers.
struct Emitter<'a> {
    tenant: &'a str,
    order_id: Uuid,
    order_number: String,
    detected_at: DateTime<Utc>,
    events: Vec<OrderEvent>,
}

impl Emitter<'_> {
    fn emit(
        &mut self,
        next: &mut LedgerState,
        kind: EventKind,
        state: String,
        occurred_at: DateTime<Utc>,
        build: impl FnOnce(EventHeader) -> OrderEvent,
    ) {
        next.last_sequence += 1;
        let header = EventHeader {
            schema_version: SchemaVersion1,
            event_id: event_id(self.tenant, self.order_id, kind, &state),
            tenant: self.tenant.to_owned(),
            order_id: self.order_id,
            order_number: self.order_number.clone(),
            sequence: next.last_sequence,
            occurred_at,
            detected_at: self.detected_at,
        };
        self.events.push(build(header));
    }
}
