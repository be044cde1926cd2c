//! Webhook → event latency of the fast path: an order placed in the sandbox shop, its signed
//! `order.created` webhook to the ePages receiver (over loopback HTTP), the targeted read
//! request on the poll queue, the `poll-orders` handler fed by a local event source mapping,
//! and the `order.created` event on the order-events queue. Measured on the real clock from
//! the moment the order is placed to the moment the event is received, one order at a time,
//! with a zero-latency sandbox and with 200 ms added to every shop API call
//! (`FaultKind::Latency`). State and queues are embedded (the local runner's backend).
//!
//! Run: `cargo bench -p epages-sync-tests --bench webhook_latency`
//! (`BENCH_ORDERS` orders per scenario, default 100).
//!
//! Orders are placed 250 ms apart (after the previous one arrived) and the receiver's window
//! is 2 s instead of 30 s: its per-tenant budget of immediate reads (20 per window) is a
//! burst bound, not what this measures, and this pace stays under it (100 orders in one
//! 30 s window would not: those over the budget wait for the catch-up poll, window + skew).

#[path = "common/mod.rs"]
mod common;

use common::size;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_adapters::provision::QueueSpec;
use beyond::HttpSettings;
use chrono::{TimeDelta, Utc};
use connector::auth::ShopClients;
use connector::epages_webhook::registration::register_webhooks;
use connector::epages_webhook::{WebhookConfig, WebhookReceiver, delivery_of};
use connector::lambda::{PollOrders, SqsEventSource};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::ports::activity::Retention;
use connector::ports::{Clock, MessageQueue, StateStores, SystemClock};
use contracts::order_event::OrderEvent;
use domain::tenant::{AuthMode, SecretRef, TenantConfig, TenantId};
use sandbox::{FaultKind, FaultSpec, Sandbox, SandboxHandle, SeedOrder, SeedProduct, ShopConfig};
use secrecy::SecretString;

const SHOP: &str = "latency-shop";
/// Between one order's arrival and the next order.
const PACE: Duration = Duration::from_millis(250);

struct Bench {
    sandbox: SandboxHandle,
    order_events: Arc<dyn MessageQueue>,
    consumer: tokio::task::JoinHandle<()>,
    _dirs: Vec<tempfile::TempDir>,
}

