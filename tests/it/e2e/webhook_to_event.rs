//! An order placed in the shop reaches Afosto's queue within seconds, on a real clock with
//! the default skew: the shop's signed `order.created` webhook → the webhook receiver → a
//! targeted read request on the poll queue → the `poll-orders` Lambda handler (fed as the
//! event source mapping feeds it) → an `order.created` event on the outbound FIFO queue.
//! No clock is advanced: the order is updated seconds before the read, inside the skew a
//! window poll would leave out, so only the fast path can deliver it in time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_adapters::provision::QueueSpec;
use connector::auth::ShopClients;
use connector::lambda::{PollOrders, SqsEventSource};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::ports::{Clock, SystemClock};
use contracts::order_event::OrderEvent;

use crate::auth::install::{harness, install};
use crate::auth::support::{Kind, SHOP, both, fast_http};

both! {
    an_epages_order_webhook_reaches_the_outbound_queue_as_an_order_event => webhook_to_event,
}

/// The promise of the README: within seconds of the webhook.
const FAST_PATH_LIMIT: Duration = Duration::from_secs(10);

async fn webhook_to_event(kind: Kind) {
    let h = harness(kind).await;
    let tenant = install(&h).await;
    let product: sandbox::SeedProduct = serde_json::from_value(serde_json::json!({
        "sku": "MUG-001", "name": "Coffee Mug", "price": 12.90, "stock": 25
    }))
    .expect("product");
    h.sandbox
        .add_product(SHOP, &product)
        .expect("product added");
    let outbound = match kind {
        Kind::Embedded => {
            crate::support::embedded::queue_pair(QueueSpec::fifo("order-events")).await
        }
        Kind::Aws => crate::support::aws::queue_pair(QueueSpec::fifo("order-events")).await,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let clients = Arc::new(ShopClients::new(
        &h.backend.stores,
        fast_http(),
        clock.clone(),
    ));
    let handler = PollOrders::new(
        PollService::new(
            h.backend.stores.clone(),
            clients,
            outbound.queue.clone(),
            h.queue.queue.clone(),
            clock,
            PollSettings::default(),
        ),
        h.queue.dead_letters.clone(),
    );
    let mapping = SqsEventSource::new(h.queue.queue.clone());
    let cursor_before = h
        .backend
        .stores
        .poll_state
        .get(&tenant)
        .await
        .expect("reads")
        .cursor;

    let order: sandbox::SeedOrder = serde_json::from_value(serde_json::json!({
        "lines": [ { "sku": "MUG-001", "quantity": 2 } ]
    }))
    .expect("order");
    let started = Instant::now();
    let placed = h.sandbox.create_order(SHOP, &order).expect("order created");

    let mut messages = Vec::new();
    while messages.is_empty() && started.elapsed() < FAST_PATH_LIMIT * 2 {
        mapping
            .poll_once(Duration::from_millis(200), |event| handler.handle(event))
            .await
            .expect("the poll queue answers");
        messages = outbound
            .queue
            .receive(
                10,
                Duration::from_millis(100),
                Some(Duration::from_secs(30)),
            )
            .await
            .expect("the outbound queue answers");
    }
    let latency = started.elapsed();
    assert!(
        latency < FAST_PATH_LIMIT,
        "the order reached the queue after {latency:?} (limit {FAST_PATH_LIMIT:?})"
    );
    let events: Vec<OrderEvent> = messages
        .iter()
        .map(|message| serde_json::from_str(&message.body).expect("an order event"))
        .collect();
    assert_eq!(events.len(), 1, "exactly one event: {events:#?}");
    let OrderEvent::Created(created) = &events[0] else {
        panic!("an order.created event, got {:?}", events[0].kind());
    };
    assert_eq!(created.header.order_id, placed.id);
    assert_eq!(created.header.tenant, tenant.as_str());
    assert_eq!(
        messages[0].group_id.as_deref(),
        Some(format!("{}:{}", tenant.as_str(), placed.id).as_str()),
        "events of one order share a FIFO group"
    );
    let after = h
        .backend
        .stores
        .poll_state
        .get(&tenant)
        .await
        .expect("reads");
    assert_eq!(
        after.cursor, cursor_before,
        "a targeted read never moves the cursor"
    );
    assert!(after.lease.is_none(), "the lease was released");
}
