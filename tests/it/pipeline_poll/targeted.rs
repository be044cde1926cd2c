//! Webhook-triggered targeted reads racing scheduled polls of the same tenant and orders,
//! all at once: every change is emitted once (counted at the sender, not only after the
//! FIFO queue's deduplication), sequences are contiguous per order, and the cursor is moved
//! by the scheduled polls only.

use std::sync::Arc;

use connector::metrics::{Metric, Metrics};
use connector::pipeline::poll::{
    PollError, PollOutcome, PollService, PollSettings, is_targeted_read,
};
use connector::pipeline::poll_request::PollTrigger;
use contracts::order_event::OrderEvent;
use futures::future::join_all;
use sandbox::SeedAction;
use uuid::Uuid;

use super::harness::{Backend, World, both_backends, by_order, kinds};

both_backends!(targeted_reads_racing_scheduled_polls_emit_each_change_once);

const ORDERS: usize = 6;

fn action(json: serde_json::Value) -> SeedAction {
    serde_json::from_value(json).expect("a seed action")
}

/// Runs `trigger` until it is done, as the poll queue would redeliver it: a held lease or a
/// lost race is retried. Returns the events it sent.
async fn until_done(world: &World, service: &PollService, trigger: PollTrigger) -> usize {
    for _ in 0..50 {
        match service.poll(&world.request(trigger.clone())).await {
            Ok(PollOutcome::Completed(stats)) => return stats.events_sent,
            Ok(PollOutcome::LeaseHeld { owner, .. }) => {
                if trigger == PollTrigger::Schedule && !is_targeted_read(&owner) {
                    // Acknowledged by the poller: the running window poll covers it (a
                    // targeted read does not, and the schedule is retried).
                    return 0;
                }
            }
            Ok(other) => panic!("{trigger:?}: {other:?}"),
            Err(error) if error.is_transient() => {}
            Err(error) => panic!(
                "{trigger:?}: {}",
                connector::error_chain::error_chain(&error as &PollError)
            ),
        }
        tokio::task::yield_now().await;
    }
    panic!("{trigger:?} never completed");
}

async fn targeted_reads_racing_scheduled_polls_emit_each_change_once(backend: Backend) {
    let world = Arc::new(World::start(backend).await);
    // Three pollers (three Lambda containers): each its own lease owner. The metric counts
    // every send as it happens, also of an attempt that failed after sending.
    let metrics = Metrics::new();
    let services: Vec<Arc<PollService>> = (0..3)
        .map(|_| {
            Arc::new(
                world
                    .service(PollSettings::default())
                    .with_metrics(metrics.clone()),
            )
        })
        .collect();
    let orders: Vec<Uuid> = (0..ORDERS)
        .map(|_| world.order(&[("MUG-1", 2), ("BAG-1", 1)]))
        .collect();
    let changes = [
        None,
        Some(action(serde_json::json!({ "action": "ship" }))),
        Some(action(serde_json::json!({ "action": "deliver" }))),
    ];
    let mut sent = 0;
    let mut cursors = Vec::new();
    for change in changes {
        if let Some(change) = &change {
            for order in &orders {
                world.act(*order, change.clone());
            }
        }
        // A fake clock is right here: the scheduled polls must see the changes to race
        // the targeted reads for them; no wait or margin is under test (the fast path's
        // timing is tested on the real clock in e2e::webhook_to_event).
        world.settle();
        let mut runs = Vec::new();
        for (index, order) in orders.iter().enumerate() {
            for copy in 0..2 {
                let service = services[(index + copy) % services.len()].clone();
                let world = world.clone();
                let trigger = PollTrigger::Order { order_id: *order };
                runs.push(tokio::spawn(async move {
                    until_done(&world, &service, trigger).await
                }));
            }
        }
        for service in &services {
            let service = service.clone();
            let world = world.clone();
            runs.push(tokio::spawn(async move {
                until_done(&world, &service, PollTrigger::Schedule).await
            }));
        }
        for run in join_all(runs).await {
            sent += run.expect("the run finishes");
        }
        // The backstop: a scheduled poll after the race finds anything left.
        sent += until_done(&world, &services[0], PollTrigger::Schedule).await;
        cursors.push(
            world
                .stores
                .poll_state
                .get(&world.tenant)
                .await
                .expect("reads")
                .cursor
                .updated_after,
        );
    }

    let events: Vec<OrderEvent> = world.drain_events().await;
    assert_eq!(
        sent,
        events.len(),
        "every event was sent once, not only delivered once"
    );
    assert_eq!(
        metrics.snapshot().get(Metric::OrderEventsEmitted),
        u64::try_from(events.len()).expect("few"),
        "no attempt sent an event another one sent"
    );
    let per_order = by_order(&events);
    for order in &orders {
        assert_eq!(
            kinds(&events, *order),
            ["order.created", "order.shipped", "order.delivered"],
            "{order}"
        );
        let sequences: Vec<u64> = per_order[order].iter().map(|(_, s)| *s).collect();
        assert_eq!(sequences, [1, 2, 3], "{order}: in order, no gap");
    }
    assert!(
        cursors.windows(2).all(|pair| pair[0] <= pair[1]),
        "the cursor only moves forward: {cursors:?}"
    );
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("reads");
    assert!(state.lease.is_none(), "every lease was released");
}
