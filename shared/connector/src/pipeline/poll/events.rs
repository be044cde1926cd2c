//! The order events and activity-log entries a poll emits besides the diff's own: forced
//! re-emissions of a resync, the shipments of an order, the log entries, and the size rule
//! (an event over the queue's limit is shrunk, and an order whose events still cannot be
//! sent is parked: docs/ORDER-EVENTS.md, "Size limit").

use chrono::{DateTime, Utc};
use uuid::Uuid;

use beyond::model::{Order, OrderProcesses, ShippingProcessStatus};
use contracts::order_event::{NormalizedOrder, OrderEvent, Shipment, ShipmentLine};
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::order_sync::event_id::ORDER_EVENT_NAMESPACE;
use domain::tenant::TenantId;

use super::{PollError, PollService};
use crate::metrics::Metric;
use crate::ports::queue::{OutgoingMessage, check_outgoing};

/// A forced re-emission gets a new id derived from the original one and the resync request
/// (`UUIDv5(namespace, "{eventId}|resync|{requestedAt ms}")`): distinct from every normal
/// id, and the same when the same resync request re-runs after a crash.
pub fn forced_event_id(event_id: Uuid, requested_at: DateTime<Utc>) -> Uuid {
    let name = format!("{event_id}|resync|{}", requested_at.timestamp_millis());
    Uuid::new_v5(&ORDER_EVENT_NAMESPACE, name.as_bytes())
}

pub(super) fn forced_event(mut event: OrderEvent, requested_at: DateTime<Utc>) -> OrderEvent {
    let header = match &mut event {
        OrderEvent::Created(e) => &mut e.header,
        OrderEvent::Canceled(e) => &mut e.header,
        OrderEvent::Shipped(e) => &mut e.header,
        OrderEvent::Delivered(e) | OrderEvent::ReadyForPickup(e) | OrderEvent::PickedUp(e) => {
            &mut e.header
        }
        OrderEvent::Returned(e) => &mut e.header,
    };
    header.event_id = forced_event_id(header.event_id, requested_at);
    event
}

/// Shipped (or delivered) shipping processes as the contract reports them.
pub fn shipments_of(processes: &OrderProcesses) -> Vec<Shipment> {
    processes
        .embedded
        .shipping
        .iter()
        .filter(|process| {
            matches!(
                process.status,
                ShippingProcessStatus::Shipped | ShippingProcessStatus::Delivered
            )
        })
        .map(|process| Shipment {
            shipping_process_id: process.id,
            tracking_code: process.tracking_code.clone(),
            tracking_link: process.tracking_link.clone(),
            lines: process
                .line_items
                .iter()
                .map(|line| ShipmentLine {
                    line_item_id: line.product_line_item_id,
                    quantity: line.quantity,
                })
                .collect(),
        })
        .collect()
}

pub(super) fn event_entry(
    tenant: &TenantId,
    event: &OrderEvent,
    at: DateTime<Utc>,
) -> ActivityEntry {
    let header = event.header();
    ActivityEntry {
        tenant: tenant.clone(),
        entry_id: header.event_id.to_string(),
        at,
        entity: EntityRef::order(
            header.order_id.to_string(),
            Some(header.order_number.clone()),
        ),
        direction: Direction::EpagesToAfosto,
        action: event.kind().as_str().to_owned(),
        outcome: ActivityOutcome::Ok,
        error: None,
        correlation: Correlation {
            event_id: Some(header.event_id.to_string()),
            ..Correlation::default()
        },
    }
}

pub(super) fn failure_entry(
    tenant: &TenantId,
    order: &Order,
    action: &str,
    reason: String,
    at: DateTime<Utc>,
) -> ActivityEntry {
    let entity = EntityRef::order(order.id.to_string(), order.order_number.clone());
    failed_entry(tenant, entity, action, &reason, at)
}

