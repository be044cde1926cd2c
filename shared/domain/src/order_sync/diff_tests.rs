//! Unit tests of `diff`: one per rule.

use serde_json::Value;
use uuid::Uuid;

use super::diff::{Anomaly, Decision, DiffContext, diff, shipment_detected};
use super::event_id::{ORDER_EVENT_NAMESPACE, event_id};
use super::fixtures::{
    ORDER_ID, detected_at, line_a, line_b, make_pickup, order_json, policy, set_bucket, tenant,
    to_order,
};
use super::ledger::{Bucket, LedgerState};
use super::policy::{SkipReason, SyncPolicy};
use crate::tenant::PaymentStatusFilter;
use contracts::order_event::{EventKind, OrderEvent, Shipment, ShipmentLine};

fn run(previous: Option<&LedgerState>, json: &Value) -> Decision {
    run_with(&policy(), previous, json, None)
}

fn run_with(
    policy: &SyncPolicy,
    previous: Option<&LedgerState>,
    json: &Value,
    shipments: Option<&[Shipment]>,
) -> Decision {
    let tenant = tenant();
    let context = DiffContext {
        tenant: &tenant,
        policy,
        detected_at: detected_at(),
    };
    diff(&context, previous, &to_order(json.clone()), shipments)
        .unwrap_or_else(|error| panic!("{error}"))
}

fn kinds(decision: &Decision) -> Vec<EventKind> {
    decision.events.iter().map(OrderEvent::kind).collect()
}

fn sequences(decision: &Decision) -> Vec<u64> {
    decision.events.iter().map(OrderEvent::sequence).collect()
}

/// (line, newly, cumulative) of a line-quantity event.
fn lines_of(event: &OrderEvent) -> Vec<(Uuid, u32, u32)> {
    let lines = match event {
        OrderEvent::Canceled(event) => &event.lines,
        OrderEvent::Shipped(event) => &event.lines,
        OrderEvent::Delivered(event)
        | OrderEvent::ReadyForPickup(event)
        | OrderEvent::PickedUp(event) => &event.lines,
        other => panic!("{} has no line quantities", other.kind()),
    };
    lines
        .iter()
        .map(|line| (line.line_item_id, line.quantity, line.cumulative_quantity))
        .collect()
}

#[test]
fn a_new_order_yields_order_created_once() {
    let json = order_json();
    let first = run(None, &json);
    assert_eq!(kinds(&first), [EventKind::Created]);
    assert_eq!(sequences(&first), [1]);
    assert!(first.skipped_reason.is_none());
    assert!(first.anomalies.is_empty());
    assert!(first.next_state.imported);
    assert!(first.ledger_changed(None));
    let OrderEvent::Created(created) = &first.events[0] else {
        panic!("not created")
    };
    assert_eq!(created.order.order_number, "10042");
    assert_eq!(created.header.order_number, "10042");
    assert_eq!(created.header.tenant, "shop-1");
    assert_eq!(created.header.detected_at, detected_at());
    assert_eq!(
        created.header.occurred_at, created.order.created_at,
        "order.created occurred when the order was created"
    );
    assert_eq!(
        first.events[0].message_group_id(),
        format!("shop-1:{ORDER_ID}")
    );

    let again = run(Some(&first.next_state), &json);
    assert!(again.events.is_empty());
    assert!(!again.ledger_changed(Some(&first.next_state)));
}

#[test]
fn the_created_id_is_the_documented_v5() {
    let decision = run(None, &order_json());
    let order_id = Uuid::parse_str(ORDER_ID).expect("uuid");
    let expected = Uuid::new_v5(
        &ORDER_EVENT_NAMESPACE,
        format!("shop-1|{order_id}|order.created|").as_bytes(),
    );
    assert_eq!(decision.events[0].event_id(), expected);
    assert_eq!(
        event_id("shop-1", order_id, EventKind::Created, ""),
        expected
    );
}

