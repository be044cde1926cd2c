//! The order poller and the scheduler end to end: a sandbox shop, every port on the
//! embedded adapter and on moto, events read back from the outbound FIFO queue.
//! Run: `infra/tools.sh && source tests/moto/moto.sh && cargo test -p epages-sync-tests --test it pipeline_poll`.

pub(crate) mod harness;
mod parked;
mod resilience;
mod schedule;
mod shop_offset;
mod shop_time;
mod targeted;
mod writes;

use std::collections::{BTreeMap, BTreeSet};

use connector::pipeline::poll::{PollOutcome, PollSettings};
use connector::pipeline::poll_request::PollTrigger;
use connector::ports::PageRequest;
use connector::ports::activity::TimeRange;
use domain::activity::ActivityOutcome;
use domain::tenant::PaymentStatusFilter;
use sandbox::{SeedAction, SeedOrder};
use uuid::Uuid;

use harness::{Backend, World, both_backends, by_order, kinds, line, returned};

both_backends!(
    lifecycle_emits_each_change_once_in_order,
    paid_only_filter_holds_back_then_imports,
    bad_order_data_is_logged_and_the_page_goes_on,
    calls_are_one_per_idle_poll_and_one_per_page,
    a_long_read_continues_through_the_poll_queue,
    resync_rereads_without_duplicates_and_force_restates_with_new_ids,
    the_resync_command_enqueues_a_request_the_poller_runs,
);

fn settings() -> PollSettings {
    PollSettings::default()
}

fn completed(outcome: PollOutcome) -> connector::pipeline::poll::PollStats {
    match outcome {
        PollOutcome::Completed(stats) => stats,
        other => panic!("expected a completed poll, got {other:?}"),
    }
}

async fn lifecycle_emits_each_change_once_in_order(backend: Backend) {
    let world = World::start(backend).await;
    let service = world.service(settings());
    let a = world.order(&[("MUG-1", 2), ("BAG-1", 1)]);
    let b = world.order(&[("MUG-1", 1)]);
    let p = world.order_with(SeedOrder {
        pickup: true,
        ..SeedOrder::new(&[("CAP-1", 1)])
    });
    world.settle();
    completed(world.poll(&service).await.expect("first poll"));
    let mut all = world.drain_events().await;
    assert_eq!(kinds(&all, a), ["order.created"]);
    assert_eq!(kinds(&all, b), ["order.created"]);
    assert_eq!(kinds(&all, p), ["order.created"]);

    // Paid, partly canceled and partly shipped; another order canceled as a whole.
    world.act(a, SeedAction::Pay { at: None });
    world.act(
        a,
        SeedAction::CancelItems {
            lines: vec![line("BAG-1", 1)],
            at: None,
        },
    );
    world.act(
        a,
        SeedAction::Ship {
            lines: vec![line("MUG-1", 1)],
            tracking_code: Some("TRACK-A1".into()),
            tracking_link: None,
            mark_shipped: None,
            at: None,
        },
    );
    world.act(b, SeedAction::Cancel { at: None });
    world.settle();
    completed(world.poll(&service).await.expect("second poll"));
    let second = world.drain_events().await;
    assert_eq!(kinds(&second, a), ["order.canceled", "order.shipped"]);
    assert_eq!(kinds(&second, b), ["order.canceled"]);
    let shipped = second
        .iter()
        .find_map(|event| match event {
            contracts::order_event::OrderEvent::Shipped(shipped) => Some(shipped),
            _ => None,
        })
        .expect("a shipped event");
    assert_eq!(shipped.shipments.len(), 1);
    assert_eq!(
        shipped.shipments[0].tracking_code.as_deref(),
        Some("TRACK-A1")
    );
    let whole = second.iter().any(|event| {
        matches!(event, contracts::order_event::OrderEvent::Canceled(c)
            if c.header.order_id == b && c.whole_order)
    });
    assert!(whole, "order B is reported canceled as a whole");
    all.extend(second);

    // Fully shipped and delivered; the pickup order ready and picked up.
    world.act(
        a,
        SeedAction::Ship {
            lines: vec![],
            tracking_code: Some("TRACK-A2".into()),
            tracking_link: None,
            mark_shipped: None,
            at: None,
        },
    );
    world.act(a, SeedAction::Deliver { at: None });
    world.act(p, SeedAction::ReadyForPickup { at: None });
    world.act(p, SeedAction::PickedUp { at: None });
    world.settle();
    completed(world.poll(&service).await.expect("third poll"));
    let third = world.drain_events().await;
    assert_eq!(kinds(&third, a), ["order.shipped", "order.delivered"]);
    assert_eq!(
        kinds(&third, p),
        ["order.ready_for_pickup", "order.picked_up"]
    );
    all.extend(third);

    // Returned: one piece intact, one broken.
    world.act(
        a,
        SeedAction::Return {
            lines: vec![
                returned("MUG-1", 1, "RETURNED"),
                returned("MUG-1", 1, "BROKEN"),
            ],
            shipping_price_refund: None,
            at: None,
        },
    );
    world.settle();
    completed(world.poll(&service).await.expect("fourth poll"));
    let fourth = world.drain_events().await;
    assert_eq!(kinds(&fourth, a), ["order.returned"]);
    all.extend(fourth);

    // Nothing changed: nothing new, also when the overlap re-reads orders.
    world.settle();
    completed(world.poll(&service).await.expect("idle poll"));
    assert!(world.drain_events().await.is_empty());

    // Sequences run 1..n per order, without gaps; ids are unique.
    for (order, events) in by_order(&all) {
        let sequences: Vec<u64> = events.iter().map(|(_, sequence)| *sequence).collect();
        let expected: Vec<u64> = (1..=sequences.len() as u64).collect();
        assert_eq!(sequences, expected, "order {order}: {events:?}");
    }
    let ids: BTreeSet<Uuid> = all.iter().map(|event| event.event_id()).collect();
    assert_eq!(ids.len(), all.len());
    // Shipping processes were read only for the two polls that saw new shipments.
    assert_eq!(world.shop_calls("GET", "/orders/*/processes"), 2);
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("poll state");
    assert!(state.last_success_at.is_some());
    assert!(state.lease.is_none(), "the lease is released");
}

