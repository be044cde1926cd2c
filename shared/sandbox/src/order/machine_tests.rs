//! Unit tests of the order state machine: every operation, its documented errors, and the
//! derived order status after it.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use super::create::build_order;
use super::machine::{LineRequest, ReturnLineRequest, ReturnRequest, ShippingRequest};
use super::*;
use crate::catalog::{Availability, Catalog, Product};
use crate::error::ApiError;

fn catalog() -> Catalog {
    let mut catalog = Catalog::default();
    for (sku, price) in [("A", 1000), ("B", 500)] {
        catalog.insert(Product {
            id: Uuid::new_v4(),
            sku: Some(sku.to_owned()),
            name: format!("Product {sku}"),
            currency: "EUR".into(),
            sales_price: Some(Decimal::new(price, 2)),
            tax_class: "REGULAR".into(),
            last_modified_at: Utc::now(),
            extra: Default::default(),
            availability: Availability::managed(100, Some(5)),
            variations: None,
            variation_attributes: Vec::new(),
        });
    }
    catalog
}

fn body(pickup: bool, refund: &str) -> Value {
    let zero = json!({ "currency": "EUR", "amount": 0 });
    let mut body = json!({
        "taxModel": "GROSS", "entryDate": "2024-05-01T10:00:00", "salesChannel": "Storefront",
        "billingAddress": { "firstName": "A", "lastName": "B", "country": "DE" },
        "netTotal": zero, "subTotal": zero, "taxTotal": zero,
        "paymentLineItem": { "paymentMethod": { "name": "Invoice", "refund": refund } },
        "productLineItems": [
            { "quantity": 3, "product": { "sku": "A" } },
            { "quantity": 2, "product": { "sku": "B" } }
        ]
    });
    let charge =
        json!({ "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 4.9 } });
    if let Some(object) = body.as_object_mut() {
        object.insert(
            if pickup {
                "pickupLineItem"
            } else {
                "shippingLineItem"
            }
            .into(),
            charge,
        );
    }
    body
}

fn order_with(pickup: bool, refund: &str) -> Order {
    match build_order(
        &body(pickup, refund),
        &catalog(),
        "10001".into(),
        Utc::now(),
    ) {
        Ok(new) => new.order,
        Err(error) => panic!("test order must build: {error}"),
    }
}

fn order() -> Order {
    order_with(false, "PARTIAL_REFUND")
}

fn ids(order: &Order) -> (Uuid, Uuid) {
    (order.lines[0].id, order.lines[1].id)
}

fn line(id: Uuid, quantity: i64) -> LineRequest {
    LineRequest {
        line_item: id,
        quantity,
    }
}

fn ship(order: &mut Order, lines: Vec<LineRequest>) -> Result<Uuid, ApiError> {
    order.create_shipping(
        &ShippingRequest {
            lines,
            ..ShippingRequest::default()
        },
        Utc::now(),
    )
}

fn error_of<T: std::fmt::Debug>(result: Result<T, ApiError>) -> (StatusCode, String) {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => (error.status, error.error_id().to_owned()),
    }
}

/// One operation applied at a given instant.
type Step<'a> = dyn Fn(&mut Order, chrono::DateTime<Utc>) -> Result<(), ApiError> + 'a;

fn event_types(order: &Order) -> Vec<&str> {
    order.events.iter().map(|e| e.event_type.as_str()).collect()
}

#[test]
fn a_new_order_is_unshipped_pending_payment_with_creation_events() {
    let order = order();
    assert_eq!(order.shipping_status(), ShippingStatus::Unshipped);
    assert_eq!(order.payment_status(), PaymentStatus::Pending);
    assert!(!order.canceled());
    assert_eq!(event_types(&order), ["order-created", "payment-created"]);
    // 3 × 10.00 + 2 × 5.00 + 4.90 shipping
    assert_eq!(order.totals().grand_total, Decimal::new(4490, 2));
    assert_eq!(order.payments[0].amount, Decimal::new(4490, 2));
}

#[test]
fn shipping_moves_pieces_through_pending_shipped_delivered() {
    let mut order = order();
    let (a, b) = ids(&order);
    let first = ship(&mut order, vec![line(a, 2)]);
    let first = first.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (
            order.lines[0].buckets.unshipped,
            order.lines[0].buckets.pending
        ),
        (1, 2)
    );
    assert_eq!(order.shipping_status(), ShippingStatus::Pending);

    let before = order.updated_at;
    let later = before + Duration::seconds(5);
    assert!(
        order
            .mark_shipped(first, Some("T1".into()), None, None, later)
            .is_ok()
    );
    assert_eq!(order.updated_at, later);
    assert_eq!(order.lines[0].buckets.shipped, 2);
    assert_eq!(order.shipping_status(), ShippingStatus::PartiallyShipped);
    assert_eq!(order.shippings[0].tracking_code.as_deref(), Some("T1"));

    let second = ship(&mut order, vec![line(a, 1), line(b, 2)]).unwrap_or_else(|e| panic!("{e}"));
    assert!(order.mark_shipped(second, None, None, None, later).is_ok());
    assert_eq!(order.shipping_status(), ShippingStatus::Shipped);
    assert!(event_types(&order).contains(&"order-shipped"));

    assert!(order.mark_delivered(first, None, later).is_ok());
    assert_eq!(order.shipping_status(), ShippingStatus::Shipped);
    assert!(order.mark_delivered(second, None, later).is_ok());
    assert_eq!(order.shipping_status(), ShippingStatus::Delivered);
    assert_eq!(
        error_of(order.mark_delivered(second, None, later)),
        (StatusCode::CONFLICT, "illegal-status-transition".into())
    );
}

