//! The command consumer end to end: commands on the FIFO queue, the sandbox shop, state on
//! the embedded adapters and on moto, result events on the outbound queue.

pub(crate) mod harness;
mod stock_locations;
mod webhook;

use std::time::Duration;

use beyond::model::ShippingProcessStatus;
use connector::pipeline::apply::{ApplySettings, result_type};
use connector::pipeline::sqs_batch::RecordOutcome;
use connector::ports::queue::OutgoingMessage;
use contracts::command_result::{CommandResult, ResultOutcome, SkipCode};
use sandbox::{FaultKind, FaultSpec};
use serde_json::{Value, json};

use harness::{Backend, Harness, SHOP, both};

both!(
    ship_partial_whole_duplicate_and_deliver,
    cancel_whole_partial_and_full_refund_only,
    return_and_pickup,
    stock_levels_in_and_out_of_order,
    crashes_after_each_step_never_double,
    dropped_connections_and_throttling_end_in_one_effect,
    bad_messages_are_dead_lettered_with_their_reason,
    tenant_states_order_numbers_and_unknown_orders,
    a_shipment_not_yet_visible_is_retried_not_dead_lettered,
    beyond_requests_per_command,
);

/// Sends `body` again as a redelivery would (same group, new deduplication id).
async fn send_copy(h: &Harness, body: &Value) {
    let text = body.to_string();
    let command = contracts::command::parse_command(text.as_bytes()).expect("valid");
    let report = h
        .commands
        .queue
        .send_batch(vec![OutgoingMessage::fifo(
            text,
            command.message_group_id(),
            format!("copy-{}", uuid::Uuid::new_v4().simple()),
        )])
        .await
        .expect("sent");
    assert!(report.all_sent());
}

const APPLIED: &str = "command.applied";
const SKIPPED: &str = "command.skipped";
const FAILED: &str = "command.failed";

fn kinds(events: &[CommandResult], id: &str) -> Vec<&'static str> {
    events
        .iter()
        .filter(|e| e.command_id.as_str() == id)
        .map(result_type)
        .collect()
}

async fn ship_partial_whole_duplicate_and_deliver(backend: Backend) {
    let h = Harness::start(backend).await;
    let order = h.order("new");
    let first = h.command(
        "ship-1",
        "ship",
        json!({ "order": { "id": order }, "lines": [ { "sku": "MUG-001", "quantity": 2 } ],
                "trackingCode": "T1", "shipmentReference": "P1", "carrier": "PostNL" }),
    );
    h.send(std::slice::from_ref(&first)).await;
    send_copy(&h, &first).await;
    h.drain(10).await;
    let rest = h.command(
        "ship-2",
        "ship",
        json!({ "order": { "id": order }, "allUnshipped": true, "shipmentReference": "P2" }),
    );
    let deliver = h.command(
        "deliver-2",
        "deliver",
        json!({ "order": { "id": order }, "shipmentReference": "P2" }),
    );
    h.send(&[rest, deliver]).await;
    h.drain(10).await;

    assert_eq!(h.applied_writes("/orders/*/processes/shippings"), 2);
    assert_eq!(
        h.applied_writes("/orders/*/processes/shippings/*/mark-shipped"),
        2
    );
    assert_eq!(
        h.applied_writes("/orders/*/processes/shippings/*/mark-delivered"),
        1
    );
    let processes = h.shop.order_processes(order).await.expect("processes");
    let shipping = &processes.embedded.shipping;
    assert_eq!(shipping.len(), 2, "{shipping:?}");
    let first_parcel = shipping
        .iter()
        .find(|p| p.tracking_code.as_deref() == Some("T1"))
        .expect("the T1 parcel");
    assert_eq!(first_parcel.status, ShippingProcessStatus::Shipped);
    assert!(
        shipping
            .iter()
            .any(|p| p.status == ShippingProcessStatus::Delivered)
    );
    let events = h.results().await;
    // The duplicate re-emits the stored result with the same event id, which the
    // outbound FIFO queue deduplicates: Afosto sees one result.
    assert_eq!(kinds(&events, "ship-1"), vec![APPLIED]);
    assert_eq!(h.commands.queue.depth().await.expect("depth").total(), 0);
    assert_eq!(kinds(&events, "ship-2"), vec![APPLIED]);
    assert_eq!(kinds(&events, "deliver-2"), vec![APPLIED]);
    assert!(h.dead_letters().await.is_empty());
}

