//! The queue- and schedule-driven handlers: what `poll-orders`, `apply-commands` and
//! `schedule-polls` do per invocation, built once per container.
//!
//! Each handler owns its function's [`MetricsPublisher`] and flushes it after every
//! invocation, successful or not. `new` counts nothing until [`PollOrders::with_metrics`]
//! & co. hand it a publisher: the AWS wiring (`epages_sync_aws::lambda::FromEnv`) gives
//! one that writes EMF to stdout, the local runner and the tests an in-memory sink.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde::{Deserialize, Serialize};

use crate::metrics::{Function, MetricsPublisher};
use crate::pipeline::apply::CommandApplier;
use crate::pipeline::poll::PollService;
use crate::pipeline::schedule::Scheduler;
use crate::pipeline::sqs_batch::BatchSummary;
use crate::ports::{Clock, MessageQueue};
use crate::trace::{self, TraceHeader};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

use super::HandlerError;

/// When a context carries no deadline (a local invocation built by hand), the invocation
/// is taken to last this long: the idempotency claims of the command consumer are held
/// until the deadline, so it must not be "now".
const DEFAULT_INVOCATION: Duration = Duration::from_secs(60);

/// A deadline this far before `now` is no real invocation's: Lambda's are at most 15 minutes
/// ahead and never hours behind. cargo-lambda's local emulator (`cargo lambda watch`) sends
/// a constant `Lambda-Runtime-Deadline-Ms: 600000`, i.e. ten minutes after 1970; read as
/// given, no command could ever be claimed there. A deadline just passed stays a deadline.
const IMPLAUSIBLY_PAST: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// The invocation's end, from the Lambda context (milliseconds since the epoch); without a
/// plausible one (absent, zero, or an emulator's constant), `now` + [`DEFAULT_INVOCATION`].
pub fn deadline_of(context: &Context, now: DateTime<Utc>) -> DateTime<Utc> {
    i64::try_from(context.deadline)
        .ok()
        .filter(|millis| *millis > 0)
        .and_then(DateTime::from_timestamp_millis)
        .filter(|deadline| *deadline > now - IMPLAUSIBLY_PAST)
        .unwrap_or_else(|| {
            now + chrono::TimeDelta::from_std(DEFAULT_INVOCATION).unwrap_or_default()
        })
}

/// The invocation's trace header (Lambda's, from the context or `_X_AMZN_TRACE_ID`).
pub(super) fn invocation_trace(context: &Context) -> Option<TraceHeader> {
    trace::invocation_header(context.xray_trace_id.as_deref())
}

/// `poll-orders`: poll requests from the (standard) poll queue; one poll per tenant.
pub struct PollOrders {
    service: PollService,
    dead_letters: Arc<dyn MessageQueue>,
    metrics: MetricsPublisher,
}

impl PollOrders {
    /// `dead_letters` takes the poll requests that fail for good and the parked orders.
    pub fn new(service: PollService, dead_letters: Arc<dyn MessageQueue>) -> Self {
        Self {
            service: service.with_dead_letters(dead_letters.clone()),
            dead_letters,
            metrics: MetricsPublisher::discard(Function::PollOrders),
        }
    }

    /// Publishes after every invocation, and has the poller count into the publisher's
    /// collector (build the service's `ShopClients` with the same collector to count
    /// Beyond calls too).
    pub fn with_metrics(self, metrics: MetricsPublisher) -> Self {
        Self {
            service: self.service.with_metrics(metrics.metrics().clone()),
            dead_letters: self.dead_letters,
            metrics,
        }
    }

    pub fn metrics(&self) -> &MetricsPublisher {
        &self.metrics
    }

    pub fn service(&self) -> &PollService {
        &self.service
    }

    pub async fn handle(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> Result<SqsBatchResponse, HandlerError> {
        // Each record runs in its own trace (`sqs_batch`); the invocation's is the fallback
        // for records that carry none.
        let result = trace::scope(
            invocation_trace(&event.context),
            self.service
                .handle_event(&event.payload, self.dead_letters.as_ref()),
        )
        .await;
        self.metrics.flush();
        Ok(result?)
    }
}

/// `apply-commands`: Afosto's commands from the FIFO command queue, applied to the shops.
pub struct ApplyCommands {
    applier: CommandApplier,
    dead_letters: Arc<dyn MessageQueue>,
    clock: Arc<dyn Clock>,
    metrics: MetricsPublisher,
}

impl ApplyCommands {
    pub fn new(
        applier: CommandApplier,
        dead_letters: Arc<dyn MessageQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            applier,
            dead_letters,
            clock,
            metrics: MetricsPublisher::discard(Function::ApplyCommands),
        }
    }