async fn paid_only_filter_holds_back_then_imports(backend: Backend) {
    let world = World::start_with(backend, |tenant| {
        tenant.payment_filter = PaymentStatusFilter::PaidOnly;
    })
    .await;
    let service = world.service(settings());
    let order = world.order(&[("MUG-1", 2)]);
    world.settle();
    let stats = completed(world.poll(&service).await.expect("poll"));
    assert_eq!(stats.orders_held, 1);
    assert!(world.drain_events().await.is_empty(), "unpaid: held back");

    world.act(order, SeedAction::Pay { at: None });
    world.settle();
    completed(world.poll(&service).await.expect("poll"));
    let mut events = world.drain_events().await;
    assert_eq!(kinds(&events, order), ["order.created"]);

    // Once imported, every change is followed, whatever the payment status becomes (a
    // partial cancelation refunds, so the order is no longer "paid").
    world.act(
        order,
        SeedAction::CancelItems {
            lines: vec![line("MUG-1", 1)],
            at: None,
        },
    );
    world.settle();
    completed(world.poll(&service).await.expect("poll"));
    events.extend(world.drain_events().await);
    assert_eq!(kinds(&events, order), ["order.created", "order.canceled"]);
    assert_eq!(
        events.iter().map(|e| e.sequence()).collect::<Vec<_>>(),
        [1, 2]
    );
}

