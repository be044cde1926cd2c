//! Shop time, not our time (issue 12, item 7): a shop whose offset-less timestamps are
//! Central European wall-clock readings. With the tenant's zone set, orders arrive as
//! quickly as from a UTC shop, events carry the right UTC `occurredAt`, and nothing is
//! lost or doubled across either daylight-saving change.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use connector::pipeline::poll::PollService;
use connector::ports::{ManualClock, SystemClock};
use contracts::order_event::OrderEvent;
use domain::tenant::ShopTimeZone;
use sandbox::{SeedAction, SeedOrder};
use uuid::Uuid;

use super::harness::{Backend, World, both_backends, by_order, kinds};
use super::{completed, settings};

both_backends!(
    a_berlin_shop_delivers_on_the_real_clock_as_fast_as_a_utc_shop,
    nothing_is_lost_or_doubled_across_the_end_of_daylight_saving,
    nothing_is_lost_or_doubled_across_the_start_of_daylight_saving,
);

fn berlin() -> ShopTimeZone {
    ShopTimeZone::parse("Europe/Berlin").expect("a known zone")
}

fn new_york() -> ShopTimeZone {
    ShopTimeZone::parse("America/New_York").expect("a known zone")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 instant")
}

/// A world whose shop writes its timestamps in `shop` and whose tenant reads them in
/// `tenant` (`None`: the UTC assumption).
async fn world(
    backend: Backend,
    shop: ShopTimeZone,
    tenant: Option<ShopTimeZone>,
    sync_start: DateTime<Utc>,
) -> World {
    let world = World::start_with(backend, |config| {
        config.shop_time_zone = tenant;
        config.sync_start = sync_start;
    })
    .await;
    world.sandbox.clock().set_zone(shop);
    world
}

/// One poll on the real clock with the default skew: orders placed 45 s ago (their
/// `updatedAt` is 15 s inside the default 30 s skew) are read at once. Nothing is advanced.
async fn real_clock_poll(world: &World) -> Vec<OrderEvent> {
    world.sandbox.clock().reset_to_real();
    let service = PollService::new(
        world.stores.clone(),
        world.clients.clone(),
        world.order_events.clone(),
        world.poll_queue.clone(),
        Arc::new(SystemClock),
        settings(),
    );
    completed(world.poll(&service).await.expect("the poll completes"));
    world.drain_events().await
}

async fn a_berlin_shop_delivers_on_the_real_clock_as_fast_as_a_utc_shop(backend: Backend) {
    let placed = connector::ports::clock::truncate_to_millis(Utc::now() - TimeDelta::seconds(45));
    let seed = SeedOrder {
        created_at: Some(placed),
        ..SeedOrder::new(&[("MUG-1", 1)])
    };
    let since = placed - TimeDelta::days(1);
    for (shop, tenant) in [
        (ShopTimeZone::utc(), None),
        (berlin(), Some(berlin())),
        (new_york(), Some(new_york())),
    ] {
        let label = format!("shop {shop}, tenant {tenant:?}");
        let world = world(backend, shop, tenant, since).await;
        let order = world.order_with(seed.clone());
        let events = real_clock_poll(&world).await;
        assert_eq!(kinds(&events, order), ["order.created"], "{label}");
        assert_eq!(
            events[0].header().occurred_at,
            placed,
            "{label}: occurredAt in UTC"
        );
        let OrderEvent::Created(created) = &events[0] else {
            panic!("{label}: expected order.created");
        };
        assert_eq!(created.order.created_at, placed, "{label}");
    }

    // The assumption the zone corrects: read as UTC, a Berlin shop's new order looks an
    // hour or two in the future and stays outside the window.
    let world = world(backend, berlin(), None, since).await;
    let order = world.order_with(seed);
    let events = real_clock_poll(&world).await;
    assert!(kinds(&events, order).is_empty(), "{events:?}");
}

