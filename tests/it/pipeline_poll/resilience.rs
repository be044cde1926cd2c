//! Crashes between the poller's steps, a shop under 429/5xx, and the lease.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use connector::pipeline::poll::{
    PollError, PollHooks, PollOutcome, PollSettings, PollStep, targeted_read_owner,
};
use connector::pipeline::poll_request::PollTrigger;
use connector::pipeline::sqs_batch::{Record, RecordHandler, RecordOutcome};
use connector::ports::Clock;
use connector::ports::poll_state::VersionedLeaseOutcome;
use domain::tenant::TenantId;
use sandbox::{FaultKind, FaultSpec, SeedAction};
use uuid::Uuid;

use super::harness::{Backend, World, both_backends, kinds};

both_backends!(
    a_crash_at_any_step_yields_the_same_events_exactly_once,
    a_shop_under_429_and_5xx_converges,
    the_lease_keeps_polls_of_one_tenant_apart,
    a_scheduled_poll_held_off_by_a_targeted_read_is_retried_not_dropped,
);

/// Fails the first time the poll reaches `step`, like a crash there.
struct CrashOnce {
    step: PollStep,
    fired: AtomicBool,
}

impl PollHooks for CrashOnce {
    fn at(&self, _tenant: &TenantId, step: PollStep) -> Result<(), String> {
        if step == self.step && !self.fired.swap(true, Ordering::SeqCst) {
            return Err("crash".into());
        }
        Ok(())
    }
}

async fn a_crash_at_any_step_yields_the_same_events_exactly_once(backend: Backend) {
    for step in [
        PollStep::AfterPreSendWrite,
        PollStep::AfterSend,
        PollStep::AfterLedgerWrite,
        PollStep::BeforeCheckpoint,
    ] {
        let world = World::start(backend).await;
        let plain = world.service(PollSettings::default());
        let a = world.order(&[("MUG-1", 2)]);
        let b = world.order(&[("BAG-1", 1)]);
        world.settle();
        let crashing = world
            .service(PollSettings::default())
            .with_hooks(Arc::new(CrashOnce {
                step,
                fired: AtomicBool::new(false),
            }));
        let crashed = world.poll(&crashing).await;
        assert!(
            matches!(crashed, Err(PollError::Injected { step: s, .. }) if s == step),
            "{step:?}: {crashed:?}"
        );
        world.poll(&plain).await.expect("the re-run succeeds");

        // A change after the crash: shipped, then a crash at the same step while reporting it.
        world.act(
            a,
            SeedAction::Ship {
                lines: vec![],
                tracking_code: Some("T".into()),
                tracking_link: None,
                mark_shipped: None,
                at: None,
            },
        );
        world.settle();
        let crashing = world
            .service(PollSettings::default())
            .with_hooks(Arc::new(CrashOnce {
                step,
                fired: AtomicBool::new(false),
            }));
        // A step that only imports (pre-send) is not reached by a poll that imports nothing.
        let _ = world.poll(&crashing).await;
        world.poll(&plain).await.expect("the re-run succeeds");
        world.settle();
        world.poll(&plain).await.expect("an idle poll succeeds");

        let events = world.drain_events().await;
        // The same change always carries the same id and sequence; duplicates are exact.
        let mut by_id: BTreeMap<Uuid, (String, u64)> = BTreeMap::new();
        for event in &events {
            let seen = (event.kind().as_str().to_owned(), event.sequence());
            let first = by_id
                .entry(event.event_id())
                .or_insert_with(|| seen.clone());
            assert_eq!(*first, seen, "{step:?}: one id, one meaning");
        }
        let unique: Vec<_> = {
            let mut seen = BTreeSet::new();
            events
                .iter()
                .filter(|event| seen.insert(event.event_id()))
                .cloned()
                .collect()
        };
        assert_eq!(
            kinds(&unique, a),
            ["order.created", "order.shipped"],
            "{step:?}"
        );
        assert_eq!(kinds(&unique, b), ["order.created"], "{step:?}");
    }
}