    /// Publishes after every invocation, and has the applier count into the publisher's
    /// collector (build its clients with the same collector to count Beyond calls too).
    pub fn with_metrics(self, metrics: MetricsPublisher) -> Self {
        Self {
            applier: self.applier.with_metrics(metrics.metrics().clone()),
            dead_letters: self.dead_letters,
            clock: self.clock,
            metrics,
        }
    }

    pub fn metrics(&self) -> &MetricsPublisher {
        &self.metrics
    }

    pub fn applier(&self) -> &CommandApplier {
        &self.applier
    }

    /// The batch response for the runtime, plus what happened to each record.
    pub async fn handle_with_summary(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> Result<(SqsBatchResponse, BatchSummary), HandlerError> {
        let deadline = deadline_of(&event.context, self.clock.now());
        // A command Afosto sent carries no trace header: its record falls back to this one.
        let result = trace::scope(
            invocation_trace(&event.context),
            self.applier
                .handle_event(&event.payload, deadline, self.dead_letters.as_ref()),
        )
        .await;
        self.metrics.flush();
        Ok(result?)
    }

    pub async fn handle(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> Result<SqsBatchResponse, HandlerError> {
        Ok(self.handle_with_summary(event).await?.0)
    }
}

/// What one scheduler run did; the invocation's result (visible in the console and logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSummary {
    pub tenants_listed: usize,
    pub enqueued: usize,
    pub skipped: usize,
    pub send_calls: usize,
}

/// `schedule-polls`: every 5 minutes, one poll request per active tenant.
pub struct SchedulePolls {
    scheduler: Scheduler,
    metrics: MetricsPublisher,
}

impl SchedulePolls {
    pub fn new(scheduler: Scheduler) -> Self {
        Self {
            scheduler,
            metrics: MetricsPublisher::discard(Function::SchedulePolls),
        }
    }

    /// Publishes after every invocation, and has the scheduler count into the
    /// publisher's collector.
    pub fn with_metrics(self, metrics: MetricsPublisher) -> Self {
        Self {
            scheduler: self.scheduler.with_metrics(metrics.metrics().clone()),
            metrics,
        }
    }

    pub fn metrics(&self) -> &MetricsPublisher {
        &self.metrics
    }

    pub async fn handle(
        &self,
        event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
    ) -> Result<ScheduleSummary, HandlerError> {
        // The poll requests carry the invocation's trace: each poll joins it.
        let result = trace::scope(invocation_trace(&event.context), self.scheduler.run()).await;
        self.metrics.flush();
        let report = result?;
        Ok(ScheduleSummary {
            tenants_listed: report.tenants_listed,
            enqueued: report.enqueued,
            skipped: report.skipped,
            send_calls: report.send_calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context_with_deadline(millis: u64) -> Context {
        let mut context = Context::default();
        context.deadline = millis;
        context
    }

    #[test]
    fn the_deadline_is_the_contexts_unless_no_real_invocation_could_have_it() {
        let now = DateTime::from_timestamp_millis(1_764_000_000_000).expect("a time");
        let default = now + chrono::TimeDelta::seconds(60);
        let millis = |at: DateTime<Utc>| u64::try_from(at.timestamp_millis()).expect("positive");
        // Lambda's: up to 15 minutes ahead, taken as given.
        let ahead = now + chrono::TimeDelta::minutes(15);
        assert_eq!(
            deadline_of(&context_with_deadline(millis(ahead)), now),
            ahead
        );
        // Just passed (a slow start): still the deadline, so nothing new is claimed.
        let passed = now - chrono::TimeDelta::seconds(2);
        assert_eq!(
            deadline_of(&context_with_deadline(millis(passed)), now),
            passed
        );
        // Absent, and cargo-lambda's constant 600000 (1970): the default invocation.
        assert_eq!(deadline_of(&context_with_deadline(0), now), default);
        assert_eq!(deadline_of(&context_with_deadline(600_000), now), default);
    }
}
