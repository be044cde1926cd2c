//! The connector learns the shop's clock offset by itself (issue 12, item 7): from the
//! `Date` of an answer that carries an order changed moments before (a webhook-triggered
//! read, the answer to a cancel command) against that order's `updatedAt` reading. On the
//! real clock with the default skew, nothing advanced, unless a test says why.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use connector::metrics::{Metric, Metrics};
use connector::pipeline::poll::{PollOutcome, PollService};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::ports::activity::TimeRange;
use connector::ports::{PageRequest, SystemClock};
use contracts::order_event::OrderEvent;
use domain::tenant::{LearnedShopOffset, ShopTimeZone, TenantConfig};
use sandbox::SeedOrder;
use serde_json::json;
use uuid::Uuid;

use super::harness::{Backend, World, both_backends, kinds};
use super::{completed, settings};
use crate::pipeline_apply::harness as apply;

both_backends!(
    a_berlin_shop_learns_its_offset_from_a_webhook_read_and_polls_on_the_real_clock,
    a_utc_shop_learns_nothing_and_writes_nothing,
    a_slow_or_late_answer_teaches_nothing,
    a_zone_that_disagrees_is_warned_about_once,
    a_cancel_answer_teaches_the_offset,
    a_learned_offset_an_hour_too_high_loses_nothing,
);

fn berlin() -> ShopTimeZone {
    ShopTimeZone::parse("Europe/Berlin").expect("a known zone")
}

/// A world on the real clock whose shop writes its timestamps in `shop` and whose tenant
/// has `configured` as its zone (`None`: nothing set).
async fn world(backend: Backend, shop: ShopTimeZone, configured: Option<ShopTimeZone>) -> World {
    let world = World::start_with(backend, |config| {
        config.shop_time_zone = configured;
        config.sync_start = Utc::now() - TimeDelta::days(1);
    })
    .await;
    world.sandbox.clock().set_zone(shop);
    world.sandbox.clock().reset_to_real();
    world
}

fn service(world: &World, metrics: &Arc<Metrics>) -> PollService {
    PollService::new(
        world.stores.clone(),
        world.clients.clone(),
        world.order_events.clone(),
        world.poll_queue.clone(),
        Arc::new(SystemClock),
        settings(),
    )
    .with_metrics(metrics.clone())
}

/// The targeted read an `order.updated` webhook received at `requested_at` enqueues.
async fn webhook_read(
    world: &World,
    service: &PollService,
    order_id: Uuid,
    requested_at: DateTime<Utc>,
) -> Vec<OrderEvent> {
    let request = PollRequest {
        tenant: world.tenant.clone(),
        trigger: PollTrigger::Order { order_id },
        requested_at,
    };
    match service.poll(&request).await.expect("the read completes") {
        PollOutcome::Completed(_) => {}
        other => panic!("expected a completed read, got {other:?}"),
    }
    world.drain_events().await
}

async fn tenant(world: &World) -> TenantConfig {
    world
        .stores
        .tenants
        .get(&world.tenant)
        .await
        .expect("tenant reads")
        .expect("tenant exists")
}

async fn learned(world: &World) -> Option<LearnedShopOffset> {
    tenant(world).await.learned_shop_offset
}

/// Places an order on the real clock; returns it with the instants around its creation.
fn place(world: &World) -> (Uuid, DateTime<Utc>, DateTime<Utc>) {
    let before = connector::ports::clock::truncate_to_millis(Utc::now());
    let order = world.order(&[("MUG-1", 1)]);
    (order, before, Utc::now())
}

async fn a_berlin_shop_learns_its_offset_from_a_webhook_read_and_polls_on_the_real_clock(
    backend: Backend,
) {
    let world = world(backend, berlin(), None).await;
    let metrics = Metrics::new();
    let service = service(&world, &metrics);
    let (first, before, after) = place(&world);
    let events = webhook_read(&world, &service, first, Utc::now()).await;

    let expected = berlin().offset_at(Utc::now());
    let learned = learned(&world).await.expect("an offset is learned");
    assert_eq!(
        i64::from(learned.offset_seconds),
        expected.num_seconds(),
        "{learned:?}"
    );
    assert_eq!(learned.disagrees_with, None);
    // The read that learned it already reads the order's times right.
    assert_eq!(kinds(&events, first), ["order.created"]);
    let occurred = events[0].header().occurred_at;
    assert!(
        before <= occurred && occurred <= after,
        "{before} <= {occurred} <= {after}"
    );

    // The next scheduled poll, on the real clock with the default skew: an order placed
    // 45 s ago (15 s inside the skew) arrives at once with its UTC `occurredAt`. Without
    // the learned offset it would look an hour or two in the future and stay outside.
    let placed = connector::ports::clock::truncate_to_millis(Utc::now() - TimeDelta::seconds(45));
    let second = world.order_with(SeedOrder {
        created_at: Some(placed),
        ..SeedOrder::new(&[("MUG-1", 1)])
    });
    completed(world.poll(&service).await.expect("the poll completes"));
    let events = world.drain_events().await;
    assert_eq!(kinds(&events, second), ["order.created"], "{events:?}");
    assert!(kinds(&events, first).is_empty(), "sent once: {events:?}");
    let created = events
        .iter()
        .find(|event| event.header().order_id == second)
        .expect("the second order's event");
    assert_eq!(created.header().occurred_at, placed);
    assert_eq!(metrics.snapshot().get(Metric::ShopTimeMismatches), 0);

    // Learned once: more reads of the same clock write nothing.
    let version = tenant(&world).await.version;
    let (third, _, _) = place(&world);
    webhook_read(&world, &service, third, Utc::now()).await;
    assert_eq!(tenant(&world).await.version, version);
}