/// A poll that failed as a whole (the shop unreachable, retries exhausted, a refused token):
/// about the tenant, not an order. `status` shows the same failure as the tenant's last
/// poll error.
pub(super) fn poll_failure_entry(
    tenant: &TenantId,
    message: &str,
    at: DateTime<Utc>,
) -> ActivityEntry {
    let entity = EntityRef {
        kind: EntityKind::Tenant,
        id: tenant.to_string(),
        number: None,
    };
    failed_entry(tenant, entity, "poll", message, at)
}

fn failed_entry(
    tenant: &TenantId,
    entity: EntityRef,
    action: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        tenant: tenant.clone(),
        entry_id: Uuid::new_v4().to_string(),
        at,
        entity,
        direction: Direction::EpagesToAfosto,
        action: action.to_owned(),
        outcome: ActivityOutcome::Failed,
        // The activity log is a sink: redacted and capped.
        error: Some(crate::error_chain::sink_text(reason)),
        correlation: Correlation::default(),
    }
}

/// The longest free text (product name, custom text, variation attribute, note) an
/// `order.created` keeps once it had to be shrunk; a capped text ends in `…`.
pub const MAX_FREE_TEXT_CHARS: usize = 1_000;

/// An order event as the FIFO message the order-events queue gets.
pub(super) fn event_message(event: &OrderEvent) -> Result<OutgoingMessage, serde_json::Error> {
    Ok(OutgoingMessage::fifo(
        serde_json::to_string(event)?,
        event.message_group_id(),
        event.event_id().to_string(),
    ))
}

/// Makes every event of one order acceptable to the queue: an `order.created` over the
/// size limit is shrunk, first by capping its free texts at [`MAX_FREE_TEXT_CHARS`], then
/// by leaving out the per-line details Afosto can read from the shop by SKU or product id
/// (name, variation attributes, custom text). The shrinking is deterministic, so a re-run
/// sends the same bytes under the same id. Returns how many events were shrunk, or why
/// one still cannot be sent (the order is then parked by the caller).
pub(super) fn fit_events<'a>(
    events: impl IntoIterator<Item = &'a mut OrderEvent>,
) -> Result<usize, String> {
    let mut shrunk = 0;
    for event in events {
        let mut verdict = check(event);
        if verdict.is_err() && matches!(event, OrderEvent::Created(_)) {
            shrunk += 1;
            for step in [
                cap_free_texts as fn(&mut NormalizedOrder),
                drop_line_details,
            ] {
                if let OrderEvent::Created(created) = &mut *event {
                    step(&mut created.order);
                }
                verdict = check(event);
                if verdict.is_ok() {
                    break;
                }
            }
        }
        if let Err(reason) = verdict {
            return Err(format!("{} {}: {reason}", event.kind(), event.event_id()));
        }
    }
    Ok(shrunk)
}

/// Whether the queue would take the event (size, group and deduplication ids).
fn check(event: &OrderEvent) -> Result<(), String> {
    let message = event_message(event).map_err(|error| format!("cannot be encoded: {error}"))?;
    check_outgoing(&message, true, false).map_err(|failure| failure.message)
}

fn cap_free_texts(order: &mut NormalizedOrder) {
    for line in &mut order.lines {
        cap(&mut line.name);
        for attribute in &mut line.variation_attributes {
            cap(&mut attribute.name);
            cap(&mut attribute.value);
        }
        if let Some(text) = &mut line.custom_text {
            cap(&mut text.label);
            cap(&mut text.value);
        }
    }
    let notes = &mut order.notes;
    for note in [
        &mut notes.customer_comment,
        &mut notes.order_note,
        &mut notes.payment_note,
    ] {
        cap(note);
    }
}

fn drop_line_details(order: &mut NormalizedOrder) {
    for line in &mut order.lines {
        line.name = None;
        line.variation_attributes.clear();
        line.custom_text = None;
    }
}

