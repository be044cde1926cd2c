//! Order-level status derived from the per-line quantity buckets, the way Beyond reports it.
//! Beyond has no stored order status: `shippingStatus`, `canceled` and `paymentStatus` are
//! views over the line items and the payment/refund processes, so the sandbox computes them
//! here, in pure functions, every time an order is rendered.

use serde::{Deserialize, Serialize};

/// Where the pieces of one product line item currently are. For a shipping order the
/// quantities `unshipped + pending + shipped + delivered + canceled + returned + broken`
/// always add up to the initial quantity; for a pickup order `notPickedUp + readyForPickup +
/// pickedUp + canceled + returned + broken` do. A return moves pieces out of
/// `shipped`/`delivered`/`pickedUp` (Beyond does not say whether it keeps them there too; the
/// partition keeps every bucket meaningful on its own).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buckets {
    pub unshipped: u32,
    pub pending: u32,
    pub shipped: u32,
    pub delivered: u32,
    pub not_picked_up: u32,
    pub ready_for_pickup: u32,
    pub picked_up: u32,
    pub canceled: u32,
    pub returned: u32,
    pub broken: u32,
}

impl Buckets {
    /// A fresh line: everything unshipped (shipping order) or not picked up (pickup order).
    pub fn new(fulfilment: Fulfilment, quantity: u32) -> Self {
        match fulfilment {
            Fulfilment::Shipping => Buckets {
                unshipped: quantity,
                ..Buckets::default()
            },
            Fulfilment::Pickup => Buckets {
                not_picked_up: quantity,
                ..Buckets::default()
            },
        }
    }

    /// Beyond's `quantity`: initial − returned − broken − canceled.
    pub fn current_quantity(&self, initial: u32) -> u32 {
        initial.saturating_sub(self.returned + self.broken + self.canceled)
    }

    /// Pieces that a cancelation can still take: not yet handed to a shipping process, or
    /// waiting for pickup (a pickup order can be canceled until it is picked up).
    pub fn cancelable(&self) -> u32 {
        self.unshipped + self.not_picked_up + self.ready_for_pickup
    }

    /// Pieces the customer has received and can send back.
    pub fn returnable(&self) -> u32 {
        self.shipped + self.delivered + self.picked_up
    }

    fn add(self, other: Buckets) -> Buckets {
        Buckets {
            unshipped: self.unshipped + other.unshipped,
            pending: self.pending + other.pending,
            shipped: self.shipped + other.shipped,
            delivered: self.delivered + other.delivered,
            not_picked_up: self.not_picked_up + other.not_picked_up,
            ready_for_pickup: self.ready_for_pickup + other.ready_for_pickup,
            picked_up: self.picked_up + other.picked_up,
            canceled: self.canceled + other.canceled,
            returned: self.returned + other.returned,
            broken: self.broken + other.broken,
        }
    }

    fn total(&self) -> u32 {
        self.unshipped
            + self.pending
            + self.shipped
            + self.delivered
            + self.not_picked_up
            + self.ready_for_pickup
            + self.picked_up
            + self.canceled
            + self.returned
            + self.broken
    }
}

/// Whether an order is delivered to the customer or collected in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Fulfilment {
    Shipping,
    Pickup,
}

/// The order's `shippingStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShippingStatus {
    Unshipped,
    Pending,
    PartiallyShipped,
    Shipped,
    Delivered,
    PartiallyReturned,
    Returned,
    Canceled,
    NotPickedUp,
    ReadyForPickup,
    PickedUp,
}

impl ShippingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShippingStatus::Unshipped => "UNSHIPPED",
            ShippingStatus::Pending => "PENDING",
            ShippingStatus::PartiallyShipped => "PARTIALLY_SHIPPED",
            ShippingStatus::Shipped => "SHIPPED",
            ShippingStatus::Delivered => "DELIVERED",
            ShippingStatus::PartiallyReturned => "PARTIALLY_RETURNED",
            ShippingStatus::Returned => "RETURNED",
            ShippingStatus::Canceled => "CANCELED",
            ShippingStatus::NotPickedUp => "NOT_PICKED_UP",
            ShippingStatus::ReadyForPickup => "READY_FOR_PICKUP",
            ShippingStatus::PickedUp => "PICKED_UP",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
    }
}

/// An order is `canceled` when every piece of every line is canceled (a whole-order cancel,
/// or partial cancelations that together took everything). An order without pieces is not.
pub fn is_canceled(lines: &[Buckets]) -> bool {
    let sum = sum(lines);
    sum.total() > 0 && sum.canceled == sum.total()
}