#[test]
fn shipping_errors_are_the_documented_ones_and_change_nothing() {
    let mut order = order();
    let (a, _) = ids(&order);
    let untouched = order.clone();
    assert_eq!(
        error_of(ship(&mut order, vec![line(a, 4)])),
        (
            StatusCode::BAD_REQUEST,
            "cannot-create-shipping-process".into()
        )
    );
    assert_eq!(
        error_of(ship(&mut order, vec![line(Uuid::new_v4(), 1)])),
        (StatusCode::CONFLICT, "no-such-product-line-item".into())
    );
    assert_eq!(
        error_of(ship(&mut order, vec![line(a, 0)])),
        (StatusCode::BAD_REQUEST, "input-validation-failed".into())
    );
    assert_eq!(
        error_of(ship(&mut order, Vec::new())),
        (StatusCode::BAD_REQUEST, "input-validation-failed".into())
    );
    assert_eq!(order, untouched);

    let process = ship(&mut order, vec![line(a, 3)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        error_of(ship(&mut order, vec![line(a, 1)])),
        (
            StatusCode::BAD_REQUEST,
            "cannot-create-shipping-process".into()
        )
    );
    assert!(
        order
            .mark_shipped(process, None, None, None, Utc::now())
            .is_ok()
    );
    assert_eq!(
        error_of(order.mark_shipped(process, None, None, None, Utc::now())),
        (StatusCode::CONFLICT, "illegal-status-transition".into())
    );
}

#[test]
fn pickup_orders_refuse_shipping_with_a_reason() {
    let mut order = order_with(true, "PARTIAL_REFUND");
    let (a, _) = ids(&order);
    let error = ship(&mut order, vec![line(a, 1)]).err();
    let body = error.map(|e| e.to_json()).unwrap_or_default();
    assert_eq!(body["errorId"], "cannot-create-shipping-process");
    assert_eq!(body["details"]["reasonId"], "order-has-pickup-line-item");
}

#[test]
fn pickup_flow_and_its_errors() {
    let mut order = order_with(true, "PARTIAL_REFUND");
    assert_eq!(order.shipping_status(), ShippingStatus::NotPickedUp);
    let process = order
        .create_pickup(None, Utc::now())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(order.shipping_status(), ShippingStatus::ReadyForPickup);
    assert_eq!(order.pickups[0].lines.len(), 2);
    assert_eq!(
        error_of(order.create_pickup(None, Utc::now())),
        (StatusCode::CONFLICT, "pickup-process-already-exists".into())
    );
    assert!(order.mark_picked_up(process, None, Utc::now()).is_ok());
    assert_eq!(order.shipping_status(), ShippingStatus::PickedUp);
    assert_eq!(
        error_of(order.mark_picked_up(process, None, Utc::now())),
        (StatusCode::CONFLICT, "illegal-status-transition".into())
    );

    let mut shipping = order_with(false, "PARTIAL_REFUND");
    assert_eq!(
        error_of(shipping.create_pickup(None, Utc::now())),
        (
            StatusCode::BAD_REQUEST,
            "cannot-create-pickup-process".into()
        )
    );
    let mut canceled = order_with(true, "PARTIAL_REFUND");
    assert!(canceled.cancel(None, Utc::now()).is_ok());
    assert_eq!(
        error_of(canceled.create_pickup(None, Utc::now())),
        (
            StatusCode::BAD_REQUEST,
            "cannot-create-pickup-process".into()
        )
    );
}

#[test]
fn whole_cancel_of_an_unpaid_order_voids_the_payment() {
    let mut order = order();
    assert!(order.cancelable());
    assert!(
        order
            .cancel(Some("customer asked".into()), Utc::now())
            .is_ok()
    );
    assert!(order.canceled());
    assert!(!order.cancelable());
    assert_eq!(order.shipping_status(), ShippingStatus::Canceled);
    assert_eq!(order.payment_status(), PaymentStatus::Voided);
    assert_eq!(order.totals().grand_total, Decimal::ZERO);
    assert_eq!(order.lines[0].quantity(), 0);
    assert_eq!(order.lines[0].buckets.canceled, 3);
    assert_eq!(
        error_of(order.cancel(None, Utc::now())),
        (StatusCode::CONFLICT, "illegal-status-transition".into())
    );
}

#[test]
fn whole_cancel_of_a_paid_order_leaves_a_pending_refund() {
    let mut order = order();
    assert!(order.mark_paid(None, Utc::now()).is_ok());
    assert_eq!(order.payment_status(), PaymentStatus::Paid);
    assert_eq!(
        error_of(order.mark_paid(None, Utc::now())),
        (StatusCode::CONFLICT, "illegal-status-transition".into())
    );
    assert!(order.cancel(None, Utc::now()).is_ok());
    assert_eq!(order.payment_status(), PaymentStatus::RefundPending);
    assert_eq!(order.refunds[0].amount, Decimal::new(4490, 2));
    assert_eq!(order.open_amount(), Decimal::new(-4490, 2));
    assert!(order.mark_refund_paid(None, Utc::now()).is_ok());
    assert_eq!(order.payment_status(), PaymentStatus::Paid);
    assert_eq!(order.open_amount(), Decimal::ZERO);
}

#[test]
fn a_shipped_order_cannot_be_canceled_whole() {
    let mut order = order();
    let (a, _) = ids(&order);
    assert!(ship(&mut order, vec![line(a, 1)]).is_ok());
    assert!(!order.cancelable());
    assert_eq!(
        error_of(order.cancel(None, Utc::now())),
        (StatusCode::CONFLICT, "illegal-status-transition".into())
    );
}

#[test]
fn partial_cancelation_takes_only_unshipped_pieces_and_rebills() {
    let mut order = order();
    let (a, b) = ids(&order);
    assert!(ship(&mut order, vec![line(a, 2)]).is_ok());
    assert_eq!(
        error_of(order.cancel_items(&[line(a, 2)], None, Utc::now())),
        (
            StatusCode::BAD_REQUEST,
            "cannot-create-cancel-process".into()
        )
    );
    assert_eq!(
        error_of(order.cancel_items(&[line(Uuid::new_v4(), 1)], None, Utc::now())),
        (StatusCode::CONFLICT, "no-such-product-line-item".into())
    );
    let process = order.cancel_items(&[line(a, 1), line(b, 1)], None, Utc::now());
    assert!(process.is_ok());
    assert_eq!(order.lines[0].quantity(), 2);
    assert_eq!(order.lines[1].quantity(), 1);
    assert!(!order.canceled());
    // Unpaid: the pending payment is voided and replaced by one over the new total.
    assert_eq!(order.payments.len(), 2);
    assert_eq!(order.payments[0].status, ProcessPaymentStatus::Voided);
    assert_eq!(order.payments[1].amount, Decimal::new(2990, 2));
    assert!(event_types(&order).ends_with(&[
        "items-canceled",
        "payment-voided",
        "payment-created"
    ]));
}

#[test]
fn canceling_every_piece_partially_cancels_the_order() {
    let mut order = order();
    let (a, b) = ids(&order);
    assert!(
        order
            .cancel_items(&[line(a, 3), line(b, 2)], None, Utc::now())
            .is_ok()
    );
    assert!(order.canceled());
    assert_eq!(order.shipping_status(), ShippingStatus::Canceled);
    assert_eq!(order.payment_status(), PaymentStatus::Voided);
}

#[test]
fn full_refund_only_refuses_partial_cancelation_and_return() {
    let mut order = order_with(false, "FULL_REFUND_ONLY");
    let (a, b) = ids(&order);
    assert!(order.mark_paid(None, Utc::now()).is_ok());
    assert_eq!(
        error_of(order.cancel_items(&[line(a, 3)], None, Utc::now())),
        (
            StatusCode::CONFLICT,
            "cancel-process-partial-refund-not-allowed".into()
        )
    );
    let shipped = ship(&mut order, vec![line(a, 3), line(b, 2)]).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        order
            .mark_shipped(shipped, None, None, None, Utc::now())
            .is_ok()
    );
    let partial = ReturnRequest {
        lines: vec![ReturnLineRequest {
            line_item: a,
            quantity: 3,
            status: ReturnStatus::Returned,
        }],
        ..ReturnRequest::default()
    };
    assert_eq!(
        error_of(order.return_items(&partial, Utc::now())),
        (
            StatusCode::CONFLICT,
            "return-process-partial-refund-not-allowed".into()
        )
    );
    let everything = ReturnRequest {
        lines: vec![
            ReturnLineRequest {
                line_item: a,
                quantity: 3,
                status: ReturnStatus::Returned,
            },
            ReturnLineRequest {
                line_item: b,
                quantity: 2,
                status: ReturnStatus::Broken,
            },
        ],
        shipping_price_refund: Some(Decimal::new(490, 2)),
        shipping_process: Some(shipped),
        ..ReturnRequest::default()
    };
    assert!(order.return_items(&everything, Utc::now()).is_ok());
    assert_eq!(order.shipping_status(), ShippingStatus::Returned);
    assert_eq!(order.payment_status(), PaymentStatus::RefundPending);
    // 30.00 + 10.00 returned pieces + 4.90 shipping refund
    assert_eq!(order.refunds[0].amount, Decimal::new(4490, 2));
}

