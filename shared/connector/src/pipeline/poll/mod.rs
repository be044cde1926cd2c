//! The order poller: one [`PollRequest`] → the tenant's changed ePages orders → order events
//! on the outbound FIFO queue, exactly once in effect. See `docs/POLLING.md`.
//!
//! Per request: load the tenant (unknown, paused or orders flow off → nothing to do), take
//! the tenant's poll LEASE, read the window (see [`window`]) page by page sorted by
//! `updatedAt`, and for each page
//!
//! 1. read the ledger of every order on the page in one batch;
//! 2. run [`order_sync::diff()`] per order, reading an order's shipping processes only when a
//!    new shipment needs its tracking data (the list has none);
//! 3. write the pre-send ledger states of orders about to be imported;
//! 4. send every event of the page (group `{tenant}:{orderId}`, deduplication id = event
//!    id), in order;
//! 5. write the next ledger states (conditional on the version read);
//! 6. checkpoint the cursor (forward-only) to the page's last `updatedAt`.
//!
//! A crash between any two steps re-runs from the old ledger and yields the same event ids
//! (the ids are derived from the order's state, see `docs/ORDER-EVENTS.md`), and the cursor
//! never passes an order that was not fully processed. Bad data in one order is logged to
//! the activity log and the rest of the page goes on.

mod events;
mod hooks;
mod outcome;
pub mod resync;
mod settings;
pub mod window;

use events::{event_entry, failure_entry, forced_event};
pub use events::{forced_event_id, shipments_of};
pub use hooks::PollStep;
#[cfg(feature = "testing")]
use hooks::hook_at;
#[cfg(feature = "testing")]
pub use hooks::{NoHooks, PollHooks};
pub use outcome::{NotPolled, PollError, PollOutcome, PollStats};
pub use settings::PollSettings;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use uuid::Uuid;

use crate::auth::ShopClients;
use crate::metrics::{Metric, Metrics};
use crate::pipeline::poll_request::{PollRequest, PollTrigger};
use crate::pipeline::sqs_batch::{
    BatchError, QueueOrdering, Record, RecordHandler, RecordOutcome, process_batch,
};
use crate::ports::order_ledger::LedgerPutOutcome;
use crate::ports::poll_state::{CursorOutcome, LeaseOutcome, RenewOutcome};
use crate::ports::queue::OutgoingMessage;
use crate::ports::{Clock, MessageQueue, StateStores};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use beyond::model::BeyondTimestamp;
use beyond::model::Order;
use beyond::{BeyondClient, OrderQuery, PageRequest, Sort};
use contracts::order_event::{OrderEvent, Shipment};
use domain::activity::{ActivityEntry, ActivityOutcome};
use domain::order_sync::{self, Decision, DiffContext, LedgerState, SyncPolicy};
use domain::poll_state::Lease;
use domain::tenant::{TenantConfig, TenantId};

use self::window::{ReadTracker, Window};

