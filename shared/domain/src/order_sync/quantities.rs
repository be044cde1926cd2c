//! The cumulative, only-growing view of an order snapshot's line buckets.
//!
//! ePages reports where each piece of a line is *now*: the buckets partition the ordered
//! quantity (`unshipped + pending + shipped + delivered + canceled + returned + broken`, or
//! the pickup buckets), so `shipped` shrinks when pieces are delivered and `delivered`
//! shrinks when pieces come back. Events need the opposite: how many pieces have *ever*
//! reached a state. Every piece in a later state went through the earlier ones, so:
//!
//! | counter | shipping order | pickup order |
//! |---|---|---|
//! | canceled | `canceled` | `canceled` |
//! | shipped | `shipped + delivered + returned + broken` | 0 |
//! | delivered (received) | `delivered + returned + broken` | 0 |
//! | readyForPickup | 0 | `readyForPickup + pickedUp + returned + broken` |
//! | pickedUp | 0 | `pickedUp + returned + broken` |
//! | returned, broken | `returned`, `broken` | `returned`, `broken` |
//!
//! A returned piece counts as delivered (received) even when the carrier never confirmed the
//! delivery: the customer cannot send back what they did not get, and without that rule a
//! return from a shipment in transit would hide a later delivery of another piece. Each
//! counter is capped by the pieces not canceled, so a future Beyond that keeps returned
//! pieces in `shipped`/`delivered` as well (the spec does not say) cannot make us claim more
//! pieces than were ordered.
//!
//! One counter is not monotone: pieces ready for pickup can still be canceled, which
//! lowers `readyForPickup` without a later state to account for them. The diff keeps the
//! highest value it emitted for it (`max`), which is exact because ePages makes the whole
//! order ready at once (one pickup process per order).

use beyond::model::order::{Order, ProductLineItem};

use super::ledger::LineCounters;

/// How the order reaches the customer; it decides which buckets returns came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfilment {
    Shipping,
    Pickup,
}

impl Fulfilment {
    pub fn of(order: &Order) -> Self {
        if order.is_pickup() {
            Fulfilment::Pickup
        } else {
            Fulfilment::Shipping
        }
    }
}

/// Pieces ordered: `initialQuantity`, or when ePages omits it the current quantity plus
/// what left the line (ePages: `quantity = initial − returned − broken − canceled`).
pub fn initial_quantity(line: &ProductLineItem) -> u32 {
    line.initial_quantity.unwrap_or_else(|| {
        line.quantity
            .saturating_add(line.canceled_quantity())
            .saturating_add(line.returned_quantity())
            .saturating_add(line.broken_quantity())
    })
}

/// The cumulative counters ePages shows for one line (see the module docs).
pub fn observed_counters(line: &ProductLineItem, fulfilment: Fulfilment) -> LineCounters {
    let canceled = line.canceled_quantity();
    let returned = line.returned_quantity();
    let broken = line.broken_quantity();
    let came_back = returned.saturating_add(broken);
    let not_canceled = initial_quantity(line).saturating_sub(canceled);
    let mut counters = LineCounters {
        canceled,
        returned,
        broken,
        ..LineCounters::default()
    };
    match fulfilment {
        Fulfilment::Shipping => {
            counters.shipped = line
                .shipped_quantity()
                .saturating_add(line.delivered_quantity())
                .saturating_add(came_back)
                .min(not_canceled);
            counters.delivered = line
                .delivered_quantity()
                .saturating_add(came_back)
                .min(counters.shipped);
        }
        Fulfilment::Pickup => {
            counters.picked_up = line
                .picked_up_quantity()
                .saturating_add(came_back)
                .min(not_canceled);
            counters.ready_for_pickup = line
                .ready_for_pickup_quantity()
                .saturating_add(counters.picked_up)
                .min(not_canceled);
        }
    }
    counters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(json: serde_json::Value) -> ProductLineItem {
        let mut value = json;
        value["_id"] = "ad2eff4a-fa90-4ec7-84c5-f9d74989c45b".into();
        serde_json::from_value(value).expect("valid line")
    }

    #[test]
    fn shipping_line_counts_every_piece_that_ever_left() {
        let line = line(serde_json::json!({
            "quantity": 7, "initialQuantity": 10,
            "shippingStatus": {"unshipped": {"quantity": 1}, "pending": {"quantity": 1},
                               "shipped": {"quantity": 2}, "delivered": {"quantity": 3}},
            "returnStatus": {"returned": {"quantity": 1}, "broken": {"quantity": 1}},
            "cancelationStatus": {"canceled": {"quantity": 1}}
        }));
        let counters = observed_counters(&line, Fulfilment::Shipping);
        assert_eq!(
            counters,
            LineCounters {
                canceled: 1,
                shipped: 7,
                delivered: 5,
                returned: 1,
                broken: 1,
                ..LineCounters::default()
            }
        );
    }

    #[test]
    fn pickup_line_counts_ready_and_picked_up() {
        let line = line(serde_json::json!({
            "quantity": 4, "initialQuantity": 5,
            "pickupStatus": {"notPickedUp": {"quantity": 0}, "readyForPickup": {"quantity": 1},
                             "pickedUp": {"quantity": 2}},
            "returnStatus": {"returned": {"quantity": 1}}
        }));
        let counters = observed_counters(&line, Fulfilment::Pickup);
        assert_eq!(counters.ready_for_pickup, 4);
        assert_eq!(counters.picked_up, 3);
        assert_eq!(counters.shipped, 0);
    }

    #[test]
    fn counters_never_exceed_the_pieces_not_canceled() {
        // As if Beyond kept returned pieces in `delivered` too.
        let line = line(serde_json::json!({
            "quantity": 1, "initialQuantity": 3,
            "shipped": {"quantity": 0}, "delivered": {"quantity": 3},
            "returned": {"quantity": 2}
        }));
        let counters = observed_counters(&line, Fulfilment::Shipping);
        assert_eq!(counters.shipped, 3);
        assert_eq!(counters.delivered, 3);
    }

    #[test]
    fn missing_initial_quantity_is_derived() {
        let line = line(serde_json::json!({
            "quantity": 2, "canceled": {"quantity": 1}, "returned": {"quantity": 1}
        }));
        assert_eq!(initial_quantity(&line), 4);
    }
}