#[test]
fn returns_take_delivered_pieces_first_and_respect_limits() {
    let mut order = order();
    let (a, b) = ids(&order);
    let first = ship(&mut order, vec![line(a, 1)]).unwrap_or_else(|e| panic!("{e}"));
    let second = ship(&mut order, vec![line(a, 2)]).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        order
            .mark_shipped(first, None, None, None, Utc::now())
            .is_ok()
    );
    assert!(
        order
            .mark_shipped(second, None, None, None, Utc::now())
            .is_ok()
    );
    assert!(order.mark_delivered(second, None, Utc::now()).is_ok());

    let request = |quantity, status| ReturnRequest {
        lines: vec![ReturnLineRequest {
            line_item: a,
            quantity,
            status,
        }],
        ..ReturnRequest::default()
    };
    assert_eq!(
        error_of(order.return_items(&request(4, ReturnStatus::Returned), Utc::now())),
        (
            StatusCode::BAD_REQUEST,
            "cannot-create-return-process".into()
        )
    );
    let unshipped_b = ReturnRequest {
        lines: vec![ReturnLineRequest {
            line_item: b,
            quantity: 1,
            status: ReturnStatus::Returned,
        }],
        ..ReturnRequest::default()
    };
    assert_eq!(
        error_of(order.return_items(&unshipped_b, Utc::now())),
        (
            StatusCode::BAD_REQUEST,
            "cannot-create-return-process".into()
        )
    );
    assert!(
        order
            .return_items(&request(2, ReturnStatus::Broken), Utc::now())
            .is_ok()
    );
    let buckets = order.lines[0].buckets;
    assert_eq!(
        (buckets.delivered, buckets.shipped, buckets.broken),
        (0, 1, 2)
    );
    assert_eq!(order.lines[0].quantity(), 1);
    assert_eq!(order.shipping_status(), ShippingStatus::PartiallyReturned);
    // The first shipment still holds its piece and can be delivered.
    assert!(order.mark_delivered(first, None, Utc::now()).is_ok());
    assert_eq!(order.lines[0].buckets.delivered, 1);

    let with_unknown_process = ReturnRequest {
        shipping_process: Some(Uuid::new_v4()),
        ..request(1, ReturnStatus::Returned)
    };
    assert_eq!(
        error_of(order.return_items(&with_unknown_process, Utc::now())),
        (StatusCode::BAD_REQUEST, "illegal-argument".into())
    );
}