/// Derives `shippingStatus`. Rules, first match wins (totals over all lines):
///
/// 1. everything canceled → `CANCELED`;
/// 2. every non-canceled piece returned or broken → `RETURNED`; some → `PARTIALLY_RETURNED`
///    (a return is the latest thing that happened to such an order);
/// 3. pickup orders: all remaining pieces picked up → `PICKED_UP`; any ready for pickup →
///    `READY_FOR_PICKUP`; otherwise `NOT_PICKED_UP`;
/// 4. shipping orders, over the remaining pieces: all delivered → `DELIVERED`; all shipped
///    or delivered → `SHIPPED`; some shipped or delivered → `PARTIALLY_SHIPPED`; some in a
///    pending shipping process → `PENDING`; otherwise `UNSHIPPED`.
pub fn shipping_status(fulfilment: Fulfilment, lines: &[Buckets]) -> ShippingStatus {
    let sum = sum(lines);
    if is_canceled(lines) {
        return ShippingStatus::Canceled;
    }
    let active = sum.total() - sum.canceled;
    let gone_back = sum.returned + sum.broken;
    if active > 0 && gone_back == active {
        return ShippingStatus::Returned;
    }
    if gone_back > 0 {
        return ShippingStatus::PartiallyReturned;
    }
    match fulfilment {
        Fulfilment::Pickup => {
            if active > 0 && sum.picked_up == active {
                ShippingStatus::PickedUp
            } else if sum.ready_for_pickup > 0 {
                ShippingStatus::ReadyForPickup
            } else {
                ShippingStatus::NotPickedUp
            }
        }
        Fulfilment::Shipping => {
            let out = sum.shipped + sum.delivered;
            if active > 0 && sum.delivered == active {
                ShippingStatus::Delivered
            } else if active > 0 && out == active {
                ShippingStatus::Shipped
            } else if out > 0 {
                ShippingStatus::PartiallyShipped
            } else if sum.pending > 0 {
                ShippingStatus::Pending
            } else {
                ShippingStatus::Unshipped
            }
        }
    }
}

/// The order's `paymentStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Pending,
    Paid,
    PartiallyPaid,
    RefundPending,
    Voided,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "PENDING",
            PaymentStatus::Paid => "PAID",
            PaymentStatus::PartiallyPaid => "PARTIALLY_PAID",
            PaymentStatus::RefundPending => "REFUND_PENDING",
            PaymentStatus::Voided => "VOIDED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
    }
}

/// Status of a payment or refund process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProcessPaymentStatus {
    Pending,
    Paid,
    Voided,
}

impl ProcessPaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessPaymentStatus::Pending => "PENDING",
            ProcessPaymentStatus::Paid => "PAID",
            ProcessPaymentStatus::Voided => "VOIDED",
        }
    }
}

/// Derives `paymentStatus` from the payment processes (oldest first) and refund processes:
/// an open refund → `REFUND_PENDING`; otherwise any paid payment → `PAID`; otherwise a
/// pending payment → `PENDING`; only voided payments → `VOIDED`; none → `PENDING`.
pub fn payment_status(
    payments: &[ProcessPaymentStatus],
    refunds: &[ProcessPaymentStatus],
) -> PaymentStatus {
    if refunds.contains(&ProcessPaymentStatus::Pending) {
        PaymentStatus::RefundPending
    } else if payments.contains(&ProcessPaymentStatus::Paid) {
        PaymentStatus::Paid
    } else if payments.contains(&ProcessPaymentStatus::Pending) || payments.is_empty() {
        PaymentStatus::Pending
    } else {
        PaymentStatus::Voided
    }
}

