//! `poll-orders.json`: an SQS batch from the (standard) poll queue with one scheduled poll
//! request.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::sqs::SqsEvent;
use connector::auth::ShopClients;
use connector::lambda::PollOrders;
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use contracts::order_event::OrderEvent;

use super::{World, drain, event, files};
use crate::auth::support::fast_http;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poll_request_is_polled_and_the_new_order_reaches_the_outbound_queue() {
    let world = World::start().await;
    let poll = crate::support::embedded::queue_pair(QueueSpec::standard("poll")).await;
    let outbound = crate::support::embedded::queue_pair(QueueSpec::fifo("order-events")).await;
    let stores = &world.backend.stores;
    let clock = world.backend.dyn_clock();
    let handler = PollOrders::new(
        PollService::new(
            stores.clone(),
            Arc::new(ShopClients::new(stores, fast_http(), clock.clone())),
            outbound.queue.clone(),
            poll.queue.clone(),
            clock,
            PollSettings::default(),
        ),
        poll.dead_letters.clone(),
    );

    let sample = event::<SqsEvent>("poll-orders.json", files::POLL_ORDERS);
    let [record] = sample.payload.records.as_slice() else {
        panic!("the sample holds one poll request");
    };
    let request = PollRequest::parse(record.body.as_deref().unwrap_or_default())
        .expect("the body is a PollRequest");
    assert_eq!(
        (&request.tenant, &request.trigger),
        (&world.tenant, &PollTrigger::Schedule)
    );

    let response = handler
        .handle(sample)
        .await
        .expect("the invocation succeeds");
    assert!(
        response.batch_item_failures.is_empty(),
        "no record failed: {:?}",
        response
            .batch_item_failures
            .iter()
            .map(|f| &f.item_identifier)
            .collect::<Vec<_>>()
    );
    let dead = drain(poll.dead_letters.as_ref(), Duration::from_millis(100)).await;
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");

    let messages = drain(outbound.queue.as_ref(), Duration::from_millis(200)).await;
    let events: Vec<OrderEvent> = messages
        .iter()
        .map(|m| serde_json::from_str(&m.body).expect("an order event"))
        .collect();
    assert_eq!(events.len(), 1, "one event for the one order: {events:#?}");
    let OrderEvent::Created(created) = &events[0] else {
        panic!("an order.created event, got {:?}", events[0].kind());
    };
    assert_eq!(created.header.order_id, world.order_id);
    assert_eq!(created.header.tenant, world.tenant.as_str());
}