#[test]
fn an_order_first_seen_shipped_and_delivered_yields_created_then_catch_up() {
    let mut json = order_json();
    set_bucket(&mut json, 0, "unshipped", 0);
    set_bucket(&mut json, 0, "shipped", 1);
    set_bucket(&mut json, 0, "delivered", 1);
    let decision = run(None, &json);
    assert_eq!(
        kinds(&decision),
        [EventKind::Created, EventKind::Shipped, EventKind::Delivered]
    );
    assert_eq!(sequences(&decision), [1, 2, 3]);
    assert_eq!(lines_of(&decision.events[1]), [(line_a(), 2, 2)]);
    assert_eq!(lines_of(&decision.events[2]), [(line_a(), 1, 1)]);
    // Changes after creation occurred at the order's last update.
    let updated = to_order(json.clone())
        .updated_at
        .expect("fixture has updatedAt")
        .as_utc();
    assert_eq!(decision.events[1].header().occurred_at, updated);
    // The created order describes the order as placed.
    let OrderEvent::Created(created) = &decision.events[0] else {
        panic!("not created")
    };
    assert_eq!(created.order.lines[0].quantity, 2);
}

#[test]
fn partial_cancelation_before_import_follows_the_created_event() {
    let mut json = order_json();
    set_bucket(&mut json, 0, "unshipped", 1);
    set_bucket(&mut json, 0, "canceled", 1);
    json["productLineItems"][0]["quantity"] = 1.into();
    let decision = run(None, &json);
    assert_eq!(kinds(&decision), [EventKind::Created, EventKind::Canceled]);
    let OrderEvent::Canceled(canceled) = &decision.events[1] else {
        panic!("not canceled")
    };
    assert!(!canceled.whole_order);
    assert_eq!(canceled.lines.len(), 1);
    assert_eq!(canceled.lines[0].sku, "TSHIRT-RED-M");
    assert_eq!(canceled.lines[0].quantity, 1);
    assert_eq!(canceled.lines[0].cumulative_quantity, 1);
}

#[test]
fn a_whole_order_cancelation_after_import_names_every_line() {
    let json = order_json();
    let created = run(None, &json);
    let mut canceled_json = json.clone();
    canceled_json["canceled"] = true.into();
    canceled_json["shippingStatus"] = "CANCELED".into();
    set_bucket(&mut canceled_json, 0, "unshipped", 0);
    set_bucket(&mut canceled_json, 0, "canceled", 2);
    set_bucket(&mut canceled_json, 1, "unshipped", 0);
    set_bucket(&mut canceled_json, 1, "canceled", 1);
    let decision = run(Some(&created.next_state), &canceled_json);
    assert_eq!(kinds(&decision), [EventKind::Canceled]);
    assert_eq!(sequences(&decision), [2]);
    let OrderEvent::Canceled(canceled) = &decision.events[0] else {
        panic!("not canceled")
    };
    assert!(canceled.whole_order);
    assert_eq!(
        lines_of(&decision.events[0]),
        [(line_a(), 2, 2), (line_b(), 1, 1)]
    );
    assert!(decision.next_state.whole_order_canceled);
    assert!(
        run(Some(&decision.next_state), &canceled_json)
            .events
            .is_empty()
    );
}

#[test]
fn a_canceled_flag_without_line_quantities_still_cancels_the_whole_order() {
    let json = order_json();
    let created = run(None, &json);
    let mut canceled_json = json;
    canceled_json["canceled"] = true.into();
    let decision = run(Some(&created.next_state), &canceled_json);
    let OrderEvent::Canceled(canceled) = &decision.events[0] else {
        panic!("not canceled")
    };
    assert!(canceled.whole_order);
    assert!(canceled.lines.is_empty());
}

