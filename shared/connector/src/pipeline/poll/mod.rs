//! The order poller: one [`PollRequest`] → the tenant's changed ePages orders → order events
//! on the outbound FIFO queue, exactly once in effect. See `docs/POLLING.md`.
//!
//! Per request: load the tenant (unknown, paused or orders flow off → nothing to do), read
//! the tenant's poll state (with its version; a live lease → `LeaseHeld`), read the window
//! (see [`window`]) page by page sorted by `updatedAt`, and for each page
//!
//! 1. read the ledger of every order on the page in one batch;
//! 2. run [`order_sync::diff()`](domain::order_sync::diff()) per order, reading an order's
//!    shipping processes only when a new shipment needs its tracking data (the list has
//!    none);
//! 3. if anything is to be written or sent and the poll holds no lease yet, take it —
//!    conditional on the version read, so no other poll ran since;
//! 4. write the ledger states of orders being imported, ahead of sending (see `page.rs`);
//! 5. send every event of the page (group `{tenant}:{orderId}`, deduplication id = event
//!    id), in order;
//! 6. write the other ledger states (conditional on the version read);
//! 7. between pages, checkpoint the cursor (forward-only) to the page's last `updatedAt`.
//!
//! The poll ends with ONE write of the poll state: an idle poll (nothing to write or send)
//! records its success and moves the cursor conditionally on the version read and on no
//! live lease; a poll that took the lease moves the cursor, records and releases in one.
//! A crash between any two steps re-runs from the old ledger and yields the same event ids
//! (the ids are derived from the order's state, see `docs/ORDER-EVENTS.md`), and the cursor
//! never passes an order that was not fully processed. Bad data in one order is logged to
//! the activity log and the rest of the page goes on.

mod events;
mod hooks;
mod outcome;
mod page;
pub mod resync;
mod settings;
mod stock_orders;
mod targeted;
pub mod window;

pub use events::{forced_event_id, shipments_of};
pub use hooks::PollStep;
#[cfg(feature = "testing")]
use hooks::hook_at;
#[cfg(feature = "testing")]
pub use hooks::{NoHooks, PollHooks};
pub use outcome::{NotPolled, PollError, PollOutcome, PollStats};
pub use settings::PollSettings;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::auth::ShopClients;
use crate::metrics::{Metric, Metrics};
use crate::pipeline::poll_request::{PollRequest, PollTrigger};
use crate::pipeline::sqs_batch::{
    BatchError, QueueOrdering, Record, RecordHandler, RecordOutcome, process_batch,
};
use crate::ports::clock::truncate_to_millis;
use crate::ports::poll_state::{
    LeasedOutcome, LeasedWrite, PollRecord, RenewOutcome, UnleasedOutcome, UnleasedWrite,
    VersionedLeaseOutcome,
};
use crate::ports::queue::OutgoingMessage;
use crate::ports::{Clock, MessageQueue, StateStores};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use beyond::{OrderQuery, PageRequest, Sort};
use domain::order_sync::{DiffContext, SyncPolicy};
use domain::poll_state::Lease;
use domain::tenant::{TenantConfig, TenantId};

use self::window::{ReadTracker, Window};

/// The poller service: the ports and clients it needs, built once per container.
pub struct PollService {
    stores: StateStores,
    clients: Arc<ShopClients>,
    order_events: Arc<dyn MessageQueue>,
    poll_queue: Arc<dyn MessageQueue>,
    /// Where parked orders are dead-lettered (the poll queue's dead-letter queue).
    dead_letters: Option<Arc<dyn MessageQueue>>,
    clock: Arc<dyn Clock>,
    settings: PollSettings,
    #[cfg(feature = "testing")]
    hooks: Arc<dyn PollHooks>,
    instance: String,
    metrics: Arc<Metrics>,
}