async fn cancel_whole_partial_and_full_refund_only(backend: Backend) {
    let h = Harness::start(backend).await;
    let whole = h.command(
        "cancel-1",
        "cancel",
        json!({ "order": { "id": h.order("new") }, "wholeOrder": true }),
    );
    let partial = h.command(
        "cancel-2",
        "cancel",
        json!({ "order": { "id": h.order("paid") }, "lines": [ { "sku": "MUG-001", "quantity": 1 } ] }),
    );
    let refused = h.command(
        "cancel-3",
        "cancel",
        json!({ "order": { "id": h.order("full-refund-only") }, "lines": [ { "sku": "MUG-001", "quantity": 1 } ] }),
    );
    h.send(&[whole.clone(), partial.clone(), refused]).await;
    send_copy(&h, &partial).await;
    send_copy(&h, &whole).await;
    h.drain(10).await;

    assert!(
        h.shop
            .get_order(h.order("new"))
            .await
            .expect("order")
            .is_canceled()
    );
    assert_eq!(h.applied_writes("/orders/*/cancel"), 1);
    assert_eq!(h.applied_writes("/orders/*/processes/cancelations"), 1);
    let paid = h.shop.get_order(h.order("paid")).await.expect("order");
    assert_eq!(paid.product_line_items[0].canceled_quantity(), 1);

    let letters = h.dead_letters().await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(letters[0].0.contains("cancel-3"));
    assert!(
        letters[0].1.contains("full_refund_only") && letters[0].1.contains("whole order"),
        "{}",
        letters[0].1
    );
    let events = h.results().await;
    assert_eq!(kinds(&events, "cancel-3"), vec![FAILED]);
    assert_eq!(kinds(&events, "cancel-2"), vec![APPLIED]);
}

async fn return_and_pickup(backend: Backend) {
    let h = Harness::start(backend).await;
    let returned = h.command(
        "return-1",
        "return",
        json!({ "order": { "id": h.order("shipped") }, "lines": [
            { "sku": "BAG-001", "quantity": 1, "decision": "accepted" },
            { "sku": "BAG-001", "quantity": 1, "decision": "rejected" } ] }),
    );
    let ready = h.command(
        "pickup-1",
        "ready_for_pickup",
        json!({ "order": { "id": h.order("pickup") } }),
    );
    let collected = h.command(
        "pickup-2",
        "picked_up",
        json!({ "order": { "id": h.order("pickup") } }),
    );
    h.send(&[returned.clone(), ready, collected]).await;
    h.drain(10).await;
    // A second return command with a new id but the same totals changes nothing.
    let mut again = returned.clone();
    again["id"] = json!("return-2");
    h.send(&[again]).await;
    h.drain(10).await;

    assert_eq!(h.applied_writes("/orders/*/processes/returns"), 1);
    let processes = h
        .shop
        .order_processes(h.order("shipped"))
        .await
        .expect("processes");
    let statuses: Vec<String> = processes.embedded.returns[0]
        .line_items
        .iter()
        .map(|line| format!("{:?}", line.status))
        .collect();
    assert!(
        statuses.iter().any(|s| s.contains("Returned"))
            && statuses.iter().any(|s| s.contains("Broken")),
        "{statuses:?}"
    );
    assert_eq!(h.applied_writes("/orders/*/processes/pickups"), 1);
    assert_eq!(
        h.applied_writes("/orders/*/processes/pickups/*/mark-picked-up"),
        1
    );
    let events = h.results().await;
    assert_eq!(kinds(&events, "return-1"), vec![APPLIED]);
    assert_eq!(kinds(&events, "return-2"), vec![SKIPPED]);
    assert_eq!(kinds(&events, "pickup-1"), vec![APPLIED]);
    assert_eq!(kinds(&events, "pickup-2"), vec![APPLIED]);
}