fn cap(text: &mut Option<String>) {
    if let Some(value) = text
        && let Some((cut, _)) = value.char_indices().nth(MAX_FREE_TEXT_CHARS)
    {
        value.truncate(cut);
        value.push('…');
    }
}

/// An order the poll parked: what the activity log and the dead letter say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parked {
    pub order_number: Option<String>,
    pub reason: String,
    /// The snapshot's `updatedAt` (or when it was read, without one).
    pub snapshot_at: DateTime<Utc>,
}

impl Parked {
    fn text(&self, order_id: &str) -> String {
        crate::error_chain::sink_text(&format!(
            "order {order_id} ({}) parked: its events cannot be sent: {}; nothing was \
             emitted for this version of the order, a later change of it is tried again",
            self.order_number.as_deref().unwrap_or("no number"),
            self.reason
        ))
    }

    pub(super) fn entry(
        &self,
        tenant: &TenantId,
        order_id: &str,
        at: DateTime<Utc>,
    ) -> ActivityEntry {
        ActivityEntry {
            tenant: tenant.clone(),
            // One entry per parked version: a repeated park of it (a crash before the
            // ledger write) lands on the same entry.
            entry_id: Uuid::new_v5(
                &ORDER_EVENT_NAMESPACE,
                format!(
                    "{tenant}|{order_id}|parked|{}",
                    self.snapshot_at.timestamp_millis()
                )
                .as_bytes(),
            )
            .to_string(),
            at,
            entity: EntityRef::order(order_id.to_owned(), self.order_number.clone()),
            direction: Direction::EpagesToAfosto,
            action: "order.parked".to_owned(),
            outcome: ActivityOutcome::Failed,
            error: Some(self.text(order_id)),
            correlation: Correlation::default(),
        }
    }

    /// The dead letter: a resync request from the parked version's `updatedAt` (so a
    /// `dlq replay` reads the order again), with the reason as its attribute, redacted and
    /// capped like every dead-letter reason.
    pub(super) fn dead_letter(
        &self,
        tenant: &TenantId,
        order_id: &str,
        at: DateTime<Utc>,
    ) -> OutgoingMessage {
        use crate::pipeline::poll_request::{PollRequest, PollTrigger};
        use crate::pipeline::sqs_batch::dead_letter_attributes::REASON;
        let request = PollRequest {
            tenant: tenant.clone(),
            trigger: PollTrigger::Resync {
                since: self.snapshot_at,
                force: false,
            },
            requested_at: at,
        };
        OutgoingMessage::new(request.to_json()).with_attribute(REASON, self.text(order_id))
    }
}

impl PollService {
    /// Parks the orders of a page whose events cannot be sent: their dead letters go out
    /// before their ledger marks are written (a crash in between parks them again: at
    /// least once), one activity entry each, and the `OrdersParked` metric the alarm
    /// watches. The poll goes on, so the cursor moves past them.
    pub(super) async fn park(
        &self,
        tenant: &TenantId,
        parked: &[(&str, &Parked)],
        activity: &mut Vec<ActivityEntry>,
    ) -> Result<(), PollError> {
        if parked.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        match &self.dead_letters {
            Some(queue) => {
                let letters = parked
                    .iter()
                    .map(|(order_id, parked)| parked.dead_letter(tenant, order_id, now))
                    .collect();
                let report = queue.send_batch(letters).await?;
                let failures: Vec<_> = report.failures().collect();
                if let Some((_, first)) = failures.first() {
                    return Err(PollError::Send {
                        failed: failures.len(),
                        reason: format!("dead letter of a parked order: {}", first.message),
                        transient: failures.iter().all(|(_, failure)| failure.transient),
                    });
                }
            }
            None => {
                tracing::warn!(%tenant, "no dead-letter queue wired: parked orders are only logged")
            }
        }
        for (order_id, parked) in parked {
            activity.push(parked.entry(tenant, order_id, now));
        }
        self.metrics.add_usize(Metric::OrdersParked, parked.len());
        Ok(())
    }
}