async fn bad_order_data_is_logged_and_the_page_goes_on(backend: Backend) {
    let world = World::start(backend).await;
    let service = world.service(settings());
    let no_sku = world.order(&[("MUG-1", 1)]);
    let good = world.order(&[("BAG-1", 1)]);
    let no_lines = world.order(&[("CAP-1", 1)]);
    world
        .sandbox
        .core()
        .with_shop(harness::SHOP, |shop, _| {
            if let Some(order) = shop.orders.get_mut(&no_sku) {
                order.lines[0].product.sku = None;
            }
            if let Some(order) = shop.orders.get_mut(&no_lines) {
                order.lines.clear();
            }
            Ok(())
        })
        .expect("orders are broken");
    world.settle();
    let stats = completed(world.poll(&service).await.expect("the poll completes"));
    assert_eq!(stats.orders_invalid, 2);
    let events = world.drain_events().await;
    assert_eq!(kinds(&events, good), ["order.created"]);
    assert_eq!(events.len(), 1);

    let log = world
        .stores
        .activity
        .by_tenant(
            &world.tenant,
            TimeRange::default(),
            PageRequest::first(100),
            world.clock_now(),
        )
        .await
        .expect("activity log");
    let failed: BTreeMap<String, String> = log
        .items
        .iter()
        .filter(|entry| entry.outcome == ActivityOutcome::Failed)
        .map(|entry| {
            (
                entry.entity.id.clone(),
                entry.error.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        failed
            .get(&no_sku.to_string())
            .is_some_and(|reason| reason.contains("sku")),
        "{failed:?}"
    );
    assert!(
        failed
            .get(&no_lines.to_string())
            .is_some_and(|reason| reason.contains("productLineItems")),
        "{failed:?}"
    );
    assert!(
        log.items
            .iter()
            .any(|entry| entry.outcome == ActivityOutcome::Ok
                && entry.correlation.event_id == Some(events[0].event_id().to_string())),
        "emitted events are logged"
    );
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("poll state");
    assert!(state.cursor.updated_after.is_some(), "the cursor moved on");
}

async fn calls_are_one_per_idle_poll_and_one_per_page(backend: Backend) {
    let world = World::start(backend).await;
    // A small overlap: the orders re-read behind the cursor must not fill a page of 5 here
    // (with production's page of 100 they practically never do).
    let service = world.service(PollSettings {
        page_size: 5,
        overlap: std::time::Duration::from_secs(5),
        ..settings()
    });
    let orders: Vec<Uuid> = (0..12)
        .map(|_| {
            world.advance(1);
            world.order(&[("MUG-1", 1)])
        })
        .collect();
    world.settle();
    completed(world.poll(&service).await.expect("poll"));
    assert_eq!(world.drain_events().await.len(), 12);
    assert_eq!(world.shop_calls("GET", "/orders"), 3, "ceil(12 / 5) pages");

    // Idle with a cached token: exactly one call.
    world.settle();
    let before = world.all_shop_calls();
    let stats = completed(world.poll(&service).await.expect("idle poll"));
    assert_eq!(world.all_shop_calls() - before, 1);
    assert_eq!(stats.shop_requests, 1);

    // Four orders change without events (paid): one list call, no process reads.
    for order in &orders[..4] {
        world.act(*order, SeedAction::Pay { at: None });
    }
    world.settle();
    let before = world.all_shop_calls();
    completed(world.poll(&service).await.expect("poll"));
    assert_eq!(world.all_shop_calls() - before, 1);
    assert!(world.drain_events().await.is_empty());

    // Two orders shipped: one list call plus one process read each.
    for order in &orders[4..6] {
        world.act(
            *order,
            SeedAction::Ship {
                lines: vec![],
                tracking_code: None,
                tracking_link: None,
                mark_shipped: None,
                at: None,
            },
        );
    }
    world.settle();
    let before = world.all_shop_calls();
    completed(world.poll(&service).await.expect("poll"));
    assert_eq!(world.all_shop_calls() - before, 3);
    assert_eq!(world.drain_events().await.len(), 2);
}

async fn a_long_read_continues_through_the_poll_queue(backend: Backend) {
    use aws_lambda_events::event::sqs::SqsEvent;
    use connector::pipeline::sqs_batch::{QueueOrdering, process_batch};

    let world = World::start(backend).await;
    let service = world.service(PollSettings {
        page_size: 5,
        max_pages: 2,
        ..settings()
    });
    for _ in 0..23 {
        world.advance(1);
        world.order(&[("BAG-1", 1)]);
    }
    world.settle();
    let first = world.poll(&service).await.expect("first poll");
    assert!(
        matches!(first, PollOutcome::Continued { ref continuation, .. }
            if matches!(continuation.trigger, PollTrigger::Resync { force: false, .. })),
        "{first:?}"
    );
    // Drive the continuations the way Lambda would: SQS records through `process_batch`.
    let mut rounds = 0;
    loop {
        let messages = world
            .poll_queue
            .receive(10, std::time::Duration::ZERO, None)
            .await
            .expect("receive");
        if messages.is_empty() {
            break;
        }
        rounds += 1;
        assert!(rounds < 10, "continuations end");
        let mut event = SqsEvent::default();
        event.records = messages
            .iter()
            .map(|message| message.to_lambda_record("eu-central-1"))
            .collect();
        let (response, summary) = process_batch(
            &event,
            QueueOrdering::Standard { concurrency: 2 },
            world.poll_dead_letters.as_ref(),
            &service,
        )
        .await
        .expect("a valid batch");
        assert!(response.batch_item_failures.is_empty(), "{summary:?}");
        for message in messages {
            world
                .poll_queue
                .delete(&message.receipt_handle)
                .await
                .expect("delete");
        }
    }
    assert!(
        rounds >= 2,
        "23 orders in pages of 5, 2 pages per invocation"
    );
    let events = world.drain_events().await;
    let ids: BTreeSet<Uuid> = events.iter().map(|event| event.event_id()).collect();
    assert_eq!((events.len(), ids.len()), (23, 23));
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("poll state");
    assert!(
        state
            .cursor
            .updated_after
            .is_some_and(|at| at > harness::epoch())
    );
}

async fn resync_rereads_without_duplicates_and_force_restates_with_new_ids(backend: Backend) {
    let world = World::start(backend).await;
    let service = world.service(settings());
    let a = world.order(&[("MUG-1", 1)]);
    world.order(&[("BAG-1", 1)]);
    world.act(
        a,
        SeedAction::Ship {
            lines: vec![],
            tracking_code: Some("T-1".into()),
            tracking_link: None,
            mark_shipped: None,
            at: None,
        },
    );
    world.settle();
    completed(world.poll(&service).await.expect("poll"));
    let original = world.drain_events().await;
    assert_eq!(original.len(), 3);
    let cursor = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("state")
        .cursor;

    world.advance(10);
    let resync = world.request(PollTrigger::Resync {
        since: harness::epoch() - chrono::TimeDelta::hours(1),
        force: false,
    });
    completed(service.poll(&resync).await.expect("resync"));
    assert!(world.drain_events().await.is_empty(), "already emitted");
    let after = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("state")
        .cursor;
    assert!(
        after.updated_after >= cursor.updated_after,
        "never backwards"
    );

    world.advance(10);
    let forced = world.request(PollTrigger::Resync {
        since: harness::epoch() - chrono::TimeDelta::hours(1),
        force: true,
    });
    let stats = completed(service.poll(&forced).await.expect("forced resync"));
    assert_eq!(stats.events_forced, 3);
    let restated = world.drain_events().await;
    assert_eq!(restated.len(), 3);
    let original_ids: BTreeSet<Uuid> = original.iter().map(|e| e.event_id()).collect();
    let restated_ids: BTreeSet<Uuid> = restated.iter().map(|e| e.event_id()).collect();
    assert!(
        original_ids.is_disjoint(&restated_ids),
        "forced events get new ids"
    );
    assert_eq!(kinds(&restated, a), ["order.created", "order.shipped"]);

    // The same forced request again (a redelivery): the same forced ids.
    completed(service.poll(&forced).await.expect("forced again"));
    let again: BTreeSet<Uuid> = world
        .drain_events()
        .await
        .iter()
        .map(|e| e.event_id())
        .collect();
    assert!(again.is_subset(&restated_ids), "a re-run repeats the ids");
    // And an ordinary poll afterwards emits nothing.
    world.settle();
    completed(world.poll(&service).await.expect("poll"));
    assert!(world.drain_events().await.is_empty());
}

async fn the_resync_command_enqueues_a_request_the_poller_runs(backend: Backend) {
    use connector::pipeline::poll::resync::{ResyncError, request_resync};

    let world = World::start(backend).await;
    let service = world.service(settings());
    world.order(&[("MUG-1", 1)]);
    world.settle();
    completed(world.poll(&service).await.expect("poll"));
    assert_eq!(world.drain_events().await.len(), 1);

    let since = harness::epoch() - chrono::TimeDelta::hours(1);
    let unknown = domain::tenant::TenantId::parse("no-such-tenant").expect("valid id");
    let refused = request_resync(
        world.stores.tenants.as_ref(),
        world.poll_queue.as_ref(),
        &unknown,
        since,
        false,
        world.clock_now(),
    )
    .await;
    assert!(matches!(refused, Err(ResyncError::UnknownTenant(_))));
    let future = request_resync(
        world.stores.tenants.as_ref(),
        world.poll_queue.as_ref(),
        &world.tenant,
        world.clock_now() + chrono::TimeDelta::days(1),
        false,
        world.clock_now(),
    )
    .await;
    assert!(matches!(future, Err(ResyncError::SinceInFuture { .. })));

    let sent = request_resync(
        world.stores.tenants.as_ref(),
        world.poll_queue.as_ref(),
        &world.tenant,
        since,
        true,
        world.clock_now(),
    )
    .await
    .expect("enqueued");
    let messages = world
        .poll_queue
        .receive(10, std::time::Duration::ZERO, None)
        .await
        .expect("receive");
    assert_eq!(messages.len(), 1);
    let request =
        connector::pipeline::poll_request::PollRequest::parse(&messages[0].body).expect("parses");
    assert_eq!(request, sent);
    let stats = completed(service.poll(&request).await.expect("resync poll"));
    assert_eq!(stats.events_forced, 1);
    assert_eq!(world.drain_events().await.len(), 1);
}

impl World {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use connector::ports::Clock;
        self.clock.now()
    }
}