impl PollService {
    pub fn new(
        stores: StateStores,
        clients: Arc<ShopClients>,
        order_events: Arc<dyn MessageQueue>,
        poll_queue: Arc<dyn MessageQueue>,
        clock: Arc<dyn Clock>,
        settings: PollSettings,
    ) -> Self {
        Self {
            stores,
            clients,
            order_events,
            poll_queue,
            dead_letters: None,
            clock,
            settings,
            #[cfg(feature = "testing")]
            hooks: Arc::new(NoHooks),
            instance: format!("poller-{}", Uuid::new_v4().simple()),
            metrics: Metrics::disabled(),
        }
    }

    /// Counts polls, orders read, events sent and poll lag into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Dead-letters parked orders (docs/ORDER-EVENTS.md, "Size limit") into `queue`;
    /// [`PollOrders::new`](crate::lambda::PollOrders::new) wires its dead-letter queue.
    pub fn with_dead_letters(mut self, queue: Arc<dyn MessageQueue>) -> Self {
        self.dead_letters = Some(queue);
        self
    }

    /// Injects failures at the [`PollStep`]s (tests).
    #[cfg(feature = "testing")]
    pub fn with_hooks(mut self, hooks: Arc<dyn PollHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// Where a test may stop the poll as a crash would (`testing` feature only).
    fn hook(&self, tenant: &TenantId, step: PollStep) -> Result<(), PollError> {
        #[cfg(feature = "testing")]
        return hook_at(self.hooks.as_ref(), tenant, step);
        #[cfg(not(feature = "testing"))]
        {
            let _ = (tenant, step);
            Ok(())
        }
    }

    pub fn settings(&self) -> &PollSettings {
        &self.settings
    }

    /// A Lambda batch from the (standard) poll queue: tenants in parallel, up to
    /// `batch_concurrency` at once; the partial batch response names the records to retry.
    pub async fn handle_event(
        &self,
        event: &SqsEvent,
        dead_letters: &dyn MessageQueue,
    ) -> Result<SqsBatchResponse, BatchError> {
        let ordering = QueueOrdering::Standard {
            concurrency: self.settings.batch_concurrency,
        };
        let (response, _summary) = process_batch(event, ordering, dead_letters, self).await?;
        Ok(response)
    }

    /// Polls one tenant as `request` says. On error the cursor stays where the last fully
    /// processed page left it, the lease is released and the failure recorded.
    pub async fn poll(&self, request: &PollRequest) -> Result<PollOutcome, PollError> {
        // On the record's span (declared with an empty `tenant`), so every line logged while
        // polling, the HTTP client's retry warnings too, names the tenant.
        tracing::Span::current().record("tenant", tracing::field::display(&request.tenant));
        let result = self.poll_tenant(request).await;
        match &result {
            Ok(PollOutcome::Completed(_)) => self.metrics.incr(Metric::PollsCompleted),
            Ok(PollOutcome::Continued { .. }) => self.metrics.incr(Metric::PollsContinued),
            Ok(PollOutcome::NotPolled(_) | PollOutcome::LeaseHeld { .. }) => {}
            Err(_) => self.metrics.incr(Metric::PollsFailed),
        }
        result
    }

    async fn poll_tenant(&self, request: &PollRequest) -> Result<PollOutcome, PollError> {
        let Some(tenant) = self.stores.tenants.get(&request.tenant).await? else {
            return Ok(PollOutcome::NotPolled(NotPolled::UnknownTenant));
        };
        if tenant.paused {
            return Ok(PollOutcome::NotPolled(NotPolled::Paused));
        }
        if !tenant.flows.orders {
            return Ok(PollOutcome::NotPolled(NotPolled::OrdersFlowOff));
        }
        if let PollTrigger::Order { order_id } = &request.trigger {
            return self
                .read_order_when_free(&tenant, *order_id, request.requested_at)
                .await;
        }
        for attempt in 1..=STATE_ATTEMPTS {
            let attempted = self.poll_attempt(&tenant, request, attempt == 1).await?;
            if let Some(outcome) = attempted {
                return Ok(outcome);
            }
            tracing::info!(tenant = %tenant.id, attempt, "poll state changed meanwhile: polling again");
        }
        Err(PollError::StateContended {
            attempts: STATE_ATTEMPTS,
        })
    }

    /// One attempt: read the poll state, read the window (taking the lease only when there
    /// is something to write or send), and end with ONE write of the poll state. `None` when
    /// the poll state changed between the read and the lease (another poll ran): nothing
    /// was written, the caller starts over.
    async fn poll_attempt(
        &self,
        tenant: &TenantConfig,
        request: &PollRequest,
        first: bool,
    ) -> Result<Option<PollOutcome>, PollError> {
        let started = self.clock.now();
        let state = self.stores.poll_state.get(&tenant.id).await?;
        if let Some(held) = &state.lease
            && held.until > started
        {
            return Ok(Some(PollOutcome::LeaseHeld {
                owner: held.owner.clone(),
                until: held.until,
            }));
        }
        if first {
            // Lag: since the last successful poll (or since the tenant was created, if it
            // was never polled successfully). One value per tenant in the metrics; the
            // tenant itself only in this log line (a `Tenant` dimension costs a custom
            // metric per tenant, see infra/OPERATING-METRICS.md).
            let lag = (started - state.last_success_at.unwrap_or(tenant.created_at))
                .num_milliseconds() as f64
                / 1000.0;
            tracing::info!(tenant = %tenant.id, poll_lag_seconds = lag, "poll started");
            self.metrics.record_poll_lag(tenant.id.as_str(), lag);
        }
        let mut run = Run {
            // One owner per poll (not per container): two records of one tenant in one
            // batch must not share a lease.
            owner: format!("{}:{}", self.instance, Uuid::new_v4().simple()),
            read_version: state.version,
            committed: state.cursor.updated_after,
            lease: None,
        };
        let result = self.read_window(tenant, request, &mut run, started).await;
        let now = self.clock.now();
        match run.lease.take() {
            Some(lease) => self.end_leased(tenant, lease, result, now).await,
            None => self.end_unleased(tenant, &run, result, now).await,
        }
    }

    /// The end of a poll that took the lease: cursor, bookkeeping and release in one write.
    async fn end_leased(
        &self,
        tenant: &TenantConfig,
        lease: Lease,
        result: Result<Progress, PollError>,
        now: DateTime<Utc>,
    ) -> Result<Option<PollOutcome>, PollError> {
        let (cursor, record) = match &result {
            Ok(Progress::Completed { cursor, .. } | Progress::BudgetHit { cursor, .. }) => {
                (*cursor, Some(PollRecord::Success { at: now }))
            }
            // Not produced once the lease is held; released all the same.
            Ok(Progress::LeaseHeld { .. } | Progress::StateChanged) => (None, None),
            Err(error) => (
                None,
                Some(PollRecord::Failure {
                    at: now,
                    message: self.failure_message(tenant, error, now).await,
                }),
            ),
        };
        // Released before the continuation is enqueued, so that it is not turned away by our
        // own lease.
        let mut write = LeasedWrite {
            cursor,
            release: true,
            record,
        };
        let mut written = self.stores.poll_state.write_leased(&lease, &write).await;
        if let Ok(LeasedOutcome::NotForward { .. }) = written {
            // Only a poll whose lease expired under it moves the cursor meanwhile (it was
            // ahead of ours): keep its value, still release and record.
            write.cursor = None;
            written = self.stores.poll_state.write_leased(&lease, &write).await;
        }
        let progress = result?;
        let state = match written? {
            LeasedOutcome::Written(state) => state,
            LeasedOutcome::NotHeld | LeasedOutcome::NotForward { .. } => {
                return Err(PollError::LeaseLost);
            }
        };
        self.conclude(progress, state.cursor.updated_after)
            .await
            .map(Some)
    }

    /// The end of a poll that took no lease (it found nothing to write or send): its one
    /// write, conditional on the version read and on no live lease. If that is refused,
    /// another poll ran meanwhile; nothing was lost (every order read was already in the
    /// ledger), so the poll ends without writing and without a continuation.
    async fn end_unleased(
        &self,
        tenant: &TenantConfig,
        run: &Run,
        result: Result<Progress, PollError>,
        now: DateTime<Utc>,
    ) -> Result<Option<PollOutcome>, PollError> {
        let progress = match result {
            Ok(Progress::LeaseHeld { owner, until }) => {
                return Ok(Some(PollOutcome::LeaseHeld { owner, until }));
            }
            Ok(Progress::StateChanged) => return Ok(None),
            Ok(progress) => progress,
            Err(error) => {
                let message = self.failure_message(tenant, &error, now).await;
                self.stores
                    .poll_state
                    .record_failure(&tenant.id, now, &message)
                    .await?;
                return Err(error);
            }
        };
        let cursor = match &progress {
            Progress::Completed { cursor, .. } | Progress::BudgetHit { cursor, .. } => *cursor,
            Progress::LeaseHeld { .. } | Progress::StateChanged => None,
        };
        let write = UnleasedWrite {
            cursor,
            record: PollRecord::Success { at: now },
        };
        match self
            .stores
            .poll_state
            .write_unleased(&tenant.id, run.read_version, &write, now)
            .await?
        {
            UnleasedOutcome::Written(state) => self
                .conclude(progress, state.cursor.updated_after)
                .await
                .map(Some),
            UnleasedOutcome::Stale { current } => {
                tracing::info!(tenant = %tenant.id, "another poll ran meanwhile; nothing to record");
                let stats = match progress {
                    Progress::Completed { stats, .. } | Progress::BudgetHit { stats, .. } => stats,
                    Progress::LeaseHeld { .. } | Progress::StateChanged => PollStats::default(),
                };
                Ok(Some(PollOutcome::Completed(PollStats {
                    cursor: current.cursor.updated_after,
                    ..stats
                })))
            }
        }
    }

    /// The failure to record in the poll state, logged once and written to the activity
    /// log: every failure `status` shows as a tenant's last poll error (a shop that cannot
    /// be reached, retries exhausted with their last cause) is there for `log` too. The
    /// entry is best effort: a poll that failed must still record its failure.
    async fn failure_message(
        &self,
        tenant: &TenantConfig,
        error: &PollError,
        now: DateTime<Utc>,
    ) -> String {
        let message = error_chain(error);
        tracing::warn!(tenant = %tenant.id, error = %message, "poll failed");
        let entry = events::poll_failure_entry(&tenant.id, &message, now);
        if let Err(log_error) = self.stores.activity.append(&[entry]).await {
            tracing::warn!(
                tenant = %tenant.id,
                error = %error_chain(&log_error),
                "cannot write the poll failure to the activity log"
            );
        }
        message
    }

    /// After the poll's write: the outcome, enqueueing the continuation of a budget stop.
    async fn conclude(
        &self,
        progress: Progress,
        cursor: Option<DateTime<Utc>>,
    ) -> Result<PollOutcome, PollError> {
        match progress {
            Progress::Completed { stats, .. } => {
                Ok(PollOutcome::Completed(PollStats { cursor, ..stats }))
            }
            Progress::BudgetHit {
                stats,
                continuation,
                ..
            } => {
                let report = self
                    .poll_queue
                    .send_batch(vec![OutgoingMessage::new(continuation.to_json())])
                    .await?;
                if let Some((_, failure)) = report.failures().next() {
                    return Err(PollError::Send {
                        failed: 1,
                        reason: format!("continuation poll request: {}", failure.message),
                        transient: failure.transient,
                    });
                }
                Ok(PollOutcome::Continued {
                    stats: PollStats { cursor, ..stats },
                    continuation,
                })
            }
            Progress::LeaseHeld { owner, until } => Ok(PollOutcome::LeaseHeld { owner, until }),
            Progress::StateChanged => Err(PollError::StateContended { attempts: 1 }),
        }
    }

    /// Reads the window page by page. Pages are planned without the lease; the first page
    /// with something to write or send takes it (conditional on the version read), and from
    /// then on pages are emitted under it and checkpointed. The watermark for the poll's
    /// final write is returned, not written.
    async fn read_window(
        &self,
        tenant: &TenantConfig,
        request: &PollRequest,
        run: &mut Run,
        started: DateTime<Utc>,
    ) -> Result<Progress, PollError> {
        let window = window::plan(
            &request.trigger,
            run.committed,
            started,
            self.settings.skew,
            self.settings.overlap,
        );
        // A read that starts after the cursor (a resync from a later `since`) skips the
        // orders between them: it never moves the cursor (a write-ahead mark relies on the
        // cursor passing an order only after a poll read and sent it).
        let covers_cursor = match window.lower {
            None => true,
            Some(lower) => run.committed.is_some_and(|cursor| lower <= cursor),
        };
        let forward = |to: DateTime<Utc>, committed: Option<DateTime<Utc>>| {
            let to = truncate_to_millis(to);
            (covers_cursor && committed.is_none_or(|at| at < to)).then_some(to)
        };
        let force = match request.trigger {
            PollTrigger::Resync { force: true, .. } => Some(request.requested_at),
            _ => None,
        };
        let zone = tenant.shop_zone();
        let client = self.clients.client_for(tenant)?;
        let requests_before = client.http_requests();
        let policy = SyncPolicy::for_tenant(tenant);
        let mut stats = PollStats::default();
        let mut tracker = ReadTracker::new();
        let mut lower = window.lower;
        let mut page_number = 0u64;
        // The last `updatedAt` up to which every order was processed, in a sorted read.
        let mut processed_up_to: Option<DateTime<Utc>> = None;

        let finished = loop {
            // Stopping makes sense only after progress: a continuation from the same place
            // (a page full of orders sharing one millisecond) would never get further.
            let progressed =
                processed_up_to.is_some_and(|at| Some(window::restart_after(at)) > window.lower);
            let out_of_time = self.clock.now() - started > delta(self.settings.time_budget);
            let over_pages = stats.pages >= self.settings.max_pages;
            if (over_pages || out_of_time) && tracker.sorted() && progressed {
                break false;
            }
            // Without a confirmed sort (or without progress) nothing can be checkpointed:
            // read on to the end unless the wall-time budget itself is gone.
            if out_of_time {
                return Err(PollError::OutOfTime);
            }
            if let Some(lease) = run.lease.as_mut() {
                self.keep_lease(lease).await?;
            }
            let query = self.query(tenant, Window { lower, ..window }, page_number);
            let page = client.list_orders(&query).await.map_err(PollError::Shop)?;
            stats.pages += 1;
            let meta = page.page;
            let has_next_link = page.next_href().is_some();
            let mut orders = page.into_items();
            // From here on every order time is the UTC instant the shop's reading stands for.
            window::to_instants(&zone, &mut orders);
            let shifted = tracker.observe(&orders, meta.map(|m| m.total_elements));
            let last_on_page = window::last_updated(&orders);
            stats.orders_seen += orders.len();
            self.metrics.add_usize(Metric::OrdersRead, orders.len());
            let context = DiffContext {
                tenant: &tenant.id,
                policy: &policy,
                detected_at: self.clock.now(),
            };
            let (plans, activity) = self
                .plan_page(&client, &context, &orders, force, run.committed, &mut stats)
                .await?;
            if !plans.is_empty() && run.lease.is_none() {
                match self
                    .stores
                    .poll_state
                    .acquire_lease_at(
                        &tenant.id,
                        run.read_version,
                        &run.owner,
                        self.settings.lease_ttl,
                        self.clock.now(),
                    )
                    .await?
                {
                    VersionedLeaseOutcome::Acquired(lease) => run.lease = Some(lease),
                    VersionedLeaseOutcome::Held { owner, until } => {
                        return Ok(Progress::LeaseHeld { owner, until });
                    }
                    VersionedLeaseOutcome::Stale { .. } => return Ok(Progress::StateChanged),
                }
            }
            if plans.is_empty() {
                if !activity.is_empty() {
                    // Only log entries of unusable orders: no lease needed.
                    self.stores.activity.append(&activity).await?;
                }
            } else {
                self.emit_page(
                    &tenant.id,
                    plans,
                    activity,
                    run.committed,
                    covers_cursor,
                    &mut stats,
                )
                .await?;
            }

            if shifted {
                // An order left the window while it was read, so one may have slipped onto
                // a page already read: read again from the last checkpoint (this page's
                // orders were processed, which is harmless to repeat).
                stats.restarts += 1;
                if stats.restarts > self.settings.max_restarts {
                    return Err(PollError::WindowUnstable {
                        restarts: stats.restarts,
                    });
                }
                if tracker.sorted() {
                    lower = processed_up_to.map(window::restart_after).or(window.lower);
                }
                tracker.restart();
                page_number = 0;
                continue;
            }
            let more = meta.map_or(has_next_link, |m| {
                page_number.saturating_add(1) < m.total_pages || has_next_link
            });
            if tracker.sorted()
                && let Some(last) = last_on_page
            {
                // A checkpoint of its own only between pages of a poll holding the lease;
                // the last page's (and an unleased read's) goes into the poll's final write.
                if more && let (Some(lease), Some(to)) = (&run.lease, forward(last, run.committed))
                {
                    self.hook(&tenant.id, PollStep::BeforeCheckpoint)?;
                    run.committed = self.checkpoint(lease, to).await?;
                }
                processed_up_to = Some(last);
            }
            if !more {
                break true;
            }
            page_number += 1;
        };

        stats.shop_requests = client.http_requests().saturating_sub(requests_before);
        if finished {
            // Every order updated before `upper` was read: the next poll starts there.
            self.hook(&tenant.id, PollStep::BeforeCheckpoint)?;
            return Ok(Progress::Completed {
                stats,
                cursor: forward(window.upper, run.committed),
            });
        }
        let (force, requested_at) = match request.trigger {
            // `requested_at` stays, so the forced ids of an order read again stay the same.
            PollTrigger::Resync { force, .. } => (force, request.requested_at),
            PollTrigger::Schedule | PollTrigger::Webhook | PollTrigger::Order { .. } => {
                (false, self.clock.now())
            }
        };
        // A continuation is a resync from the last checkpoint: it reads on exactly where
        // this poll stopped, whatever the overlap of an incremental poll would re-read.
        let since = processed_up_to
            .or(window.lower)
            .unwrap_or(tenant.sync_start);
        Ok(Progress::BudgetHit {
            stats,
            cursor: processed_up_to.and_then(|at| forward(at, run.committed)),
            continuation: PollRequest {
                tenant: tenant.id.clone(),
                trigger: PollTrigger::Resync { since, force },
                requested_at,
            },
        })
    }

    fn query(&self, tenant: &TenantConfig, window: Window, page: u64) -> OrderQuery {
        let window = window::with_learned_offset_slack(tenant, window);
        let bounds = window::shop_bounds(&tenant.shop_zone(), tenant.sync_start, window);
        OrderQuery {
            created_after: Some(bounds.created_after),
            updated_after: bounds.updated_after,
            updated_before: Some(bounds.updated_before),
            paging: PageRequest {
                page: Some(page),
                size: Some(self.settings.page_size),
                sort: Some(Sort::asc("updatedAt")),
            },
            ..OrderQuery::default()
        }
    }

    /// Renews the lease once half of it is used, so a long backfill keeps it.
    async fn keep_lease(&self, lease: &mut Lease) -> Result<(), PollError> {
        let now = self.clock.now();
        if lease.until - now > delta(self.settings.lease_ttl) / 2 {
            return Ok(());
        }
        match self
            .stores
            .poll_state
            .renew_lease(lease, self.settings.lease_ttl, now)
            .await?
        {
            RenewOutcome::Renewed(renewed) => {
                *lease = renewed;
                Ok(())
            }
            RenewOutcome::Lost => Err(PollError::LeaseLost),
        }
    }

    /// A checkpoint between pages, under the lease: the cursor moves forward to `to`.
    async fn checkpoint(
        &self,
        lease: &Lease,
        to: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, PollError> {
        let write = LeasedWrite {
            cursor: Some(to),
            release: false,
            record: None,
        };
        match self.stores.poll_state.write_leased(lease, &write).await? {
            LeasedOutcome::Written(state) => Ok(state.cursor.updated_after),
            // Already further (a poll whose lease expired under it moved it): keep that.
            LeasedOutcome::NotForward { current } => Ok(current.updated_after),
            LeasedOutcome::NotHeld => Err(PollError::LeaseLost),
        }
    }
}

/// How often a poll starts over when the poll state changed between its read and its
/// lease (another poll of the tenant ran meanwhile).
const STATE_ATTEMPTS: u32 = 3;

/// One attempt of a poll: what it read of the poll state, and its lease once taken.
struct Run {
    owner: String,
    /// The poll state's version when read; the lease and an unleased final write are
    /// conditional on it.
    read_version: u64,
    /// The committed cursor: as read, then as moved by this poll's checkpoints.
    committed: Option<DateTime<Utc>>,
    lease: Option<Lease>,
}

enum Progress {
    /// The whole window was read; `cursor` is where the final write moves the cursor.
    Completed {
        stats: PollStats,
        cursor: Option<DateTime<Utc>>,
    },
    BudgetHit {
        stats: PollStats,
        cursor: Option<DateTime<Utc>>,
        continuation: PollRequest,
    },
    /// Another poll took the lease after this one read the poll state.
    LeaseHeld { owner: String, until: DateTime<Utc> },
    /// The poll state changed after this poll read it: start over.
    StateChanged,
}

/// The lease owner of a targeted read: `{instance}:order:{unique}`.
pub fn targeted_read_owner(instance: &str) -> String {
    format!("{instance}{TARGETED_READ_MARK}{}", Uuid::new_v4().simple())
}

/// Whether the lease is held by a targeted read. It reads one order, not the window: a
/// scheduled poll that finds it is retried, never dropped as covered (dropped, the window
/// waited for the next schedule, and with webhooks arriving all the time it could wait for
/// many).
pub fn is_targeted_read(owner: &str) -> bool {
    owner.contains(TARGETED_READ_MARK)
}

const TARGETED_READ_MARK: &str = ":order:";

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// An error with its causes, for logs and the poll state.
pub use crate::error_chain::error_chain;

/// The SQS-triggered entry point: one poll per record. A malformed request is dead-lettered;
/// a held lease retries later, except for a scheduled poll held off by another window poll,
/// which the running poll (or the next schedule, five minutes on) makes redundant.
#[async_trait]
impl RecordHandler for PollService {
    async fn handle(&self, record: Record<'_>) -> RecordOutcome {
        let request = match PollRequest::parse(record.body) {
            Ok(request) => request,
            Err(error) => return RecordOutcome::reject(error_chain(&error)),
        };
        match self.poll(&request).await {
            Ok(PollOutcome::LeaseHeld { owner, until }) => match request.trigger {
                PollTrigger::Schedule if !is_targeted_read(&owner) => RecordOutcome::Done,
                _ => RecordOutcome::retry(format!(
                    "tenant {} is being polled by {owner} until {until}",
                    request.tenant
                )),
            },
            Ok(outcome) => {
                tracing::info!(tenant = %request.tenant, ?outcome, "poll done");
                RecordOutcome::Done
            }
            Err(error) if error.is_transient() => RecordOutcome::retry(error_chain(&error)),
            Err(error) => RecordOutcome::reject(error_chain(&error)),
        }
    }
}