/// Orders and changes placed around a daylight-saving change at `transition`, polled every
/// five minutes, in the shop's zone `Europe/Berlin`.
///
/// Both clocks are set here, which is right: the behaviour under test is the conversion
/// between the shop's readings and instants around one given instant, not a wait or a
/// margin. The skew and the overlap keep their defaults, and every poll's window ends
/// before the changes it must not see yet.
async fn across(backend: Backend, transition: DateTime<Utc>) {
    let start = transition - TimeDelta::minutes(25);
    let world = world(
        backend,
        berlin(),
        Some(berlin()),
        start - TimeDelta::hours(1),
    )
    .await;
    world.sandbox.clock().set(start);
    world.clock.set(start);
    let service = world.service(settings());
    let clock: &ManualClock = &world.clock;

    // What was placed when: (order, instant of its creation).
    let mut placed: BTreeMap<Uuid, DateTime<Utc>> = BTreeMap::new();
    let mut events = Vec::new();
    let mut canceled = Vec::new();
    // What the poller sent, before the queue's deduplication could hide a repeat.
    let mut sent = 0;
    // Every 2½ minutes for 90 minutes: an order every step, a cancelation of the order of
    // three steps before every third step, a poll every other step.
    for step in 0..36 {
        let now = start + TimeDelta::seconds(150 * step);
        world.sandbox.clock().set(now);
        clock.set(now);
        let order = world.order(&[("MUG-1", 1)]);
        placed.insert(order, now);
        if step % 3 == 2
            && let Some((&earlier, _)) = placed
                .iter()
                .find(|(_, at)| **at == now - TimeDelta::seconds(450))
        {
            // A poll imported it meanwhile (one canceled before that is never imported).
            world.act(earlier, SeedAction::Cancel { at: None });
            canceled.push(earlier);
        }
        if step % 2 == 1 {
            let stats = completed(world.poll(&service).await.expect("the poll completes"));
            sent += stats.events_sent;
            events.extend(world.drain_events().await);
        }
    }
    // Past the skew: the last changes are inside the window.
    let end = start + TimeDelta::minutes(100);
    world.sandbox.clock().set(end);
    clock.set(end);
    sent += completed(world.poll(&service).await.expect("the last poll completes")).events_sent;
    events.extend(world.drain_events().await);
    assert_eq!(sent, events.len(), "nothing was sent twice");

    let orders = by_order(&events);
    let missing: Vec<_> = placed
        .iter()
        .filter(|(order, _)| !orders.contains_key(*order))
        .map(|(_, at)| *at)
        .collect();
    assert!(
        missing.is_empty(),
        "not arrived: orders placed at {missing:?}"
    );
    for (order, created_at) in &placed {
        let expected: Vec<(String, u64)> = if canceled.contains(order) {
            vec![("order.created".into(), 1), ("order.canceled".into(), 2)]
        } else {
            vec![("order.created".into(), 1)]
        };
        assert_eq!(orders[order], expected, "order placed at {created_at}");
    }
    for event in &events {
        if let OrderEvent::Created(created) = event {
            let expected = placed[&created.header.order_id];
            // A reading of the repeated hour names two instants; the earlier one is
            // taken (docs/ORDER-EVENTS.md, "Shop time"), an hour early for the second.
            let repeated = berlin().instant(berlin().reading(expected)) != expected;
            if repeated {
                assert_eq!(created.header.occurred_at, expected - TimeDelta::hours(1));
            } else {
                assert_eq!(created.header.occurred_at, expected, "occurredAt in UTC");
            }
        }
    }
}

async fn nothing_is_lost_or_doubled_across_the_end_of_daylight_saving(backend: Backend) {
    // 2026-10-25 03:00 CEST = 01:00 UTC: the clocks go back to 02:00 CET.
    across(backend, at("2026-10-25T01:00:00Z")).await;
}

async fn nothing_is_lost_or_doubled_across_the_start_of_daylight_saving(backend: Backend) {
    // 2026-03-29 02:00 CET = 01:00 UTC: the clocks go forward to 03:00 CEST.
    across(backend, at("2026-03-29T01:00:00Z")).await;
}
