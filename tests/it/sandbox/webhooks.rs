//! Signers, webhook subscriptions and signed deliveries to a local receiver.

use std::time::Duration;

use reqwest::Method;
use sandbox::webhooks::sign;
use sandbox::{JournalFilter, Outcome, SeedAction};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::support::{Env, SHOP, order_id};

/// One request the receiver got.
#[derive(Debug)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the delivery body is JSON")
    }
}

/// A minimal HTTP/1.1 receiver on loopback that answers 200 to everything.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!(
        "http://{}/hooks/beyond?tenant=t1",
        listener.local_addr().expect("has an address")
    );
    let (sender, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buffer = [0u8; 4096];
                let (head, body_start) = loop {
                    let Ok(read) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buffer[..read]);
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (String::from_utf8_lossy(&raw[..end]).into_owned(), end + 4);
                    }
                };
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap_or_default().to_owned();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|line| line.split_once(':'))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = raw[body_start..].to_vec();
                while body.len() < length {
                    let Ok(read) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        break;
                    }
                    body.extend_from_slice(&buffer[..read]);
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = sender.send(Received {
                    request_line,
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
            });
        }
    });
    (url, received)
}

async fn next(received: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("a delivery arrives in time")
        .expect("the receiver runs")
}

async fn create_signer(env: &Env) -> (String, String) {
    let reply = env.call(Method::POST, "/signers", None).await;
    let body = reply.expect(200);
    (
        body["_id"].as_str().expect("signer id").to_owned(),
        body["sharedSecret"]
            .as_str()
            .expect("shared secret")
            .to_owned(),
    )
}

