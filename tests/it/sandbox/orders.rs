//! Creating, reading, listing and filtering orders; events.

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Env, SHOP, order_body, order_id};

fn numbers(page: &Value) -> Vec<String> {
    page["_embedded"]["orders"]
        .as_array()
        .map(|orders| {
            orders
                .iter()
                .filter_map(|o| o["orderNumber"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_created_order_is_a_real_order() {
    let env = Env::start().await;
    env.product("MUG", 10.0, Some(10));
    env.product("BAG", 5.5, None);
    let reply = env
        .post(
            "/orders",
            order_body(&[("MUG", 2), ("BAG", 1)], false, "PARTIAL_REFUND"),
        )
        .await;
    let order = reply.expect(201).clone();
    assert_eq!(
        reply.header("location"),
        order["_links"]["self"]["href"].as_str()
    );
    assert_eq!(order["orderNumber"], "10001");
    assert_eq!(order["shippingStatus"], "UNSHIPPED");
    assert_eq!(order["paymentStatus"], "PENDING");
    assert_eq!(order["canceled"], false);
    assert_eq!(order["subtotal"]["amount"], 25.5);
    assert_eq!(order["grandTotal"]["amount"], 30.49);
    assert_eq!(order["openAmount"]["amount"], 30.49);
    assert_eq!(order["createdAt"], order["updatedAt"]);
    let line = &order["productLineItems"][0];
    assert_eq!(line["quantity"], 2);
    assert_eq!(line["initialQuantity"], 2);
    assert_eq!(line["shippingStatus"]["unshipped"]["quantity"], 2);
    assert_eq!(line["unshipped"]["quantity"], 2);
    assert_eq!(line["pickupStatus"]["notPickedUp"]["quantity"], 0);
    assert_eq!(line["lineItemPrice"]["amount"], 20.0);
    assert!(order["_links"].get("cancel").is_some());
    // The shipping address defaults to the billing address.
    assert_eq!(order["shippingAddress"]["lastName"], "Alster");

    let second = env.create_order(&[("MUG", 1)], false).await;
    assert_eq!(second["orderNumber"], "10002");
    let fetched = env.get(&format!("/orders/{}", order_id(&order))).await;
    assert_eq!(fetched.expect(200)["_id"], order["_id"]);
}

#[tokio::test]
async fn pickup_orders_have_no_shipping_line_or_address() {
    let env = Env::start().await;
    env.product("MUG", 10.0, None);
    let order = env.create_order(&[("MUG", 2)], true).await;
    assert_eq!(order["shippingLineItem"], Value::Null);
    assert_eq!(order["shippingAddress"], Value::Null);
    assert!(order["pickupLineItem"].is_object());
    assert_eq!(order["shippingStatus"], "NOT_PICKED_UP");
    assert_eq!(
        order["productLineItems"][0]["pickupStatus"]["notPickedUp"]["quantity"],
        2
    );
    assert_eq!(order["productLineItems"][0]["unshipped"]["quantity"], 0);
}

#[tokio::test]
async fn order_creation_validates_its_body() {
    let env = Env::start().await;
    env.product("MUG", 10.0, None);
    let missing = env.post("/orders", json!({ "productLineItems": [] })).await;
    missing.expect_error(400, "input-validation-failed");
    let properties: Vec<&str> = missing.body["details"]["validationErrors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["property"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(properties.contains(&"billingAddress") && properties.contains(&"taxModel"));

    let mut unknown = order_body(&[("NOPE", 1)], false, "PARTIAL_REFUND");
    env.post("/orders", unknown.clone())
        .await
        .expect_error(400, "input-validation-failed");
    unknown["productLineItems"][0]["product"]["name"] = json!("Imported thing");
    unknown["productLineItems"][0]["unitPrice"] =
        json!({ "taxModel": "GROSS", "currency": "EUR", "amount": 3 });
    env.post("/orders", unknown).await.expect(201);

    let mut zero = order_body(&[("MUG", 1)], false, "PARTIAL_REFUND");
    zero["productLineItems"][0]["quantity"] = json!(0);
    env.post("/orders", zero)
        .await
        .expect_error(400, "input-validation-failed");
    let mut bad_enum = order_body(&[("MUG", 1)], false, "PARTIAL_REFUND");
    bad_enum["taxModel"] = json!("BRUTTO");
    env.post("/orders", bad_enum)
        .await
        .expect_error(400, "http-message-not-readable");
    env.call(Method::POST, "/orders", None)
        .await
        .expect_error(400, "http-message-not-readable");
    env.get("/orders/00000000-0000-0000-0000-000000000000")
        .await
        .expect_error(404, "resource-not-found");
    env.get("/orders/not-a-uuid")
        .await
        .expect_error(404, "resource-not-found");
}

#[tokio::test]
async fn listing_filters_sorts_and_pages_orders() {
    let env = Env::start().await;
    env.product("MUG", 10.0, None);
    let start = Utc
        .with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date");
    env.sandbox.clock().set(start);
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(order_id(&env.create_order(&[("MUG", 1)], false).await));
        env.sandbox.clock().advance(Duration::minutes(10));
    }
    // Orders were created at 12:00, 12:10, ..., 12:40. Cancel the second one at 13:00.
    env.sandbox.clock().set(start + Duration::hours(1));
    env.call(Method::POST, &format!("/orders/{}/cancel", ids[1]), None)
        .await
        .expect(200);

    let all = env.get("/orders").await;
    assert_eq!(
        numbers(all.expect(200)),
        ["10005", "10004", "10003", "10002", "10001"]
    );
    assert_eq!(all.body["page"]["size"], 20);
    assert!(
        all.body["_links"]["self"]["href"]
            .as_str()
            .is_some_and(|h| h.contains("page=0&size=20"))
    );

    let ascending = env.get("/orders?sort=orderNumber,asc&size=2&page=1").await;
    assert_eq!(numbers(ascending.expect(200)), ["10003", "10004"]);
    assert_eq!(ascending.body["page"]["totalPages"], 3);
    for rel in ["first", "prev", "next", "last"] {
        assert!(ascending.body["_links"].get(rel).is_some(), "{rel} link");
    }
    let next = ascending.body["_links"]["next"]["href"]
        .as_str()
        .unwrap_or_default();
    let next_page = super::support::read(
        env.http
            .get(next)
            .bearer_auth(&env.token)
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(numbers(next_page.expect(200)), ["10005"]);

    let updated = env.get("/orders?updatedAfter=2024-03-01T12:45:00").await;
    assert_eq!(numbers(updated.expect(200)), ["10002"]);
    let created = env
        .get("/orders?createdAfter=2024-03-01T12:05:00Z&createdBefore=2024-03-01T12:30:00")
        .await;
    assert_eq!(numbers(created.expect(200)), ["10003", "10002"]);
    let by_update = env.get("/orders?sort=updatedAt,desc&size=1").await;
    assert_eq!(numbers(by_update.expect(200)), ["10002"]);

    assert_eq!(
        numbers(env.get("/orders?canceled=true").await.expect(200)),
        ["10002"]
    );
    assert_eq!(
        numbers(env.get("/orders?shippingStatus=CANCELED").await.expect(200)),
        ["10002"]
    );
    assert_eq!(
        numbers(env.get("/orders?paymentStatus=VOIDED").await.expect(200)),
        ["10002"]
    );
    assert_eq!(
        env.get("/orders?canceled=false&testOrder=false")
            .await
            .expect(200)["page"]["totalElements"],
        4
    );
    assert_eq!(
        numbers(env.get("/orders?orderNumber=004").await.expect(200)),
        ["10004"]
    );

    env.get("/orders?sort=grandTotal,asc")
        .await
        .expect_error(400, "invalid-sort-property");
    env.get("/orders?updatedAfter=yesterday")
        .await
        .expect_error(400, "conversion-failed");
    env.get("/orders?shippingStatus=NOT_SHIPPED")
        .await
        .expect_error(400, "conversion-failed");
    env.get("/orders?canceled=maybe")
        .await
        .expect_error(400, "conversion-failed");
}

#[tokio::test]
async fn page_size_is_clamped_to_200() {
    let env = Env::start().await;
    env.product("MUG", 1.0, None);
    for _ in 0..3 {
        env.create_order(&[("MUG", 1)], false).await;
    }
    let page = env.get("/orders?size=1000").await;
    assert_eq!(page.expect(200)["page"]["size"], 200);
    let fallback = env.get("/orders?size=abc&page=-3").await;
    assert_eq!(fallback.expect(200)["page"]["size"], 20);
    assert_eq!(fallback.body["page"]["number"], 0);
}

#[tokio::test]
async fn events_are_listed_newest_first() {
    let env = Env::start().await;
    env.product("MUG", 10.0, None);
    env.sandbox.clock().freeze();
    let order = env.create_order(&[("MUG", 2)], false).await;
    let id = order_id(&order);
    env.sandbox.clock().advance(Duration::seconds(5));
    env.call(
        Method::POST,
        &format!("/orders/{id}/processes/payments/active/mark-paid"),
        None,
    )
    .await
    .expect(200);
    let events = env.get(&format!("/orders/{id}/events")).await;
    let body = events.expect(200);
    let types: Vec<&str> = body["_embedded"]["order-events"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["type"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(types, ["payment-paid", "payment-created", "order-created"]);
    assert_eq!(body["page"]["size"], 30);
    let created = &body["_embedded"]["order-events"][2];
    assert_eq!(created["details"]["lineItems"][0]["quantity"], 2);
    let paid = &body["_embedded"]["order-events"][0];
    assert!(paid["_links"]["payment-process"]["href"].is_string());
    assert_eq!(
        env.sandbox
            .order_events(SHOP, id.parse().unwrap_or_default())
            .len(),
        3
    );
}
