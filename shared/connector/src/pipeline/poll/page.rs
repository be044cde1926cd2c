//! One page of a poll: what to do for each order on it ([`PollService::plan_page`], reads
//! only) and doing it ([`PollService::emit_page`], under the tenant's lease).
//!
//! Per order the ledger is written **once**:
//!
//! - an order being **imported** (from a ledger that has emitted nothing) gets its next
//!   state written *ahead* of sending, marked with the snapshot's `updatedAt`
//!   ([`LedgerState::written_ahead_at`]). Until the tenant's committed cursor passes that
//!   time, a poll reading the entry treats it as possibly unsent: it re-derives the import
//!   from the pre-import state (same snapshot → same events, same ids) and sends again.
//!   The cursor passes the order only after its page was sent, so a crash between the write
//!   and the send cannot lose the import, and the import decision (the policy is not
//!   monotone) is on record before `order.created` can be out.
//! - any other change is sent first and written after: a crash in between re-derives the
//!   same events from the old ledger (cumulative quantities, same ids).
//! - an import whose snapshot is not after the committed cursor (a resync behind the
//!   cursor) or has no `updatedAt` cannot be marked that way: it keeps the two writes
//!   (the pre-send `import_decided` record, then the final state).
//!
//! The argument step by step is in docs/POLLING.md ("Crashes").

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::events::{Parked, event_entry, event_message, failure_entry, fit_events, forced_event};
use super::{PollError, PollService, PollStats, PollStep, error_chain};
use crate::metrics::Metric;
use crate::ports::clock::truncate_to_millis;
use crate::ports::order_ledger::LedgerPutOutcome;
use beyond::BeyondClient;
use beyond::model::Order;
use contracts::order_event::{OrderEvent, Shipment};
use domain::activity::{ActivityEntry, ActivityOutcome};
use domain::order_ledger::OrderLedgerEntry;
use domain::order_sync::{self, Decision, DiffContext, LedgerState};
use domain::tenant::TenantId;

/// What one poll decided for one order.
pub(super) struct OrderPlan {
    order_id: String,
    /// The ledger version the next write is conditional on.
    version: u64,
    /// The state the decision starts from: the stored one, or the pre-import state when the
    /// stored one is a possibly unsent write-ahead.
    previous: Option<LedgerState>,
    /// What is stored now (with its write-ahead mark, if any).
    stored: Option<LedgerState>,
    /// The snapshot's `updatedAt`, in milliseconds as the cursor stores it.
    snapshot_at: Option<DateTime<Utc>>,
    decision: Decision,
    forced: Vec<OrderEvent>,
    /// Set when the order's events cannot be sent: nothing is emitted, the ledger gets
    /// the parked mark, the activity log and the dead-letter queue get the reason.
    parked: Option<Parked>,
}

impl OrderPlan {
    fn ledger_changed(&self) -> bool {
        self.decision.ledger_changed(self.previous.as_ref())
    }

    fn has_events(&self) -> bool {
        !self.decision.events.is_empty() || !self.forced.is_empty()
    }

    /// The plan imports the order: from a state that emitted nothing to an imported one.
    fn imports(&self) -> bool {
        self.previous
            .as_ref()
            .is_none_or(LedgerState::is_before_import)
            && self.decision.next_state.imported
    }

    /// The state to write ahead of sending, when this import can be marked with a snapshot
    /// time after the committed cursor (see the module docs).
    fn write_ahead(&self, committed: Option<DateTime<Utc>>) -> Option<LedgerState> {
        let at = self.snapshot_at?;
        let after_cursor = committed.is_none_or(|cursor| at > cursor);
        (self.imports() && after_cursor).then(|| LedgerState {
            written_ahead_at: Some(at),
            ..self.decision.next_state.clone()
        })
    }
}

/// The stored state as a decision's starting point, and whether it is a possibly unsent
/// write-ahead: marked with a snapshot time the committed cursor has not passed.
fn starting_point(stored: LedgerState, committed: Option<DateTime<Utc>>) -> (LedgerState, bool) {
    match stored.written_ahead_at {
        Some(at) if committed.is_none_or(|cursor| at > cursor) => (
            // A write-ahead is only ever made from a state that emitted nothing (checked in
            // `imports`): re-derive the import from there, with the decision already taken.
            LedgerState {
                import_decided: true,
                ..LedgerState::default()
            },
            true,
        ),
        _ => (
            LedgerState {
                written_ahead_at: None,
                ..stored
            },
            false,
        ),
    }
}