async fn setup() -> Bench {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox");
    sandbox
        .register_shop(ShopConfig::new(SHOP, "latency-client", "latency-secret"))
        .expect("shop");
    let product: SeedProduct =
        serde_json::from_value(serde_json::json!({"sku": "MUG-1", "name": "Mug", "price": 9.5}))
            .expect("product");
    sandbox.add_product(SHOP, &product).expect("product added");

    let state = tempfile::tempdir().expect("state dir");
    let queues = tempfile::tempdir().expect("queue dir");
    let stores: StateStores =
        embedded::open_state(state.path(), Retention::default(), clock.clone())
            .await
            .expect("embedded state");
    let naming = connector::ports::secrets::SecretNaming::new("epages-sync/bench").expect("prefix");
    let tenant = TenantId::parse("latency-tenant").expect("tenant id");
    let secret = SecretRef(format!("epages-sync/bench/tenants/{tenant}/client-secret"));
    stores
        .secrets
        .put(&secret, SecretString::from("latency-secret".to_owned()))
        .await
        .expect("secret");
    let config = TenantConfig::new(
        tenant.clone(),
        url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("url"),
        AuthMode::ClientCredentials,
        "latency-client",
        secret,
        Utc::now() - TimeDelta::days(1),
    );
    stores
        .tenants
        .create(config.clone(), Utc::now())
        .await
        .expect("tenant");
    let (poll_queue, poll_dead_letters) =
        embedded::open_queue_pair(queues.path(), &QueueSpec::standard("poll"), clock.clone())
            .await
            .expect("poll queue");
    let (order_events, _) = embedded::open_queue_pair(
        queues.path(),
        &QueueSpec::fifo("order-events"),
        clock.clone(),
    )
    .await
    .expect("order-events queue");
    let poll_queue: Arc<dyn MessageQueue> = poll_queue;
    let order_events: Arc<dyn MessageQueue> = order_events;
    let clients = Arc::new(ShopClients::new(
        &stores,
        HttpSettings::default(),
        clock.clone(),
    ));

    // The receiver on loopback, registered with the shop as `run --listen` registers it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let webhook_url = url::Url::parse(&format!(
        "http://{}/epages-webhook",
        listener.local_addr().expect("addr")
    ))
    .expect("url");
    let receiver = WebhookReceiver {
        config: WebhookConfig {
            webhook_url: webhook_url.clone(),
            secrets: naming.clone(),
            poll_window: Duration::from_secs(2),
            poll_skew: PollSettings::default().skew,
        },
        stores: stores.clone(),
        poll_queue: poll_queue.clone(),
        clock: clock.clone(),
        installation: None,
    };
    let app = axum::Router::new().route(
        "/epages-webhook",
        axum::routing::post(
            move |uri: http::Uri, headers: http::HeaderMap, body: String| {
                let receiver = receiver.clone();
                async move {
                    let delivery = delivery_of(&headers, uri.query().map(str::to_owned), body);
                    match receiver.handle(&delivery).await {
                        Ok(_) => http::StatusCode::OK,
                        Err(error) => http::StatusCode::from_u16(error.status())
                            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                    }
                }
            },
        ),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = clients.client_for(&config).expect("client");
    register_webhooks(&stores, &naming, &webhook_url, &client, &tenant)
        .await
        .expect("webhooks registered");

    // The poll consumer, as the event source mapping feeds it.
    let handler = Arc::new(PollOrders::new(
        PollService::new(
            stores.clone(),
            clients,
            order_events.clone(),
            poll_queue.clone(),
            clock,
            PollSettings::default(),
        ),
        poll_dead_letters,
    ));
    let mapping = SqsEventSource::new(poll_queue);
    let consumer = tokio::spawn(async move {
        loop {
            let handler = handler.clone();
            if let Err(error) = mapping
                .poll_once(Duration::from_millis(20), |event| async move {
                    handler.handle(event).await
                })
                .await
            {
                eprintln!("poll queue: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    Bench {
        sandbox,
        order_events,
        consumer,
        _dirs: vec![state, queues],
    }
}

/// Places `orders` orders one at a time; the latency of each from placing it to its
/// `order.created` on the order-events queue.
async fn measure(bench: &Bench, orders: usize) -> Vec<Duration> {
    let order: SeedOrder =
        serde_json::from_value(serde_json::json!({ "lines": [{ "sku": "MUG-1", "quantity": 1 }] }))
            .expect("order");
    let mut latencies = Vec::with_capacity(orders);
    for _ in 0..orders {
        let started = Instant::now();
        let placed = bench.sandbox.create_order(SHOP, &order).expect("order");
        let arrived = loop {
            let messages = bench
                .order_events
                .receive(10, Duration::from_millis(5), None)
                .await
                .expect("receive");
            let mut found = None;
            for message in &messages {
                bench
                    .order_events
                    .delete(&message.receipt_handle)
                    .await
                    .expect("delete");
                let event: OrderEvent = serde_json::from_str(&message.body).expect("an event");
                if matches!(&event, OrderEvent::Created(c) if c.header.order_id == placed.id) {
                    found = Some(started.elapsed());
                }
            }
            if let Some(latency) = found {
                break latency;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "order {} never arrived",
                placed.id
            );
        };
        latencies.push(arrived);
        tokio::time::sleep(PACE).await;
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(name: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<28} n={:<4} p50 {:>7.1} ms   p99 {:>7.1} ms   max {:>7.1} ms",
        latencies.len(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 100.0)),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orders = size("BENCH_ORDERS", 100);
    let bench = setup().await;
    // A few orders first: token, connections and files warmed up as in a running process.
    measure(&bench, 5).await;
    report("zero-latency sandbox", measure(&bench, orders).await);
    bench.sandbox.add_fault(
        FaultSpec::new("/**", FaultKind::Latency { millis: 200 })
            .shop(SHOP)
            .always(),
    );
    report("200 ms per shop API call", measure(&bench, orders).await);
    bench.consumer.abort();
}
