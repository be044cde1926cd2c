//! Operational metrics: a cheap in-process collector the pipelines count into, and its
//! rendering as CloudWatch Embedded Metric Format (EMF) documents, one log line each.
//!
//! - [`Metrics`]: atomic counters per [`Metric`] plus the poll-lag samples. Shared as
//!   `Arc<Metrics>` by the pipelines, the Beyond client and the token source of one
//!   function; [`Metrics::disabled`] (the default everywhere) counts nothing.
//! - [`emf`]: what one invocation collected → EMF JSON documents (spec limits respected).
//! - [`MetricsPublisher`]: collector + EMF settings + [`MetricsSink`]; the Lambda handlers
//!   call [`MetricsPublisher::flush`] after every invocation. In Lambda the sink is stdout
//!   (CloudWatch Logs extracts EMF from any JSON log line, whatever else the function
//!   logs); tests and the local runner use a [`MemorySink`] and [`Metrics::snapshot`].
//!
//! Names, units and alarms: `infra/OPERATING-METRICS.md`. The names are a contract with the
//! SAM template's alarms and dashboard: never rename one, only add.

pub mod emf;
pub mod function_url;
mod publisher;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use emf::{EmfSettings, Function};
pub use publisher::{DiscardSink, MemorySink, MetricsPublisher, MetricsSink, StdoutSink};

/// The unit CloudWatch records with a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
}

impl Unit {
    /// The EMF / CloudWatch spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
        }
    }
}

macro_rules! metrics {
    ($($(#[$doc:meta])* $name:ident => $unit:ident,)+) => {
        /// Every metric the functions emit. The variant name is the CloudWatch metric name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Metric {
            $($(#[$doc])* $name,)+
        }

        impl Metric {
            /// Every metric, in declaration order (the order of EMF documents).
            pub const ALL: &'static [Metric] = &[$(Metric::$name,)+];

            /// The CloudWatch metric name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Metric::$name => stringify!($name),)+
                }
            }

            pub fn unit(self) -> Unit {
                match self {
                    $(Metric::$name => Unit::$unit,)+
                }
            }
        }
    };
}

metrics! {
    /// Orders read from a shop by the poller (every order on every page read).
    OrdersRead => Count,
    /// Order events sent to the outbound FIFO queue by the poller.
    OrderEventsEmitted => Count,
    /// Orders parked by the poller: their events could not be sent even shrunk (over the
    /// queue's size limit, or invalid); dead-lettered, and alarmed on.
    OrdersParked => Count,
    /// Polls that read their whole window.
    PollsCompleted => Count,
    /// Polls that ran out of pages or time and enqueued a continuation (progress, not an
    /// error).
    PollsContinued => Count,
    /// Polls that failed (retried or dead-lettered by the poll queue).
    PollsFailed => Count,
    /// Seconds since the tenant's last successful poll, measured when a poll starts; one
    /// value per polled tenant.
    PollLagSeconds => Seconds,
    /// Commands applied to a shop (`command.applied`).
    CommandsApplied => Count,
    /// Commands skipped: duplicates of completed commands, already in effect, or their
    /// flow switched off (`command.skipped`, or the stored result re-sent).
    CommandsSkipped => Count,
    /// Command messages dead-lettered as permanent failures (`command.failed`).
    CommandsFailed => Count,
    /// Command messages handed back to the queue for a retry (transient failures).
    CommandsRetried => Count,
    /// HTTP requests sent to a shop, every attempt, token calls included.
    BeyondApiCalls => Count,
    /// Shop answers with status 429.
    BeyondThrottled => Count,
    /// Successful token-endpoint exchanges for API tokens (client credentials or refresh).
    TokenRefreshes => Count,
    /// Poll requests put on the poll queue (scheduler, ePages webhook).
    PollRequestsEnqueued => Count,
    /// Commands put on the command queue by the Afosto webhook.
    CommandsEnqueued => Count,
    /// Webhook deliveries recognised as repeats and not acted on again.
    WebhooksDuplicate => Count,
    /// Function URL requests refused (4xx: bad signature, unknown tenant, bad input).
    RequestsRejected => Count,
    /// Function URL requests that failed on our side (5xx; the sender retries).
    RequestsFailed => Count,
    /// Completed app installs (install-app answered with the redirect).
    AppsInstalled => Count,
    /// Uninstall webhooks acted on (tenant paused, tokens deleted).
    AppsUninstalled => Count,
    /// Answers showing the shop's clock at an offset the tenant's configured zone does not
    /// have (once per change; docs/ORDER-EVENTS.md, "Shop time").
    ShopTimeMismatches => Count,
}

/// Pending poll-lag samples beyond this are dropped (their maximum is still kept in the
/// totals): a collector that is never flushed must not grow without bound.
const MAX_PENDING_LAG_SAMPLES: usize = 10_000;

/// One poll-lag observation.
#[derive(Debug, Clone, PartialEq)]
pub struct LagSample {
    pub tenant: String,
    pub seconds: f64,
}

/// What was collected since the last [`Metrics::take`]: one invocation's worth.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    counters: Vec<u64>,
    pub poll_lags: Vec<LagSample>,
}

