//! The loops a deployment runs without us: EventBridge firing the scheduler, and the two
//! SQS event source mappings feeding the poller and the command consumer. Each invocation
//! gets the Lambda event it would get in AWS; an invocation is never interrupted, so a
//! shutdown finishes the current one and stops before the next.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use connector::lambda::{
    MappingReport, ScheduleSummary, SqsEventSource, lambda_context, scheduled_event,
};
use connector::ports::StoreError;
use lambda_runtime::LambdaEvent;
use tokio::sync::watch;

use super::runtime::LocalRuntime;

/// How long a consumer loop waits for a message before checking for shutdown again.
const RECEIVE_WAIT: Duration = Duration::from_millis(200);
/// After a failed receive or invocation, so a broken queue does not spin.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum PumpError {
    #[error("the {queue} queue")]
    Queue {
        queue: &'static str,
        #[source]
        source: StoreError,
    },
    #[error("the scheduler invocation failed: {0}")]
    Schedule(String),
    #[error("the queues were not drained within {0:?}")]
    DrainTimeout(Duration),
}

/// A shutdown signal every loop watches; `trigger` is idempotent.
#[derive(Clone)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            sender: Arc::new(watch::channel(false).0),
        }
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the shutdown is triggered.
    pub async fn wait(&self) {
        let mut receiver = self.sender.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }
}

/// What the loops did, for reports and logs.
#[derive(Debug, Clone, Default)]
pub struct PumpStats {
    pub schedule_ticks: u64,
    pub polls_enqueued: u64,
    pub poll_invocations: u64,
    /// Wall time of each poller invocation: one poll cycle of the tenants in the batch.
    pub poll_durations: Vec<Duration>,
    pub poll_records: u64,
    pub poll_records_failed: u64,
    pub command_invocations: u64,
    pub command_durations: Vec<Duration>,
    pub command_records: u64,
    pub command_records_failed: u64,
    /// Receive or invocation errors the loops survived.
    pub errors: u64,
}

/// The scheduler and the two event source mappings over one [`LocalRuntime`].
pub struct Pumps {
    runtime: Arc<LocalRuntime>,
    polls: SqsEventSource,
    commands: SqsEventSource,
    stats: Mutex<PumpStats>,
}

impl Pumps {
    pub fn new(runtime: Arc<LocalRuntime>) -> Self {
        let polls = SqsEventSource::new(runtime.queues.poll.clone());
        // The template's mapping for the FIFO command queue: batches of 10.
        let commands = SqsEventSource::new(runtime.queues.commands.clone()).with_batch_size(10);
        Self {
            runtime,
            polls,
            commands,
            stats: Mutex::new(PumpStats::default()),
        }
    }

    pub fn runtime(&self) -> &Arc<LocalRuntime> {
        &self.runtime
    }

    pub fn stats(&self) -> PumpStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn record(&self, update: impl FnOnce(&mut PumpStats)) {
        if let Ok(mut stats) = self.stats.lock() {
            update(&mut stats);
        }
    }

    /// One EventBridge scheduled event: every active tenant gets a poll request.
    pub async fn tick(&self) -> Result<ScheduleSummary, PumpError> {
        let now = Utc::now();
        let context = lambda_context(
            uuid::Uuid::new_v4().to_string(),
            now + chrono::TimeDelta::seconds(60),
        );
        let summary = self
            .runtime
            .scheduler
            .handle(LambdaEvent::new(scheduled_event(now), context))
            .await
            .map_err(|error| PumpError::Schedule(error.to_string()))?;
        self.record(|stats| {
            stats.schedule_ticks += 1;
            stats.polls_enqueued += summary.enqueued as u64;
        });
        Ok(summary)
    }

    /// Up to one batch from the poll queue through the poller.
    pub async fn poll_once(&self, wait: Duration) -> Result<MappingReport, PumpError> {
        // An owned runtime in the handler's future keeps it `'static`, as spawned loops need.
        let runtime = self.runtime.clone();
        let started = Instant::now();
        let report = self
            .polls
            .poll_once(
                wait,
                |event| async move { runtime.poller.handle(event).await },
            )
            .await
            .map_err(|source| PumpError::Queue {
                queue: "poll",
                source,
            })?;
        if report.received > 0 {
            let elapsed = started.elapsed();
            self.record(|stats| {
                stats.poll_invocations += 1;
                stats.poll_durations.push(elapsed);
                stats.poll_records += report.received as u64;
                stats.poll_records_failed += report.failed as u64;
            });
        }
        Ok(report)
    }