async fn a_utc_shop_learns_nothing_and_writes_nothing(backend: Backend) {
    let world = world(backend, ShopTimeZone::utc(), None).await;
    let metrics = Metrics::new();
    let service = service(&world, &metrics);
    let version = tenant(&world).await.version;
    let (order, before, after) = place(&world);
    let events = webhook_read(&world, &service, order, Utc::now()).await;
    assert_eq!(kinds(&events, order), ["order.created"]);
    let occurred = events[0].header().occurred_at;
    assert!(before <= occurred && occurred <= after);
    let stored = tenant(&world).await;
    assert_eq!(stored.learned_shop_offset, None);
    assert_eq!(stored.version, version, "no write for a UTC shop");
    assert!(stored.shop_zone().is_utc());
}

async fn a_slow_or_late_answer_teaches_nothing(backend: Backend) {
    let world = world(backend, berlin(), None).await;
    let metrics = Metrics::new();
    let service = service(&world, &metrics);

    // A read long after its webhook (a retry, a wait): not tried.
    let (late, _, _) = place(&world);
    webhook_read(&world, &service, late, Utc::now() - TimeDelta::minutes(5)).await;
    assert_eq!(learned(&world).await, None);

    // An answer five minutes after the change. The shop's clock (and so its `Date`) is
    // moved on five minutes after the order was placed rather than waiting five minutes:
    // the behaviour under test is the refusal of an old change, not a wait.
    let (slow, _, _) = place(&world);
    world.sandbox.clock().advance(TimeDelta::minutes(5));
    webhook_read(&world, &service, slow, Utc::now()).await;
    assert_eq!(learned(&world).await, None, "a slow answer teaches nothing");
    assert!(tenant(&world).await.shop_zone().is_utc());
}

async fn a_zone_that_disagrees_is_warned_about_once(backend: Backend) {
    // The operator set UTC; the shop writes Berlin time.
    let world = world(backend, berlin(), Some(ShopTimeZone::utc())).await;
    let metrics = Metrics::new();
    let service = service(&world, &metrics);
    for _ in 0..3 {
        let (order, _, _) = place(&world);
        webhook_read(&world, &service, order, Utc::now()).await;
    }
    let stored = tenant(&world).await;
    let learned = stored.learned_shop_offset.clone().expect("learned");
    assert_eq!(learned.disagrees_with.as_deref(), Some("UTC"));
    assert!(
        stored.shop_zone().is_utc(),
        "the configured zone still wins"
    );
    assert_eq!(metrics.snapshot().get(Metric::ShopTimeMismatches), 1);
    let log = world
        .stores
        .activity
        .by_tenant(
            &world.tenant,
            TimeRange::default(),
            PageRequest::first(100),
            Utc::now(),
        )
        .await
        .expect("activity log");
    let warnings: Vec<String> = log
        .items
        .iter()
        .filter(|entry| entry.action == "shop_time.check")
        .map(|entry| entry.error.clone().unwrap_or_default())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let expected = ShopTimeZone::fixed(berlin().offset_at(Utc::now())).expect("an offset");
    assert!(
        warnings[0].contains(&format!("look like {expected}"))
            && warnings[0].contains("says UTC")
            && warnings[0].contains("--shop-time-zone"),
        "{warnings:?}"
    );

    // Set right, the next change of verdict is recorded without a warning.
    let mut fixed = stored;
    fixed.shop_time_zone = Some(berlin());
    world
        .stores
        .tenants
        .update(fixed, Utc::now())
        .await
        .expect("tenant updates");
    let (order, _, _) = place(&world);
    webhook_read(&world, &service, order, Utc::now()).await;
    assert_eq!(learned_disagreement(&world).await, None);
    assert_eq!(metrics.snapshot().get(Metric::ShopTimeMismatches), 1);
}

async fn learned_disagreement(world: &World) -> Option<String> {
    learned(world)
        .await
        .and_then(|learned| learned.disagrees_with)
}

