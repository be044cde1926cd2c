//! Walks the sandbox through every operation epages-sync uses, with raw HTTP, and checks
//! each response against the official spec. Where the spec shows a request body
//! (`x-examples`), the walk sends that body (only ids swapped for the sandbox's), so the
//! sandbox is also proven to accept what the spec documents.

use std::collections::BTreeSet;

use reqwest::Method;
use sandbox::Sandbox;
use serde_json::{Value, json};

use super::operations::USED;
use super::spec::{Operation, match_template, spec, violations};

const SEED: &str = r#"{
  "shops": [{
    "name": "conformance",
    "clientId": "conformance-app",
    "clientSecret": "conformance-secret",
    "products": [
      {"sku": "EB001", "name": "High Protein Power Bar (Pack of 5)", "price": 9.99, "stock": 100},
      {"sku": "UNMANAGED-1", "name": "Gift card", "price": 25.00},
      {"name": "Poloshirt", "price": 29.99, "variations": [
        {"sku": "POLO-M", "attributes": {"size": "M"}, "stock": 10},
        {"sku": "POLO-L", "attributes": {"size": "L"}, "stock": 4}
      ]}
    ],
    "orders": [
      {"reference": "to-cancel-partly", "lines": [{"sku": "EB001", "quantity": 3}]},
      {"reference": "to-cancel", "lines": [{"sku": "POLO-M", "quantity": 1}]},
      {"reference": "pickup", "pickup": true, "lines": [{"sku": "POLO-L", "quantity": 1}]}
    ]
  }]
}"#;

/// The spec's request example for an operation, as JSON.
fn request_example(path: &str, method: &str) -> Value {
    let parameters = spec()["paths"][path][method]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = parameters
        .iter()
        .find(|parameter| parameter["in"] == "body")
        .and_then(|body| body["x-examples"].as_object())
        .and_then(|examples| examples.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("the spec shows no request example for {method} {path}"));
    serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("the request example for {method} {path}: {error}"))
}

struct Walk {
    http: reqwest::Client,
    api_url: String,
    token: String,
    exercised: BTreeSet<(&'static str, &'static str, u16)>,
    failures: Vec<String>,
}

impl Walk {
    /// Calls the API, asserts the status, and checks the body against the spec.
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let url = format!("{}{path}", self.api_url);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token)
            .header("Accept", "application/hal+json");
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        let actual = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(actual, status, "{method} {path} answered {actual}: {text}");
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{method} {path} answered non-JSON ({error}): {text}"));
        self.check(
            &method,
            path.split('?').next().unwrap_or(path),
            status,
            &value,
        );
        value
    }

    fn check(&mut self, method: &Method, path: &str, status: u16, body: &Value) {
        let method = method.as_str().to_lowercase();
        let templates: Vec<&'static str> = USED.iter().map(|op| op.path).collect();
        let template = match_template(path, &method, &templates)
            .unwrap_or_else(|| panic!("{method} {path} matches no operation in USED"));
        let op = USED
            .iter()
            .copied()
            .find(|op| op.path == template && op.method == method && op.status == status)
            .unwrap_or_else(|| panic!("{method} {template} {status} is not in USED"));
        self.exercised.insert((op.path, op.method, op.status));
        for violation in violations(op, body) {
            self.failures.push(format!(
                "{} {} {}: {violation}",
                op.method, op.path, op.status
            ));
        }
    }
}

fn id_of(value: &Value) -> String {
    value["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no _id in {value}"))
        .to_owned()
}