fn sum(lines: &[Buckets]) -> Buckets {
    lines
        .iter()
        .fold(Buckets::default(), |acc, line| acc.add(*line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipping(unshipped: u32, pending: u32, shipped: u32, delivered: u32) -> Buckets {
        Buckets {
            unshipped,
            pending,
            shipped,
            delivered,
            ..Buckets::default()
        }
    }

    #[test]
    fn fresh_orders_are_unshipped_or_not_picked_up() {
        assert_eq!(
            shipping_status(
                Fulfilment::Shipping,
                &[Buckets::new(Fulfilment::Shipping, 3)]
            ),
            ShippingStatus::Unshipped
        );
        assert_eq!(
            shipping_status(Fulfilment::Pickup, &[Buckets::new(Fulfilment::Pickup, 3)]),
            ShippingStatus::NotPickedUp
        );
    }

    #[test]
    fn shipping_progress() {
        let ship = |lines: &[Buckets]| shipping_status(Fulfilment::Shipping, lines);
        assert_eq!(ship(&[shipping(2, 1, 0, 0)]), ShippingStatus::Pending);
        assert_eq!(ship(&[shipping(0, 3, 0, 0)]), ShippingStatus::Pending);
        assert_eq!(
            ship(&[shipping(2, 0, 1, 0)]),
            ShippingStatus::PartiallyShipped
        );
        assert_eq!(
            ship(&[shipping(0, 0, 3, 0), shipping(1, 0, 0, 0)]),
            ShippingStatus::PartiallyShipped
        );
        assert_eq!(
            ship(&[shipping(0, 1, 2, 0)]),
            ShippingStatus::PartiallyShipped
        );
        assert_eq!(ship(&[shipping(0, 0, 2, 1)]), ShippingStatus::Shipped);
        assert_eq!(ship(&[shipping(0, 0, 0, 3)]), ShippingStatus::Delivered);
    }

    #[test]
    fn cancelation_partial_and_whole() {
        let partly = Buckets {
            canceled: 2,
            ..shipping(0, 0, 3, 0)
        };
        assert!(!is_canceled(&[partly]));
        assert_eq!(
            shipping_status(Fulfilment::Shipping, &[partly]),
            ShippingStatus::Shipped
        );
        let partly_open = Buckets {
            canceled: 2,
            ..shipping(1, 0, 0, 0)
        };
        assert_eq!(
            shipping_status(Fulfilment::Shipping, &[partly_open]),
            ShippingStatus::Unshipped
        );
        let whole = [
            Buckets {
                canceled: 5,
                ..Buckets::default()
            },
            Buckets {
                canceled: 3,
                ..Buckets::default()
            },
        ];
        assert!(is_canceled(&whole));
        assert_eq!(
            shipping_status(Fulfilment::Shipping, &whole),
            ShippingStatus::Canceled
        );
        assert_eq!(
            shipping_status(Fulfilment::Pickup, &whole),
            ShippingStatus::Canceled
        );
        assert!(!is_canceled(&[]));
    }

    #[test]
    fn returns_dominate_once_they_happen() {
        let partly = Buckets {
            returned: 1,
            ..shipping(0, 0, 0, 2)
        };
        assert_eq!(
            shipping_status(Fulfilment::Shipping, &[partly]),
            ShippingStatus::PartiallyReturned
        );
        let all_back = Buckets {
            returned: 1,
            broken: 1,
            canceled: 1,
            ..Buckets::default()
        };
        assert_eq!(
            shipping_status(Fulfilment::Shipping, &[all_back]),
            ShippingStatus::Returned
        );
        assert_eq!(all_back.current_quantity(3), 0);
        let pickup_back = Buckets {
            returned: 2,
            ..Buckets::default()
        };
        assert_eq!(
            shipping_status(Fulfilment::Pickup, &[pickup_back]),
            ShippingStatus::Returned
        );
    }

    #[test]
    fn pickup_progress() {
        let ready = Buckets {
            ready_for_pickup: 3,
            ..Buckets::default()
        };
        assert_eq!(
            shipping_status(Fulfilment::Pickup, &[ready]),
            ShippingStatus::ReadyForPickup
        );
        let picked = Buckets {
            picked_up: 2,
            canceled: 1,
            ..Buckets::default()
        };
        assert_eq!(
            shipping_status(Fulfilment::Pickup, &[picked]),
            ShippingStatus::PickedUp
        );
    }

    #[test]
    fn quantity_excludes_canceled_returned_and_broken() {
        let line = Buckets {
            unshipped: 1,
            shipped: 1,
            canceled: 1,
            returned: 1,
            broken: 1,
            ..Buckets::default()
        };
        assert_eq!(line.current_quantity(5), 2);
        assert_eq!(line.cancelable(), 1);
        assert_eq!(line.returnable(), 1);
    }

    #[test]
    fn payment_status_derivation() {
        use ProcessPaymentStatus::*;
        assert_eq!(payment_status(&[Pending], &[]), PaymentStatus::Pending);
        assert_eq!(payment_status(&[Paid], &[]), PaymentStatus::Paid);
        assert_eq!(
            payment_status(&[Paid], &[Pending]),
            PaymentStatus::RefundPending
        );
        assert_eq!(payment_status(&[Paid], &[Paid]), PaymentStatus::Paid);
        assert_eq!(payment_status(&[Voided], &[]), PaymentStatus::Voided);
        assert_eq!(
            payment_status(&[Voided, Pending], &[]),
            PaymentStatus::Pending
        );
        assert_eq!(payment_status(&[], &[]), PaymentStatus::Pending);
    }

    #[test]
    fn status_names_round_trip() {
        for status in [
            ShippingStatus::Unshipped,
            ShippingStatus::PartiallyReturned,
            ShippingStatus::NotPickedUp,
        ] {
            assert_eq!(ShippingStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(
            PaymentStatus::parse("REFUND_PENDING"),
            Some(PaymentStatus::RefundPending)
        );
        assert_eq!(ShippingStatus::parse("NOT_SHIPPED"), None);
    }
}