#[tokio::test]
async fn signers_are_listed_without_secrets_and_the_last_one_stays() {
    let env = Env::start().await;
    let (first, _) = create_signer(&env).await;
    let (second, _) = create_signer(&env).await;
    let list = env.get("/signers").await;
    let signers = list.expect(200)["_embedded"]["signers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(signers.len(), 2);
    assert!(
        signers
            .iter()
            .all(|s| s.get("sharedSecret").is_none() && s["createdAt"].is_string())
    );
    env.call(Method::DELETE, &format!("/signers/{first}"), None)
        .await
        .expect(200);
    env.call(Method::DELETE, &format!("/signers/{second}"), None)
        .await
        .expect_error(409, "cannot-delete-last-signer");
    env.call(Method::DELETE, &format!("/signers/{first}"), None)
        .await
        .expect_error(404, "resource-not-found");
}

#[tokio::test]
async fn subscriptions_need_a_signer_and_distinct_event_types() {
    let env = Env::start().await;
    let subscription = json!({ "callbackUri": "http://127.0.0.1:9/hook", "eventTypes": ["order.created", "product.created"] });
    let no_signer = env
        .post("/webhook-subscriptions", subscription.clone())
        .await;
    no_signer.expect_error(401, "no-signer-defined");
    assert!(
        no_signer.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("app-1"))
    );
    create_signer(&env).await;
    let created = env
        .post("/webhook-subscriptions", subscription.clone())
        .await;
    let body = created.expect(201).clone();
    assert_eq!(body["active"], true);
    assert!(body["_links"].get("deactivate").is_some());
    env.post(
        "/webhook-subscriptions",
        json!({ "callbackUri": "http://127.0.0.1:9/other", "eventTypes": ["order.created"] }),
    )
    .await
    .expect_error(400, "webhook-overlapping-event-types");
    env.post(
        "/webhook-subscriptions",
        json!({ "eventTypes": ["order.updated"] }),
    )
    .await
    .expect_error(400, "input-validation-failed");

    let id = body["_id"].as_str().unwrap_or_default();
    let list = env.get("/webhook-subscriptions").await;
    assert_eq!(
        list.expect(200)["_embedded"]["subscriptions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    env.get(&format!("/webhook-subscriptions/{id}"))
        .await
        .expect(200);
    env.call(
        Method::DELETE,
        &format!("/webhook-subscriptions/{id}"),
        None,
    )
    .await
    .expect(204);
    env.get(&format!("/webhook-subscriptions/{id}"))
        .await
        .expect_error(404, "resource-not-found");
}

#[tokio::test]
async fn order_changes_are_delivered_signed_by_every_signer() {
    let env = Env::start().await;
    env.product("MUG", 10.0, None);
    let (url, mut received) = receiver().await;
    let (_, secret_one) = create_signer(&env).await;
    let (_, secret_two) = create_signer(&env).await;
    env.post(
        "/webhook-subscriptions",
        json!({ "callbackUri": url, "eventTypes": ["order.created", "order.updated"] }),
    )
    .await
    .expect(201);

    let order = env.create_order(&[("MUG", 1)], false).await;
    let created = next(&mut received).await;
    assert!(
        created
            .request_line
            .starts_with("POST /hooks/beyond?tenant=t1 ")
    );
    assert_eq!(
        created.header("X-EPAGES-WEBHOOK-EVENT-TYPE"),
        Some("order.created")
    );
    assert_eq!(created.header("content-type"), Some("application/json"));
    let signatures = created.header_values("X-EPAGES-SIGNATURE");
    assert_eq!(signatures.len(), 2);
    for secret in [&secret_one, &secret_two] {
        let expected = sign(secret, &url, &created.body);
        assert!(
            signatures.contains(&expected.as_str()),
            "no signature by {secret}"
        );
    }
    assert!(!signatures.contains(&sign("wrong", &url, &created.body).as_str()));
    let payload = created.json();
    assert_eq!(payload["_payloadType"], "order");
    assert_eq!(payload["_id"], order["_id"]);

    let id = order_id(&order);
    env.call(
        Method::POST,
        &format!("/orders/{id}/processes/payments/active/mark-paid"),
        None,
    )
    .await
    .expect(200);
    let updated = next(&mut received).await;
    assert_eq!(
        updated.header("X-EPAGES-WEBHOOK-EVENT-TYPE"),
        Some("order.updated")
    );
    assert_eq!(updated.json()["paymentStatus"], "PAID");

    // A merchant action in the "cockpit" (the typed handle) is announced too.
    env.sandbox
        .apply(
            SHOP,
            id.parse().expect("uuid"),
            &SeedAction::Ship {
                lines: Vec::new(),
                tracking_code: Some("T-9".into()),
                tracking_link: None,
                mark_shipped: None,
                at: None,
            },
        )
        .expect("the merchant ships");
    let shipped = next(&mut received).await;
    assert_eq!(shipped.json()["shippingStatus"], "SHIPPED");

    // Deliveries are journaled with the receiver's status.
    let mut deliveries = Vec::new();
    for _ in 0..50 {
        deliveries = env.sandbox.journal(&JournalFilter {
            webhooks: Some(true),
            ..JournalFilter::default()
        });
        if deliveries.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|entry| entry.outcome
        == Outcome::Delivered {
            status: Some(200),
            error: None
        }));
    assert_eq!(deliveries[0].event_type.as_deref(), Some("order.created"));
}

#[tokio::test]
async fn inactive_subscriptions_and_foreign_hosts_get_nothing() {
    let env = Env::start().await;
    env.product("MUG", 10.0, None);
    let (url, mut received) = receiver().await;
    create_signer(&env).await;
    let subscription = env
        .post(
            "/webhook-subscriptions",
            json!({ "callbackUri": url, "eventTypes": ["order.created"] }),
        )
        .await
        .expect(201)
        .clone();
    let id = subscription["_id"].as_str().unwrap_or_default();
    let deactivated = env
        .call(
            Method::POST,
            &format!("/webhook-subscriptions/{id}/deactivate"),
            None,
        )
        .await;
    assert_eq!(deactivated.expect(200)["active"], false);
    env.post(
        "/webhook-subscriptions",
        json!({ "callbackUri": "http://example.com/hook", "eventTypes": ["order.updated"] }),
    )
    .await
    .expect(201);

    let order = env.create_order(&[("MUG", 1)], false).await;
    env.call(
        Method::POST,
        &format!(
            "/orders/{}/processes/payments/active/mark-paid",
            order_id(&order)
        ),
        None,
    )
    .await
    .expect(200);
    let mut refused = Vec::new();
    for _ in 0..50 {
        refused = env.sandbox.journal(&JournalFilter {
            webhooks: Some(true),
            ..JournalFilter::default()
        });
        if !refused.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(refused.len(), 1);
    assert!(matches!(
        &refused[0].outcome,
        Outcome::Delivered { status: None, error: Some(reason) } if reason.contains("loopback")
    ));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), received.recv())
            .await
            .is_err(),
        "the deactivated subscription must not be called"
    );
}
