//! What a poll writes to the state ports, counted by wrappers around them (both backends):
//! an idle poll writes the poll state exactly once and nothing else; an imported order
//! costs one ledger write; a poll that emits takes the lease and ends with one write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use connector::pipeline::poll::{PollOutcome, PollService, PollSettings};
use connector::pipeline::poll_request::PollTrigger;
use connector::ports::activity::{ActivityLog, TimeRange};
use connector::ports::order_ledger::{LedgerPutOutcome, OrderLedger};
use connector::ports::poll_state::{
    LeasedOutcome, LeasedWrite, RenewOutcome, UnleasedOutcome, UnleasedWrite, VersionedLeaseOutcome,
};
use connector::ports::{Clock, Page, PageRequest, PollStateStore, StateStores, StoreError};
use domain::activity::{ActivityEntry, EntityKind};
use domain::order_ledger::OrderLedgerEntry;
use domain::poll_state::{Lease, PollState};
use domain::tenant::TenantId;

use super::harness::{Backend, World, both_backends};

both_backends!(
    an_idle_poll_writes_the_poll_state_once,
    an_import_writes_its_ledger_once,
    a_resync_ahead_of_the_cursor_leaves_it,
);

/// Store calls by operation name.
#[derive(Default)]
struct Calls(Mutex<HashMap<&'static str, usize>>);

impl Calls {
    fn note(&self, operation: &'static str) {
        *self.0.lock().expect("lock").entry(operation).or_default() += 1;
    }

    fn take(&self) -> HashMap<&'static str, usize> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

/// Writes counted: every poll-state operation but `get`, every ledger `put`, every
/// activity `append`.
fn writes(calls: &HashMap<&'static str, usize>) -> usize {
    calls
        .iter()
        .filter(|(op, _)| !matches!(**op, "poll_state.get" | "ledger.get_many" | "ledger.get"))
        .map(|(_, n)| n)
        .sum()
}

struct CountingPollState(Arc<dyn PollStateStore>, Arc<Calls>);

#[async_trait]
impl PollStateStore for CountingPollState {
    async fn get(&self, tenant: &TenantId) -> Result<PollState, StoreError> {
        self.1.note("poll_state.get");
        self.0.get(tenant).await
    }
    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<RenewOutcome, StoreError> {
        self.1.note("poll_state.renew_lease");
        self.0.renew_lease(lease, ttl, now).await
    }
    async fn acquire_lease_at(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<VersionedLeaseOutcome, StoreError> {
        self.1.note("poll_state.acquire_lease_at");
        self.0
            .acquire_lease_at(tenant, expected_version, owner, ttl, now)
            .await
    }
    async fn write_unleased(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        write: &UnleasedWrite,
        now: DateTime<Utc>,
    ) -> Result<UnleasedOutcome, StoreError> {
        self.1.note("poll_state.write_unleased");
        self.0
            .write_unleased(tenant, expected_version, write, now)
            .await
    }
    async fn write_leased(
        &self,
        lease: &Lease,
        write: &LeasedWrite,
    ) -> Result<LeasedOutcome, StoreError> {
        self.1.note("poll_state.write_leased");
        self.0.write_leased(lease, write).await
    }
    async fn record_failure(
        &self,
        tenant: &TenantId,
        at: DateTime<Utc>,
        message: &str,
    ) -> Result<(), StoreError> {
        self.1.note("poll_state.record_failure");
        self.0.record_failure(tenant, at, message).await
    }
}

struct CountingLedger(Arc<dyn OrderLedger>, Arc<Calls>);

#[async_trait]
impl OrderLedger for CountingLedger {
    async fn get(
        &self,
        tenant: &TenantId,
        order_id: &str,
    ) -> Result<Option<OrderLedgerEntry>, StoreError> {
        self.1.note("ledger.get");
        self.0.get(tenant, order_id).await
    }
    async fn get_many(
        &self,
        tenant: &TenantId,
        order_ids: &[String],
    ) -> Result<HashMap<String, OrderLedgerEntry>, StoreError> {
        self.1.note("ledger.get_many");
        self.0.get_many(tenant, order_ids).await
    }
    async fn put(
        &self,
        tenant: &TenantId,
        order_id: &str,
        data: serde_json::Value,
        expected_version: u64,
        now: DateTime<Utc>,
    ) -> Result<LedgerPutOutcome, StoreError> {
        self.1.note("ledger.put");
        self.0
            .put(tenant, order_id, data, expected_version, now)
            .await
    }
}

/// Counts appended entries (each one an item, i.e. at least one write unit).
struct CountingActivity(Arc<dyn ActivityLog>, Arc<Calls>, Arc<AtomicUsize>);

#[async_trait]
impl ActivityLog for CountingActivity {
    async fn append(&self, entries: &[ActivityEntry]) -> Result<(), StoreError> {
        self.1.note("activity.append");
        self.2.fetch_add(entries.len(), Ordering::SeqCst);
        self.0.append(entries).await
    }
    async fn by_tenant(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        self.0.by_tenant(tenant, range, page, now).await
    }
    async fn by_entity(
        &self,
        tenant: &TenantId,
        kind: EntityKind,
        entity_id: &str,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        self.0.by_entity(tenant, kind, entity_id, page, now).await
    }
}

struct Counted {
    service: PollService,
    calls: Arc<Calls>,
    activity_entries: Arc<AtomicUsize>,
}

fn counted(world: &World) -> Counted {
    let calls = Arc::new(Calls::default());
    let activity_entries = Arc::new(AtomicUsize::new(0));
    let stores = StateStores {
        poll_state: Arc::new(CountingPollState(
            world.stores.poll_state.clone(),
            calls.clone(),
        )),
        order_ledger: Arc::new(CountingLedger(
            world.stores.order_ledger.clone(),
            calls.clone(),
        )),
        activity: Arc::new(CountingActivity(
            world.stores.activity.clone(),
            calls.clone(),
            activity_entries.clone(),
        )),
        ..world.stores.clone()
    };
    let service = PollService::new(
        stores,
        world.clients.clone(),
        world.order_events.clone(),
        world.poll_queue.clone(),
        world.clock.clone(),
        PollSettings::default(),
    );
    Counted {
        service,
        calls,
        activity_entries,
    }
}

async fn an_idle_poll_writes_the_poll_state_once(backend: Backend) {
    let world = World::start(backend).await;
    let counted = counted(&world);
    world.order(&[("MUG-1", 1)]);
    world.settle();
    world.poll(&counted.service).await.expect("first poll");
    assert_eq!(world.drain_events().await.len(), 1);

    for trigger in [PollTrigger::Schedule, PollTrigger::Webhook] {
        // The order is still inside the overlap on the first idle poll, not on the second:
        // both are idle.
        for _ in 0..2 {
            world.advance(45);
            counted.calls.take();
            let before = world
                .stores
                .poll_state
                .get(&world.tenant)
                .await
                .expect("get");
            let outcome = counted
                .service
                .poll(&world.request(trigger.clone()))
                .await
                .expect("idle poll");
            assert!(matches!(outcome, PollOutcome::Completed(_)), "{outcome:?}");
            let calls = counted.calls.take();
            assert_eq!(writes(&calls), 1, "{trigger:?}: {calls:?}");
            assert_eq!(
                calls.get("poll_state.write_unleased"),
                Some(&1),
                "{calls:?}"
            );
            assert_eq!(calls.get("poll_state.get"), Some(&1), "{calls:?}");
            let after = world
                .stores
                .poll_state
                .get(&world.tenant)
                .await
                .expect("get");
            assert_eq!(after.version, before.version + 1, "one write");
            assert!(after.lease.is_none());
            assert!(
                after.cursor.updated_after > before.cursor.updated_after,
                "the cursor moves to the end of the window read"
            );
            assert_eq!(after.last_success_at, Some(world.clock.now()));
        }
    }
    assert!(world.drain_events().await.is_empty());
}

async fn an_import_writes_its_ledger_once(backend: Backend) {
    let world = World::start(backend).await;
    let counted = counted(&world);
    for _ in 0..3 {
        world.order(&[("MUG-1", 1)]);
    }
    world.settle();
    let outcome = world.poll(&counted.service).await.expect("poll");
    assert!(matches!(outcome, PollOutcome::Completed(_)), "{outcome:?}");
    let calls = counted.calls.take();
    assert_eq!(world.drain_events().await.len(), 3);
    assert_eq!(
        calls.get("ledger.put"),
        Some(&3),
        "one per import: {calls:?}"
    );
    assert_eq!(
        calls.get("poll_state.acquire_lease_at"),
        Some(&1),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("poll_state.write_leased"),
        Some(&1),
        "cursor, bookkeeping and release in one: {calls:?}"
    );
    assert_eq!(calls.get("activity.append"), Some(&1), "{calls:?}");
    assert_eq!(counted.activity_entries.load(Ordering::SeqCst), 3);
    assert_eq!(writes(&calls), 3 + 2 + 1, "{calls:?}");
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("get");
    assert!(state.lease.is_none() && state.last_success_at.is_some());
}

async fn a_resync_ahead_of_the_cursor_leaves_it(backend: Backend) {
    let world = World::start(backend).await;
    let service = world.service(PollSettings::default());
    world.order(&[("MUG-1", 1)]);
    world.settle();
    world.poll(&service).await.expect("first poll");
    assert_eq!(world.drain_events().await.len(), 1);
    let cursor = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("get")
        .cursor;
    world.advance(600);
    let late = world.order(&[("BAG-1", 1)]);
    world.settle();
    // A resync from after the cursor reads (and sends) only what changed since `since`;
    // the orders between the cursor and `since` are unread, so the cursor stays.
    let since = world.clock.now() - TimeDelta::seconds(120);
    let outcome = service
        .poll(&world.request(PollTrigger::Resync {
            since,
            force: false,
        }))
        .await
        .expect("resync");
    assert!(matches!(outcome, PollOutcome::Completed(_)), "{outcome:?}");
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("get");
    assert_eq!(state.cursor, cursor, "not moved past the unread stretch");
    let events = world.drain_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].header().order_id, late);
    // Its import was recorded for good (no write-ahead mark a cursor it cannot move would
    // have to confirm): the next poll reads it again and sends nothing.
    world.poll(&service).await.expect("poll");
    assert!(world.drain_events().await.is_empty());
    let state = world
        .stores
        .poll_state
        .get(&world.tenant)
        .await
        .expect("get");
    assert!(state.cursor.updated_after > cursor.updated_after);
}
