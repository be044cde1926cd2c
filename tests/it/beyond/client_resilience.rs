//! Retries, `Retry-After`, timeouts, dropped connections and the concurrency limit, proven
//! from the sandbox journal: SAFE and REPEATABLE requests are retried, an UNSAFE request
//! is retried only when the server provably did not act.

use std::sync::Arc;
use std::time::{Duration, Instant};

use beyond::model::{CreateShippingProcess, MarkShipped, ProcessLineItem};
use beyond::{BeyondClient, BeyondError, ClientConfig, Disposition, StaticToken};
use sandbox::{FaultKind, Outcome};
use secrecy::SecretString;
use uuid::Uuid;

use super::support::{Fixture, fast_settings, statuses};

const SHIPPINGS: &str = "/orders/*/processes/shippings";
const ONE_ORDER: &str = "/orders/*";

fn short_timeout() -> beyond::HttpSettings {
    let mut settings = fast_settings();
    settings.request_timeout = Duration::from_millis(500);
    settings
}

async fn first_line(f: &Fixture, order_id: Uuid) -> Uuid {
    f.client
        .get_order(order_id)
        .await
        .unwrap()
        .product_line_items[0]
        .id
}

fn ship_one(line: Uuid) -> CreateShippingProcess {
    CreateShippingProcess {
        line_items: vec![ProcessLineItem::new(line, 1)],
        ..CreateShippingProcess::default()
    }
}

async fn shipping_processes(f: &Fixture, order_id: Uuid) -> usize {
    f.client
        .order_processes(order_id)
        .await
        .unwrap()
        .embedded
        .shipping
        .len()
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after_then_succeeds() {
    let f = Fixture::start().await;
    f.sandbox.add_fault(
        f.fault(
            "GET",
            ONE_ORDER,
            FaultKind::TooManyRequests {
                retry_after_seconds: 1,
            },
        )
        .times(1),
    );
    let started = Instant::now();
    f.client.get_order(f.order("new")).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After must be honoured"
    );
    assert_eq!(
        statuses(&f.journal("GET", ONE_ORDER)),
        vec![Some(429), Some(200)]
    );
}

#[tokio::test]
async fn an_unsafe_post_is_retried_after_429_because_nothing_was_done() {
    let f = Fixture::start().await;
    let order_id = f.order("paid");
    let line = first_line(&f, order_id).await;
    f.sandbox.add_fault(
        f.fault(
            "POST",
            SHIPPINGS,
            FaultKind::TooManyRequests {
                retry_after_seconds: 1,
            },
        )
        .times(1),
    );
    f.client
        .create_shipping_process(order_id, &ship_one(line))
        .await
        .unwrap();
    assert_eq!(
        statuses(&f.journal("POST", SHIPPINGS)),
        vec![Some(429), Some(201)]
    );
    assert_eq!(shipping_processes(&f, order_id).await, 1);
}

#[tokio::test]
async fn server_errors_on_a_get_are_retried_until_success() {
    let f = Fixture::start().await;
    f.sandbox.add_fault(
        f.fault(
            "GET",
            ONE_ORDER,
            FaultKind::Status {
                status: 503,
                retry_after_seconds: None,
            },
        )
        .times(2),
    );
    f.client.get_order(f.order("new")).await.unwrap();
    assert_eq!(
        statuses(&f.journal("GET", ONE_ORDER)),
        vec![Some(503), Some(503), Some(200)]
    );
}

#[tokio::test]
async fn a_repeatable_transition_is_retried_after_a_server_error() {
    let f = Fixture::start().await;
    let order_id = f.order("paid");
    let line = first_line(&f, order_id).await;
    let process = f
        .client
        .create_shipping_process(order_id, &ship_one(line))
        .await
        .unwrap();
    f.sandbox.add_fault(
        f.fault(
            "POST",
            "/orders/*/processes/shippings/*/mark-shipped",
            FaultKind::Status {
                status: 500,
                retry_after_seconds: None,
            },
        )
        .times(1),
    );
    f.client
        .mark_shipped(order_id, process.id, &MarkShipped::default())
        .await
        .unwrap();
    assert_eq!(
        statuses(&f.journal("POST", "/orders/*/processes/shippings/*/mark-shipped")),
        vec![Some(500), Some(200)]
    );
}

/// The proof: the same persistent 502 makes a SAFE GET retry up to the limit, while an
/// UNSAFE POST is sent exactly once and reported as ambiguous.
#[tokio::test]
async fn an_unsafe_post_is_not_retried_after_a_server_error_while_a_get_is() {
    let f = Fixture::start().await;
    let order_id = f.order("paid");
    let line = first_line(&f, order_id).await;
    f.sandbox.reset_journal();
    let bad_gateway = FaultKind::Status {
        status: 502,
        retry_after_seconds: None,
    };
    f.sandbox
        .add_fault(f.fault("GET", ONE_ORDER, bad_gateway.clone()).always());
    f.sandbox
        .add_fault(f.fault("POST", SHIPPINGS, bad_gateway).always());

    let read = f.client.get_order(order_id).await.unwrap_err();
    assert_eq!(read.disposition(), Disposition::Retry);
    assert!(read.is_transient());
    assert_eq!(
        statuses(&f.journal("GET", ONE_ORDER)),
        vec![Some(502); 4],
        "the GET is retried up to max_attempts"
    );

    let write = f
        .client
        .create_shipping_process(order_id, &ship_one(line))
        .await
        .unwrap_err();
    assert!(write.is_ambiguous(), "{write:?}");
    assert_eq!(write.disposition(), Disposition::Ambiguous);
    assert_eq!(write.status().map(|s| s.as_u16()), Some(502));
    assert!(matches!(
        &write,
        BeyondError::AmbiguousUnsafeRequest {
            operation: "create-shipping-process",
            ..
        }
    ));
    assert_eq!(
        statuses(&f.journal("POST", SHIPPINGS)),
        vec![Some(502)],
        "the POST is sent once"
    );
}