#[test]
fn every_change_appends_an_event_and_bumps_updated_at() {
    let mut order = order();
    let (a, _) = ids(&order);
    let mut at = order.updated_at;
    let mut step = |order: &mut Order, f: &Step<'_>| {
        at += Duration::seconds(1);
        let events = order.events.len();
        assert!(f(order, at).is_ok());
        assert!(order.events.len() > events);
        assert_eq!(order.updated_at, at);
    };
    step(&mut order, &|o, now| o.mark_paid(None, now).map(|_| ()));
    step(&mut order, &|o, now| {
        o.create_shipping(
            &ShippingRequest {
                lines: vec![line(a, 1)],
                ..ShippingRequest::default()
            },
            now,
        )
        .map(|_| ())
    });
    step(&mut order, &|o, now| {
        let id = o.shippings[0].id;
        o.mark_shipped(id, None, None, None, now)
    });
    step(&mut order, &|o, now| {
        let id = o.shippings[0].id;
        o.mark_delivered(id, None, now)
    });
    step(&mut order, &|o, now| {
        o.cancel_items(&[line(a, 1)], None, now).map(|_| ())
    });
    let types = event_types(&order);
    for expected in [
        "payment-paid",
        "shipping-pending",
        "shipping-shipped",
        "shipping-delivered",
        "items-canceled",
        "refund-created",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
}

#[test]
fn absurd_amounts_quantities_and_rates_are_refused_not_panicked_on() {
    let attempts = [
        json!({ "quantity": 1, "product": { "sku": "A" }, "unitPrice": { "amount": 1e27 } }),
        json!({ "quantity": 4_000_000_000_u64, "product": { "sku": "A" } }),
        json!({ "quantity": 1, "product": { "sku": "A" }, "lineItemTax": { "taxRate": -1 } }),
    ];
    for line in attempts {
        let mut request = body(false, "PARTIAL_REFUND");
        request["productLineItems"] = json!([line]);
        let error = build_order(&request, &catalog(), "1".into(), Utc::now()).err();
        assert_eq!(
            error.map(|e| e.error_id().to_owned()).as_deref(),
            Some("input-validation-failed")
        );
    }
    let mut request = body(false, "PARTIAL_REFUND");
    request["shippingLineItem"]["lineItemTaxes"] = json!([{ "taxRate": -1 }]);
    assert!(build_order(&request, &catalog(), "1".into(), Utc::now()).is_err());
}