#[tokio::test]
async fn every_used_operation_of_the_sandbox_conforms_to_the_spec() {
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
    let report = sandbox.seed_json(SEED).expect("seed applies");
    let api_url = sandbox.shop_api_url("conformance");
    beyond::tls::install_crypto_provider();
    let http = reqwest::Client::new();

    let token_response = http
        .post(format!(
            "{api_url}/oauth/token?grant_type=client_credentials"
        ))
        .basic_auth("conformance-app", Some("conformance-secret"))
        .send()
        .await
        .expect("token endpoint answers");
    assert_eq!(token_response.status().as_u16(), 200);
    let token_body: Value = token_response.json().await.expect("token JSON");
    let token = token_body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let mut walk = Walk {
        http,
        api_url,
        token,
        exercised: BTreeSet::new(),
        failures: Vec::new(),
    };
    walk.check(&Method::POST, "/oauth/token", 200, &token_body);

    // Products and stock.
    walk.call(Method::GET, "/products", None, 200).await;
    walk.call(
        Method::POST,
        "/products",
        Some(request_example("/products", "post")),
        201,
    )
    .await;
    let bar = walk
        .call(
            Method::GET,
            "/products/search/find-by-sku?sku=EB001",
            None,
            200,
        )
        .await;
    let bar_id = id_of(&bar);
    walk.call(
        Method::GET,
        &format!("/products/{bar_id}/availability"),
        None,
        200,
    )
    .await;
    walk.call(
        Method::POST,
        &format!("/products/{bar_id}/availability/adjust-available-stock"),
        Some(json!({"relativeAmount": -2})),
        200,
    )
    .await;
    let gift = walk
        .call(
            Method::GET,
            "/products/search/find-by-sku?sku=UNMANAGED-1",
            None,
            200,
        )
        .await;
    walk.call(
        Method::POST,
        &format!(
            "/products/{}/availability/enable-stock-management",
            id_of(&gift)
        ),
        Some(request_example(
            "/products/{productId}/availability/enable-stock-management",
            "post",
        )),
        200,
    )
    .await;
    let products = walk.call(Method::GET, "/products?size=50", None, 200).await;
    let polo_id = products["_embedded"]["products"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "Poloshirt"))
        .map(id_of)
        .expect("the seeded variation product is listed");
    let variations = walk
        .call(
            Method::GET,
            &format!("/products/{polo_id}/variations"),
            None,
            200,
        )
        .await;
    let variation_id = variations["_embedded"]["variations"][0]["_id"]
        .as_str()
        .expect("a variation")
        .to_owned();
    walk.call(
        Method::GET,
        &format!("/products/{polo_id}/variations/{variation_id}/availability"),
        None,
        200,
    )
    .await;
    walk.call(
        Method::POST,
        &format!(
            "/products/{polo_id}/variations/{variation_id}/availability/adjust-available-stock"
        ),
        Some(json!({"relativeAmount": 1})),
        200,
    )
    .await;

    // An order created from the spec's own body, then driven through its life.
    let mut create = request_example("/orders", "post");
    for line in create["productLineItems"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        line["product"]["_id"] = json!(bar_id);
    }
    let order = walk.call(Method::POST, "/orders", Some(create), 201).await;
    let order_id = id_of(&order);
    let line_id = order["productLineItems"][0]["_id"]
        .as_str()
        .expect("a line item")
        .to_owned();
    walk.call(Method::GET, "/orders?size=5&sort=createdAt,asc", None, 200)
        .await;
    walk.call(Method::GET, &format!("/orders/{order_id}"), None, 200)
        .await;
    walk.call(
        Method::POST,
        &format!("/orders/{order_id}/processes/payments/active/mark-paid"),
        Some(json!({"comment": "paid"})),
        200,
    )
    .await;
    let mut shipping_body = request_example("/orders/{orderId}/processes/shippings", "post");
    shipping_body["lineItems"] = json!([{"productLineItemId": line_id, "quantity": 2}]);
    let shipping = walk
        .call(
            Method::POST,
            &format!("/orders/{order_id}/processes/shippings"),
            Some(shipping_body),
            201,
        )
        .await;
    let shipping_id = id_of(&shipping);
    walk.call(
        Method::POST,
        &format!("/orders/{order_id}/processes/shippings/{shipping_id}/mark-shipped"),
        Some(json!({"comment": "on its way", "details": {"sendMail": false, "trackingCode": "T1", "trackingLink": "https://track.example/T1"}})),
        200,
    )
    .await;
    walk.call(
        Method::POST,
        &format!("/orders/{order_id}/processes/shippings/{shipping_id}/mark-delivered"),
        Some(json!({"comment": "delivered"})),
        200,
    )
    .await;
    walk.call(
        Method::GET,
        &format!("/orders/{order_id}/processes/shippings/{shipping_id}"),
        None,
        200,
    )
    .await;
    walk.call(
        Method::GET,
        &format!("/orders/{order_id}/processes/shippings"),
        None,
        200,
    )
    .await;
    let mut return_body = request_example("/orders/{orderId}/processes/returns", "post");
    return_body["lineItems"] =
        json!([{"productLineItemId": line_id, "quantity": 1, "status": "BROKEN"}]);
    return_body["shippingProcessId"] = json!(shipping_id);
    walk.call(
        Method::POST,
        &format!("/orders/{order_id}/processes/returns"),
        Some(return_body),
        201,
    )
    .await;
    walk.call(
        Method::GET,
        &format!("/orders/{order_id}/processes/returns"),
        None,
        200,
    )
    .await;
    walk.call(
        Method::GET,
        &format!("/orders/{order_id}/processes"),
        None,
        200,
    )
    .await;
    walk.call(
        Method::GET,
        &format!("/orders/{order_id}/events"),
        None,
        200,
    )
    .await;

    // Cancelations.
    let partly = &report.orders["to-cancel-partly"];
    let partly_order = walk
        .call(
            Method::GET,
            &format!("/orders/{}", partly.order_id),
            None,
            200,
        )
        .await;
    let partly_line = partly_order["productLineItems"][0]["_id"].clone();
    walk.call(
        Method::POST,
        &format!("/orders/{}/processes/cancelations", partly.order_id),
        Some(json!({"comment": "customer changed mind", "lineItems": [{"productLineItemId": partly_line, "quantity": 1}]})),
        201,
    )
    .await;
    walk.call(
        Method::GET,
        &format!("/orders/{}/processes/cancelations", partly.order_id),
        None,
        200,
    )
    .await;
    let whole = &report.orders["to-cancel"];
    walk.call(
        Method::POST,
        &format!("/orders/{}/cancel", whole.order_id),
        Some(json!({"comment": "out of stock"})),
        200,
    )
    .await;

    // Click & collect.
    let pickup = &report.orders["pickup"];
    let pickup_process = walk
        .call(
            Method::POST,
            &format!("/orders/{}/processes/pickups", pickup.order_id),
            Some(json!({"comment": "ready", "sendMail": false, "createPackingSlip": false})),
            201,
        )
        .await;
    walk.call(
        Method::POST,
        &format!(
            "/orders/{}/processes/pickups/{}/mark-picked-up",
            pickup.order_id,
            id_of(&pickup_process)
        ),
        Some(json!({"comment": "collected", "sendMail": false})),
        200,
    )
    .await;
    walk.call(
        Method::GET,
        &format!("/orders/{}/processes/pickups", pickup.order_id),
        None,
        200,
    )
    .await;

    // Webhooks.
    walk.call(Method::POST, "/signers", None, 200).await;
    walk.call(Method::GET, "/signers", None, 200).await;
    walk.call(
        Method::POST,
        "/webhook-subscriptions",
        Some(request_example("/webhook-subscriptions", "post")),
        201,
    )
    .await;
    walk.call(Method::GET, "/webhook-subscriptions", None, 200)
        .await;

    let missed: Vec<&Operation> = USED
        .iter()
        .filter(|op| !walk.exercised.contains(&(op.path, op.method, op.status)))
        .collect();
    assert!(
        missed.is_empty(),
        "operations the walk did not exercise: {missed:#?}"
    );
    assert!(
        walk.failures.is_empty(),
        "sandbox responses that break the spec:\n{}",
        walk.failures.join("\n")
    );
}
