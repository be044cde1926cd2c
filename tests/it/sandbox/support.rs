//! A running sandbox with one shop and a raw HTTP client for it.

use reqwest::{Method, StatusCode};
use sandbox::{Sandbox, SandboxHandle, ShopConfig};
use serde_json::{Value, json};

pub const SHOP: &str = "s1";
pub const CLIENT_ID: &str = "app-1";
pub const CLIENT_SECRET: &str = "secret-1";

/// A response, read completely.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error_id(&self) -> &str {
        self.body["errorId"]
            .as_str()
            .or_else(|| self.body["error"].as_str())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the status and the error id (`errorId` or OAuth `error`).
    #[track_caller]
    pub fn expect_error(&self, status: u16, error_id: &str) {
        assert_eq!(
            (self.status.as_u16(), self.error_id()),
            (status, error_id),
            "unexpected answer: {}",
            self.body
        );
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.body
        );
        &self.body
    }
}

pub struct Env {
    pub sandbox: SandboxHandle,
    pub http: reqwest::Client,
    pub token: String,
}

pub fn http_client() -> reqwest::Client {
    beyond::tls::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("the test HTTP client builds")
}

impl Env {
    /// A sandbox with shop `s1` (all scopes) and a client-credentials token for it.
    pub async fn start() -> Self {
        Self::start_with(ShopConfig::new(SHOP, CLIENT_ID, CLIENT_SECRET)).await
    }

    pub async fn start_with(config: ShopConfig) -> Self {
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
        sandbox.register_shop(config).expect("shop registers");
        let mut env = Self {
            sandbox,
            http: http_client(),
            token: String::new(),
        };
        env.token = env.client_credentials_token(SHOP).await;
        env
    }

    pub fn api(&self, shop: &str) -> String {
        self.sandbox.shop_api_url(shop)
    }

    pub async fn client_credentials_token(&self, shop: &str) -> String {
        let reply = self
            .token_request(
                shop,
                "grant_type=client_credentials",
                CLIENT_ID,
                CLIENT_SECRET,
            )
            .await;
        reply.expect(200)["access_token"]
            .as_str()
            .expect("access_token is a string")
            .to_owned()
    }

    /// `POST {api}/oauth/token?{query}` with HTTP Basic credentials.
    pub async fn token_request(&self, shop: &str, query: &str, id: &str, secret: &str) -> Reply {
        let response = self
            .http
            .post(format!("{}/oauth/token?{query}", self.api(shop)))
            .basic_auth(id, Some(secret))
            .send()
            .await
            .expect("token request is answered");
        read(response).await
    }

    /// A request to shop `s1` with the env's token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.token, SHOP, method, path, body).await
    }

    pub async fn call_as(
        &self,
        token: &str,
        shop: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.api(shop)))
            .header("Accept", "application/hal+json");
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("request is answered")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Creates an order over HTTP from `(sku, quantity)` lines; returns its JSON.
    pub async fn create_order(&self, lines: &[(&str, u32)], pickup: bool) -> Value {
        self.post("/orders", order_body(lines, pickup, "PARTIAL_REFUND"))
            .await
            .expect(201)
            .clone()
    }

    /// Adds a product through the admin API's typed twin.
    pub fn product(&self, sku: &str, price: f64, stock: Option<i64>) {
        let product: sandbox::SeedProduct = serde_json::from_value(json!({
            "sku": sku, "name": format!("Product {sku}"), "price": price, "stock": stock, "stockThreshold": 2
        }))
        .expect("product seed parses");
        self.sandbox
            .add_product(SHOP, &product)
            .expect("product is added");
    }
}

pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body is readable");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// The spec's create-order body with our lines (products referenced by SKU).
pub fn order_body(lines: &[(&str, u32)], pickup: bool, refund: &str) -> Value {
    let zero = json!({ "currency": "EUR", "amount": 0 });
    let mut body = json!({
        "entryDate": "2024-05-01T10:00:00.000",
        "customerEmail": "a.alsterh@example.com",
        "currency": "EUR",
        "taxModel": "GROSS",
        "salesChannel": "Storefront",
        "netTotal": zero, "taxTotal": zero, "subTotal": zero,
        "billingAddress": { "firstName": "Astrid", "lastName": "Alster", "country": "DE" },
        "paymentLineItem": {
            "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 0 },
            "paymentMethod": { "name": "Invoice", "refund": refund }
        },
        "productLineItems": lines.iter().map(|(sku, quantity)| json!({
            "quantity": quantity, "product": { "sku": sku }
        })).collect::<Vec<_>>()
    });
    let charge = json!({
        "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 4.99 },
        "taxClass": "REGULAR"
    });
    let object = body.as_object_mut().expect("the body is an object");
    object.insert(
        if pickup {
            "pickupLineItem"
        } else {
            "shippingLineItem"
        }
        .to_owned(),
        charge,
    );
    body
}

/// The id of the `index`th product line item.
pub fn line_id(order: &Value, index: usize) -> String {
    order["productLineItems"][index]["_id"]
        .as_str()
        .expect("line items have ids")
        .to_owned()
}

pub fn order_id(order: &Value) -> String {
    order["_id"].as_str().expect("orders have ids").to_owned()
}