async fn a_shop_under_429_and_5xx_converges(backend: Backend) {
    let world = World::start(backend).await;
    let service = world.service(PollSettings::default());
    let a = world.order(&[("MUG-1", 1)]);
    let b = world.order(&[("BAG-1", 1)]);
    world.act(
        a,
        SeedAction::Ship {
            lines: vec![],
            tracking_code: Some("T".into()),
            tracking_link: None,
            mark_shipped: None,
            at: None,
        },
    );
    world.settle();
    world.sandbox.add_fault(
        FaultSpec::new(
            "/orders",
            FaultKind::TooManyRequests {
                retry_after_seconds: 0,
            },
        )
        .times(4),
    );
    world.sandbox.add_fault(
        FaultSpec::new(
            "/orders/*/processes",
            FaultKind::Status {
                status: 503,
                retry_after_seconds: None,
            },
        )
        .times(4),
    );
    let mut failures = 0;
    loop {
        match world.poll(&service).await {
            Ok(PollOutcome::Completed(_)) => break,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(error) => {
                assert!(error.is_transient(), "{error:?}");
                failures += 1;
                assert!(failures < 8, "the poll converges");
                let state = world
                    .stores
                    .poll_state
                    .get(&world.tenant)
                    .await
                    .expect("state");
                assert!(state.last_failure.is_some(), "the failure is recorded");
                assert!(
                    state.lease.is_none(),
                    "the lease is released after a failure"
                );
            }
        }
    }
    assert!(
        failures >= 1,
        "the faults outlasted the client's own retries"
    );
    let events = world.drain_events().await;
    let unique: BTreeSet<Uuid> = events.iter().map(|e| e.event_id()).collect();
    assert_eq!(unique.len(), 3, "{events:?}");
    assert_eq!(kinds(&events, b), ["order.created"]);
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("state");
    assert!(state.last_success_at.is_some());
}

async fn the_lease_keeps_polls_of_one_tenant_apart(backend: Backend) {
    let world = World::start(backend).await;
    let service = world.service(PollSettings::default());
    world.order(&[("MUG-1", 1)]);
    world.settle();
    let now = world.clock.now();
    let poll_state = &world.stores.poll_state;
    let read = poll_state.get(&world.tenant).await.expect("state");
    let held = poll_state
        .acquire_lease_at(
            &world.tenant,
            read.version,
            "another-poller",
            Duration::from_secs(60),
            now,
        )
        .await
        .expect("lease");
    assert!(matches!(held, VersionedLeaseOutcome::Acquired(_)));
    let outcome = world.poll(&service).await.expect("poll");
    assert!(
        matches!(outcome, PollOutcome::LeaseHeld { ref owner, .. } if owner == "another-poller")
    );
    assert!(world.drain_events().await.is_empty());

    // Through the SQS handler: a webhook poll is retried later, a scheduled one is dropped
    // (the running poll covers it).
    let handle = |trigger: PollTrigger| {
        let body = world.request(trigger).to_json();
        let service = &service;
        async move {
            let message = SqsMessage::default();
            service
                .handle(Record {
                    message_id: "m-1",
                    body: &body,
                    receive_count: 1,
                    group_id: None,
                    message: &message,
                })
                .await
        }
    };
    assert!(matches!(
        handle(PollTrigger::Webhook).await,
        RecordOutcome::Retry { .. }
    ));
    assert_eq!(handle(PollTrigger::Schedule).await, RecordOutcome::Done);
    assert!(matches!(
        handle(PollTrigger::Schedule).await,
        RecordOutcome::Done
    ));

    // Once the other lease expired, the poll runs.
    world.advance(61);
    let outcome = world.poll(&service).await.expect("poll");
    assert!(matches!(outcome, PollOutcome::Completed(_)), "{outcome:?}");
    assert_eq!(world.drain_events().await.len(), 1);
}

/// Found by the chaos test (webhook reads racing scheduled polls): a scheduled poll that met
/// the lease of a targeted read was acknowledged as covered, but that read covers one order,
/// not the window. The window's other orders then waited for the next schedule, with
/// webhooks arriving all the time for many schedules, and an order canceled meanwhile was
/// never sent at all.
async fn a_scheduled_poll_held_off_by_a_targeted_read_is_retried_not_dropped(backend: Backend) {
    let world = World::start(backend).await;
    let service = world.service(PollSettings::default());
    world.order(&[("MUG-1", 1)]);
    world.settle();
    let poll_state = &world.stores.poll_state;
    let read = poll_state.get(&world.tenant).await.expect("state");
    let held = poll_state
        .acquire_lease_at(
            &world.tenant,
            read.version,
            &targeted_read_owner("another-poller"),
            Duration::from_secs(60),
            world.clock.now(),
        )
        .await
        .expect("lease");
    assert!(matches!(held, VersionedLeaseOutcome::Acquired(_)));
    let body = world.request(PollTrigger::Schedule).to_json();
    let message = SqsMessage::default();
    let outcome = service
        .handle(Record {
            message_id: "m-1",
            body: &body,
            receive_count: 1,
            group_id: None,
            message: &message,
        })
        .await;
    assert!(
        matches!(outcome, RecordOutcome::Retry { .. }),
        "the schedule comes back once the read is done: {outcome:?}"
    );
    assert!(world.drain_events().await.is_empty());
}