#[test]
fn shipments_carry_tracking_once_per_shipping_process() {
    let json = order_json();
    let created = run(None, &json);
    let first_process = Shipment {
        shipping_process_id: Uuid::from_u128(0x51),
        tracking_code: Some("3SABCD1234567".into()),
        tracking_link: Some("https://tracking.example/3SABCD1234567".into()),
        lines: vec![ShipmentLine {
            line_item_id: line_a(),
            quantity: 1,
        }],
    };
    let mut shipped_json = json.clone();
    set_bucket(&mut shipped_json, 0, "unshipped", 1);
    set_bucket(&mut shipped_json, 0, "shipped", 1);
    assert!(shipment_detected(
        Some(&created.next_state),
        &to_order(shipped_json.clone())
    ));
    let first = run_with(
        &policy(),
        Some(&created.next_state),
        &shipped_json,
        Some(std::slice::from_ref(&first_process)),
    );
    let OrderEvent::Shipped(shipped) = &first.events[0] else {
        panic!("not shipped")
    };
    assert_eq!(shipped.shipments, std::slice::from_ref(&first_process));
    assert!(!shipment_detected(
        Some(&first.next_state),
        &to_order(shipped_json.clone())
    ));

    let second_process = Shipment {
        shipping_process_id: Uuid::from_u128(0x52),
        tracking_code: Some("3SABCD7654321".into()),
        tracking_link: None,
        lines: vec![ShipmentLine {
            line_item_id: line_a(),
            quantity: 1,
        }],
    };
    let mut all_shipped = shipped_json;
    set_bucket(&mut all_shipped, 0, "unshipped", 0);
    set_bucket(&mut all_shipped, 0, "shipped", 2);
    let both = [first_process, second_process.clone()];
    let second = run_with(
        &policy(),
        Some(&first.next_state),
        &all_shipped,
        Some(&both),
    );
    let OrderEvent::Shipped(shipped) = &second.events[0] else {
        panic!("not shipped")
    };
    assert_eq!(shipped.shipments, [second_process]);
    assert_eq!(lines_of(&second.events[0]), [(line_a(), 1, 2)]);
}

#[test]
fn tracking_data_never_changes_an_event_id() {
    let created = run(None, &order_json());
    let mut json = order_json();
    set_bucket(&mut json, 1, "unshipped", 0);
    set_bucket(&mut json, 1, "shipped", 1);
    let shipment = Shipment {
        shipping_process_id: Uuid::from_u128(0x53),
        tracking_code: Some("X".into()),
        tracking_link: None,
        lines: Vec::new(),
    };
    let with = run_with(
        &policy(),
        Some(&created.next_state),
        &json,
        Some(std::slice::from_ref(&shipment)),
    );
    let without = run(Some(&created.next_state), &json);
    assert_eq!(with.events[0].event_id(), without.events[0].event_id());
}

#[test]
fn returns_report_returned_and_broken_pieces_with_running_totals() {
    let mut json = order_json();
    set_bucket(&mut json, 0, "unshipped", 0);
    set_bucket(&mut json, 0, "delivered", 2);
    let delivered = run(None, &json);
    assert_eq!(
        kinds(&delivered),
        [EventKind::Created, EventKind::Shipped, EventKind::Delivered]
    );
    let mut returned_json = json.clone();
    set_bucket(&mut returned_json, 0, "delivered", 1);
    set_bucket(&mut returned_json, 0, "broken", 1);
    let first = run(Some(&delivered.next_state), &returned_json);
    assert_eq!(kinds(&first), [EventKind::Returned]);
    assert!(first.anomalies.is_empty(), "{:?}", first.anomalies);
    set_bucket(&mut returned_json, 0, "delivered", 0);
    set_bucket(&mut returned_json, 0, "returned", 1);
    let second = run(Some(&first.next_state), &returned_json);
    let OrderEvent::Returned(returned) = &second.events[0] else {
        panic!("not returned")
    };
    assert_eq!(returned.lines.len(), 1);
    let line = &returned.lines[0];
    assert_eq!((line.returned, line.broken), (1, 0));
    assert_eq!((line.cumulative_returned, line.cumulative_broken), (1, 1));
    assert_ne!(first.events[0].event_id(), second.events[0].event_id());
}

#[test]
fn a_return_from_a_shipment_in_transit_counts_as_received() {
    let mut json = order_json();
    set_bucket(&mut json, 0, "unshipped", 0);
    set_bucket(&mut json, 0, "shipped", 2);
    let shipped = run(None, &json);
    set_bucket(&mut json, 0, "shipped", 1);
    set_bucket(&mut json, 0, "returned", 1);
    let decision = run(Some(&shipped.next_state), &json);
    assert_eq!(
        kinds(&decision),
        [EventKind::Delivered, EventKind::Returned]
    );
    // The other piece is delivered later: it is reported, not hidden by the return.
    set_bucket(&mut json, 0, "shipped", 0);
    set_bucket(&mut json, 0, "delivered", 1);
    let later = run(Some(&decision.next_state), &json);
    assert_eq!(kinds(&later), [EventKind::Delivered]);
    assert_eq!(lines_of(&later.events[0]), [(line_a(), 1, 2)]);
}