fn stock(h: &Harness, id: &str, sku: &str, level: i64, location: &str, second: u32) -> Value {
    h.command(
        id,
        "stock",
        json!({ "sku": sku, "quantity": level, "location": location,
                "observedAt": format!("2026-01-01T10:00:{second:02}Z") }),
    )
}

async fn stock_levels_in_and_out_of_order(backend: Backend) {
    let h = Harness::start(backend).await;
    h.send(&[
        stock(&h, "stock-1", "MUG-001", 10, "wh-1", 20),
        // Older than the level already applied: never ends up last.
        stock(&h, "stock-2", "MUG-001", 3, "wh-1", 10),
        stock(&h, "stock-3", "TSHIRT-M", 7, "wh-1", 10),
        stock(&h, "stock-4", "MUG-001", 99, "wh-2", 30),
        stock(&h, "stock-5", "NOPE-404", 1, "wh-1", 10),
        stock(&h, "stock-6", "BAG-001", 4, "wh-1", 10),
    ])
    .await;
    let stock_1 = stock(&h, "stock-1", "MUG-001", 10, "wh-1", 20);
    send_copy(&h, &stock_1).await;
    h.drain(10).await;

    assert_eq!(h.stock_of("MUG-001").await, Some(10));
    assert_eq!(h.stock_of("TSHIRT-M").await, Some(7));
    assert_eq!(
        h.applied_writes("/products/**/adjust-available-stock"),
        2,
        "MUG-001 once, TSHIRT-M once"
    );
    let events = h.results().await;
    assert_eq!(kinds(&events, "stock-1"), vec![APPLIED]);
    let stale = events
        .iter()
        .find(|e| e.command_id.as_str() == "stock-2")
        .expect("stock-2 result");
    assert!(
        matches!(&stale.outcome, ResultOutcome::Skipped(s) if s.reason == SkipCode::StaleObservation),
        "{stale:?}"
    );
    assert_eq!(kinds(&events, "stock-4"), vec![SKIPPED]);
    let letters = h.dead_letters().await;
    let reasons: Vec<&str> = letters.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(letters.len(), 2, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.starts_with("unknown_product")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("stock_unmanaged")),
        "{reasons:?}"
    );

    // With the tenant's permission an unmanaged product gets stock management.
    let h = Harness::start_with(
        backend,
        ApplySettings {
            enable_stock_management_if_unmanaged: true,
            ..ApplySettings::default()
        },
    )
    .await;
    h.send(&[stock(&h, "stock-7", "BAG-001", 4, "wh-1", 10)])
        .await;
    h.drain(5).await;
    assert_eq!(h.stock_of("BAG-001").await, Some(4));
}

