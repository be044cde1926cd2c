//! A local stand-in for Lambda's SQS event source mapping and the EventBridge schedule:
//! receive a batch, build the event Lambda would deliver, invoke the handler, then act on
//! the partial batch response as AWS does. Used by the CLI's `demo` and `run`, the chaos
//! test and the benchmarks, so they exercise the handlers exactly as deployed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};

use crate::ports::queue::ReceivedMessage;
use crate::ports::{MessageQueue, StoreError};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

/// A Lambda context for a local invocation that must end by `deadline`.
pub fn lambda_context(request_id: impl Into<String>, deadline: DateTime<Utc>) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.into();
    context.deadline = u64::try_from(deadline.timestamp_millis()).unwrap_or_default();
    context
}

/// The event EventBridge delivers on a `rate(...)` schedule.
pub fn scheduled_event(at: DateTime<Utc>) -> EventBridgeEvent<serde_json::Value> {
    let mut event = EventBridgeEvent::default();
    event.id = Some(uuid::Uuid::new_v4().to_string());
    event.detail_type = "Scheduled Event".to_owned();
    event.source = "aws.events".to_owned();
    event.time = Some(at);
    event.region = Some("local".to_owned());
    event.detail = serde_json::Value::Object(serde_json::Map::new());
    event
}

/// What one [`SqsEventSource::poll_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MappingReport {
    pub received: usize,
    /// Deleted after the handler reported them done.
    pub deleted: usize,
    /// Named in `batchItemFailures` (or the whole batch, when the invocation failed): made
    /// visible again after the retry delay; the queue's redrive counts the receives.
    pub failed: usize,
    /// The invocation itself returned an error.
    pub invocation_failed: bool,
}

/// One queue feeding one handler, as an event source mapping with `ReportBatchItemFailures`.
#[derive(Clone)]
pub struct SqsEventSource {
    queue: Arc<dyn MessageQueue>,
    batch_size: u32,
    /// Messages are hidden this long while the handler runs (the queue's visibility
    /// timeout in AWS).
    visibility: Duration,
    /// How soon a failed message is retried. AWS waits for the visibility timeout; a short
    /// delay keeps local runs quick while still not retrying in a tight loop.
    retry_delay: Duration,
    /// How long an invocation may take; the context's deadline.
    timeout: Duration,
    region: String,
}

impl SqsEventSource {
    pub fn new(queue: Arc<dyn MessageQueue>) -> Self {
        Self {
            queue,
            batch_size: 10,
            visibility: Duration::from_secs(120),
            retry_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(60),
            region: "local".to_owned(),
        }
    }

    pub fn with_batch_size(mut self, batch_size: u32) -> Self {
        self.batch_size = batch_size.clamp(1, 10);
        self
    }

    pub fn with_retry_delay(mut self, retry_delay: Duration) -> Self {
        self.retry_delay = retry_delay;
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn queue(&self) -> &Arc<dyn MessageQueue> {
        &self.queue
    }

    /// Receives up to one batch (waiting at most `wait` for the first message) and, when
    /// anything came, invokes `handler` once with the Lambda event for it.
    pub async fn poll_once<H, F, E>(
        &self,
        wait: Duration,
        handler: H,
    ) -> Result<MappingReport, StoreError>
    where
        H: FnOnce(LambdaEvent<SqsEvent>) -> F,
        F: Future<Output = Result<SqsBatchResponse, E>>,
        E: std::fmt::Display,
    {
        let received = self
            .queue
            .receive(self.batch_size, wait, Some(self.visibility))
            .await?;
        if received.is_empty() {
            return Ok(MappingReport::default());
        }
        let event = self.event_of(&received);
        let deadline = Utc::now()
            + chrono::TimeDelta::from_std(self.timeout).unwrap_or(chrono::TimeDelta::MAX);
        let context = lambda_context(uuid::Uuid::new_v4().to_string(), deadline);
        let outcome = handler(LambdaEvent::new(event, context)).await;
        self.settle(&received, outcome).await
    }

    fn event_of(&self, received: &[ReceivedMessage]) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = received
            .iter()
            .map(|message| message.to_lambda_record(&self.region))
            .collect();
        event
    }

    /// Deletes what succeeded, delays what failed. A response naming an unknown or empty
    /// item identifier fails the whole batch, as Lambda does.
    async fn settle<E: std::fmt::Display>(
        &self,
        received: &[ReceivedMessage],
        outcome: Result<SqsBatchResponse, E>,
    ) -> Result<MappingReport, StoreError> {
        let mut report = MappingReport {
            received: received.len(),
            ..MappingReport::default()
        };
        let failed: Option<Vec<&str>> = match &outcome {
            Err(error) => {
                tracing::warn!(queue = self.queue.name(), %error, "local invocation failed");
                report.invocation_failed = true;
                None
            }
            Ok(response) => {
                let names: Vec<&str> = response
                    .batch_item_failures
                    .iter()
                    .map(|failure| failure.item_identifier.as_str())
                    .collect();
                let all_known = names
                    .iter()
                    .all(|name| received.iter().any(|m| m.message_id == *name));
                all_known.then_some(names)
            }
        };
        for message in received {
            let retry = failed
                .as_ref()
                .is_none_or(|names| names.contains(&message.message_id.as_str()));
            if retry {
                self.queue
                    .change_visibility(&message.receipt_handle, self.retry_delay)
                    .await?;
                report.failed += 1;
            } else {
                self.queue.delete(&message.receipt_handle).await?;
                report.deleted += 1;
            }
        }
        Ok(report)
    }
}
