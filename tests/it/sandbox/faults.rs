//! Injected faults (429, 5xx, latency, dropped connections; next-N and seeded rate) and the
//! request journal.

use std::time::{Duration, Instant};

use reqwest::Method;
use sandbox::{FaultKind, FaultSpec, JournalFilter, Outcome};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::support::{Env, SHOP, order_body};

#[tokio::test]
async fn a_429_with_retry_after_then_normal_answers() {
    let env = Env::start().await;
    let fault = env.sandbox.add_fault(
        FaultSpec::new(
            "/orders",
            FaultKind::TooManyRequests {
                retry_after_seconds: 2,
            },
        )
        .method("GET")
        .times(1),
    );
    let limited = env.get("/orders").await;
    limited.expect_error(429, "too-many-requests");
    assert_eq!(limited.header("retry-after"), Some("2"));
    env.get("/orders").await.expect(200);
    let journal = env.sandbox.journal(&JournalFilter {
        path: Some("/orders".into()),
        ..JournalFilter::default()
    });
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0].outcome, Outcome::Responded { status: 429 });
    assert_eq!(journal[0].fault_id, Some(fault));
    assert_eq!(journal[1].outcome, Outcome::Responded { status: 200 });
    assert_eq!(env.sandbox.faults()[0].fired, 1);
}

#[tokio::test]
async fn a_5xx_for_the_next_n_matching_calls_only() {
    let env = Env::start().await;
    env.product("MUG", 1.0, None);
    let order = env.create_order(&[("MUG", 2)], false).await;
    let id = super::support::order_id(&order);
    let line = super::support::line_id(&order, 0);
    env.sandbox.add_fault(
        FaultSpec::new(
            "/orders/*/processes/shippings",
            FaultKind::Status {
                status: 503,
                retry_after_seconds: None,
            },
        )
        .method("POST")
        .times(2),
    );
    let path = format!("/orders/{id}/processes/shippings");
    let body = json!({ "lineItems": [{ "productLineItemId": line, "quantity": 1 }] });
    // Reads of the same path and other shops are not affected.
    env.get(&path).await.expect(200);
    env.post(&path, body.clone())
        .await
        .expect_error(503, "service-unavailable");
    env.post(&path, body.clone())
        .await
        .expect_error(503, "service-unavailable");
    env.post(&path, body).await.expect(201);
    // The failed attempts changed nothing: one shipment of one piece.
    let order_now = env.get(&format!("/orders/{id}")).await;
    assert_eq!(
        order_now.expect(200)["productLineItems"][0]["pending"]["quantity"],
        1
    );
}

#[tokio::test]
async fn rate_faults_are_reproducible_for_a_seed() {
    let run = || async {
        let env = Env::start().await;
        env.sandbox.add_fault(
            FaultSpec::new(
                "/orders",
                FaultKind::Status {
                    status: 500,
                    retry_after_seconds: None,
                },
            )
            .rate(0.5, 42),
        );
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(env.get("/orders").await.status.as_u16());
        }
        statuses
    };
    let first = run().await;
    assert_eq!(first, run().await);
    let failures = first.iter().filter(|status| **status == 500).count();
    assert!(
        (5..=35).contains(&failures),
        "{failures} of 40 failed at p=0.5"
    );
}

#[tokio::test]
async fn latency_is_added_before_the_normal_answer() {
    let env = Env::start().await;
    env.sandbox.add_fault(
        FaultSpec::new("/orders", FaultKind::Latency { millis: 300 })
            .method("GET")
            .always(),
    );
    let started = Instant::now();
    env.get("/orders").await.expect(200);
    assert!(started.elapsed() >= Duration::from_millis(290));
    // Other paths are not delayed by this fault: they answer normally.
    env.get("/products").await.expect(200);
}

/// Sends one raw HTTP/1.1 request and returns every byte the server sent back before
/// closing (empty when the connection was dropped without a response).
async fn raw_exchange(env: &Env, request: String) -> Vec<u8> {
    let mut stream = TcpStream::connect(env.sandbox.local_addr())
        .await
        .expect("connects");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request is written");
    let mut answer = Vec::new();
    match tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await {
        Ok(Ok(_)) => {}
        // A reset is a drop as well; no bytes were answered.
        Ok(Err(error)) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
        Err(_) => panic!("the sandbox neither answered nor closed the connection"),
    }
    answer
}

#[tokio::test]
async fn a_dropped_connection_closes_without_any_response() {
    let env = Env::start().await;
    env.sandbox.add_fault(
        FaultSpec::new("/orders", FaultKind::Drop { applied: None })
            .method("GET")
            .times(1),
    );
    let request = format!(
        "GET /shops/{SHOP}/api/orders HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        env.token
    );
    let dropped = raw_exchange(&env, request.clone()).await;
    assert!(
        dropped.is_empty(),
        "got {:?}",
        String::from_utf8_lossy(&dropped)
    );
    // The next request is answered normally.
    let answered = raw_exchange(&env, request).await;
    assert!(answered.starts_with(b"HTTP/1.1 200"));
    let journal = env.sandbox.journal(&JournalFilter {
        method: Some("GET".into()),
        ..JournalFilter::default()
    });
    assert_eq!(journal[0].outcome, Outcome::Dropped { applied: false });
    assert!(journal[0].outcome.is_dropped());
    assert_eq!(journal[1].outcome, Outcome::Responded { status: 200 });
}

