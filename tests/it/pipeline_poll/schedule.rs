//! The scheduled fan-out: one poll request per active tenant, paused ones skipped.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::pipeline::schedule::{ScheduleSettings, Scheduler};
use connector::ports::Clock;
use domain::tenant::{AuthMode, SecretRef, TenantConfig};

use super::harness::{Backend, World, both_backends, epoch};
use crate::support;

both_backends!(every_active_tenant_gets_one_request_and_paused_ones_none);

async fn every_active_tenant_gets_one_request_and_paused_ones_none(backend: Backend) {
    let world = World::start(backend).await;
    let mut active = BTreeSet::from([world.tenant.clone()]);
    let mut paused = BTreeSet::new();
    for n in 0..24 {
        let id = support::unique_tenant("sched");
        let mut config = TenantConfig::new(
            id.clone(),
            url::Url::parse("https://shop.example/api").expect("url"),
            AuthMode::ClientCredentials,
            "client",
            SecretRef("unused".into()),
            epoch(),
        );
        config.paused = n % 8 == 0;
        if config.paused {
            paused.insert(id);
        } else {
            active.insert(id);
        }
        world
            .stores
            .tenants
            .create(config, epoch())
            .await
            .expect("tenant stored");
    }
    let scheduler = Scheduler::new(
        world.stores.tenants.clone(),
        world.poll_queue.clone(),
        world.clock.clone(),
        ScheduleSettings {
            spread: Duration::ZERO,
            page_size: 7,
            send_concurrency: 3,
            ..ScheduleSettings::default()
        },
    );
    let report = scheduler.run().await.expect("the round runs");
    assert_eq!(report.enqueued, active.len());
    assert!(report.tenant_pages >= 3, "{report:?}");

    let mut requested = Vec::new();
    loop {
        let batch = world
            .poll_queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive");
        if batch.is_empty() {
            break;
        }
        for message in batch {
            let request = PollRequest::parse(&message.body).expect("a poll request");
            assert_eq!(request.trigger, PollTrigger::Schedule);
            assert_eq!(request.requested_at, world.clock.now());
            requested.push(request.tenant);
            world
                .poll_queue
                .delete(&message.receipt_handle)
                .await
                .expect("delete");
        }
    }
    let unique: BTreeSet<_> = requested.iter().cloned().collect();
    assert_eq!(requested.len(), unique.len(), "one request per tenant");
    assert_eq!(unique, active);
    assert!(unique.is_disjoint(&paused));

    // With a spread, the requests are delayed (not visible yet).
    let spread = Scheduler::new(
        world.stores.tenants.clone(),
        world.poll_queue.clone(),
        Arc::new(connector::ports::SystemClock),
        ScheduleSettings::default(),
    );
    spread.run().await.expect("the round runs");
    if backend == Backend::Embedded {
        let depth = world.poll_queue.depth().await.expect("depth");
        assert!(depth.delayed > 0, "{depth:?}");
    }
}