async fn crashes_after_each_step_never_double(backend: Backend) {
    let mut h = Harness::start(backend).await;
    // A short "remaining time": a crashed attempt's claim expires quickly.
    h.invocation = Duration::from_millis(800);
    let ship = h.command(
        "ship-crash",
        "ship",
        json!({ "order": { "id": h.order("paid") }, "lines": [ { "sku": "MUG-001", "quantity": 2 } ], "trackingCode": "T9" }),
    );
    for (command, step) in [
        (ship, "create-shipping-process"),
        (
            stock(&h, "stock-crash-1", "MUG-001", 20, "wh-1", 10),
            "record-intent",
        ),
        (
            stock(&h, "stock-crash-2", "MUG-001", 5, "wh-1", 20),
            "adjust-available-stock",
        ),
    ] {
        let id = command["id"].as_str().expect("id").to_owned();
        h.crash.arm(&id, step);
        h.send(&[command]).await;
        assert_eq!(h.invoke_once().await, 1);
        // The redelivery right away finds the claim still held by the dead attempt.
        assert_eq!(h.invoke_once().await, 1);
        tokio::time::sleep(Duration::from_millis(900)).await;
        h.drain(5).await;
        let events = h.results().await;
        assert_eq!(kinds(&events, &id), vec![APPLIED], "{id}");
    }
    assert_eq!(h.applied_writes("/orders/*/processes/shippings"), 1);
    assert_eq!(
        h.applied_writes("/orders/*/processes/shippings/*/mark-shipped"),
        1
    );
    assert_eq!(h.applied_writes("/products/**/adjust-available-stock"), 2);
    assert_eq!(h.stock_of("MUG-001").await, Some(5));

    // A crash after the last call of a command: the redelivery finds it in effect and
    // reports `already_in_effect`; nothing is posted twice.
    let last_calls = [
        (
            h.command(
                "cancel-crash",
                "cancel",
                json!({ "order": { "id": h.order("new") }, "lines": [ { "sku": "BAG-001", "quantity": 1 } ] }),
            ),
            "create-cancelation",
            "/orders/*/processes/cancelations",
        ),
        (
            h.command(
                "return-crash",
                "return",
                json!({ "order": { "id": h.order("shipped") }, "lines": [ { "sku": "BAG-001", "quantity": 1, "decision": "accepted" } ] }),
            ),
            "create-return",
            "/orders/*/processes/returns",
        ),
        (
            h.command(
                "pickup-crash",
                "ready_for_pickup",
                json!({ "order": { "id": h.order("pickup") } }),
            ),
            "create-pickup-process",
            "/orders/*/processes/pickups",
        ),
        (
            h.command(
                "ship-crash-2",
                "ship",
                json!({ "order": { "id": h.order("new") }, "lines": [ { "sku": "MUG-001", "quantity": 1 } ], "trackingCode": "T10" }),
            ),
            "mark-shipped",
            "/orders/*/processes/shippings/*/mark-shipped",
        ),
    ];
    for (command, step, path) in last_calls {
        let id = command["id"].as_str().expect("id").to_owned();
        let before = h.applied_writes(path);
        h.crash.arm(&id, step);
        h.send(&[command]).await;
        assert_eq!(h.invoke_once().await, 1);
        tokio::time::sleep(Duration::from_millis(900)).await;
        h.drain(5).await;
        assert_eq!(h.applied_writes(path), before + 1, "{id}: {path}");
        let events = h.results().await;
        assert_eq!(kinds(&events, &id), vec![SKIPPED], "{id}");
    }
    let marks = h
        .stores
        .stock_marks
        .pending_intents(&h.tenant)
        .await
        .expect("pending intents");
    assert!(marks.is_empty(), "{marks:?}");
}

