//! Products, SKU lookup, variations and availability over HTTP.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Env, SHOP};

fn variation_product() -> sandbox::SeedProduct {
    serde_json::from_value(json!({
        "name": "Shirt", "price": 20.0,
        "variations": [
            { "sku": "SHIRT-M", "attributes": { "size": "M" }, "stock": 5, "stockThreshold": 1 },
            { "sku": "SHIRT-S", "attributes": { "size": "S" }, "stock": 9, "price": 18.0 },
            { "sku": "SHIRT-L", "attributes": { "size": "L" } }
        ]
    }))
    .expect("seed parses")
}

fn id(value: &Value) -> String {
    value["_id"].as_str().expect("has an _id").to_owned()
}

#[tokio::test]
async fn create_product_answers_201_with_location_and_rejects_bad_input() {
    let env = Env::start().await;
    let body = json!({
        "sku": "NEW-1", "name": "New thing", "taxClass": "REGULAR",
        "salesPrice": { "taxModel": "GROSS", "amount": 9.99, "currency": "EUR" },
        "description": "shiny", "tags": ["a"]
    });
    let created = env.post("/products", body.clone()).await;
    let product = created.expect(201).clone();
    assert_eq!(
        created.header("location"),
        product["_links"]["self"]["href"].as_str()
    );
    assert!(
        created
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/hal+json"))
    );
    assert_eq!(product["sku"], "NEW-1");
    assert_eq!(product["description"], "shiny");
    assert_eq!(product["isVariationProduct"], false);
    assert_eq!(
        product["_embedded"]["availability"]["availabilityState"],
        "IN_STOCK"
    );
    assert_eq!(
        product["_embedded"]["availability"]["availableStock"],
        Value::Null
    );

    env.post("/products", body)
        .await
        .expect_error(409, "integrity-constraint-violation");
    let invalid = env
        .post("/products", json!({ "salesPrice": { "amount": 1 } }))
        .await;
    invalid.expect_error(400, "input-validation-failed");
    assert!(
        invalid.body["details"]["validationErrors"]
            .as_array()
            .is_some_and(|e| e.len() >= 2)
    );

    let raw = env
        .http
        .post(format!("{}/products", env.api(SHOP)))
        .bearer_auth(&env.token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answered");
    super::support::read(raw)
        .await
        .expect_error(400, "http-message-not-readable");
    let wrong_type = env
        .http
        .post(format!("{}/products", env.api(SHOP)))
        .bearer_auth(&env.token)
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong_type.status().as_u16(), 415);
}

#[tokio::test]
async fn find_by_sku_resolves_products_but_not_variations() {
    let env = Env::start().await;
    env.product("MUG", 12.9, Some(4));
    env.sandbox
        .add_product(SHOP, &variation_product())
        .expect("variation product is added");
    let mug = env.get("/products/search/find-by-sku?sku=MUG").await;
    assert_eq!(mug.expect(200)["sku"], "MUG");
    env.get("/products/search/find-by-sku?sku=SHIRT-M")
        .await
        .expect_error(404, "resource-not-found");
    env.get("/products/search/find-by-sku?sku=NOPE")
        .await
        .expect_error(404, "resource-not-found");
    env.get("/products/search/find-by-sku")
        .await
        .expect_error(400, "illegal-argument");
    let mug_id = id(&mug.body);
    env.get(&format!("/products/{mug_id}")).await.expect(200);
    env.get("/products/00000000-0000-0000-0000-000000000000")
        .await
        .expect_error(404, "resource-not-found");
}