#[test]
fn pickup_orders_report_ready_and_picked_up_and_tolerate_canceling_ready_pieces() {
    let mut json = order_json();
    make_pickup(&mut json);
    let created = run(None, &json);
    let OrderEvent::Created(order) = &created.events[0] else {
        panic!("not created")
    };
    assert!(order.order.shipping_address.is_none());

    set_bucket(&mut json, 0, "notPickedUp", 0);
    set_bucket(&mut json, 0, "readyForPickup", 2);
    set_bucket(&mut json, 1, "notPickedUp", 0);
    set_bucket(&mut json, 1, "readyForPickup", 1);
    let ready = run(Some(&created.next_state), &json);
    assert_eq!(kinds(&ready), [EventKind::ReadyForPickup]);

    // One ready piece canceled: a cancelation, not a decrease of "ready".
    set_bucket(&mut json, 0, "readyForPickup", 1);
    set_bucket(&mut json, 0, "canceled", 1);
    let canceled = run(Some(&ready.next_state), &json);
    assert_eq!(kinds(&canceled), [EventKind::Canceled]);
    assert!(canceled.anomalies.is_empty(), "{:?}", canceled.anomalies);
    assert_eq!(canceled.next_state.line(line_a()).ready_for_pickup, 2);

    set_bucket(&mut json, 0, "readyForPickup", 0);
    set_bucket(&mut json, 0, "pickedUp", 1);
    set_bucket(&mut json, 1, "readyForPickup", 0);
    set_bucket(&mut json, 1, "pickedUp", 1);
    let picked = run(Some(&canceled.next_state), &json);
    assert_eq!(kinds(&picked), [EventKind::PickedUp]);
    assert_eq!(
        lines_of(&picked.events[0]),
        [(line_a(), 1, 1), (line_b(), 1, 1)]
    );
    assert!(picked.anomalies.is_empty());
}

#[test]
fn a_quantity_going_back_is_an_anomaly_and_emits_nothing() {
    let mut json = order_json();
    set_bucket(&mut json, 0, "unshipped", 0);
    set_bucket(&mut json, 0, "shipped", 2);
    let shipped = run(None, &json);
    set_bucket(&mut json, 0, "unshipped", 1);
    set_bucket(&mut json, 0, "shipped", 1);
    let decision = run(Some(&shipped.next_state), &json);
    assert!(decision.events.is_empty());
    assert_eq!(
        decision.anomalies,
        [Anomaly::QuantityWentBack {
            line_item_id: line_a(),
            bucket: Bucket::Shipped,
            emitted: 2,
            observed: 1,
        }]
    );
    assert_eq!(decision.next_state, shipped.next_state);
    assert!(decision.anomalies[0].to_string().contains("ignored"));
}

#[test]
fn a_reported_line_that_disappears_is_an_anomaly() {
    let mut json = order_json();
    set_bucket(&mut json, 1, "unshipped", 0);
    set_bucket(&mut json, 1, "shipped", 1);
    let shipped = run(None, &json);
    json["productLineItems"]
        .as_array_mut()
        .expect("lines")
        .truncate(1);
    let decision = run(Some(&shipped.next_state), &json);
    assert!(decision.events.is_empty());
    assert_eq!(
        decision.anomalies,
        [Anomaly::LineDisappeared {
            line_item_id: line_b()
        }]
    );
}

#[test]
fn a_withdrawn_cancelation_is_an_anomaly() {
    let mut json = order_json();
    let created = run(None, &json);
    json["canceled"] = true.into();
    let canceled = run(Some(&created.next_state), &json);
    json["canceled"] = false.into();
    let decision = run(Some(&canceled.next_state), &json);
    assert!(decision.events.is_empty());
    assert_eq!(decision.anomalies, [Anomaly::CancelationWithdrawn]);
}