async fn dropped_connections_and_throttling_end_in_one_effect(backend: Backend) {
    let h = Harness::start(backend).await;
    let drop_applied = FaultKind::Drop {
        applied: Some(true),
    };
    h.sandbox.add_fault(
        FaultSpec::new("/orders/*/processes/shippings", drop_applied.clone())
            .method("POST")
            .shop(SHOP),
    );
    h.sandbox.add_fault(
        FaultSpec::new(
            "/products/*/availability/adjust-available-stock",
            drop_applied,
        )
        .method("POST")
        .shop(SHOP),
    );
    h.send(&[
        h.command(
            "ship-drop",
            "ship",
            json!({ "order": { "id": h.order("new") }, "lines": [ { "sku": "MUG-001", "quantity": 1 } ], "trackingCode": "T7" }),
        ),
        stock(&h, "stock-drop", "MUG-001", 12, "wh-1", 10),
    ])
    .await;
    h.drain(10).await;
    assert_eq!(
        h.journal("POST", "/orders/*/processes/shippings").len(),
        1,
        "the ambiguous create is never repeated"
    );
    assert_eq!(
        h.journal("POST", "/products/*/availability/adjust-available-stock")
            .len(),
        1
    );
    assert_eq!(h.stock_of("MUG-001").await, Some(12));

    // Throttled reads and a mark-shipped failing longer than the client retries.
    h.sandbox.add_fault(
        FaultSpec::new(
            "/orders/*",
            FaultKind::TooManyRequests {
                retry_after_seconds: 0,
            },
        )
        .method("GET")
        .shop(SHOP)
        .times(2),
    );
    h.sandbox.add_fault(
        FaultSpec::new(
            "/orders/*/processes/shippings/*/mark-shipped",
            FaultKind::Status {
                status: 503,
                retry_after_seconds: None,
            },
        )
        .method("POST")
        .shop(SHOP)
        .times(4),
    );
    h.send(&[h.command(
        "ship-throttled",
        "ship",
        json!({ "order": { "id": h.order("paid") }, "allUnshipped": true, "trackingCode": "T8" }),
    )])
    .await;
    h.drain(10).await;
    let events = h.results().await;
    assert_eq!(kinds(&events, "ship-drop"), vec![APPLIED]);
    assert_eq!(kinds(&events, "stock-drop"), vec![APPLIED]);
    assert_eq!(kinds(&events, "ship-throttled"), vec![APPLIED]);
    assert_eq!(h.applied_writes("/orders/*/processes/shippings"), 2);
    assert_eq!(
        h.applied_writes("/orders/*/processes/shippings/*/mark-shipped"),
        2
    );
    for (reference, code) in [("new", "T7"), ("paid", "T8")] {
        let processes = h
            .shop
            .order_processes(h.order(reference))
            .await
            .expect("processes");
        let parcels: Vec<_> = processes
            .embedded
            .shipping
            .iter()
            .filter(|p| p.tracking_code.as_deref() == Some(code))
            .collect();
        assert_eq!(parcels.len(), 1, "{reference}");
        assert_eq!(parcels[0].status, ShippingProcessStatus::Shipped);
    }
}

async fn bad_messages_are_dead_lettered_with_their_reason(backend: Backend) {
    let h = Harness::start(backend).await;
    let tenant = h.tenant.as_str();
    let unknown_type = json!({ "schemaVersion": 1, "id": "bad-type", "tenant": tenant,
        "issuedAt": "2026-01-01T10:00:00Z", "type": "teleport" })
    .to_string();
    let wrong_field_type = json!({ "schemaVersion": 1, "id": "bad-field", "tenant": tenant,
        "issuedAt": "2026-01-01T10:00:00Z", "type": "stock", "sku": "MUG-001",
        "quantity": "ten", "location": "wh-1", "observedAt": "2026-01-01T10:00:00Z" })
    .to_string();
    let unknown_tenant = json!({ "schemaVersion": 1, "id": "bad-tenant", "tenant": "nobody-here",
        "issuedAt": "2026-01-01T10:00:00Z", "type": "stock", "sku": "MUG-001",
        "quantity": 1, "location": "wh-1", "observedAt": "2026-01-01T10:00:00Z" })
    .to_string();
    h.send_raw(&[
        "{ not json",
        &unknown_type,
        &wrong_field_type,
        &unknown_tenant,
        "[]",
    ])
    .await;
    h.send(&[stock(&h, "good-1", "MUG-001", 11, "wh-1", 10)])
        .await;
    h.drain(10).await;

    let letters = h.dead_letters().await;
    let reasons: Vec<&str> = letters.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(letters.len(), 5, "{reasons:?}");
    for expected in [
        "malformed_json",
        "unknown_type",
        "wrong_type",
        "unknown_tenant",
        "not_an_object",
    ] {
        assert!(
            reasons.iter().any(|r| r.starts_with(expected)),
            "{expected} missing in {reasons:?}"
        );
    }
    assert!(
        reasons.iter().any(|r| r.contains("`quantity`")),
        "the field is named: {reasons:?}"
    );
    assert_eq!(h.stock_of("MUG-001").await, Some(11));
    let events = h.results().await;
    assert_eq!(kinds(&events, "good-1"), vec![APPLIED]);
    for id in ["bad-type", "bad-field", "bad-tenant"] {
        assert_eq!(kinds(&events, id), vec![FAILED], "{id}");
    }

    // Larger than any SQS message: refused by size before parsing.
    let oversized = format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    let outcome = h
        .applier
        .apply_message(
            &oversized,
            "m-big",
            chrono::Utc::now() + chrono::TimeDelta::seconds(30),
        )
        .await;
    assert!(
        matches!(&outcome, RecordOutcome::Reject { reason } if reason.starts_with("too_large")),
        "{outcome:?}"
    );
}

