//! An order placed in the shop reaches Afosto's queue within one local run: the shop's
//! signed `order.created` webhook → the webhook receiver → a poll request → the poller →
//! an `order.created` event on the outbound FIFO queue.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use chrono::TimeDelta;
use connector::auth::ShopClients;
use connector::pipeline::poll::{PollOutcome, PollService, PollSettings};
use connector::pipeline::poll_request::PollTrigger;
use contracts::order_event::OrderEvent;

use crate::auth::install::{harness, install, receive_polls};
use crate::auth::support::{Kind, SHOP, both, fast_http};

both! {
    an_epages_order_webhook_reaches_the_outbound_queue_as_an_order_event => webhook_to_event,
}

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
    let order: sandbox::SeedOrder = serde_json::from_value(serde_json::json!({
        "lines": [ { "sku": "MUG-001", "quantity": 2 } ]
    }))
    .expect("order");
    let placed = h.sandbox.create_order(SHOP, &order).expect("order created");

    let polls = receive_polls(&h.queue.queue, 1).await;
    let request = polls
        .iter()
        .find(|poll| poll.tenant == tenant && poll.trigger == PollTrigger::Webhook)
        .expect("the webhook became a poll request for the tenant");

    let outbound = match kind {
        Kind::Embedded => {
            crate::support::embedded::queue_pair(QueueSpec::fifo("order-events")).await
        }
        Kind::Aws => crate::support::aws::queue_pair(QueueSpec::fifo("order-events")).await,
    };
    // The poller reads up to `skew` before now; our clock moves past it instead of sleeping.
    h.backend.clock.advance(TimeDelta::seconds(120));
    let clients = Arc::new(ShopClients::new(
        &h.backend.stores,
        fast_http(),
        h.backend.dyn_clock(),
    ));
    let poller = PollService::new(
        h.backend.stores.clone(),
        clients,
        outbound.queue.clone(),
        h.queue.queue.clone(),
        h.backend.dyn_clock(),
        PollSettings::default(),
    );
    let outcome = poller.poll(request).await.expect("the poll succeeds");
    assert!(
        matches!(outcome, PollOutcome::Completed(_)),
        "the whole window was read: {outcome:?}"
    );

    let messages = outbound
        .queue
        .receive(10, Duration::from_secs(1), Some(Duration::from_secs(30)))
        .await
        .expect("the outbound queue answers");
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
}
