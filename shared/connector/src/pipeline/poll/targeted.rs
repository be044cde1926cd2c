//! The webhook fast path: a targeted read of the one order an ePages `order.created` /
//! `order.updated` webhook names ([`PollTrigger::Order`](crate::pipeline::poll_request::PollTrigger)).
//!
//! A scheduled poll reads only orders updated before `now − skew`, so the order that just
//! triggered a webhook is outside its window for a while. A targeted read instead reads
//! `GET /orders/{id}` and diffs that snapshot against the order's ledger, as a page of one
//! order, so its changes are out within seconds. It never touches the cursor: the window
//! poll still reads the order later and finds nothing new (same ledger), and it stays the
//! backstop for a lost webhook.
//!
//! Correctness against a scheduled poll running at the same time rests on the same writes
//! a window poll uses:
//! - the tenant's lease, taken conditionally on the poll state's version read before the
//!   order was read: one writer per tenant, and a poll that read the state before this
//!   read wrote it starts over;
//! - conditional ledger writes (version read), so a lost race is a retry, never a double;
//! - no write-ahead mark (only a cursor passing the order could confirm it): an import
//!   keeps the pre-send record and the final write;
//! - the stale-read guard of [`diff`](domain::order_sync::diff()): a list snapshot older
//!   than the one read here yields nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{PollError, PollOutcome, PollService, PollStats};
use crate::pipeline::shop_offset::{self, ClockSample};
use crate::ports::poll_state::{LeasedOutcome, LeasedWrite, VersionedLeaseOutcome};
use domain::order_sync::{DiffContext, SyncPolicy};
use domain::tenant::TenantConfig;

/// How long a targeted read waits for the tenant's lease before it hands the request back
/// to the queue: other targeted reads hold it for a few shop calls, and a retry through
/// the queue waits for its visibility timeout, far longer than the fast path promises.
const LEASE_WAIT: Duration = Duration::from_secs(10);
/// Between two looks at a held lease.
const LEASE_PAUSE: Duration = Duration::from_millis(100);
/// A read this soon after its webhook arrived shows an order that changed moments before
/// the answer, so the answer's `Date` teaches the shop's clock offset
/// (`pipeline::shop_offset`); a later read (a retry, a wait for the lease) does not try.
const FRESH_READ: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl PollService {
    /// A targeted read, waiting up to [`LEASE_WAIT`] while another poll of the tenant holds
    /// the lease, and starting over (at most `STATE_ATTEMPTS` times) when the poll state
    /// changed under it.
    pub(super) async fn read_order_when_free(
        &self,
        tenant: &TenantConfig,
        order_id: Uuid,
        requested_at: DateTime<Utc>,
    ) -> Result<PollOutcome, PollError> {
        let started = std::time::Instant::now();
        let mut changed = 0;
        loop {
            match self.read_order(tenant, order_id, requested_at).await? {
                Some(PollOutcome::LeaseHeld { owner, until }) => {
                    if started.elapsed() >= LEASE_WAIT {
                        return Ok(PollOutcome::LeaseHeld { owner, until });
                    }
                    tokio::time::sleep(LEASE_PAUSE).await;
                }
                Some(outcome) => return Ok(outcome),
                None => {
                    changed += 1;
                    if changed >= super::STATE_ATTEMPTS {
                        return Err(PollError::StateContended { attempts: changed });
                    }
                }
            }
        }
    }

    /// One attempt of a targeted read. `None` when the poll state changed between its read
    /// and the lease (another poll ran): nothing was written, the caller starts over.
    pub(super) async fn read_order(
        &self,
        tenant: &TenantConfig,
        order_id: Uuid,
        requested_at: DateTime<Utc>,
    ) -> Result<Option<PollOutcome>, PollError> {
        let state = self.stores.poll_state.get(&tenant.id).await?;
        let now = self.clock.now();
        if let Some(held) = &state.lease
            && held.until > now
        {
            return Ok(Some(PollOutcome::LeaseHeld {
                owner: held.owner.clone(),
                until: held.until,
            }));
        }
        let committed = state.cursor.updated_after;
        let client = self.clients.client_for(tenant)?;
        let requests_before = client.http_requests();
        let mut stats = PollStats {
            cursor: committed,
            ..PollStats::default()
        };
        let answer = match client.get_order_dated(order_id).await {
            Ok(answer) => answer,
            Err(error) if error.is_not_found() => {
                // Deleted, or not this shop's: nothing to emit; the window poll agrees.
                tracing::info!(tenant = %tenant.id, order = %order_id, "webhook order not found");
                stats.shop_requests = client.http_requests().saturating_sub(requests_before);
                return Ok(Some(PollOutcome::Completed(stats)));
            }
            Err(error) => return Err(PollError::Shop(error)),
        };
        stats.orders_seen = 1;
        let learned = if self.clock.now() - requested_at <= FRESH_READ {
            let sample = ClockSample::of(answer.date, &answer.value);
            shop_offset::learn(
                &self.stores,
                &self.metrics,
                tenant,
                sample,
                self.clock.now(),
            )
            .await
        } else {
            None
        };
        // Read with what was just learned: this order's times are right at once.
        let tenant = learned.as_ref().unwrap_or(tenant);
        let order = answer.value;
        let policy = SyncPolicy::for_tenant(tenant);
        let context = DiffContext {
            tenant: &tenant.id,
            policy: &policy,
            detected_at: self.clock.now(),
        };
        let mut orders = [order];
        // Order times as UTC instants, as the window poll reads them (docs/ORDER-EVENTS.md,
        // "Shop time"): the ledger's guards compare them with what the poll recorded.
        super::window::to_instants(&tenant.shop_zone(), &mut orders);
        let (plans, activity) = self
            .plan_page(&client, &context, &orders, None, committed, &mut stats)
            .await?;
        if plans.is_empty() {
            if !activity.is_empty() {
                self.stores.activity.append(&activity).await?;
            }
            stats.shop_requests = client.http_requests().saturating_sub(requests_before);
            return Ok(Some(PollOutcome::Completed(stats)));
        }
        let owner = super::targeted_read_owner(&self.instance);
        let lease = match self
            .stores
            .poll_state
            .acquire_lease_at(
                &tenant.id,
                state.version,
                &owner,
                self.settings.lease_ttl,
                self.clock.now(),
            )
            .await?
        {
            VersionedLeaseOutcome::Acquired(lease) => lease,
            VersionedLeaseOutcome::Held { owner, until } => {
                return Ok(Some(PollOutcome::LeaseHeld { owner, until }));
            }
            VersionedLeaseOutcome::Stale { .. } => return Ok(None),
        };
        let emitted = self
            .emit_page(&tenant.id, plans, activity, committed, false, &mut stats)
            .await;
        // Released whatever happened, cursor and poll bookkeeping untouched: the read says
        // nothing about the window.
        let release = LeasedWrite {
            cursor: None,
            release: true,
            record: None,
        };
        let released = self.stores.poll_state.write_leased(&lease, &release).await;
        emitted?;
        match released? {
            LeasedOutcome::Written(_) | LeasedOutcome::NotForward { .. } => {}
            LeasedOutcome::NotHeld => return Err(PollError::LeaseLost),
        }
        stats.shop_requests = client.http_requests().saturating_sub(requests_before);
        Ok(Some(PollOutcome::Completed(stats)))
    }
}