#[tokio::test]
async fn variations_are_paged_sortable_and_reject_unknown_sorts() {
    let env = Env::start().await;
    let parent = env
        .sandbox
        .add_product(SHOP, &variation_product())
        .expect("added");
    let parent_id = id(&parent);
    assert_eq!(parent["isVariationProduct"], true);
    assert_eq!(parent["sku"], Value::Null);

    let page = env
        .get(&format!(
            "/products/{parent_id}/variations?size=2&sort=sku,asc"
        ))
        .await;
    let body = page.expect(200);
    let skus: Vec<&str> = body["_embedded"]["variations"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["sku"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(skus, ["SHIRT-L", "SHIRT-M"]);
    assert_eq!(body["page"]["totalElements"], 3);
    assert_eq!(body["page"]["totalPages"], 2);
    assert!(
        body["_links"]["next"]["href"]
            .as_str()
            .is_some_and(|h| h.contains("page=1"))
    );
    let first = &body["_embedded"]["variations"][1];
    assert_eq!(first["_embedded"]["availability"]["availableStock"], 5);
    assert_eq!(first["variationAttributeValues"][0]["value"], "M");

    env.get(&format!("/products/{parent_id}/variations?sort=color,asc"))
        .await
        .expect_error(400, "invalid-sort-property");
    // A variation is not a product of its own on /products/{id}.
    let variation_id = id(first);
    env.get(&format!("/products/{variation_id}"))
        .await
        .expect_error(404, "resource-not-found");
    env.get(&format!("/products/{parent_id}/variations/{variation_id}"))
        .await
        .expect(200);
}

#[tokio::test]
async fn stock_management_switches_and_adjustments_follow_beyond_rules() {
    let env = Env::start().await;
    env.product("FREE", 5.0, None);
    let product = env.get("/products/search/find-by-sku?sku=FREE").await;
    let pid = id(product.expect(200));
    let base = format!("/products/{pid}/availability");

    let availability = env.get(&base).await;
    let links = &availability.expect(200)["_links"];
    assert!(links.get("enable-stock-management").is_some());
    assert!(links.get("adjust-available-stock").is_none());
    env.post(
        &format!("{base}/adjust-available-stock"),
        json!({ "relativeAmount": 3 }),
    )
    .await
    .expect_error(409, "product.availability.invalid-availability-state");

    let enabled = env
        .post(
            &format!("{base}/enable-stock-management"),
            json!({ "initialAvailableStock": 3, "stockThreshold": 2 }),
        )
        .await;
    let body = enabled.expect(200);
    assert_eq!(body["availableStock"], 3);
    assert_eq!(body["availabilityState"], "IN_STOCK");
    assert!(body["_links"].get("adjust-available-stock").is_some());
    assert!(body["_links"].get("disable-stock-management").is_some());
    assert!(body["_links"].get("enable-stock-management").is_none());
    env.post(
        &format!("{base}/enable-stock-management"),
        json!({ "initialAvailableStock": 1 }),
    )
    .await
    .expect_error(409, "product.availability.invalid-availability-state");

    let low = env
        .post(
            &format!("{base}/adjust-available-stock"),
            json!({ "relativeAmount": -1 }),
        )
        .await;
    assert_eq!(low.expect(200)["availabilityState"], "LOW_STOCK");
    let out = env
        .post(
            &format!("{base}/adjust-available-stock"),
            json!({ "relativeAmount": -2 }),
        )
        .await;
    assert_eq!(out.expect(200)["availabilityState"], "OUT_OF_STOCK");
    env.post(&format!("{base}/adjust-available-stock"), json!({}))
        .await
        .expect_error(400, "input-validation-failed");
    env.post(
        &format!("{base}/adjust-available-stock"),
        json!({ "relativeAmount": "lots" }),
    )
    .await
    .expect_error(400, "http-message-not-readable");

    let blocked = env
        .post(&format!("{base}/disable-purchasability"), json!({}))
        .await;
    assert_eq!(blocked.expect(200)["availabilityState"], "NOT_AVAILABLE");
    env.post(&format!("{base}/enable-purchasability"), json!({}))
        .await
        .expect(200);

    let disabled = env
        .call(
            Method::POST,
            &format!("{base}/disable-stock-management"),
            None,
        )
        .await;
    assert_eq!(disabled.expect(200)["availableStock"], Value::Null);
    env.call(
        Method::POST,
        &format!("{base}/disable-stock-management"),
        None,
    )
    .await
    .expect_error(409, "product.availability.invalid-availability-state");
}

#[tokio::test]
async fn variation_stock_is_adjusted_on_the_variation_not_the_parent() {
    let env = Env::start().await;
    let parent = env
        .sandbox
        .add_product(SHOP, &variation_product())
        .expect("added");
    let parent_id = id(&parent);
    env.post(
        &format!("/products/{parent_id}/availability/adjust-available-stock"),
        json!({ "relativeAmount": 1 }),
    )
    .await
    .expect_error(400, "operation-not-available");

    let variations = env
        .get(&format!("/products/{parent_id}/variations?sort=sku,desc"))
        .await;
    let shirt_m = &variations.expect(200)["_embedded"]["variations"][1];
    assert_eq!(shirt_m["sku"], "SHIRT-M");
    let base = format!(
        "/products/{parent_id}/variations/{}/availability",
        id(shirt_m)
    );
    let adjusted = env
        .post(
            &format!("{base}/adjust-available-stock"),
            json!({ "relativeAmount": -4 }),
        )
        .await;
    let body = adjusted.expect(200);
    assert_eq!(body["availableStock"], 1);
    assert_eq!(body["availabilityState"], "LOW_STOCK");
    assert_eq!(
        env.sandbox
            .availability(SHOP, "SHIRT-M")
            .and_then(|a| a.available_stock),
        Some(1)
    );
    let unmanaged = env.sandbox.availability(SHOP, "SHIRT-L");
    assert!(unmanaged.is_some_and(|a| a.available_stock.is_none()));
}

#[tokio::test]
async fn orders_take_managed_stock_unless_told_not_to() {
    let env = Env::start().await;
    env.product("MUG", 10.0, Some(10));
    env.product("BAG", 10.0, None);
    env.create_order(&[("MUG", 3), ("BAG", 1)], false).await;
    let stock = |sku| {
        env.sandbox
            .availability(SHOP, sku)
            .and_then(|a| a.available_stock)
    };
    assert_eq!(stock("MUG"), Some(7));
    assert_eq!(stock("BAG"), None);

    let mut body = super::support::order_body(&[("MUG", 2)], false, "PARTIAL_REFUND");
    body["adjustStock"] = json!(false);
    env.post("/orders", body).await.expect(201);
    let mut test_order = super::support::order_body(&[("MUG", 2)], false, "PARTIAL_REFUND");
    test_order["testOrder"] = json!(true);
    env.post("/orders", test_order).await.expect(201);
    assert_eq!(stock("MUG"), Some(7));
}

#[tokio::test]
async fn product_lists_are_paged() {
    let env = Env::start().await;
    for n in 0..5 {
        env.product(&format!("P{n}"), 1.0, None);
    }
    let page = env.get("/products?page=2&size=2").await;
    let body = page.expect(200);
    assert_eq!(
        body["_embedded"]["products"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(body["page"]["number"], 2);
    assert!(body["_links"].get("next").is_none());
    assert!(body["_links"].get("prev").is_some());
}
