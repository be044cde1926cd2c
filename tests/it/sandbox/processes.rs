//! The order state machine over HTTP: shipping, pickup, cancelation, returns, payment, and
//! every documented error of those calls.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Env, SHOP, line_id, order_body, order_id};

async fn env_with_products() -> Env {
    let env = Env::start().await;
    env.product("MUG", 10.0, Some(50));
    env.product("BAG", 5.0, None);
    env
}

fn lines(items: &[(&str, u32)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(id, quantity)| json!({ "productLineItemId": id, "quantity": quantity }))
            .collect(),
    )
}

#[tokio::test]
async fn shipping_flow_and_its_errors() {
    let env = env_with_products().await;
    let order = env.create_order(&[("MUG", 3), ("BAG", 1)], false).await;
    let id = order_id(&order);
    let (mug, bag) = (line_id(&order, 0), line_id(&order, 1));
    let base = format!("/orders/{id}/processes/shippings");

    let created = env
        .post(
            &base,
            json!({ "comment": "first box", "sendMail": true, "createPackingSlip": false,
                    "trackingCode": "T-1", "lineItems": lines(&[(&mug, 2)]) }),
        )
        .await;
    let process = created.expect(201).clone();
    assert_eq!(process["status"], "PENDING");
    assert_eq!(process["trackingCode"], "T-1");
    assert_eq!(
        created.header("location"),
        process["_links"]["self"]["href"].as_str()
    );
    for rel in ["self", "shipping-process", "mark-shipped", "mark-delivered"] {
        assert!(process["_links"].get(rel).is_some(), "{rel}");
    }
    let process_id = process["_id"].as_str().unwrap_or_default().to_owned();
    let after = env.get(&format!("/orders/{id}")).await;
    assert_eq!(after.expect(200)["shippingStatus"], "PENDING");
    assert_eq!(after.body["productLineItems"][0]["pending"]["quantity"], 2);
    assert_eq!(
        after.body["productLineItems"][0]["unshipped"]["quantity"],
        1
    );

    env.post(&base, json!({ "lineItems": lines(&[(&mug, 2)]) }))
        .await
        .expect_error(400, "cannot-create-shipping-process");
    env.post(
        &base,
        json!({ "lineItems": lines(&[("00000000-0000-0000-0000-000000000000", 1)]) }),
    )
    .await
    .expect_error(409, "no-such-product-line-item");
    env.post(&base, json!({ "lineItems": lines(&[(&bag, 0)]) }))
        .await
        .expect_error(400, "input-validation-failed");
    env.post(&base, json!({ "lineItems": [] }))
        .await
        .expect_error(400, "input-validation-failed");

    let shipped = env
        .post(
            &format!("{base}/{process_id}/mark-shipped"),
            json!({ "comment": "out", "details": { "sendMail": true, "trackingCode": "T-2",
                    "trackingLink": "https://track.example.com/T-2" } }),
        )
        .await;
    let body = shipped.expect(200);
    assert_eq!(body["status"], "SHIPPED");
    assert_eq!(body["trackingCode"], "T-2");
    assert!(body["_links"].get("mark-shipped").is_none());
    assert!(body["_links"].get("mark-delivered").is_some());
    env.post(&format!("{base}/{process_id}/mark-shipped"), json!({}))
        .await
        .expect_error(409, "illegal-status-transition");
    let order_now = env.get(&format!("/orders/{id}")).await;
    assert_eq!(order_now.expect(200)["shippingStatus"], "PARTIALLY_SHIPPED");
    assert!(order_now.body["_links"].get("cancel").is_none());

    let delivered = env
        .post(
            &format!("{base}/{process_id}/mark-delivered"),
            json!({ "comment": "ok" }),
        )
        .await;
    assert_eq!(delivered.expect(200)["status"], "DELIVERED");
    assert!(delivered.body["_links"].get("mark-delivered").is_none());

    let listed = env.get(&base).await;
    assert_eq!(
        listed.expect(200)["_embedded"]["shipping-processes"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    env.get(&format!("{base}/{process_id}")).await.expect(200);
    env.get(&format!("{base}/00000000-0000-0000-0000-000000000000"))
        .await
        .expect_error(404, "resource-not-found");
}

#[tokio::test]
async fn pickup_orders_get_one_pickup_process_and_no_shipping() {
    let env = env_with_products().await;
    let order = env.create_order(&[("MUG", 2), ("BAG", 1)], true).await;
    let id = order_id(&order);
    let shipping = env
        .post(
            &format!("/orders/{id}/processes/shippings"),
            json!({ "lineItems": lines(&[(&line_id(&order, 0), 1)]) }),
        )
        .await;
    shipping.expect_error(400, "cannot-create-shipping-process");
    assert_eq!(
        shipping.body["details"]["reasonId"],
        "order-has-pickup-line-item"
    );

    let base = format!("/orders/{id}/processes/pickups");
    let created = env
        .post(
            &base,
            json!({ "comment": "in two hours", "sendMail": true }),
        )
        .await;
    let process = created.expect(201).clone();
    assert_eq!(process["status"], "READY_FOR_PICKUP");
    assert_eq!(process["lineItems"].as_array().map(Vec::len), Some(2));
    env.post(&base, json!({}))
        .await
        .expect_error(409, "pickup-process-already-exists");
    let ready = env.get(&format!("/orders/{id}")).await;
    assert_eq!(ready.expect(200)["shippingStatus"], "READY_FOR_PICKUP");

    let process_id = process["_id"].as_str().unwrap_or_default();
    let picked = env
        .post(
            &format!("{base}/{process_id}/mark-picked-up"),
            json!({ "sendMail": false }),
        )
        .await;
    assert_eq!(picked.expect(200)["status"], "PICKED_UP");
    let done = env.get(&format!("/orders/{id}")).await;
    assert_eq!(done.expect(200)["shippingStatus"], "PICKED_UP");

    let shipping_order = env.create_order(&[("MUG", 1)], false).await;
    env.post(
        &format!("/orders/{}/processes/pickups", order_id(&shipping_order)),
        json!({}),
    )
    .await
    .expect_error(400, "cannot-create-pickup-process");
    let canceled = env.create_order(&[("MUG", 1)], true).await;
    let canceled_id = order_id(&canceled);
    env.call(Method::POST, &format!("/orders/{canceled_id}/cancel"), None)
        .await
        .expect(200);
    env.post(
        &format!("/orders/{canceled_id}/processes/pickups"),
        json!({}),
    )
    .await
    .expect_error(400, "cannot-create-pickup-process");
}

#[tokio::test]
async fn whole_order_cancelation_returns_the_canceled_order() {
    let env = env_with_products().await;
    let order = env.create_order(&[("MUG", 2)], false).await;
    let id = order_id(&order);
    env.post(
        &format!("/orders/{id}/processes/payments/active/mark-paid"),
        json!({ "comment": "Received by bank transfer" }),
    )
    .await
    .expect(200);
    let canceled = env
        .post(
            &format!("/orders/{id}/cancel"),
            json!({ "comment": "customer asked" }),
        )
        .await;
    let body = canceled.expect(200);
    assert_eq!(body["canceled"], true);
    assert_eq!(body["shippingStatus"], "CANCELED");
    assert_eq!(body["paymentStatus"], "REFUND_PENDING");
    assert_eq!(body["grandTotal"]["amount"], 0.0);
    assert_eq!(body["productLineItems"][0]["canceled"]["quantity"], 2);
    assert_eq!(body["productLineItems"][0]["quantity"], 0);
    assert!(body["_links"].get("cancel").is_none());
    env.post(&format!("/orders/{id}/cancel"), json!({}))
        .await
        .expect_error(409, "illegal-status-transition");

    // An order with shipped pieces cannot be canceled whole.
    let shipped = env.create_order(&[("MUG", 1)], false).await;
    let shipped_id = order_id(&shipped);
    env.post(
        &format!("/orders/{shipped_id}/processes/shippings"),
        json!({ "lineItems": lines(&[(&line_id(&shipped, 0), 1)]) }),
    )
    .await
    .expect(201);
    env.post(&format!("/orders/{shipped_id}/cancel"), json!({}))
        .await
        .expect_error(409, "illegal-status-transition");
}

#[tokio::test]
async fn partial_cancelation_and_the_full_refund_only_rule() {
    let env = env_with_products().await;
    let order = env.create_order(&[("MUG", 3), ("BAG", 2)], false).await;
    let id = order_id(&order);
    let (mug, bag) = (line_id(&order, 0), line_id(&order, 1));
    let base = format!("/orders/{id}/processes/cancelations");
    let created = env
        .post(
            &base,
            json!({ "comment": "out of stock", "lineItems": lines(&[(&mug, 1)]) }),
        )
        .await;
    let process = created.expect(201).clone();
    assert_eq!(process["lineItems"][0]["quantity"], 1);
    assert!(process["_links"].get("cancel-process").is_some());
    env.post(&base, json!({ "lineItems": lines(&[(&bag, 3)]) }))
        .await
        .expect_error(400, "cannot-create-cancel-process");
    env.post(
        &base,
        json!({ "lineItems": lines(&[("00000000-0000-0000-0000-000000000000", 1)]) }),
    )
    .await
    .expect_error(409, "no-such-product-line-item");
    let after = env.get(&format!("/orders/{id}")).await;
    let body = after.expect(200);
    assert_eq!(body["productLineItems"][0]["quantity"], 2);
    assert_eq!(body["canceled"], false);
    assert_eq!(env.get(&base).await.expect(200)["page"]["totalElements"], 1);

    let strict = env
        .post(
            "/orders",
            order_body(&[("MUG", 2), ("BAG", 1)], false, "FULL_REFUND_ONLY"),
        )
        .await
        .expect(201)
        .clone();
    let strict_id = order_id(&strict);
    let strict_base = format!("/orders/{strict_id}/processes/cancelations");
    env.post(
        &strict_base,
        json!({ "lineItems": lines(&[(&line_id(&strict, 0), 2)]) }),
    )
    .await
    .expect_error(409, "cancel-process-partial-refund-not-allowed");
    env.post(
        &strict_base,
        json!({ "lineItems": lines(&[(&line_id(&strict, 0), 2), (&line_id(&strict, 1), 1)]) }),
    )
    .await
    .expect(201);
    let all_gone = env.get(&format!("/orders/{strict_id}")).await;
    assert_eq!(all_gone.expect(200)["canceled"], true);
    assert_eq!(all_gone.body["shippingStatus"], "CANCELED");
}

#[tokio::test]
async fn returns_and_their_errors() {
    let env = env_with_products().await;
    let order = env.create_order(&[("MUG", 3), ("BAG", 1)], false).await;
    let id = order_id(&order);
    let (mug, bag) = (line_id(&order, 0), line_id(&order, 1));
    let shipping = env
        .post(
            &format!("/orders/{id}/processes/shippings"),
            json!({ "lineItems": lines(&[(&mug, 3)]) }),
        )
        .await
        .expect(201)
        .clone();
    let shipping_id = shipping["_id"].as_str().unwrap_or_default().to_owned();
    env.post(
        &format!("/orders/{id}/processes/shippings/{shipping_id}/mark-shipped"),
        json!({}),
    )
    .await
    .expect(200);
    let base = format!("/orders/{id}/processes/returns");
    let returned = env
        .post(
            &base,
            json!({
                "comment": "The screen has cracks.", "sendMail": true,
                "lineItems": [
                    { "productLineItemId": mug, "quantity": 1, "status": "RETURNED" },
                    { "productLineItemId": mug, "quantity": 1, "status": "BROKEN" }
                ],
                "shippingPriceRefund": null, "pickupPriceRefund": null,
                "shippingProcessId": shipping_id, "pickupProcessId": null
            }),
        )
        .await;
    let process = returned.expect(201).clone();
    assert_eq!(
        process["_embedded"]["shippingProcess"]["_id"],
        shipping_id.as_str()
    );
    assert_eq!(process["_embedded"]["shippingProcess"]["status"], "SHIPPED");
    assert_eq!(process["lineItems"][1]["status"], "BROKEN");
    let after = env.get(&format!("/orders/{id}")).await;
    let line = &after.expect(200)["productLineItems"][0];
    assert_eq!(line["returned"]["quantity"], 1);
    assert_eq!(line["broken"]["quantity"], 1);
    assert_eq!(line["returnStatus"]["broken"]["quantity"], 1);
    assert_eq!(line["quantity"], 1);
    assert_eq!(after.body["shippingStatus"], "PARTIALLY_RETURNED");

    let one = |line: &str, quantity: u32, status: &str| json!({ "lineItems": [{ "productLineItemId": line, "quantity": quantity, "status": status }] });
    env.post(&base, one(&mug, 2, "RETURNED"))
        .await
        .expect_error(400, "cannot-create-return-process");
    env.post(&base, one(&bag, 1, "RETURNED"))
        .await
        .expect_error(400, "cannot-create-return-process");
    env.post(
        &base,
        one("00000000-0000-0000-0000-000000000000", 1, "RETURNED"),
    )
    .await
    .expect_error(409, "no-such-product-line-item");
    env.post(&base, one(&mug, 1, "DEFECT"))
        .await
        .expect_error(400, "http-message-not-readable");
    env.post(
        &base,
        json!({ "lineItems": [{ "productLineItemId": mug, "quantity": 1 }] }),
    )
    .await
    .expect_error(400, "input-validation-failed");

    let strict = env
        .post(
            "/orders",
            order_body(&[("MUG", 2)], false, "FULL_REFUND_ONLY"),
        )
        .await
        .expect(201)
        .clone();
    let strict_id = order_id(&strict);
    let strict_line = line_id(&strict, 0);
    env.post(
        &format!("/orders/{strict_id}/processes/shippings"),
        json!({ "lineItems": lines(&[(&strict_line, 2)]) }),
    )
    .await
    .expect(201);
    let strict_order = env
        .get(&format!("/orders/{strict_id}/processes/shippings"))
        .await;
    let strict_shipping = strict_order.expect(200)["_embedded"]["shipping-processes"][0]["_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    env.post(
        &format!("/orders/{strict_id}/processes/shippings/{strict_shipping}/mark-shipped"),
        json!({}),
    )
    .await
    .expect(200);
    let strict_base = format!("/orders/{strict_id}/processes/returns");
    env.post(&strict_base, one(&strict_line, 1, "RETURNED"))
        .await
        .expect_error(409, "return-process-partial-refund-not-allowed");
    // Everything back but the shipping costs kept: still a partial refund.
    env.post(&strict_base, one(&strict_line, 2, "RETURNED"))
        .await
        .expect_error(409, "return-process-partial-refund-not-allowed");
    let mut everything = one(&strict_line, 2, "RETURNED");
    everything["shippingPriceRefund"] = json!({ "currency": "EUR", "amount": 4.99 });
    env.post(&strict_base, everything).await.expect(201);
    let back = env.get(&format!("/orders/{strict_id}")).await;
    assert_eq!(back.expect(200)["shippingStatus"], "RETURNED");
}

#[tokio::test]
async fn payment_can_be_marked_paid_once() {
    let env = env_with_products().await;
    let order = env.create_order(&[("BAG", 2)], false).await;
    let id = order_id(&order);
    let path = format!("/orders/{id}/processes/payments/active/mark-paid");
    let paid = env
        .post(&path, json!({ "comment": "bank", "details": { "amount": { "currency": "EUR", "amount": 14.99 } } }))
        .await;
    let body = paid.expect(200);
    assert_eq!(body["status"], "PAID");
    assert_eq!(body["completed"], true);
    let order_now = env.get(&format!("/orders/{id}")).await;
    assert_eq!(order_now.expect(200)["paymentStatus"], "PAID");
    assert_eq!(order_now.body["openAmount"]["amount"], 0.0);
    env.post(&path, json!({}))
        .await
        .expect_error(409, "illegal-status-transition");
}

#[tokio::test]
async fn the_processes_overview_embeds_all_six_lists() {
    let env = env_with_products().await;
    let order = env.create_order(&[("MUG", 2)], false).await;
    let id = order_id(&order);
    env.post(
        &format!("/orders/{id}/processes/cancelations"),
        json!({ "lineItems": lines(&[(&line_id(&order, 0), 1)]) }),
    )
    .await
    .expect(201);
    let overview = env.get(&format!("/orders/{id}/processes")).await;
    let body = overview.expect(200);
    for list in [
        "payment-processes",
        "shipping-processes",
        "pickup-processes",
        "return-processes",
        "cancel-processes",
        "refund-processes",
    ] {
        assert!(body["_embedded"][list].is_array(), "{list}");
        assert!(body["_links"].get(list).is_some(), "{list} link");
    }
    // The unpaid order's payment was voided and replaced by one over the new total.
    let payments = body["_embedded"]["payment-processes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0]["status"], "VOIDED");
    assert_eq!(payments[1]["status"], "PENDING");
    assert_eq!(payments[1]["amount"]["amount"], 14.99);
    // The typed inspection API sees the same order.
    let typed = env.sandbox.order(SHOP, id.parse().unwrap_or_default());
    let first_line: uuid::Uuid = line_id(&order, 0).parse().unwrap_or_default();
    assert!(typed.is_some_and(|o| {
        o.line_item(first_line)
            .is_some_and(|line| line.canceled_quantity() == 1)
    }));
}