#[test]
fn an_unpaid_order_is_held_then_imported_with_catch_up_when_paid() {
    let paid_only = SyncPolicy {
        payment_filter: PaymentStatusFilter::PaidOnly,
        ..policy()
    };
    let mut json = order_json();
    json["paymentStatus"] = "PENDING".into();
    let held = run_with(&paid_only, None, &json, None);
    assert!(held.events.is_empty());
    assert_eq!(
        held.skipped_reason,
        Some(SkipReason::AwaitingPayment {
            payment_status: Some("PENDING".into())
        })
    );
    assert!(!held.ledger_changed(None), "a held order writes nothing");

    set_bucket(&mut json, 1, "unshipped", 0);
    set_bucket(&mut json, 1, "canceled", 1);
    json["productLineItems"][1]["quantity"] = 0.into();
    json["paymentStatus"] = "PAID".into();
    let imported = run_with(&paid_only, None, &json, None);
    assert_eq!(kinds(&imported), [EventKind::Created, EventKind::Canceled]);
    assert_eq!(sequences(&imported), [1, 2]);

    // Once imported, a payment status the filter rejects no longer matters.
    json["paymentStatus"] = "REFUND_PENDING".into();
    set_bucket(&mut json, 0, "unshipped", 0);
    set_bucket(&mut json, 0, "shipped", 2);
    let followed = run_with(&paid_only, Some(&imported.next_state), &json, None);
    assert_eq!(kinds(&followed), [EventKind::Shipped]);
}

#[test]
fn an_order_canceled_before_it_was_ever_imported_emits_nothing_ever() {
    let paid_only = SyncPolicy {
        payment_filter: PaymentStatusFilter::PaidOnly,
        ..policy()
    };
    let mut json = order_json();
    json["paymentStatus"] = "PENDING".into();
    assert!(run_with(&paid_only, None, &json, None).events.is_empty());
    json["canceled"] = true.into();
    json["paymentStatus"] = "VOIDED".into();
    let decision = run_with(&paid_only, None, &json, None);
    assert!(decision.events.is_empty());
    assert_eq!(
        decision.skipped_reason,
        Some(SkipReason::CanceledBeforeImport)
    );
    // Only the snapshot's time is recorded (the stale-read guard): nothing emitted.
    assert!(decision.ledger_changed(None));
    assert!(decision.next_state.is_before_import());
}

#[test]
fn a_crash_before_the_ledger_write_replays_identical_events() {
    let created = run(None, &order_json());
    let mut json = order_json();
    set_bucket(&mut json, 0, "unshipped", 0);
    set_bucket(&mut json, 0, "delivered", 2);
    let sent = run(Some(&created.next_state), &json);
    let replayed = run(Some(&created.next_state), &json);
    assert_eq!(sent, replayed);
    assert_eq!(sequences(&sent), [2, 3]);
}

#[test]
fn the_same_change_in_another_tenant_gets_another_id() {
    let json = order_json();
    let ours = run(None, &json);
    let other_tenant = crate::tenant::TenantId::parse("shop-2").expect("tenant");
    let policy = policy();
    let context = DiffContext {
        tenant: &other_tenant,
        policy: &policy,
        detected_at: detected_at(),
    };
    let theirs = diff(&context, None, &to_order(json), None).expect("valid");
    assert_ne!(ours.events[0].event_id(), theirs.events[0].event_id());
}

#[test]
fn invalid_orders_are_typed_errors_naming_the_field() {
    let tenant = tenant();
    let policy = policy();
    let context = DiffContext {
        tenant: &tenant,
        policy: &policy,
        detected_at: detected_at(),
    };
    let mut json = order_json();
    json["productLineItems"][1]["product"]["sku"] = Value::Null;
    let error = diff(&context, None, &to_order(json), None).expect_err("no sku");
    assert_eq!(error.field(), "productLineItems[1].product.sku");
    assert!(error.to_string().contains(ORDER_ID));
}

#[test]
fn skipped_orders_keep_the_previous_state() {
    let mut json = order_json();
    json["testOrder"] = true.into();
    let decision = run(None, &json);
    assert_eq!(decision.skipped_reason, Some(SkipReason::TestOrder));
    assert_eq!(decision.next_state, LedgerState::default());
}

#[test]
fn an_import_is_recorded_before_sending_and_survives_a_later_cancelation() {
    let json = order_json();
    let decision = run(None, &json);
    let pre_send = decision
        .pre_send_state
        .clone()
        .expect("an import writes first");
    assert!(pre_send.import_decided);
    assert!(!pre_send.imported);
    assert_eq!(
        pre_send.last_sequence, 0,
        "nothing is recorded as emitted yet"
    );

    // Crash after sending order.created, before the final write; the order is canceled
    // before the next run. Afosto has the order, so it must hear of the cancelation.
    let mut canceled = json;
    canceled["canceled"] = true.into();
    let rerun = run(Some(&pre_send), &canceled);
    assert!(rerun.skipped_reason.is_none());
    assert!(rerun.pre_send_state.is_none(), "already recorded");
    assert_eq!(kinds(&rerun), [EventKind::Created, EventKind::Canceled]);
    assert_eq!(rerun.events[0].event_id(), decision.events[0].event_id());
    assert!(rerun.next_state.imported);

    // Later changes of an imported order need no pre-send write.
    let mut shipped = order_json();
    set_bucket(&mut shipped, 1, "unshipped", 0);
    set_bucket(&mut shipped, 1, "shipped", 1);
    assert!(
        run(Some(&decision.next_state), &shipped)
            .pre_send_state
            .is_none()
    );
}