#[tokio::test]
async fn a_timed_out_get_is_retried() {
    let f = Fixture::start_with(short_timeout()).await;
    f.sandbox.add_fault(
        f.fault("GET", ONE_ORDER, FaultKind::Latency { millis: 1_500 })
            .times(1),
    );
    f.client.get_order(f.order("new")).await.unwrap();
    // The sandbox abandons a request whose client went away during injected latency, so
    // only the retry is journaled; the client's counter shows both attempts.
    assert_eq!(statuses(&f.journal("GET", ONE_ORDER)), vec![Some(200)]);
    assert_eq!(f.client.http_requests(), 3, "token + two attempts");
}

#[tokio::test]
async fn a_timed_out_unsafe_post_is_ambiguous_and_sent_once() {
    let f = Fixture::start_with(short_timeout()).await;
    let order_id = f.order("paid");
    let line = first_line(&f, order_id).await;
    f.sandbox.add_fault(
        f.fault("POST", SHIPPINGS, FaultKind::Latency { millis: 1_200 })
            .times(1),
    );
    let error = f
        .client
        .create_shipping_process(order_id, &ship_one(line))
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    let BeyondError::AmbiguousUnsafeRequest { source, .. } = &error else {
        unreachable!()
    };
    assert!(matches!(
        source.as_ref(),
        BeyondError::Transport { sent: true, .. }
    ));
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    // The latency fault fired once; a retry would have gone through unhindered and left a
    // 201 in the journal. The sandbox abandoned the timed-out request when the client
    // disconnected, so nothing was created: reconciling finds no shipment.
    assert!(f.journal("POST", SHIPPINGS).is_empty(), "no retry was sent");
    assert_eq!(f.client.http_requests(), 3, "token, the read, one POST");
    assert_eq!(shipping_processes(&f, order_id).await, 0);
}

#[tokio::test]
async fn a_dropped_connection_on_a_get_is_retried() {
    let f = Fixture::start().await;
    f.sandbox.add_fault(
        f.fault("GET", ONE_ORDER, FaultKind::Drop { applied: None })
            .times(1),
    );
    f.client.get_order(f.order("new")).await.unwrap();
    let journal = f.journal("GET", ONE_ORDER);
    assert_eq!(statuses(&journal), vec![None, Some(200)]);
    assert!(journal[0].outcome.is_dropped());
}

#[tokio::test]
async fn a_dropped_connection_on_an_unsafe_post_is_ambiguous_and_sent_once() {
    let f = Fixture::start().await;
    let order_id = f.order("paid");
    let line = first_line(&f, order_id).await;
    f.sandbox.add_fault(
        f.fault(
            "POST",
            SHIPPINGS,
            FaultKind::Drop {
                applied: Some(true),
            },
        )
        .times(1),
    );
    let error = f
        .client
        .create_shipping_process(order_id, &ship_one(line))
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    let journal = f.journal("POST", SHIPPINGS);
    assert_eq!(journal.len(), 1, "never a blind retry");
    assert_eq!(journal[0].outcome, Outcome::Dropped { applied: true });
    assert_eq!(shipping_processes(&f, order_id).await, 1);
}

#[tokio::test]
async fn a_stock_adjustment_is_never_repeated_after_an_ambiguous_failure() {
    let f = Fixture::start().await;
    let mug = f
        .client
        .find_product_by_sku("MUG-001")
        .await
        .unwrap()
        .expect("mug");
    let before = f
        .client
        .product_availability(mug.id)
        .await
        .unwrap()
        .available_stock
        .expect("managed stock");
    f.sandbox.add_fault(
        f.fault(
            "POST",
            "/products/*/availability/adjust-available-stock",
            FaultKind::Drop {
                applied: Some(true),
            },
        )
        .times(1),
    );
    let error = f.client.adjust_product_stock(mug.id, -3).await.unwrap_err();
    assert!(error.is_ambiguous());
    let stock = f.client.product_availability(mug.id).await.unwrap();
    assert_eq!(
        stock.available_stock,
        Some(before - 3),
        "applied exactly once"
    );
    assert_eq!(
        f.journal("POST", "/products/*/availability/adjust-available-stock")
            .len(),
        1
    );
}

#[tokio::test]
async fn connection_refused_is_retried_even_for_unsafe_requests() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut config = ClientConfig::new(&format!("http://127.0.0.1:{port}/shops/s1/api")).unwrap();
    config.http = fast_settings();
    let client =
        BeyondClient::new(&config, Arc::new(StaticToken(SecretString::from("t")))).unwrap();
    let error = client
        .create_shipping_process(Uuid::new_v4(), &ship_one(Uuid::new_v4()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, BeyondError::Transport { sent: false, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(
        client.http_requests(),
        u64::from(config.http.retry.max_attempts)
    );
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_wait() {
    let mut settings = fast_settings();
    settings.max_concurrent_requests = 1;
    let f = Fixture::start_with(settings).await;
    let order_id = f.order("new");
    f.client.get_order(order_id).await.unwrap();
    f.sandbox.add_fault(
        f.fault("GET", ONE_ORDER, FaultKind::Latency { millis: 300 })
            .always(),
    );
    let started = Instant::now();
    let reads = (0..3).map(|_| f.client.get_order(order_id));
    for result in futures::future::join_all(reads).await {
        result.unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "three 300 ms requests through one permit take at least 900 ms"
    );
}
