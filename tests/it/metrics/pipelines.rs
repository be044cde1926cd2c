//! The handlers over the sandbox shop on the embedded backend, driven through the local
//! SQS event source mapping; the metrics are read from the EMF documents each invocation
//! flushed.

use std::sync::Arc;
use std::time::Duration;

use connector::auth::ShopClients;
use connector::lambda::{ApplyCommands, PollOrders, SqsEventSource};
use connector::metrics::{Function, MemorySink, Metric, Metrics, MetricsPublisher};
use connector::pipeline::apply::{ApplySettings, CommandApplier};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::poll_request::PollTrigger;
use connector::ports::queue::OutgoingMessage;
use connector::ports::{Clock, SystemClock};
use sandbox::{FaultKind, FaultSpec};
use serde_json::{Value, json};

use super::apply_harness::{self, Harness};
use super::poll_harness::{self, World};
use super::{assert_valid_emf, total};

/// The poll-orders handler over `world`, its clients and poller counting into one
/// collector whose documents land in `sink`.
fn poll_handler(world: &World, sink: &Arc<MemorySink>) -> PollOrders {
    let publisher = MetricsPublisher::in_memory(Function::PollOrders, Metrics::new(), sink.clone());
    let clients = Arc::new(
        ShopClients::new(
            &world.stores,
            poll_harness::fast_http(),
            world.clock.clone(),
        )
        .with_metrics(publisher.metrics().clone()),
    );
    let service = PollService::new(
        world.stores.clone(),
        clients,
        world.order_events.clone(),
        world.poll_queue.clone(),
        world.clock.clone(),
        PollSettings::default(),
    );
    PollOrders::new(service, world.poll_dead_letters.clone()).with_metrics(publisher)
}

async fn request_poll(world: &World) {
    let request = world.request(PollTrigger::Schedule);
    let report = world
        .poll_queue
        .send_batch(vec![OutgoingMessage::new(request.to_json())])
        .await
        .expect("poll request sent");
    assert!(report.all_sent());
}

/// Runs the poll queue through the handler until it is empty; returns the invocations.
async fn run_polls(world: &World, handler: &PollOrders) -> usize {
    let mapping = SqsEventSource::new(world.poll_queue.clone()).with_retry_delay(Duration::ZERO);
    // Every pass before the empty one was an invocation.
    for invocations in 0..10 {
        let report = mapping
            .poll_once(Duration::ZERO, |event| handler.handle(event))
            .await
            .expect("the mapping runs");
        if report.received == 0 {
            return invocations;
        }
    }
    panic!("the poll queue did not drain");
}