impl Collected {
    /// Counts without poll-lag samples, e.g. to render by hand in tests.
    pub fn from_counts(counts: &[(Metric, u64)]) -> Self {
        let mut collected = Self::default();
        for (metric, value) in counts {
            collected.add(*metric, *value);
        }
        collected
    }

    pub fn get(&self, metric: Metric) -> u64 {
        self.counters.get(metric as usize).copied().unwrap_or(0)
    }

    pub fn add(&mut self, metric: Metric, value: u64) {
        if self.counters.len() < Metric::ALL.len() {
            self.counters.resize(Metric::ALL.len(), 0);
        }
        if let Some(slot) = self.counters.get_mut(metric as usize) {
            *slot = slot.saturating_add(value);
        }
    }
}

/// Poll-lag statistics over a collector's life.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LagSummary {
    pub samples: u64,
    pub max_seconds: f64,
    pub sum_seconds: f64,
}

/// Totals since the collector was created (flushed or not), for reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    counters: Vec<u64>,
    pub poll_lag: LagSummary,
}

impl MetricsSnapshot {
    pub fn get(&self, metric: Metric) -> u64 {
        self.counters.get(metric as usize).copied().unwrap_or(0)
    }

    /// The counters that are not zero, in [`Metric::ALL`] order.
    pub fn nonzero(&self) -> impl Iterator<Item = (Metric, u64)> + '_ {
        Metric::ALL
            .iter()
            .map(|metric| (*metric, self.get(*metric)))
            .filter(|(_, value)| *value > 0)
    }
}

#[derive(Default)]
struct LagState {
    pending: Vec<LagSample>,
    summary: LagSummary,
}

/// The collector. Counting is one relaxed atomic add; a disabled collector returns at
/// once. Lambda runs one invocation per container at a time, so "since the last flush" is
/// "this invocation".
pub struct Metrics {
    enabled: bool,
    pending: Vec<AtomicU64>,
    totals: Vec<AtomicU64>,
    lags: Mutex<LagState>,
}

/// The Beyond client reports its calls here (`beyond::observe`).
impl beyond::ClientObserver for Metrics {
    fn observe(&self, event: beyond::ClientEvent) {
        self.incr(match event {
            beyond::ClientEvent::ApiCall => Metric::BeyondApiCalls,
            beyond::ClientEvent::Throttled => Metric::BeyondThrottled,
            beyond::ClientEvent::TokenRefresh => Metric::TokenRefreshes,
        });
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.enabled)
            .field("totals", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// A counting collector.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::build(true))
    }

    /// A collector that counts nothing: the default of every pipeline and client, so
    /// code built without metrics pays one branch per count.
    pub fn disabled() -> Arc<Self> {
        Arc::new(Self::build(false))
    }