/// The poller service: the ports and clients it needs, built once per container.
pub struct PollService {
    stores: StateStores,
    clients: Arc<ShopClients>,
    order_events: Arc<dyn MessageQueue>,
    poll_queue: Arc<dyn MessageQueue>,
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
        let started = self.clock.now();
        let Some(tenant) = self.stores.tenants.get(&request.tenant).await? else {
            return Ok(PollOutcome::NotPolled(NotPolled::UnknownTenant));
        };
        if tenant.paused {
            return Ok(PollOutcome::NotPolled(NotPolled::Paused));
        }
        if !tenant.flows.orders {
            return Ok(PollOutcome::NotPolled(NotPolled::OrdersFlowOff));
        }
        // One owner per poll (not per container): two records of one tenant in one batch
        // must not share a lease.
        let owner = format!("{}:{}", self.instance, Uuid::new_v4().simple());
        let mut lease = match self
            .stores
            .poll_state
            .acquire_lease(&tenant.id, &owner, self.settings.lease_ttl, started)
            .await?
        {
            LeaseOutcome::Acquired(lease) => lease,
            LeaseOutcome::Held { owner, until } => {
                return Ok(PollOutcome::LeaseHeld { owner, until });
            }
        };
        let result = self
            .poll_leased(&tenant, request, &mut lease, started)
            .await;
        let now = self.clock.now();
        let bookkeeping = match &result {
            Ok(_) => self.stores.poll_state.record_success(&tenant.id, now).await,
            Err(error) => {
                let message = error_chain(error);
                tracing::warn!(tenant = %tenant.id, error = %message, "poll failed");
                self.stores
                    .poll_state
                    .record_failure(&tenant.id, now, &message)
                    .await
            }
        };
        // Released before the continuation is enqueued, so that it is not turned away by our
        // own lease.
        let released = self.stores.poll_state.release_lease(&lease).await;
        let outcome = result?;
        bookkeeping?;
        released?;
        match outcome {
            Progress::Completed(stats) => Ok(PollOutcome::Completed(stats)),
            Progress::BudgetHit {
                stats,
                continuation,
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
                    stats,
                    continuation,
                })
            }
        }
    }

    async fn poll_leased(
        &self,
        tenant: &TenantConfig,
        request: &PollRequest,
        lease: &mut Lease,
        started: DateTime<Utc>,
    ) -> Result<Progress, PollError> {
        let state = self.stores.poll_state.get(&tenant.id).await?;
        // Lag: since the last successful poll (or since the tenant was created, if it was
        // never polled successfully). One value per tenant in the metrics; the tenant
        // itself only in this log line (a `Tenant` dimension costs a custom metric per
        // tenant, see infra/OPERATING-METRICS.md).
        let lag = (started - state.last_success_at.unwrap_or(tenant.created_at)).num_milliseconds()
            as f64
            / 1000.0;
        tracing::info!(tenant = %tenant.id, poll_lag_seconds = lag, "poll started");
        self.metrics.record_poll_lag(tenant.id.as_str(), lag);
        let mut cursor = state.cursor;
        let window = window::plan(
            &request.trigger,
            cursor.updated_after,
            started,
            self.settings.skew,
            self.settings.overlap,
        );
        let force = match request.trigger {
            PollTrigger::Resync { force: true, .. } => Some(request.requested_at),
            _ => None,
        };
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
            self.keep_lease(lease).await?;
            let query = self.query(tenant, Window { lower, ..window }, page_number);
            let page = client.list_orders(&query).await.map_err(PollError::Shop)?;
            stats.pages += 1;
            let meta = page.page;
            let has_next_link = page.next_href().is_some();
            let orders = page.into_items();
            let shifted = tracker.observe(&orders, meta.map(|m| m.total_elements));
            let last_on_page = window::last_updated(&orders);
            stats.orders_seen += orders.len();
            self.metrics.add_usize(Metric::OrdersRead, orders.len());
            let detected_at = self.clock.now();
            let context = DiffContext {
                tenant: &tenant.id,
                policy: &policy,
                detected_at,
            };
            self.process_page(&client, &context, orders, force, &mut stats)
                .await?;

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
            if tracker.sorted()
                && let Some(last) = last_on_page
            {
                self.hook(&tenant.id, PollStep::BeforeCheckpoint)?;
                cursor = self.checkpoint(&tenant.id, cursor, last).await?;
                processed_up_to = Some(last);
            }
            let more = meta.map_or(has_next_link, |m| {
                page_number.saturating_add(1) < m.total_pages || has_next_link
            });
            if !more {
                break true;
            }
            page_number += 1;
        };

        stats.shop_requests = client.http_requests().saturating_sub(requests_before);
        if finished {
            // Every order updated before `upper` was read: the next poll starts there.
            self.hook(&tenant.id, PollStep::BeforeCheckpoint)?;
            cursor = self.checkpoint(&tenant.id, cursor, window.upper).await?;
            stats.cursor = cursor.updated_after;
            return Ok(Progress::Completed(stats));
        }
        stats.cursor = cursor.updated_after;
        let (force, requested_at) = match request.trigger {
            // `requested_at` stays, so the forced ids of an order read again stay the same.
            PollTrigger::Resync { force, .. } => (force, request.requested_at),
            PollTrigger::Schedule | PollTrigger::Webhook => (false, self.clock.now()),
        };
        // A continuation is a resync from the last checkpoint: it reads on exactly where
        // this poll stopped, whatever the overlap of an incremental poll would re-read.
        let since = processed_up_to
            .or(window.lower)
            .unwrap_or(tenant.sync_start);
        Ok(Progress::BudgetHit {
            stats,
            continuation: PollRequest {
                tenant: tenant.id.clone(),
                trigger: PollTrigger::Resync { since, force },
                requested_at,
            },
        })
    }

    fn query(&self, tenant: &TenantConfig, window: Window, page: u64) -> OrderQuery {
        OrderQuery {
            created_after: Some(BeyondTimestamp(window::created_after(tenant.sync_start))),
            updated_after: window.lower.map(BeyondTimestamp),
            updated_before: Some(BeyondTimestamp(window.upper)),
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

    /// Moves the cursor forward to `to` (never back: a resync behind the cursor leaves it).
    async fn checkpoint(
        &self,
        tenant: &TenantId,
        cursor: domain::poll_state::PollCursor,
        to: DateTime<Utc>,
    ) -> Result<domain::poll_state::PollCursor, PollError> {
        if cursor.updated_after.is_some_and(|at| at >= to) {
            return Ok(cursor);
        }
        match self
            .stores
            .poll_state
            .advance_cursor(tenant, cursor.version, to)
            .await?
        {
            CursorOutcome::Advanced(cursor) | CursorOutcome::NotForward { current: cursor } => {
                Ok(cursor)
            }
            // We hold the lease, so nobody else should move the cursor; if a poll whose
            // lease expired did, take its value and go on only forward from there.
            CursorOutcome::Stale { current } => {
                if current.updated_after.is_some_and(|at| at >= to) {
                    Ok(current)
                } else {
                    match self
                        .stores
                        .poll_state
                        .advance_cursor(tenant, current.version, to)
                        .await?
                    {
                        CursorOutcome::Advanced(cursor)
                        | CursorOutcome::NotForward { current: cursor } => Ok(cursor),
                        CursorOutcome::Stale { .. } => Err(PollError::LeaseLost),
                    }
                }
            }
        }
    }

    async fn process_page(
        &self,
        client: &BeyondClient,
        context: &DiffContext<'_>,
        orders: Vec<Order>,
        force: Option<DateTime<Utc>>,
        stats: &mut PollStats,
    ) -> Result<(), PollError> {
        if orders.is_empty() {
            return Ok(());
        }
        let tenant = context.tenant;
        let ids: Vec<String> = orders.iter().map(|order| order.id.to_string()).collect();
        let ledger = self.stores.order_ledger.get_many(tenant, &ids).await?;
        let mut plans: Vec<OrderPlan> = Vec::new();
        let mut activity: Vec<ActivityEntry> = Vec::new();
        for order in &orders {
            if let Some(plan) = self
                .plan_order(client, context, order, &ledger, force, stats, &mut activity)
                .await?
            {
                plans.push(plan);
            }
        }

        // 3. Orders about to be imported: record the decision before anything is sent.
        for plan in &mut plans {
            if let Some(pre_send) = &plan.decision.pre_send_state {
                plan.version = self
                    .put_ledger(tenant, &plan.order_id, pre_send, plan.version)
                    .await?;
            }
        }
        self.hook(tenant, PollStep::AfterPreSendWrite)?;

        // 4. Send, in order: per order its events, then its forced restatement.
        let mut messages = Vec::new();
        for plan in &plans {
            for event in plan.decision.events.iter().chain(&plan.forced) {
                let body = serde_json::to_string(event).map_err(PollError::Encode)?;
                messages.push(OutgoingMessage::fifo(
                    body,
                    event.message_group_id(),
                    event.event_id().to_string(),
                ));
            }
        }
        if !messages.is_empty() {
            let count = messages.len();
            let report = self.order_events.send_batch(messages).await?;
            let failures: Vec<_> = report.failures().collect();
            if let Some((_, first)) = failures.first() {
                return Err(PollError::Send {
                    failed: failures.len(),
                    reason: first.message.clone(),
                    transient: failures.iter().all(|(_, failure)| failure.transient),
                });
            }
            stats.events_sent += count;
            self.metrics.add_usize(Metric::OrderEventsEmitted, count);
        }
        self.hook(tenant, PollStep::AfterSend)?;

        // 5. The ledger, conditional on the version read (or written just before sending).
        let writes: Vec<_> = plans
            .iter()
            .filter(|plan| plan.ledger_changed())
            .map(|plan| {
                self.put_ledger(
                    tenant,
                    &plan.order_id,
                    &plan.decision.next_state,
                    plan.version,
                )
            })
            .collect();
        let results: Vec<Result<u64, PollError>> = futures::stream::iter(writes)
            .buffer_unordered(self.settings.ledger_concurrency.max(1))
            .collect()
            .await;
        for result in results {
            result?;
        }
        self.hook(tenant, PollStep::AfterLedgerWrite)?;

        let now = self.clock.now();
        for plan in &plans {
            for event in plan.decision.events.iter().chain(&plan.forced) {
                activity.push(event_entry(tenant, event, now));
            }
        }
        if !activity.is_empty() {
            self.stores.activity.append(&activity).await?;
        }
        Ok(())
    }

    /// Steps 1–2 for one order. `None` when there is nothing to write or send, or the order
    /// was logged as unusable.
    #[allow(clippy::too_many_arguments)]
    async fn plan_order(
        &self,
        client: &BeyondClient,
        context: &DiffContext<'_>,
        order: &Order,
        ledger: &HashMap<String, domain::order_ledger::OrderLedgerEntry>,
        force: Option<DateTime<Utc>>,
        stats: &mut PollStats,
        activity: &mut Vec<ActivityEntry>,
    ) -> Result<Option<OrderPlan>, PollError> {
        let tenant = context.tenant;
        let order_id = order.id.to_string();
        let entry = ledger.get(&order_id);
        let previous = match entry
            .map(|e| LedgerState::from_ledger_data(&e.data))
            .transpose()
        {
            Ok(previous) => previous,
            Err(error) => {
                stats.orders_invalid += 1;
                activity.push(failure_entry(
                    tenant,
                    order,
                    "order.sync",
                    format!(
                        "the stored order ledger cannot be read: {}",
                        error_chain(&error)
                    ),
                    self.clock.now(),
                ));
                return Ok(None);
            }
        };
        let version = entry.map_or(0, |entry| entry.version);
        let restate = force.is_some() && previous.as_ref().is_some_and(|state| state.imported);
        let shipments = if order_sync::shipment_detected(previous.as_ref(), order)
            || (restate && order_sync::shipment_detected(None, order))
        {
            stats.shipment_reads += 1;
            Some(self.shipments(client, tenant, order, activity).await?)
        } else {
            None
        };
        let decision = match order_sync::diff(
            context,
            previous.as_ref(),
            order,
            shipments.as_deref(),
        ) {
            Ok(decision) => decision,
            Err(invalid) => {
                stats.orders_invalid += 1;
                tracing::warn!(%tenant, order = %order.id, error = %invalid, "order not usable");
                activity.push(failure_entry(
                    tenant,
                    order,
                    "order.import",
                    invalid.to_string(),
                    self.clock.now(),
                ));
                return Ok(None);
            }
        };
        for anomaly in &decision.anomalies {
            activity.push(ActivityEntry {
                outcome: ActivityOutcome::Skipped,
                ..failure_entry(
                    tenant,
                    order,
                    "order.sync",
                    anomaly.to_string(),
                    self.clock.now(),
                )
            });
        }
        if let Some(reason) = &decision.skipped_reason {
            stats.orders_held += usize::from(!reason.is_final());
            tracing::debug!(%tenant, order = %order.id, %reason, "order not imported");
        }
        let forced = match force {
            Some(requested_at) if restate => {
                // Restate the order from scratch: the import path without the policy (it was
                // imported), every cumulative state once, under ids of this resync.
                let fresh = LedgerState {
                    import_decided: true,
                    ..LedgerState::default()
                };
                match order_sync::diff(context, Some(&fresh), order, shipments.as_deref()) {
                    Ok(restated) => restated
                        .events
                        .into_iter()
                        .map(|event| forced_event(event, requested_at))
                        .collect(),
                    Err(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        stats.events_forced += forced.len();
        let plan = OrderPlan {
            order_id,
            version,
            previous,
            decision,
            forced,
        };
        Ok(
            (plan.ledger_changed() || plan.has_events() || plan.decision.pre_send_state.is_some())
                .then_some(plan),
        )
    }

    /// The order's shipped shipping processes with their tracking data. A transient failure
    /// aborts the poll (the cursor stays); a permanent one is logged and the shipment is
    /// reported without tracking, as the contract allows.
    async fn shipments(
        &self,
        client: &BeyondClient,
        tenant: &TenantId,
        order: &Order,
        activity: &mut Vec<ActivityEntry>,
    ) -> Result<Vec<Shipment>, PollError> {
        match client.order_processes(order.id).await {
            Ok(processes) => Ok(shipments_of(&processes)),
            Err(error) if error.is_transient() => Err(PollError::Shop(error)),
            Err(error) => {
                activity.push(failure_entry(
                    tenant,
                    order,
                    "order.shipments",
                    format!(
                        "shipping processes could not be read, tracking is not reported: {}",
                        error_chain(&error)
                    ),
                    self.clock.now(),
                ));
                Ok(Vec::new())
            }
        }
    }

    async fn put_ledger(
        &self,
        tenant: &TenantId,
        order_id: &str,
        state: &LedgerState,
        expected_version: u64,
    ) -> Result<u64, PollError> {
        let data = state.to_ledger_data().map_err(|error| match error {
            order_sync::LedgerDataError::Serialize(source)
            | order_sync::LedgerDataError::Malformed(source) => PollError::Encode(source),
            order_sync::LedgerDataError::UnknownFormat { .. } => PollError::LedgerConflict {
                order_id: order_id.to_owned(),
            },
        })?;
        match self
            .stores
            .order_ledger
            .put(tenant, order_id, data, expected_version, self.clock.now())
            .await?
        {
            LedgerPutOutcome::Stored(entry) => Ok(entry.version),
            LedgerPutOutcome::Stale { .. } => Err(PollError::LedgerConflict {
                order_id: order_id.to_owned(),
            }),
        }
    }
}

/// What one poll decided for one order.
struct OrderPlan {
    order_id: String,
    /// The ledger version the next write is conditional on.
    version: u64,
    previous: Option<LedgerState>,
    decision: Decision,
    forced: Vec<OrderEvent>,
}

impl OrderPlan {
    fn ledger_changed(&self) -> bool {
        self.decision.ledger_changed(self.previous.as_ref())
    }

    fn has_events(&self) -> bool {
        !self.decision.events.is_empty() || !self.forced.is_empty()
    }
}

enum Progress {
    Completed(PollStats),
    BudgetHit {
        stats: PollStats,
        continuation: PollRequest,
    },
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// An error with its causes, for logs and the poll state.
pub use crate::error_chain::error_chain;

/// The SQS-triggered entry point: one poll per record. A malformed request is dead-lettered;
/// a held lease retries later, except for a scheduled poll, which the running poll (or the
/// next schedule, five minutes on) makes redundant.
#[async_trait]
impl RecordHandler for PollService {
    async fn handle(&self, record: Record<'_>) -> RecordOutcome {
        let request = match PollRequest::parse(record.body) {
            Ok(request) => request,
            Err(error) => return RecordOutcome::reject(error_chain(&error)),
        };
        match self.poll(&request).await {
            Ok(PollOutcome::LeaseHeld { owner, until }) => match request.trigger {
                PollTrigger::Schedule => RecordOutcome::Done,
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
