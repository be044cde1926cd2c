//! What the demo does and expects, as data: the seed orders it works on (by their
//! `reference` in `shared/sandbox/seeds/demo.json`), the event stream their import must produce,
//! the commands Afosto sends back with the outcome each must have, the events those
//! changes echo back (docs/ORDER-EVENTS.md: once imported, *every* later change is
//! followed, whoever made it, so Afosto sees its own shipment again and applies it
//! idempotently by `cumulativeQuantity`), and the state the shop must end in.

use contracts::order_event::EventKind;
use serde_json::{Value, json};

/// The demo shop of the built-in seed, its app credentials and its tenant id.
pub const SHOP: &str = "demo";
pub const CLIENT_ID: &str = "demo-client";
pub const CLIENT_SECRET: &str = "demo-secret";
pub const TENANT: &str = "demo";
/// Afosto locations: one counts towards the shop's stock, one is not synced.
pub const WAREHOUSE: &str = "warehouse-1";
pub const IGNORED_LOCATION: &str = "store-outlet";

use EventKind::{Canceled, Created, Delivered, PickedUp, ReadyForPickup, Returned, Shipped};

/// The import: per seed order, the events in sequence order. Orders canceled before the
/// import and test orders produce none (the import rules of docs/ORDER-EVENTS.md).
pub const IMPORT: &[(&str, &[EventKind])] = &[
    ("new", &[Created]),
    ("paid", &[Created]),
    ("pending-shipment", &[Created]),
    ("partially-shipped", &[Created, Shipped]),
    ("shipped", &[Created, Shipped]),
    ("delivered", &[Created, Shipped, Delivered]),
    ("canceled", &[]),
    ("canceled-after-payment", &[]),
    ("partially-canceled", &[Created, Canceled]),
    // A returned piece counts as delivered: the customer had it.
    (
        "partially-returned",
        &[Created, Shipped, Delivered, Returned],
    ),
    ("returned", &[Created, Shipped, Delivered, Returned]),
    ("pickup-new", &[Created]),
    ("pickup-ready", &[Created, ReadyForPickup]),
    ("picked-up", &[Created, ReadyForPickup, PickedUp]),
    ("full-refund-only", &[Created]),
    ("test-order", &[]),
];

/// How a command must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Applied,
    /// `command.skipped` with this reason code.
    Skipped(&'static str),
}

/// One command Afosto sends: its name (the suffix of its id), the order it is about (by
/// seed reference; `None` for stock), the body without the common fields, its expected
/// outcome and the event its change echoes back.
pub struct Step {
    pub name: &'static str,
    pub order: Option<&'static str>,
    pub kind: &'static str,
    pub fields: Value,
    pub expected: Expected,
    pub echo: Option<EventKind>,
}