async fn tenant_states_order_numbers_and_unknown_orders(backend: Backend) {
    let h = Harness::start(backend).await;
    let number = h
        .shop
        .get_order(h.order("paid"))
        .await
        .expect("order")
        .order_number
        .expect("seeded orders have numbers");
    h.send(&[
        h.command(
            "by-number",
            "ship",
            json!({ "order": { "number": number }, "allUnshipped": true, "trackingCode": "TN" }),
        ),
        h.command(
            "no-such-order",
            "cancel",
            json!({ "order": { "id": uuid::Uuid::new_v4() }, "wholeOrder": true }),
        ),
        h.command(
            "no-such-number",
            "cancel",
            json!({ "order": { "number": "does-not-exist" }, "wholeOrder": true }),
        ),
    ])
    .await;
    h.drain(10).await;
    assert_eq!(h.applied_writes("/orders/*/processes/shippings"), 1);
    let letters = h.dead_letters().await;
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert!(letters.iter().all(|(_, r)| r.starts_with("unknown_order")));

    // A flow switched off: skipped, nothing called.
    let mut config = h
        .stores
        .tenants
        .get(&h.tenant)
        .await
        .expect("read")
        .expect("tenant");
    config.flows.stock = false;
    h.stores
        .tenants
        .update(config, chrono::Utc::now())
        .await
        .expect("updated");
    h.send(&[stock(&h, "stock-off", "MUG-001", 1, "wh-1", 10)])
        .await;
    h.drain(5).await;
    assert_eq!(h.applied_writes("/products/**/adjust-available-stock"), 0);

    // A paused tenant: straight to the DLQ with the reason, to be replayed after resuming.
    let mut config = h
        .stores
        .tenants
        .get(&h.tenant)
        .await
        .expect("read")
        .expect("tenant");
    config.paused = true;
    h.stores
        .tenants
        .update(config, chrono::Utc::now())
        .await
        .expect("updated");
    h.send(&[h.command(
        "while-paused",
        "cancel",
        json!({ "order": { "id": h.order("new") }, "wholeOrder": true }),
    )])
    .await;
    h.drain(5).await;
    let letters = h.dead_letters().await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(
        letters[0].1.starts_with("tenant_paused"),
        "{}",
        letters[0].1
    );
    assert_eq!(h.applied_writes("/orders/*/cancel"), 0);

    let events = h.results().await;
    assert_eq!(kinds(&events, "by-number"), vec![APPLIED]);
    assert_eq!(kinds(&events, "no-such-order"), vec![FAILED]);
    assert_eq!(kinds(&events, "while-paused"), vec![FAILED]);
    let off = events
        .iter()
        .find(|e| e.command_id.as_str() == "stock-off")
        .expect("stock-off result");
    assert!(
        matches!(&off.outcome, ResultOutcome::Skipped(s) if s.reason == SkipCode::FlowDisabled),
        "{off:?}"
    );
}