    /// Up to one batch from the command queue through the command consumer.
    pub async fn commands_once(&self, wait: Duration) -> Result<MappingReport, PumpError> {
        let runtime = self.runtime.clone();
        let started = Instant::now();
        let report = self
            .commands
            .poll_once(
                wait,
                |event| async move { runtime.applier.handle(event).await },
            )
            .await
            .map_err(|source| PumpError::Queue {
                queue: "commands",
                source,
            })?;
        if report.received > 0 {
            let elapsed = started.elapsed();
            self.record(|stats| {
                stats.command_invocations += 1;
                stats.command_durations.push(elapsed);
                stats.command_records += report.received as u64;
                stats.command_records_failed += report.failed as u64;
            });
        }
        Ok(report)
    }

    /// Runs the scheduler (a tick now, then every `interval`) and both consumers until
    /// `shutdown`; each finishes the invocation it is in. The loops run concurrently in the
    /// caller's task rather than as spawned tasks: the batch processor's futures are not
    /// provably `Send` to the compiler (higher-ranked closure lifetimes), and one task is
    /// plenty for a local deployment.
    pub async fn run_until(&self, interval: Duration, shutdown: &Shutdown) {
        let schedule = async {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = shutdown.wait() => return,
                }
                match self.tick().await {
                    Ok(summary) => tracing::debug!(?summary, "scheduled polls"),
                    Err(error) => self.survive("schedule", &error),
                }
            }
        };
        let polls = async {
            while !shutdown.is_triggered() {
                if let Err(error) = self.poll_once(RECEIVE_WAIT).await {
                    self.survive("poll", &error);
                    tokio::time::sleep(ERROR_PAUSE).await;
                }
            }
        };
        let commands = async {
            while !shutdown.is_triggered() {
                if let Err(error) = self.commands_once(RECEIVE_WAIT).await {
                    self.survive("commands", &error);
                    tokio::time::sleep(ERROR_PAUSE).await;
                }
            }
        };
        tokio::join!(schedule, polls, commands);
    }

    /// A loop keeps going after an error, as a deployment would; the error is logged and
    /// counted.
    fn survive(&self, loop_name: &str, error: &PumpError) {
        tracing::warn!(
            pump = loop_name,
            error = %crate::commands::report(error),
            "local invocation failed; continuing"
        );
        self.record(|stats| stats.errors += 1);
    }

    /// Runs both consumers until the poll and command queues hold nothing (visible, in
    /// flight or delayed), or `timeout` passes. Failed records come back after the
    /// mapping's retry delay and are retried until their queue's redrive moves them to the
    /// dead-letter queue.
    pub async fn drain(&self, timeout: Duration) -> Result<(), PumpError> {
        let started = Instant::now();
        loop {
            let polled = self.poll_once(Duration::ZERO).await?;
            let applied = self.commands_once(Duration::ZERO).await?;
            if polled.received == 0 && applied.received == 0 && self.queues_empty().await? {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(PumpError::DrainTimeout(timeout));
            }
            if polled.received == 0 && applied.received == 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// Messages in the three dead-letter queues (visible, in flight or delayed).
    pub async fn dead_letter_total(&self) -> Result<u64, PumpError> {
        let queues = &self.runtime.queues;
        let mut total = 0;
        for (name, queue) in [
            ("poll dead-letter", &queues.poll_dead_letters),
            (
                "order-events dead-letter",
                &queues.order_events_dead_letters,
            ),
            ("commands dead-letter", &queues.command_dead_letters),
        ] {
            let depth = queue.depth().await.map_err(|source| PumpError::Queue {
                queue: name,
                source,
            })?;
            total += depth.total();
        }
        Ok(total)
    }

    async fn queues_empty(&self) -> Result<bool, PumpError> {
        let queues = &self.runtime.queues;
        for (name, queue) in [("poll", &queues.poll), ("commands", &queues.commands)] {
            let depth = queue.depth().await.map_err(|source| PumpError::Queue {
                queue: name,
                source,
            })?;
            if depth.total() > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