fn count(documents: &[Value], metric: Metric) -> u64 {
    total(documents, metric).unwrap_or(0.0) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poll_of_n_orders_counts_orders_events_calls_and_lag() {
    let world = World::start(poll_harness::Backend::Embedded).await;
    let sink = MemorySink::new();
    let handler = poll_handler(&world, &sink);
    const N: usize = 7;
    for n in 0..N {
        world.order(&[(poll_harness::SKUS[n % 3], 1)]);
    }
    world.settle();
    request_poll(&world).await;
    assert_eq!(run_polls(&world, &handler).await, 1);

    let documents = sink.documents();
    assert_eq!(documents.len(), 1, "one document for one invocation");
    let doc = &documents[0];
    assert_valid_emf(doc);
    assert_eq!(doc["Function"], "poll-orders");
    let events = world.drain_events().await;
    assert_eq!(events.len(), N, "every new order becomes order.created");
    assert_eq!(count(&documents, Metric::OrdersRead), N as u64);
    assert_eq!(
        count(&documents, Metric::OrderEventsEmitted),
        events.len() as u64
    );
    assert_eq!(count(&documents, Metric::PollsCompleted), 1);
    assert_eq!(count(&documents, Metric::PollsFailed), 0);
    assert_eq!(count(&documents, Metric::BeyondThrottled), 0);
    assert_eq!(
        count(&documents, Metric::BeyondApiCalls),
        world.all_shop_calls() as u64,
        "every request the shop saw, the token call included"
    );
    assert_eq!(count(&documents, Metric::TokenRefreshes), 1);
    // Never polled before: the lag runs from the tenant's creation (the world's epoch) to
    // the poll's start, one settle later.
    assert_eq!(doc["PollLagSeconds"], 60.0);

    // The next invocation reports its own counts, not the totals.
    world.settle();
    request_poll(&world).await;
    run_polls(&world, &handler).await;
    let documents = sink.documents();
    let second = &documents[documents.len() - 1];
    // The overlap re-reads the orders; nothing changed, so nothing is sent.
    assert_eq!(second["OrdersRead"], N);
    assert_eq!(second["OrderEventsEmitted"], 0);
    assert_eq!(second["PollsCompleted"], 1);
    assert_eq!(
        second["PollLagSeconds"], 60.0,
        "one settle since the last success"
    );
    assert_eq!(
        handler.metrics().snapshot().get(Metric::PollsCompleted),
        2,
        "the totals for the local runner's report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttling_at_the_shop_shows_in_beyond_throttled_and_a_failed_poll_in_polls_failed() {
    let world = World::start(poll_harness::Backend::Embedded).await;
    let sink = MemorySink::new();
    let handler = poll_handler(&world, &sink);
    world.order(&[("MUG-1", 1)]);
    world.settle();
    // Four 429s: the client's three attempts of the first poll, and one more for the retry.
    world.sandbox.add_fault(
        FaultSpec::new(
            "/orders",
            FaultKind::TooManyRequests {
                retry_after_seconds: 0,
            },
        )
        .times(4),
    );
    request_poll(&world).await;
    assert_eq!(
        run_polls(&world, &handler).await,
        2,
        "failed once, then done"
    );

    let documents = sink.documents();
    assert_eq!(documents.len(), 2);
    let (first, second) = (&documents[0], &documents[1]);
    assert_eq!(first["PollsFailed"], 1);
    assert_eq!(first["PollsCompleted"], 0);
    assert_eq!(first["BeyondThrottled"], 3);
    assert_eq!(second["PollsFailed"], 0);
    assert_eq!(second["PollsCompleted"], 1);
    assert_eq!(second["BeyondThrottled"], 1);
    assert_eq!(count(&documents, Metric::BeyondThrottled), 4);
    assert_eq!(count(&documents, Metric::OrdersRead), 1);
    assert_eq!(count(&documents, Metric::OrderEventsEmitted), 1);
    assert_eq!(
        count(&documents, Metric::BeyondApiCalls),
        world.all_shop_calls() as u64,
        "throttled attempts are calls too"
    );
    assert_eq!(world.drain_events().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_batch_counts_applied_skipped_and_failed() {
    let h = Harness::start(apply_harness::Backend::Embedded).await;
    let sink = MemorySink::new();
    let publisher =
        MetricsPublisher::in_memory(Function::ApplyCommands, Metrics::new(), sink.clone());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let clients = Arc::new(
        ShopClients::new(&h.stores, apply_harness::fast_settings(), clock.clone())
            .with_metrics(publisher.metrics().clone()),
    );
    let applier = CommandApplier::new(
        h.stores.clone(),
        clients,
        h.results.queue.clone(),
        clock.clone(),
        ApplySettings::default(),
    );
    let handler =
        ApplyCommands::new(applier, h.commands.dead_letters.clone(), clock).with_metrics(publisher);

    let order = h.order("new");
    let ship = h.command(
        "metrics-ship-1",
        "ship",
        json!({ "order": { "id": order }, "lines": [ { "sku": "MUG-001", "quantity": 1 } ],
                "trackingCode": "T1", "shipmentReference": "P1", "carrier": "PostNL" }),
    );
    h.send(std::slice::from_ref(&ship)).await;
    // The same command again, as a redelivery past SQS's deduplication window would bring
    // it: same group, new deduplication id.
    let text = ship.to_string();
    let command = contracts::command::parse_command(text.as_bytes()).expect("valid");
    let report = h
        .commands
        .queue
        .send_batch(vec![OutgoingMessage::fifo(
            text,
            command.message_group_id(),
            "metrics-ship-1-copy",
        )])
        .await
        .expect("sent");
    assert!(report.all_sent());
    h.send_raw(&["{ not json"]).await;

    let mapping = SqsEventSource::new(h.commands.queue.clone()).with_retry_delay(Duration::ZERO);
    for _ in 0..10 {
        let report = mapping
            .poll_once(Duration::ZERO, |event| handler.handle(event))
            .await
            .expect("the mapping runs");
        if report.received == 0 {
            break;
        }
    }

    let documents = sink.documents();
    assert!(!documents.is_empty());
    for doc in &documents {
        assert_valid_emf(doc);
        assert_eq!(doc["Function"], "apply-commands");
    }
    assert_eq!(count(&documents, Metric::CommandsApplied), 1);
    assert_eq!(
        count(&documents, Metric::CommandsSkipped),
        1,
        "the duplicate"
    );
    assert_eq!(
        count(&documents, Metric::CommandsFailed),
        1,
        "the malformed body"
    );
    assert_eq!(count(&documents, Metric::CommandsRetried), 0);
    assert!(count(&documents, Metric::BeyondApiCalls) > 0);
    assert_eq!(h.dead_letters().await.len(), 1);
    let results = h.results().await;
    // The duplicate re-sent the same result event (same id), which the FIFO queue's
    // deduplication absorbed.
    assert_eq!(results.len(), 1);
}