async fn a_shipment_not_yet_visible_is_retried_not_dead_lettered(backend: Backend) {
    let h = Harness::start(backend).await;
    h.send(&[h.command(
        "deliver-early",
        "deliver",
        json!({ "order": { "id": h.order("paid") }, "trackingCode": "NOT-YET" }),
    )])
    .await;
    for _ in 0..3 {
        assert_eq!(h.invoke_once().await, 1);
    }
    assert!(h.dead_letters().await.is_empty());
    assert!(h.results().await.is_empty());
    // The merchant ships the parcel in the cockpit; the waiting deliver goes through (a
    // `ship` command would queue behind it in the same FIFO group).
    let action: sandbox::SeedAction =
        serde_json::from_value(json!({ "action": "ship", "trackingCode": "NOT-YET" }))
            .expect("a seed action");
    h.sandbox
        .apply(SHOP, h.order("paid"), &action)
        .expect("merchant ships");
    h.drain(10).await;
    let events = h.results().await;
    assert_eq!(kinds(&events, "deliver-early"), vec![APPLIED]);
    assert_eq!(
        h.applied_writes("/orders/*/processes/shippings/*/mark-delivered"),
        1
    );
}

/// Prints how many Beyond requests each command costs (token calls included), and keeps
/// them bounded: the consumer reads once, plans, and posts only what is missing.
async fn beyond_requests_per_command(backend: Backend) {
    let h = Harness::start(backend).await;
    let all = || {
        h.sandbox
            .journal(&sandbox::JournalFilter {
                shop: Some(SHOP.to_owned()),
                webhooks: Some(false),
                ..sandbox::JournalFilter::default()
            })
            .len()
    };
    let cases = [
        (
            h.command(
                "m-ship",
                "ship",
                json!({ "order": { "id": h.order("new") }, "allUnshipped": true, "trackingCode": "M1" }),
            ),
            5,
        ),
        (
            h.command(
                "m-deliver",
                "deliver",
                json!({ "order": { "id": h.order("new") }, "trackingCode": "M1" }),
            ),
            3,
        ),
        (
            h.command(
                "m-cancel",
                "cancel",
                json!({ "order": { "id": h.order("paid") }, "lines": [ { "sku": "MUG-001", "quantity": 1 } ] }),
            ),
            3,
        ),
        (
            h.command(
                "m-return",
                "return",
                json!({ "order": { "id": h.order("shipped") }, "lines": [ { "sku": "BAG-001", "quantity": 1, "decision": "accepted" } ] }),
            ),
            3,
        ),
        (
            h.command(
                "m-ready",
                "ready_for_pickup",
                json!({ "order": { "id": h.order("pickup") } }),
            ),
            3,
        ),
        (
            h.command(
                "m-picked",
                "picked_up",
                json!({ "order": { "id": h.order("pickup") } }),
            ),
            3,
        ),
        (stock(&h, "m-stock", "MUG-001", 9, "wh-1", 10), 3),
        (stock(&h, "m-stock-again", "MUG-001", 8, "wh-1", 20), 2),
        (stock(&h, "m-stock-same", "MUG-001", 8, "wh-1", 30), 1),
        (stock(&h, "m-variation", "TSHIRT-S", 3, "wh-1", 10), 6),
        (stock(&h, "m-variation-again", "TSHIRT-S", 2, "wh-1", 20), 2),
    ];
    for (command, bound) in cases {
        let id = command["id"].as_str().expect("id").to_owned();
        let before = all();
        h.send(&[command]).await;
        h.drain(5).await;
        let requests = all() - before;
        println!("beyond requests for {id}: {requests}");
        assert!(requests <= bound, "{id}: {requests} requests > {bound}");
    }
    let events = h.results().await;
    assert!(
        events.iter().all(|e| result_type(e) != FAILED),
        "{events:?}"
    );
}