async fn a_cancel_answer_teaches_the_offset(backend: Backend) {
    let backend = match backend {
        Backend::Embedded => apply::Backend::Embedded,
        Backend::Aws => apply::Backend::Aws,
    };
    let h = apply::Harness::start(backend).await;
    h.sandbox.clock().set_zone(berlin());
    h.sandbox.clock().reset_to_real();
    let cancel = h.command(
        "cancel-offset-1",
        "cancel",
        json!({ "order": { "id": h.order("new") }, "wholeOrder": true }),
    );
    h.send(&[cancel]).await;
    h.drain(5).await;
    let stored = h
        .stores
        .tenants
        .get(&h.tenant)
        .await
        .expect("tenant reads")
        .expect("tenant exists");
    let learned = stored
        .learned_shop_offset
        .clone()
        .expect("learned from the cancel");
    assert_eq!(
        i64::from(learned.offset_seconds),
        berlin().offset_at(Utc::now()).num_seconds()
    );
    assert_eq!(
        stored.shop_zone().name(),
        format!(
            "{}",
            ShopTimeZone::fixed(berlin().offset_at(Utc::now())).expect("offset")
        )
    );
}

/// A shop answering `GET /orders/{id}` with `date` as its `Date` header(s) (raw bytes:
/// absent, malformed, not UTF-8, repeated): the client decodes the order and reports no
/// `Date`, so nothing is learned and nothing fails.
#[tokio::test]
async fn malformed_or_absent_date_headers_teach_nothing_and_fail_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let order_id = Uuid::new_v4();
    let body = json!({ "_id": order_id, "updatedAt": "2026-12-02T18:00:00.000" }).to_string();
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (Vec::new(), false),
        (b"Date: yesterday\r\n".to_vec(), false),
        (b"Date: 2026-12-02T17:00:00Z\r\n".to_vec(), false),
        (b"Date: Wed, 02 Dec 2026 17:00:00 +0100\r\n".to_vec(), false),
        (
            b"Date: Wed, 02 Dec 2026 17:00:00 \xff\xfe GMT\r\n".to_vec(),
            false,
        ),
        (
            format!("Date: {} GMT\r\n", "9".repeat(5000)).into_bytes(),
            false,
        ),
        (
            b"Date: Wed, 02 Dec 2026 17:00:00 GMT\r\nDate: nonsense\r\n".to_vec(),
            true,
        ),
        (b"Date: Wed, 02 Dec 2026 17:00:00 GMT\r\n".to_vec(), true),
    ];
    for (headers, dated) in cases {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let port = listener.local_addr().expect("address").port();
        let response = [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/hal+json\r\nConnection: close\r\n"
                .to_vec(),
            headers.clone(),
            format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes(),
        ]
        .concat();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accepts");
            let mut request = vec![0u8; 8192];
            let _ = socket.read(&mut request).await;
            socket.write_all(&response).await.expect("answers");
            socket.shutdown().await.ok();
        });
        let config =
            beyond::ClientConfig::new(&format!("http://127.0.0.1:{port}/api")).expect("a URL");
        let client = beyond::BeyondClient::new(
            &config,
            Arc::new(beyond::StaticToken(secrecy::SecretString::from("token"))),
        )
        .expect("a client");
        let answer = client
            .get_order_dated(order_id)
            .await
            .unwrap_or_else(|error| panic!("{:?}: {error}", String::from_utf8_lossy(&headers)));
        server.await.expect("server ends");
        assert_eq!(answer.value.id, order_id);
        let label = String::from_utf8_lossy(&headers);
        if dated {
            // The first of repeated headers counts; here it is a valid one.
            let date = answer.date.expect("a date");
            assert_eq!(date.to_rfc3339(), "2026-12-02T17:00:00+00:00", "{label}");
            let sample =
                connector::pipeline::shop_offset::ClockSample::of(answer.date, &answer.value);
            assert_eq!(
                sample
                    .updated
                    .and_then(|updated| beyond::model::observed_offset(date, updated)),
                Some(TimeDelta::hours(1))
            );
        } else {
            assert_eq!(answer.date, None, "{label}");
        }
    }
}

/// After daylight saving ends, an offset learned in summer is an hour ahead of the shop's
/// clock until something teaches the new one. The reading bounds are then an hour too
/// late: without slack the next window would start an hour after the cursor in the shop's
/// own readings, and every order changed in that hour would fall between two windows for
/// good. Only the scheduled poll runs here (a webhook read would re-learn the offset).
async fn a_learned_offset_an_hour_too_high_loses_nothing(backend: Backend) {
    let world = world(backend, berlin(), None).await;
    let mut stale = tenant(&world).await;
    let summer = berlin().offset_at(Utc::now()) + TimeDelta::hours(1);
    stale.learned_shop_offset = Some(LearnedShopOffset {
        offset_seconds: i32::try_from(summer.num_seconds()).expect("an offset"),
        learned_at: Utc::now() - TimeDelta::days(60),
        disagrees_with: None,
    });
    world
        .stores
        .tenants
        .update(stale, Utc::now())
        .await
        .expect("tenant updates");
    let metrics = Metrics::new();
    let service = service(&world, &metrics);
    completed(
        world
            .poll(&service)
            .await
            .expect("the first poll completes"),
    );
    world.drain_events().await;

    // Placed after the first poll's window: the next poll must read it.
    let (order, _, _) = place(&world);
    completed(
        world
            .poll(&service)
            .await
            .expect("the second poll completes"),
    );
    let events = world.drain_events().await;
    assert_eq!(kinds(&events, order), ["order.created"], "{events:?}");
}
