//! The scheduled fan-out: every 5 minutes, one [`PollRequest`] per active tenant on the poll
//! queue.
//!
//! Tenants are listed page by page (`list_active`, up to 1000 per page) and enqueued in
//! SendMessageBatch calls of 10, a bounded number in flight. Each request carries a
//! `DelaySeconds` derived from a hash of the tenant id, so 10,000 tenants are spread over the
//! interval instead of hitting the pollers (and their shops) at once, and each tenant keeps
//! the same slot from round to round (its polls stay ~5 minutes apart).
//!
//! Each request starts a trace of its own (X-Ray `AWSTraceHeader`), so one tenant's poll and
//! the order events it sends are one trace, and a round over 10,000 tenants is not one trace
//! far beyond X-Ray's trace size limit (100–500 KB). A sampled share of them is recorded.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::config::{self, ConfigError};
use crate::metrics::{Metric, Metrics};
use crate::pipeline::poll_request::{PollRequest, PollTrigger};
use crate::ports::queue::{OutgoingMessage, SendFailure, limits};
use crate::ports::{Clock, MessageQueue, PageRequest, StoreError, TenantStore};
use crate::trace::TraceHeader;
use domain::tenant::{TenantConfig, TenantId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// Requests are delayed by `0..spread` seconds (at most SQS's 900 s).
    pub spread: Duration,
    /// Tenants per `list_active` page.
    pub page_size: u32,
    /// SendMessageBatch calls in flight at once.
    pub send_concurrency: usize,
    /// Percent (0–100) of scheduled polls whose trace is recorded (`Sampled=1`); the rest
    /// carry `Sampled=0`. X-Ray bills per recorded trace: at 100 %, 10,000 tenants polled
    /// every 5 minutes would be 86 million traces a month (docs in infra/OPERATING.md).
    pub trace_sample_percent: u8,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            // Four of the five minutes: the last minute leaves room for the polls themselves
            // before the next round starts.
            spread: Duration::from_secs(240),
            page_size: 1000,
            send_concurrency: 8,
            // X-Ray's own default rule records 5 % beyond its first request each second.
            trace_sample_percent: 5,
        }
    }
}

impl ScheduleSettings {
    /// Defaults, with `SCHEDULE_SPREAD_SECONDS`, `SCHEDULE_SEND_CONCURRENCY` and
    /// `POLL_TRACE_SAMPLE_PERCENT` when set.
    pub fn from_env() -> Result<Self, ConfigError> {
        let number = config::number_or;
        let defaults = Self::default();
        let spread = number("SCHEDULE_SPREAD_SECONDS", defaults.spread.as_secs())?;
        if spread > limits::MAX_DELAY_SECONDS {
            return Err(ConfigError::invalid(
                "SCHEDULE_SPREAD_SECONDS",
                format!("{spread} exceeds SQS's {} s", limits::MAX_DELAY_SECONDS),
            ));
        }
        let concurrency = number(
            "SCHEDULE_SEND_CONCURRENCY",
            defaults.send_concurrency as u64,
        )?;
        let percent = number(
            "POLL_TRACE_SAMPLE_PERCENT",
            u64::from(defaults.trace_sample_percent),
        )?;
        let trace_sample_percent = u8::try_from(percent)
            .ok()
            .filter(|percent| *percent <= 100)
            .ok_or_else(|| {
                ConfigError::invalid(
                    "POLL_TRACE_SAMPLE_PERCENT",
                    format!("{percent} is not 0-100"),
                )
            })?;
        Ok(Self {
            spread: Duration::from_secs(spread),
            send_concurrency: usize::try_from(concurrency.max(1)).unwrap_or(1),
            trace_sample_percent,
            ..defaults
        })
    }
}

/// The delay of `tenant`'s request: FNV-1a of the id, modulo the spread (capped at 900 s).
/// Deterministic, so a tenant keeps its slot in every round.
pub fn jitter(tenant: &TenantId, spread: Duration) -> Duration {
    let window = spread.as_secs().min(limits::MAX_DELAY_SECONDS);
    if window == 0 {
        return Duration::ZERO;
    }
    let hash = tenant
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    Duration::from_secs(hash % window)
}