impl PollService {
    /// Reads the page's ledger and decides per order (steps 1–2); no write. Returns the
    /// orders with something to write or send, and the log entries of unusable orders.
    pub(super) async fn plan_page(
        &self,
        client: &BeyondClient,
        context: &DiffContext<'_>,
        orders: &[Order],
        force: Option<DateTime<Utc>>,
        committed: Option<DateTime<Utc>>,
        stats: &mut PollStats,
    ) -> Result<(Vec<OrderPlan>, Vec<ActivityEntry>), PollError> {
        let mut plans = Vec::new();
        let mut activity = Vec::new();
        if orders.is_empty() {
            return Ok((plans, activity));
        }
        let ids: Vec<String> = orders.iter().map(|order| order.id.to_string()).collect();
        let ledger = self
            .stores
            .order_ledger
            .get_many(context.tenant, &ids)
            .await?;
        for order in orders {
            if let Some(plan) = self
                .plan_order(
                    client,
                    context,
                    order,
                    &ledger,
                    force,
                    committed,
                    stats,
                    &mut activity,
                )
                .await?
            {
                plans.push(plan);
            }
        }
        Ok((plans, activity))
    }

    /// Steps 3–5 for the planned orders of a page, under the lease: the write-ahead (or
    /// pre-send) ledger states of imports, all events in order, the remaining ledger writes,
    /// and the activity entries (with `activity`, the page's log entries). `committed` is
    /// the cursor as committed now; `writes_ahead` is false when this poll's read cannot
    /// move the cursor (a resync from after it), so nothing would ever confirm a mark.
    pub(super) async fn emit_page(
        &self,
        tenant: &TenantId,
        mut plans: Vec<OrderPlan>,
        mut activity: Vec<ActivityEntry>,
        committed: Option<DateTime<Utc>>,
        writes_ahead: bool,
        stats: &mut PollStats,
    ) -> Result<(), PollError> {
        // 3. Imports: their state before anything is sent. Written ahead in full when the
        // mark works, otherwise the pre-send `import_decided` record (two writes).
        let mut written_ahead = vec![false; plans.len()];
        let mut early = Vec::new();
        for (index, plan) in plans.iter().enumerate() {
            if let Some(state) = plan.write_ahead(committed).filter(|_| writes_ahead) {
                written_ahead[index] = true;
                // A re-read of the same unsent write-ahead: stored already.
                if plan.stored.as_ref() != Some(&state) {
                    early.push((index, state));
                }
            } else if let Some(pre_send) = &plan.decision.pre_send_state {
                early.push((index, pre_send.clone()));
            }
        }
        let writes = early.into_iter().map(|(index, state)| {
            let plan = &plans[index];
            let (order_id, version) = (plan.order_id.clone(), plan.version);
            async move {
                let stored = self.put_ledger(tenant, &order_id, &state, version).await;
                (index, stored)
            }
        });
        let written: Vec<(usize, Result<u64, PollError>)> = futures::stream::iter(writes)
            .buffer_unordered(self.settings.ledger_concurrency.max(1))
            .collect()
            .await;
        for (index, version) in written {
            plans[index].version = version?;
        }
        self.hook(tenant, PollStep::AfterPreSendWrite)?;

        // 4. Send, in order: per order its events, then its forced restatement.
        let mut messages = Vec::new();
        for plan in &plans {
            let sent = plan.decision.events.len() + plan.forced.len();
            if sent > 0 {
                // One span per order that changed, named by its id: X-Ray makes it a
                // subsegment annotated `order_id`, so `annotation.order_id = "…"` finds the
                // trace that carried this order's events (infra/OPERATING.md, Tracing).
                tracing::info_span!("order", order_id = %plan.order_id, events = sent)
                    .in_scope(|| ());
            }
            for event in plan.decision.events.iter().chain(&plan.forced) {
                messages.push(event_message(event).map_err(PollError::Encode)?);
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
        // 4b. Orders the shop took, for stock levels Afosto observed before it knew them.
        super::stock_orders::record(
            self.stores.stock_marks.as_ref(),
            tenant,
            plans.iter().flat_map(|plan| &plan.decision.events),
            self.clock.now(),
        )
        .await?;
        let parked: Vec<(&str, &Parked)> = plans
            .iter()
            .filter_map(|plan| Some((plan.order_id.as_str(), plan.parked.as_ref()?)))
            .collect();
        self.park(tenant, &parked, &mut activity).await?;
        self.hook(tenant, PollStep::AfterSend)?;

        // 5. The ledger of everything not written ahead, conditional on the version read
        // (or written just before sending).
        let writes: Vec<_> = plans
            .iter()
            .zip(&written_ahead)
            .filter(|(plan, ahead)| !**ahead && plan.ledger_changed())
            .map(|(plan, _)| {
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
        ledger: &HashMap<String, OrderLedgerEntry>,
        force: Option<DateTime<Utc>>,
        committed: Option<DateTime<Utc>>,
        stats: &mut PollStats,
        activity: &mut Vec<ActivityEntry>,
    ) -> Result<Option<OrderPlan>, PollError> {
        let tenant = context.tenant;
        let order_id = order.id.to_string();
        let entry = ledger.get(&order_id);
        let stored = match entry
            .map(|e| LedgerState::from_ledger_data(&e.data))
            .transpose()
        {
            Ok(stored) => stored,
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
        let (previous, unsent) = match stored.clone() {
            Some(stored) => {
                let (previous, unsent) = starting_point(stored, committed);
                (Some(previous), unsent)
            }
            None => (None, false),
        };
        if unsent {
            tracing::info!(%tenant, order = %order.id, "import possibly unsent: sent again");
        }
        let version = entry.map_or(0, |entry| entry.version);
        let snapshot_at = order.updated_at.map(|at| truncate_to_millis(at.as_utc()));
        let parked_at = stored.as_ref().and_then(|state| state.parked_at);
        if let (Some(parked), Some(at)) = (parked_at, snapshot_at)
            && at <= parked
        {
            // This version was parked already (its dead letter is out): skipped quietly.
            return Ok(None);
        }
        let restate = force.is_some() && previous.as_ref().is_some_and(|state| state.imported);
        let shipments = if order_sync::shipment_detected(previous.as_ref(), order)
            || (restate && order_sync::shipment_detected(None, order))
        {
            stats.shipment_reads += 1;
            Some(self.shipments(client, tenant, order, activity).await?)
        } else {
            None
        };
        let mut decision = match order_sync::diff(
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
        let mut forced = match force {
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
        let parked = match fit_events(decision.events.iter_mut().chain(forced.iter_mut())) {
            Ok(0) => None,
            Ok(shrunk) => {
                tracing::info!(%tenant, order = %order.id, shrunk, "order events shrunk to fit the queue");
                None
            }
            Err(reason) => {
                tracing::warn!(%tenant, order = %order.id, %reason, "order parked");
                stats.orders_parked += 1;
                // Nothing is emitted for this version; the state stays as it was, with
                // the mark that skips a re-read of the same version.
                decision.events.clear();
                decision.pre_send_state = None;
                decision.next_state = LedgerState {
                    parked_at: snapshot_at,
                    ..previous.clone().unwrap_or_default()
                };
                forced.clear();
                Some(Parked {
                    order_number: order.order_number.clone(),
                    reason,
                    snapshot_at: snapshot_at.unwrap_or(context.detected_at),
                })
            }
        };
        stats.events_forced += forced.len();
        let plan = OrderPlan {
            order_id,
            version,
            previous,
            stored,
            snapshot_at,
            decision,
            forced,
            parked,
        };
        Ok((plan.ledger_changed()
            || plan.has_events()
            || plan.decision.pre_send_state.is_some()
            || plan.parked.is_some())
        .then_some(plan))
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
            Ok(processes) => Ok(super::shipments_of(&processes)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("valid time")
    }

    fn imported(written_ahead_at: Option<DateTime<Utc>>) -> LedgerState {
        LedgerState {
            imported: true,
            last_sequence: 1,
            written_ahead_at,
            ..LedgerState::default()
        }
    }

    #[test]
    fn a_write_ahead_the_cursor_has_not_passed_is_possibly_unsent() {
        for committed in [None, Some(at(9))] {
            let (previous, unsent) = starting_point(imported(Some(at(10))), committed);
            assert!(unsent, "{committed:?}");
            assert!(previous.import_decided && previous.is_before_import());
        }
    }

    #[test]
    fn a_write_ahead_behind_the_cursor_was_sent_and_loses_its_mark() {
        for committed in [Some(at(10)), Some(at(11))] {
            let (previous, unsent) = starting_point(imported(Some(at(10))), committed);
            assert!(!unsent);
            assert_eq!(previous, imported(None));
        }
        let (previous, unsent) = starting_point(imported(None), None);
        assert!(!unsent);
        assert_eq!(previous, imported(None));
    }
}