#[test]
fn an_older_snapshot_after_a_newer_one_emits_nothing_and_changes_nothing() {
    // Seen canceled first (a webhook-triggered read, say), then an older list snapshot
    // still showing it alive: the order must not be imported.
    let alive = order_json();
    let mut canceled = order_json();
    canceled["canceled"] = serde_json::json!(true);
    canceled["updatedAt"] = serde_json::json!("2024-03-01T10:20:00.000");
    let first = run(None, &canceled);
    assert_eq!(first.skipped_reason, Some(SkipReason::CanceledBeforeImport));
    assert!(
        first.ledger_changed(None),
        "the newest snapshot seen is recorded even for a skipped order"
    );
    let stale = run(Some(&first.next_state), &alive);
    assert!(stale.events.is_empty(), "{:?}", kinds(&stale));
    assert!(stale.pre_send_state.is_none());
    assert!(!stale.ledger_changed(Some(&first.next_state)));
    assert!(stale.stale_since.is_some());

    // After an import: an older snapshot gives no event, so no sequence number is reused.
    let mut shipped = order_json();
    set_bucket(&mut shipped, 0, "shipped", 1);
    shipped["updatedAt"] = serde_json::json!("2024-03-01T10:30:00.000");
    let imported = run(None, &shipped);
    assert_eq!(kinds(&imported), [EventKind::Created, EventKind::Shipped]);
    let older = run(Some(&imported.next_state), &alive);
    assert!(older.events.is_empty() && older.anomalies.is_empty());
    assert!(!older.ledger_changed(Some(&imported.next_state)));
    let mut older_shipped = order_json();
    set_bucket(&mut older_shipped, 0, "shipped", 1);
    let state = LedgerState {
        seen_updated_at: Some(imported.next_state.seen_updated_at.expect("recorded")),
        ..LedgerState::default()
    };
    assert!(
        !shipment_detected(Some(&state), &to_order(older_shipped)),
        "no processes are read for a stale snapshot"
    );
    // The same snapshot again is not stale (equal times), and still yields nothing new.
    let again = run(Some(&imported.next_state), &shipped);
    assert!(again.stale_since.is_none() && again.events.is_empty());
}

#[test]
fn a_change_in_the_repeated_hour_is_not_taken_for_an_older_snapshot() {
    // Berlin, 2026-10-25: imported at 02:55 CEST (00:55 UTC), canceled at 02:02:30 CET
    // (01:02:30 UTC), the hour's second pass. Read as its earlier instant (00:02:30) the
    // cancelation looks older than the import; its later instant says it may not be.
    let mut json = order_json();
    json["updatedAt"] = serde_json::json!("2026-10-25T00:55:00.000");
    let imported = run(None, &json);
    json["canceled"] = true.into();
    json["updatedAt"] = serde_json::json!("2026-10-25T00:02:30.000");
    let mut canceled = to_order(json);
    let tenant = tenant();
    let policy = policy();
    let context = DiffContext {
        tenant: &tenant,
        policy: &policy,
        detected_at: detected_at(),
    };
    let certain = diff(&context, Some(&imported.next_state), &canceled, None).expect("diffs");
    assert!(certain.stale_since.is_some() && certain.events.is_empty());
    canceled.updated_at_latest = Some("2026-10-25T01:02:30".parse().expect("a timestamp"));
    let decision = diff(&context, Some(&imported.next_state), &canceled, None).expect("diffs");
    assert_eq!(decision.stale_since, None);
    assert_eq!(kinds(&decision), [EventKind::Canceled]);
    assert_eq!(
        decision.next_state.seen_updated_at, imported.next_state.seen_updated_at,
        "the newest seen stays the earlier instant's maximum"
    );
}