/// A new trace for one scheduled poll, recorded with a chance of `percent` in 100.
fn poll_trace(now: chrono::DateTime<chrono::Utc>, percent: u8) -> TraceHeader {
    let roll = uuid::Uuid::new_v4().as_u128() % 100;
    TraceHeader {
        sampled: Some(roll < u128::from(percent)),
        ..TraceHeader::new_root(now)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("listing active tenants failed")]
    Store(#[from] StoreError),
    /// Some requests were not enqueued; the rest were. The round is not repeated (EventBridge
    /// would double the polls of the others); the next round, 5 minutes on, includes them.
    #[error("{} of {enqueued_plus_failed} poll requests were not enqueued; first: {}", failed.len(), failed.first().map(|(tenant, f)| format!("{tenant}: {}", f.message)).unwrap_or_default())]
    NotEnqueued {
        enqueued_plus_failed: usize,
        failed: Vec<(TenantId, SendFailure)>,
    },
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleReport {
    pub tenants_listed: usize,
    pub enqueued: usize,
    /// Listed but not polled (orders flow switched off).
    pub skipped: usize,
    /// `list_active` pages read.
    pub tenant_pages: usize,
    /// `send_batch` calls of at most 10 messages (one SendMessageBatch each when nothing is
    /// retried).
    pub send_calls: usize,
}

pub struct Scheduler {
    tenants: Arc<dyn TenantStore>,
    poll_queue: Arc<dyn MessageQueue>,
    clock: Arc<dyn Clock>,
    settings: ScheduleSettings,
    metrics: Arc<Metrics>,
}

impl Scheduler {
    pub fn new(
        tenants: Arc<dyn TenantStore>,
        poll_queue: Arc<dyn MessageQueue>,
        clock: Arc<dyn Clock>,
        settings: ScheduleSettings,
    ) -> Self {
        Self {
            tenants,
            poll_queue,
            clock,
            settings,
            metrics: Metrics::disabled(),
        }
    }

    /// Counts the poll requests enqueued into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// One round: every active tenant gets one scheduled poll request.
    pub async fn run(&self) -> Result<ScheduleReport, ScheduleError> {
        let requested_at = self.clock.now();
        let mut report = ScheduleReport::default();
        let mut failed: Vec<(TenantId, SendFailure)> = Vec::new();
        let mut page = PageRequest::first(self.settings.page_size);
        loop {
            let listed = self.tenants.list_active(page.clone()).await?;
            report.tenant_pages += 1;
            report.tenants_listed += listed.items.len();
            let due: Vec<&TenantConfig> = listed
                .items
                .iter()
                .filter(|tenant| tenant.is_active() && tenant.flows.orders)
                .collect();
            report.skipped += listed.items.len() - due.len();
            let batches: Vec<Vec<(TenantId, OutgoingMessage)>> = due
                .chunks(limits::BATCH)
                .map(|chunk| {
                    chunk
                        .iter()
                        .map(|tenant| {
                            let request = PollRequest {
                                tenant: tenant.id.clone(),
                                trigger: PollTrigger::Schedule,
                                requested_at,
                            };
                            let mut message = OutgoingMessage::new(request.to_json())
                                .with_delay(jitter(&tenant.id, self.settings.spread));
                            message.trace_header = Some(
                                poll_trace(requested_at, self.settings.trace_sample_percent)
                                    .to_string(),
                            );
                            (tenant.id.clone(), message)
                        })
                        .collect()
                })
                .collect();
            report.send_calls += batches.len();
            let results: Vec<_> = futures::stream::iter(batches)
                .map(|batch| self.send(batch))
                .buffer_unordered(self.settings.send_concurrency.max(1))
                .collect()
                .await;
            for result in results {
                let (sent, batch_failures) = result?;
                report.enqueued += sent;
                self.metrics.add_usize(Metric::PollRequestsEnqueued, sent);
                failed.extend(batch_failures);
            }
            match listed.next {
                Some(token) => page = PageRequest::after(self.settings.page_size, token),
                None => break,
            }
        }
        tracing::info!(
            tenants = report.tenants_listed,
            enqueued = report.enqueued,
            failed = failed.len(),
            send_calls = report.send_calls,
            "poll requests scheduled"
        );
        if failed.is_empty() {
            Ok(report)
        } else {
            Err(ScheduleError::NotEnqueued {
                enqueued_plus_failed: report.enqueued + failed.len(),
                failed,
            })
        }
    }

    async fn send(
        &self,
        batch: Vec<(TenantId, OutgoingMessage)>,
    ) -> Result<(usize, Vec<(TenantId, SendFailure)>), StoreError> {
        let (tenants, messages): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let report = self.poll_queue.send_batch(messages).await?;
        let failures: Vec<(TenantId, SendFailure)> = report
            .failures()
            .filter_map(|(index, failure)| {
                tenants
                    .get(index)
                    .map(|tenant| (tenant.clone(), failure.clone()))
            })
            .collect();
        Ok((tenants.len() - failures.len(), failures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_stable_bounded_and_spread() {
        let spread = Duration::from_secs(240);
        let ids: Vec<TenantId> = (0..2000)
            .map(|n| TenantId::parse(&format!("tenant-{n}")).expect("valid id"))
            .collect();
        let delays: Vec<u64> = ids.iter().map(|id| jitter(id, spread).as_secs()).collect();
        assert!(delays.iter().all(|d| *d < 240));
        assert_eq!(jitter(&ids[7], spread), jitter(&ids[7], spread));
        // Every 40-second slice of the window gets a fair share (expected ≈ 333 each).
        for slice in 0..6 {
            let count = delays.iter().filter(|d| **d / 40 == slice).count();
            assert!((250..420).contains(&count), "slice {slice}: {count}");
        }
        assert_eq!(jitter(&ids[0], Duration::ZERO), Duration::ZERO);
        assert!(jitter(&ids[0], Duration::from_secs(5000)).as_secs() < 900);
    }

    #[test]
    fn each_scheduled_poll_is_a_trace_of_its_own_recorded_at_the_set_rate() {
        let now = chrono::Utc::now();
        let traces: Vec<TraceHeader> = (0..10_000).map(|_| poll_trace(now, 5)).collect();
        let roots: std::collections::BTreeSet<&str> =
            traces.iter().map(|trace| trace.root.as_str()).collect();
        assert_eq!(roots.len(), traces.len(), "one root per poll");
        let sampled = traces.iter().filter(|trace| trace.is_sampled()).count();
        // 5 % of 10,000 = 500; ± 5 standard deviations (≈ 22 each).
        assert!((390..610).contains(&sampled), "{sampled}");
        assert!(traces.iter().all(|trace| trace.parent.is_none()));
        assert!((0..100).all(|_| !poll_trace(now, 0).is_sampled()));
        assert!((0..100).all(|_| poll_trace(now, 100).is_sampled()));
        // What the queue adapters send parses back to the same decision.
        let header = poll_trace(now, 0).to_string();
        assert_eq!(
            TraceHeader::parse(&header).map(|h| h.is_sampled()),
            Ok(false)
        );
    }
}