/// Afosto's commands, in the order it sends them. Commands of one order share a FIFO
/// group, so `deliver` follows its `ship`, and the repeated `ship` follows both.
pub fn steps(observed_at: chrono::DateTime<chrono::Utc>) -> Vec<Step> {
    let earlier = observed_at - chrono::TimeDelta::minutes(1);
    let rfc3339 =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let step = |name, order, kind, fields, expected, echo| Step {
        name,
        order,
        kind,
        fields,
        expected,
        echo,
    };
    vec![
        step(
            "ship-paid",
            Some("paid"),
            "ship",
            json!({
                "lines": [{ "sku": "BAG-001", "quantity": 1 }],
                "trackingCode": "DEMO-PARCEL-1",
                "trackingLink": "https://jouw.postnl.nl/track-and-trace/DEMO-PARCEL-1",
                "carrier": "POSTNL", "shipmentReference": "parcel-1", "notifyCustomer": true
            }),
            Expected::Applied,
            Some(Shipped),
        ),
        step(
            "deliver-paid",
            Some("paid"),
            "deliver",
            json!({
                "trackingCode": "DEMO-PARCEL-1", "shipmentReference": "parcel-1"
            }),
            Expected::Applied,
            Some(Delivered),
        ),
        // Afosto retrying the same parcel under a new id: recognised by its tracking code.
        step(
            "ship-paid-again",
            Some("paid"),
            "ship",
            json!({
                "lines": [{ "sku": "BAG-001", "quantity": 1 }],
                "trackingCode": "DEMO-PARCEL-1", "carrier": "POSTNL"
            }),
            Expected::Skipped("already_in_effect"),
            None,
        ),
        step(
            "ship-rest",
            Some("partially-shipped"),
            "ship",
            json!({
                "allUnshipped": true, "trackingCode": "DEMO-PARCEL-2", "carrier": "DHL"
            }),
            Expected::Applied,
            Some(Shipped),
        ),
        // The merchant prepared this parcel (a PENDING process): it is completed, not doubled.
        step(
            "ship-prepared",
            Some("pending-shipment"),
            "ship",
            json!({
                "lines": [{ "sku": "MUG-001", "quantity": 1 }],
                "trackingCode": "DEMO-PARCEL-3", "carrier": "DHL"
            }),
            Expected::Applied,
            Some(Shipped),
        ),
        step(
            "cancel-whole",
            Some("new"),
            "cancel",
            json!({
                "wholeOrder": true, "comment": "Customer changed their mind"
            }),
            Expected::Applied,
            Some(Canceled),
        ),
        step(
            "cancel-lines",
            Some("partially-canceled"),
            "cancel",
            json!({
                "lines": [{ "sku": "MUG-001", "quantity": 2 }]
            }),
            Expected::Applied,
            Some(Canceled),
        ),
        step(
            "return",
            Some("delivered"),
            "return",
            json!({
                "lines": [
                    { "sku": "BAG-001", "quantity": 1, "decision": "accepted" },
                    { "sku": "BAG-001", "quantity": 1, "decision": "rejected" }
                ],
                "comment": "RMA demo-1", "notifyCustomer": false
            }),
            Expected::Applied,
            Some(Returned),
        ),
        step(
            "ready",
            Some("pickup-new"),
            "ready_for_pickup",
            json!({ "notifyCustomer": true }),
            Expected::Applied,
            Some(ReadyForPickup),
        ),
        step(
            "collected",
            Some("pickup-ready"),
            "picked_up",
            json!({}),
            Expected::Applied,
            Some(PickedUp),
        ),
        step(
            "deliver-seeded",
            Some("shipped"),
            "deliver",
            json!({ "trackingCode": "DEMO-TRACK-2" }),
            Expected::Applied,
            Some(Delivered),
        ),
        step(
            "stock-mug",
            None,
            "stock",
            json!({
                "sku": "MUG-001", "quantity": 40, "location": WAREHOUSE, "observedAt": rfc3339(observed_at)
            }),
            Expected::Applied,
            None,
        ),
        // An older observation arriving late must not move the shop back in time.
        step(
            "stock-mug-stale",
            None,
            "stock",
            json!({
                "sku": "MUG-001", "quantity": 5, "location": WAREHOUSE, "observedAt": rfc3339(earlier)
            }),
            Expected::Skipped("stale_observation"),
            None,
        ),
        step(
            "stock-variation",
            None,
            "stock",
            json!({
                "sku": "TSHIRT-M-BLK", "quantity": 7, "location": WAREHOUSE, "observedAt": rfc3339(observed_at)
            }),
            Expected::Applied,
            None,
        ),
        step(
            "stock-ignored",
            None,
            "stock",
            json!({
                "sku": "BAG-001", "quantity": 99, "location": IGNORED_LOCATION, "observedAt": rfc3339(observed_at)
            }),
            Expected::Skipped("location_not_synced"),
            None,
        ),
    ]
}

/// Absolute stock levels the shop must show at the end.
pub const STOCK: &[(&str, i64)] = &[("MUG-001", 40), ("TSHIRT-M-BLK", 7)];
