//! The order events and activity-log entries a poll emits besides the diff's own: forced
//! re-emissions of a resync, the shipments of an order, and the log entries.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use beyond::model::{Order, OrderProcesses, ShippingProcessStatus};
use contracts::order_event::{OrderEvent, Shipment, ShipmentLine};
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::order_sync::event_id::ORDER_EVENT_NAMESPACE;
use domain::tenant::TenantId;

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
    ActivityEntry {
        tenant: tenant.clone(),
        entry_id: Uuid::new_v4().to_string(),
        at,
        entity: EntityRef::order(order.id.to_string(), order.order_number.clone()),
        direction: Direction::EpagesToAfosto,
        action: action.to_owned(),
        outcome: ActivityOutcome::Failed,
        // The activity log is a sink: redacted and capped.
        error: Some(crate::error_chain::sink_text(&reason)),
        correlation: Correlation::default(),
    }
}

/// A poll that failed as a whole (the shop unreachable, retries exhausted, a refused token):
/// about the tenant, not an order. `status` shows the same failure as the tenant's last
/// poll error.
pub(super) fn poll_failure_entry(
    tenant: &TenantId,
    message: &str,
    at: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        tenant: tenant.clone(),
        entry_id: Uuid::new_v4().to_string(),
        at,
        entity: EntityRef {
            kind: EntityKind::Tenant,
            id: tenant.to_string(),
            number: None,
        },
        direction: Direction::EpagesToAfosto,
        action: "poll".to_owned(),
        outcome: ActivityOutcome::Failed,
        // The activity log is a sink: redacted and capped.
        error: Some(crate::error_chain::sink_text(message)),
        correlation: Correlation::default(),
    }
}