    fn build(enabled: bool) -> Self {
        let zeros = || Metric::ALL.iter().map(|_| AtomicU64::new(0)).collect();
        Self {
            enabled,
            pending: zeros(),
            totals: zeros(),
            lags: Mutex::new(LagState::default()),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn incr(&self, metric: Metric) {
        self.add(metric, 1);
    }

    pub fn add(&self, metric: Metric, value: u64) {
        if !self.enabled || value == 0 {
            return;
        }
        if let Some(counter) = self.pending.get(metric as usize) {
            counter.fetch_add(value, Ordering::Relaxed);
        }
    }

    /// `usize` counts (lengths, stats fields) without casts at every call site.
    pub fn add_usize(&self, metric: Metric, value: usize) {
        self.add(metric, u64::try_from(value).unwrap_or(u64::MAX));
    }

    /// One `PollLagSeconds` value for `tenant`.
    pub fn record_poll_lag(&self, tenant: &str, seconds: f64) {
        if !self.enabled || !seconds.is_finite() {
            return;
        }
        let seconds = seconds.max(0.0);
        let mut lags = self.lock_lags();
        lags.summary.samples += 1;
        lags.summary.sum_seconds += seconds;
        lags.summary.max_seconds = lags.summary.max_seconds.max(seconds);
        if lags.pending.len() < MAX_PENDING_LAG_SAMPLES {
            lags.pending.push(LagSample {
                tenant: tenant.to_owned(),
                seconds,
            });
        }
    }

    /// Drains what was counted since the last call (the invocation's metrics) and adds it
    /// to the totals.
    pub fn take(&self) -> Collected {
        let counters = self
            .pending
            .iter()
            .zip(&self.totals)
            .map(|(pending, total)| {
                let value = pending.swap(0, Ordering::Relaxed);
                total.fetch_add(value, Ordering::Relaxed);
                value
            })
            .collect();
        let poll_lags = std::mem::take(&mut self.lock_lags().pending);
        Collected {
            counters,
            poll_lags,
        }
    }

    /// Everything counted since the collector was created, flushed or not.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let counters = self
            .pending
            .iter()
            .zip(&self.totals)
            .map(|(pending, total)| {
                total
                    .load(Ordering::Relaxed)
                    .saturating_add(pending.load(Ordering::Relaxed))
            })
            .collect();
        MetricsSnapshot {
            counters,
            poll_lag: self.lock_lags().summary,
        }
    }

    fn lock_lags(&self) -> MutexGuard<'_, LagState> {
        // Samples and sums hold no invariant a panic half-way could break.
        self.lags
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_drain_per_invocation_and_add_up_in_the_totals() {
        let metrics = Metrics::new();
        metrics.add(Metric::OrdersRead, 3);
        metrics.incr(Metric::OrdersRead);
        metrics.record_poll_lag("t1", 12.5);
        let first = metrics.take();
        assert_eq!(first.get(Metric::OrdersRead), 4);
        assert_eq!(first.poll_lags.len(), 1);
        metrics.incr(Metric::OrdersRead);
        let second = metrics.take();
        assert_eq!(second.get(Metric::OrdersRead), 1);
        assert!(second.poll_lags.is_empty());
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot.get(Metric::OrdersRead), 5);
        assert_eq!(snapshot.poll_lag.samples, 1);
        assert_eq!(snapshot.poll_lag.max_seconds, 12.5);
        assert_eq!(
            snapshot.nonzero().collect::<Vec<_>>(),
            vec![(Metric::OrdersRead, 5)]
        );
    }

    #[test]
    fn a_disabled_collector_counts_nothing() {
        let metrics = Metrics::disabled();
        metrics.add(Metric::BeyondApiCalls, 7);
        metrics.record_poll_lag("t1", 1.0);
        assert_eq!(
            metrics.snapshot(),
            MetricsSnapshot {
                counters: vec![0; Metric::ALL.len()],
                poll_lag: LagSummary::default(),
            }
        );
    }

    #[test]
    fn pending_lag_samples_are_bounded() {
        let metrics = Metrics::new();
        for n in 0..(MAX_PENDING_LAG_SAMPLES + 5) {
            metrics.record_poll_lag("t", n as f64);
        }
        assert_eq!(metrics.take().poll_lags.len(), MAX_PENDING_LAG_SAMPLES);
        let summary = metrics.snapshot().poll_lag;
        assert_eq!(summary.samples, (MAX_PENDING_LAG_SAMPLES + 5) as u64);
        assert_eq!(summary.max_seconds, (MAX_PENDING_LAG_SAMPLES + 4) as f64);
    }
}