#[tokio::test]
async fn a_dropped_write_is_applied_by_default_and_not_when_told() {
    let env = Env::start().await;
    env.product("MUG", 1.0, None);
    env.sandbox.add_fault(
        FaultSpec::new("/orders", FaultKind::Drop { applied: None })
            .method("POST")
            .times(1),
    );
    let attempt = env
        .http
        .post(format!("{}/orders", env.api(SHOP)))
        .bearer_auth(&env.token)
        .json(&order_body(&[("MUG", 1)], false, "PARTIAL_REFUND"))
        .send()
        .await;
    assert!(attempt.is_err(), "the client must see no answer");
    // The ambiguous case: no answer, yet the order exists.
    assert_eq!(
        env.get("/orders").await.expect(200)["page"]["totalElements"],
        1
    );

    env.sandbox.add_fault(
        FaultSpec::new(
            "/orders",
            FaultKind::Drop {
                applied: Some(false),
            },
        )
        .method("POST")
        .times(1),
    );
    let lost = env
        .http
        .post(format!("{}/orders", env.api(SHOP)))
        .bearer_auth(&env.token)
        .json(&order_body(&[("MUG", 1)], false, "PARTIAL_REFUND"))
        .send()
        .await;
    assert!(lost.is_err());
    assert_eq!(
        env.get("/orders").await.expect(200)["page"]["totalElements"],
        1
    );
    let drops: Vec<_> = env
        .sandbox
        .journal(&JournalFilter {
            method: Some("POST".into()),
            path: Some("/orders".into()),
            ..JournalFilter::default()
        })
        .into_iter()
        .map(|entry| entry.outcome)
        .collect();
    assert_eq!(
        drops,
        [
            Outcome::Dropped { applied: true },
            Outcome::Dropped { applied: false }
        ]
    );
}

#[tokio::test]
async fn faults_can_target_one_shop_and_be_cleared() {
    let env = Env::start().await;
    let fault = env.sandbox.add_fault(
        FaultSpec::new(
            "/**",
            FaultKind::Status {
                status: 502,
                retry_after_seconds: Some(1),
            },
        )
        .shop("other-shop")
        .always(),
    );
    env.get("/orders").await.expect(200);
    env.sandbox.add_fault(
        FaultSpec::new(
            "/orders",
            FaultKind::Status {
                status: 500,
                retry_after_seconds: None,
            },
        )
        .always(),
    );
    env.get("/orders").await.expect_error(500, "internal-error");
    assert!(env.sandbox.remove_fault(fault));
    env.sandbox.clear_faults();
    assert!(env.sandbox.faults().is_empty());
    env.get("/orders").await.expect(200);
}

#[tokio::test]
async fn the_journal_records_every_request_and_can_be_reset() {
    let env = Env::start().await;
    env.product("MUG", 1.0, None);
    env.get("/orders?page=0&size=5").await.expect(200);
    let order = env.create_order(&[("MUG", 1)], false).await;
    env.call(Method::GET, "/nowhere", None)
        .await
        .expect_error(404, "resource-not-found");

    let all = env.sandbox.journal(&JournalFilter {
        shop: Some(SHOP.into()),
        ..JournalFilter::default()
    });
    // The token request, the list, the create, the unknown path.
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert_eq!(all[0].path, "/oauth/token");
    assert_eq!(all[1].query.as_deref(), Some("page=0&size=5"));
    assert_eq!(all[1].request_body, None);
    assert_eq!(all[2].method, "POST");
    assert_eq!(all[2].outcome, Outcome::Responded { status: 201 });
    let body = all[2]
        .request_body
        .as_ref()
        .expect("writes keep their body");
    assert_eq!(body["productLineItems"][0]["product"]["sku"], "MUG");
    assert_eq!(all[3].outcome, Outcome::Responded { status: 404 });
    assert!(order["_id"].is_string());

    let after = env.sandbox.journal(&JournalFilter {
        after_seq: Some(all[2].seq),
        ..JournalFilter::default()
    });
    assert_eq!(after.len(), 1);
    env.sandbox.reset_journal();
    assert!(env.sandbox.journal(&JournalFilter::default()).is_empty());
    env.get("/orders").await.expect(200);
    let fresh = env.sandbox.journal(&JournalFilter::default());
    assert_eq!(fresh.len(), 1);
    assert!(fresh[0].seq > all[3].seq);
}
