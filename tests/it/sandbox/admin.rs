//! The `/_sandbox/` admin API over HTTP, the demo seed, the clock, and many shops at once.

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use sandbox::{Sandbox, ShopConfig};
use serde_json::{Value, json};

use super::support::{Env, SHOP, http_client, read};

async fn admin(
    env: &Env,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> super::support::Reply {
    let mut request = env
        .http
        .request(method, format!("{}/_sandbox{path}", env.sandbox.base_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.expect("admin request is answered")).await
}

#[tokio::test]
async fn the_admin_api_mirrors_the_handle() {
    let env = Env::start().await;
    let shop = admin(
        &env,
        Method::POST,
        "/shops",
        Some(json!({ "name": "s9", "clientId": "a9", "clientSecret": "x9", "scopes": ["ordr:r"], "tokenLifetimeSeconds": 60 })),
    )
    .await;
    let info = shop.expect(201);
    assert_eq!(
        info["apiUrl"],
        format!("{}/shops/s9/api", env.sandbox.base_url())
    );
    assert_eq!(info["tokenLifetimeSeconds"], 60);
    assert!(info.get("clientSecret").is_none());
    let shops = admin(&env, Method::GET, "/shops", None).await;
    assert_eq!(shops.expect(200).as_array().map(Vec::len), Some(2));

    let code = admin(&env, Method::POST, "/shops/s9/authorization-codes", None).await;
    let code = code.expect(201)["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let token = env
        .token_request(
            "s9",
            &format!("grant_type=authorization_code&code={code}"),
            "a9",
            "x9",
        )
        .await;
    assert_eq!(token.expect(200)["scope"], "ordr:r");

    let product = admin(
        &env,
        Method::POST,
        &format!("/shops/{SHOP}/products"),
        Some(json!({ "sku": "LAMP", "name": "Lamp", "price": 30.0, "stock": 4 })),
    )
    .await;
    assert_eq!(product.expect(201)["sku"], "LAMP");
    let order = admin(
        &env,
        Method::POST,
        &format!("/shops/{SHOP}/orders"),
        Some(json!({ "lines": [{ "sku": "LAMP", "quantity": 1 }], "actions": [{ "action": "pay" }] })),
    )
    .await;
    let order = order.expect(201).clone();
    assert_eq!(order["paymentStatus"], "PAID");
    let id = order["_id"].as_str().unwrap_or_default();
    let shipped = admin(
        &env,
        Method::POST,
        &format!("/shops/{SHOP}/orders/{id}/actions"),
        Some(json!({ "action": "ship", "trackingCode": "ADMIN-1" })),
    )
    .await;
    assert_eq!(shipped.expect(200)["shippingStatus"], "SHIPPED");
    let read_back = admin(
        &env,
        Method::GET,
        &format!("/shops/{SHOP}/orders/{id}"),
        None,
    )
    .await;
    assert_eq!(read_back.expect(200)["shippingStatus"], "SHIPPED");
    let stock = admin(
        &env,
        Method::GET,
        &format!("/shops/{SHOP}/availability/LAMP"),
        None,
    )
    .await;
    assert_eq!(stock.expect(200)["availableStock"], 3);
    admin(
        &env,
        Method::GET,
        &format!("/shops/{SHOP}/availability/NOPE"),
        None,
    )
    .await
    .expect_error(404, "resource-not-found");

    let fault = admin(
        &env,
        Method::POST,
        "/faults",
        Some(json!({ "path": "/orders", "method": "GET",
                     "kind": { "type": "tooManyRequests", "retryAfterSeconds": 1 },
                     "trigger": { "type": "next", "count": 1 } })),
    )
    .await;
    let fault_id = fault.expect(201)["id"].as_u64().unwrap_or_default();
    env.get("/orders")
        .await
        .expect_error(429, "too-many-requests");
    let faults = admin(&env, Method::GET, "/faults", None).await;
    assert_eq!(faults.expect(200)[0]["fired"], 1);
    admin(&env, Method::DELETE, &format!("/faults/{fault_id}"), None)
        .await
        .expect(204);
    admin(&env, Method::DELETE, "/faults/999", None)
        .await
        .expect_error(404, "resource-not-found");
    admin(&env, Method::DELETE, "/faults", None)
        .await
        .expect(204);

    let journal = admin(
        &env,
        Method::GET,
        &format!("/journal?shop={SHOP}&method=GET&path=/orders"),
        None,
    )
    .await;
    let entries = journal.expect(200).as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["outcome"],
        json!({ "kind": "responded", "status": 429 })
    );
    admin(&env, Method::DELETE, "/journal", None)
        .await
        .expect(204);
    let empty = admin(&env, Method::GET, "/journal", None).await;
    assert_eq!(empty.expect(200).as_array().map(Vec::len), Some(0));

    let set = admin(
        &env,
        Method::POST,
        "/clock/set",
        Some(json!({ "at": "2030-01-02T03:04:05Z" })),
    )
    .await;
    assert_eq!(set.expect(200)["now"], "2030-01-02T03:04:05.000");
    let advanced = admin(
        &env,
        Method::POST,
        "/clock/advance",
        Some(json!({ "seconds": 60 })),
    )
    .await;
    assert_eq!(advanced.expect(200)["now"], "2030-01-02T03:05:05.000");
    let real = admin(&env, Method::POST, "/clock/real", None).await;
    assert_eq!(real.expect(200)["mode"]["mode"], "real");
    admin(
        &env,
        Method::POST,
        "/clock/advance",
        Some(json!({ "seconds": i64::MAX })),
    )
    .await
    .expect_error(400, "http-message-not-readable");

    let seeded = admin(
        &env,
        Method::POST,
        "/seed",
        Some(
            json!({ "shops": [{ "name": "s10", "clientId": "a10", "clientSecret": "x10",
            "products": [{ "sku": "P", "name": "P", "price": 1.0 }],
            "orders": [{ "reference": "one", "lines": [{ "sku": "P", "quantity": 1 }] }] }] }),
        ),
    )
    .await;
    let report = seeded.expect(200);
    assert_eq!(report["orders"]["one"]["shop"], "s10");
    admin(
        &env,
        Method::POST,
        "/seed",
        Some(json!({ "shops": [{ "name": "bad" }] })),
    )
    .await
    .expect_error(400, "http-message-not-readable");
}

#[tokio::test]
async fn the_demo_seed_has_orders_in_every_state() {
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("starts");
    let report = sandbox.seed_demo().expect("the demo seed loads");
    let states: Vec<(String, String, bool)> = sandbox
        .orders("demo")
        .into_iter()
        .map(|order| {
            (
                order
                    .shipping_status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                order
                    .payment_status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                order.canceled.unwrap_or(false),
            )
        })
        .collect();
    for expected in [
        "UNSHIPPED",
        "PENDING",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
        "DELIVERED",
        "CANCELED",
        "PARTIALLY_RETURNED",
        "RETURNED",
        "NOT_PICKED_UP",
        "READY_FOR_PICKUP",
        "PICKED_UP",
    ] {
        assert!(
            states.iter().any(|(s, _, _)| s == expected),
            "no {expected} order in {states:?}"
        );
    }
    for expected in ["PENDING", "PAID", "REFUND_PENDING", "VOIDED"] {
        assert!(
            states.iter().any(|(_, p, _)| p == expected),
            "no {expected} payment"
        );
    }
    assert!(states.iter().any(|(_, _, canceled)| *canceled));
    assert!(report.orders.contains_key("full-refund-only"));
    assert_eq!(report.shops.len(), 2);
    // Stock states of the demo catalog.
    let state = |sku| {
        sandbox
            .availability("demo", sku)
            .and_then(|a| a.availability_state)
            .map(|s| s.as_str().to_owned())
    };
    // 3 in stock, one taken by the shipped order (the test order takes none).
    assert_eq!(state("POSTER-01").as_deref(), Some("LOW_STOCK"));
    assert_eq!(state("SOCKS-01").as_deref(), Some("OUT_OF_STOCK"));
    assert_eq!(state("GIFT-01").as_deref(), Some("NOT_AVAILABLE"));
    assert_eq!(state("BAG-001").as_deref(), Some("IN_STOCK"));
    assert_eq!(state("TSHIRT-L-WHT").as_deref(), Some("LOW_STOCK"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn seeds_can_backdate_orders_and_their_actions() {
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("starts");
    let report = sandbox
        .seed_json(
            r#"{ "shops": [{ "name": "old", "clientId": "a", "clientSecret": "b",
                "products": [{ "sku": "P", "name": "P", "price": 2.5 }],
                "orders": [{ "reference": "o", "lines": [{ "sku": "P", "quantity": 2 }],
                    "createdAt": "2023-01-01T10:00:00Z",
                    "actions": [ { "action": "pay", "at": "2023-01-02T10:00:00Z" } ] }] }] }"#,
        )
        .expect("seeds");
    let id = report.orders["o"].order_id;
    let order = sandbox.order("old", id).expect("the order exists");
    assert_eq!(
        order.created_at.map(|t| t.to_wire()).as_deref(),
        Some("2023-01-01T10:00:00.000")
    );
    assert_eq!(
        order.updated_at.map(|t| t.to_wire()).as_deref(),
        Some("2023-01-02T10:00:00.000")
    );
    assert!(sandbox.seed_json("{ not json").is_err());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_clock_drives_order_timestamps() {
    let env = Env::start().await;
    env.product("MUG", 1.0, None);
    let at = Utc
        .with_ymd_and_hms(2025, 6, 1, 8, 30, 0)
        .single()
        .expect("valid date");
    env.sandbox.clock().set(at);
    let order = env.create_order(&[("MUG", 1)], false).await;
    assert_eq!(order["createdAt"], "2025-06-01T08:30:00.000");
    env.sandbox.clock().advance(Duration::milliseconds(1500));
    let id = super::support::order_id(&order);
    let paid = env
        .call(
            Method::POST,
            &format!("/orders/{id}/processes/payments/active/mark-paid"),
            None,
        )
        .await;
    paid.expect(200);
    let order_now = env.get(&format!("/orders/{id}")).await;
    assert_eq!(
        order_now.expect(200)["updatedAt"],
        "2025-06-01T08:30:01.500"
    );
    assert_eq!(order_now.body["createdAt"], "2025-06-01T08:30:00.000");
}

#[tokio::test]
async fn many_shops_are_served_and_kept_apart() {
    let env = Env::start().await;
    env.sandbox
        .register_shop(ShopConfig::new("s2", "app-2", "secret-2"))
        .expect("registers");
    env.product("MUG", 1.0, None);
    env.create_order(&[("MUG", 1)], false).await;
    let reply = env
        .token_request("s2", "grant_type=client_credentials", "app-2", "secret-2")
        .await;
    let token = reply.expect(200)["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let other = env
        .call_as(&token, "s2", Method::GET, "/orders", None)
        .await;
    assert_eq!(other.expect(200)["page"]["totalElements"], 0);
    let own = env.get("/orders").await;
    assert_eq!(own.expect(200)["page"]["totalElements"], 1);
    // Each shop numbers its orders on its own.
    assert_ne!(
        env.sandbox
            .shops()
            .iter()
            .find(|s| s.name == "s2")
            .map(|s| s.tenant_id),
        env.sandbox
            .shops()
            .iter()
            .find(|s| s.name == SHOP)
            .map(|s| s.tenant_id)
    );
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("starts");
    let url = format!("{}/_sandbox/shops", sandbox.base_url());
    let http = http_client();
    assert!(http.get(&url).send().await.is_ok());
    sandbox.shutdown().await;
    assert!(http.get(&url).send().await.is_err());
}
