//! Batch processing for SQS-triggered handlers, written once for every consumer.
//!
//! - **Partial batch response**: only the records that must be retried are reported
//!   (`ReportBatchItemFailures`), each by its exact message id. A record without a message
//!   id cannot be reported alone, so the whole batch fails instead: never an empty item
//!   identifier, which Lambda would read as "the whole batch failed" anyway, silently.
//! - **FIFO order per message group**: records of one group run one after another; after a
//!   record that must be retried, the rest of *its group* is reported unprocessed (so no
//!   later message overtakes it), while other groups carry on (Powertools'
//!   `skip_group_on_error`).
//! - **Permanent failures go to the dead-letter queue at once**, with the reason as message
//!   attributes, instead of burning `maxReceiveCount` retries. If that forward fails, the
//!   record is retried instead: nothing is lost.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;

use crate::ports::MessageQueue;
use crate::ports::queue::OutgoingMessage;
use crate::trace::{AWS_TRACE_HEADER, RecordTrace};

/// Message attributes set on a record forwarded to the dead-letter queue.
pub mod dead_letter_attributes {
    /// Why the record can never succeed.
    pub const REASON: &str = "epages-sync-reason";
    /// The message id the record had on its source queue.
    pub const SOURCE_MESSAGE_ID: &str = "epages-sync-source-message-id";
    /// The ARN of the source queue.
    pub const SOURCE_QUEUE: &str = "epages-sync-source-queue";
}

/// Longest reason kept in the dead-letter attribute; the full one is in the logs.
const MAX_REASON_CHARS: usize = 1024;

/// How the source queue orders its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOrdering {
    /// No order: every record stands alone; up to `concurrency` run at once.
    Standard { concurrency: usize },
    /// FIFO: records of one `MessageGroupId` in order; up to `concurrency` groups at once.
    Fifo { concurrency: usize },
}

/// One record as a handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub message_id: &'a str,
    pub body: &'a str,
    /// `ApproximateReceiveCount` (1 on the first delivery).
    pub receive_count: u32,
    /// FIFO only.
    pub group_id: Option<&'a str>,
    pub message: &'a SqsMessage,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Done, or nothing to do: the message is deleted.
    Done,
    /// Not now (a transient failure, a lease held elsewhere): SQS delivers it again after
    /// the visibility timeout, and dead-letters it after `maxReceiveCount` receives.
    Retry { reason: String },
    /// Can never succeed (malformed, unknown tenant, impossible request): forwarded to the
    /// dead-letter queue now, with the reason.
    Reject { reason: String },
}

impl RecordOutcome {
    /// The reason is logged and becomes the dead-letter attribute: redacted and capped.
    pub fn retry(reason: impl Into<String>) -> Self {
        Self::Retry {
            reason: crate::error_chain::sink_text(&reason.into()),
        }
    }

    pub fn reject(reason: impl Into<String>) -> Self {
        Self::Reject {
            reason: crate::error_chain::sink_text(&reason.into()),
        }
    }
}

/// The one thing an SQS-triggered pipeline implements.
#[async_trait]
pub trait RecordHandler: Send + Sync {
    async fn handle(&self, record: Record<'_>) -> RecordOutcome;
}

/// A batch that cannot be answered record by record.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(
        "record {index} of the batch has no message id, so it cannot be reported on its own; \
         failing the whole batch so that nothing is lost"
    )]
    MissingMessageId { index: usize },
}

/// Counts of what happened to a batch, for metrics and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub done: usize,
    pub retried: usize,
    /// Not processed because an earlier record of the same FIFO group must be retried.
    pub held_back: usize,
    pub dead_lettered: usize,
}

/// Processes a batch and returns the partial batch response for Lambda.
pub async fn process_batch(
    event: &SqsEvent,
    ordering: QueueOrdering,
    dead_letters: &dyn MessageQueue,
    handler: &dyn RecordHandler,
) -> Result<(SqsBatchResponse, BatchSummary), BatchError> {
    let records = parse_records(event)?;
    let (lanes, concurrency) = match ordering {
        QueueOrdering::Standard { concurrency } => (
            records.into_iter().map(|record| vec![record]).collect(),
            concurrency,
        ),
        QueueOrdering::Fifo { concurrency } => (group_in_order(records), concurrency),
    };
    // The lane futures are built before they enter the stream: a closure inside the stream
    // type trips rustc's higher-ranked lifetime check ("FnOnce is not general enough") when
    // a caller spawns the handler's future onto a multi-threaded runtime.
    let lane_futures: Vec<_> = lanes
        .into_iter()
        .map(|lane| run_lane(lane, dead_letters, handler))
        .collect();
    let lane_results: Vec<LaneResult> = futures::stream::iter(lane_futures)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;

    let mut response = SqsBatchResponse::default();
    let mut summary = BatchSummary::default();
    for lane in lane_results {
        summary.done += lane.done;
        summary.retried += lane.retried;
        summary.held_back += lane.held_back;
        summary.dead_lettered += lane.dead_lettered;
        for message_id in lane.failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    tracing::info!(
        done = summary.done,
        retried = summary.retried,
        held_back = summary.held_back,
        dead_lettered = summary.dead_lettered,
        "sqs batch processed"
    );
    Ok((response, summary))
}

fn parse_records(event: &SqsEvent) -> Result<Vec<Record<'_>>, BatchError> {
    event
        .records
        .iter()
        .enumerate()
        .map(|(index, message)| {
            let message_id = message
                .message_id
                .as_deref()
                .filter(|id| !id.is_empty())
                .ok_or(BatchError::MissingMessageId { index })?;
            Ok(Record {
                message_id,
                body: message.body.as_deref().unwrap_or_default(),
                receive_count: message
                    .attributes
                    .get("ApproximateReceiveCount")
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1),
                group_id: message.attributes.get("MessageGroupId").map(String::as_str),
                message,
            })
        })
        .collect()
}

/// Records split by message group, each group in delivery order. Records without a group
/// id (not expected on a FIFO queue) each form a group of their own.
fn group_in_order(records: Vec<Record<'_>>) -> Vec<Vec<Record<'_>>> {
    let mut lanes: Vec<Vec<Record<'_>>> = Vec::new();
    let mut lane_of_group: BTreeMap<&str, usize> = BTreeMap::new();
    for record in records {
        match record
            .group_id
            .and_then(|group| lane_of_group.get(group).copied())
        {
            Some(lane) => lanes[lane].push(record),
            None => {
                if let Some(group) = record.group_id {
                    lane_of_group.insert(group, lanes.len());
                }
                lanes.push(vec![record]);
            }
        }
    }
    lanes
}

#[derive(Default)]
struct LaneResult {
    failed: Vec<String>,
    done: usize,
    retried: usize,
    held_back: usize,
    dead_lettered: usize,
}

async fn run_lane(
    lane: Vec<Record<'_>>,
    dead_letters: &dyn MessageQueue,
    handler: &dyn RecordHandler,
) -> LaneResult {
    let mut result = LaneResult::default();
    let mut records = lane.into_iter();
    for record in records.by_ref() {
        // Each record's work (and its dead-letter forward) is a segment of the record's own
        // trace; what it sends carries that trace on (see `crate::trace`).
        let trace = RecordTrace::start(
            record
                .message
                .attributes
                .get(AWS_TRACE_HEADER)
                .map(String::as_str),
            crate::trace::current().as_ref(),
            chrono::Utc::now(),
        );
        let outcome = trace
            .run(
                Some(record.message_id),
                handle_record(record, dead_letters, handler),
            )
            .await;
        match outcome {
            RecordOutcome::Done => result.done += 1,
            RecordOutcome::Reject { .. } => result.dead_lettered += 1,
            RecordOutcome::Retry { .. } => {
                result.retried += 1;
                result.failed.push(record.message_id.to_owned());
                break;
            }
        }
    }
    // Only a FIFO lane has records left here: they must not overtake the retried one.
    for held in records {
        result.held_back += 1;
        result.failed.push(held.message_id.to_owned());
    }
    result
}

/// One record: the handler's outcome, a rejection forwarded to the dead-letter queue (or
/// retried if that fails), logged inside the record's span.
async fn handle_record(
    record: Record<'_>,
    dead_letters: &dyn MessageQueue,
    handler: &dyn RecordHandler,
) -> RecordOutcome {
    // Whatever the handler built, the reason leaves the process (dead-letter attribute,
    // logs) only redacted and capped.
    let outcome = match handler.handle(record).await {
        RecordOutcome::Reject { reason } => RecordOutcome::reject(reason),
        RecordOutcome::Retry { reason } => RecordOutcome::retry(reason),
        RecordOutcome::Done => RecordOutcome::Done,
    };
    let outcome = match outcome {
        RecordOutcome::Reject { reason } => match forward(&record, &reason, dead_letters).await {
            Ok(()) => RecordOutcome::Reject { reason },
            Err(forward_failure) => RecordOutcome::Retry {
                reason: format!(
                    "{reason}; and forwarding to the dead-letter queue failed: {forward_failure}"
                ),
            },
        },
        other => other,
    };
    match &outcome {
        RecordOutcome::Done => {}
        RecordOutcome::Reject { reason } => {
            tracing::warn!(message_id = record.message_id, %reason, "record dead-lettered");
        }
        RecordOutcome::Retry { reason } => {
            tracing::warn!(message_id = record.message_id, %reason, "record will be retried");
        }
    }
    outcome
}

async fn forward(
    record: &Record<'_>,
    reason: &str,
    dead_letters: &dyn MessageQueue,
) -> Result<(), String> {
    use dead_letter_attributes::{REASON, SOURCE_MESSAGE_ID, SOURCE_QUEUE};

    let mut message = OutgoingMessage::new(record.body)
        .with_attribute(REASON, truncate(reason, MAX_REASON_CHARS))
        .with_attribute(SOURCE_MESSAGE_ID, record.message_id);
    if let Some(queue) = record.message.event_source_arn.as_deref() {
        message = message.with_attribute(SOURCE_QUEUE, queue);
    }
    if dead_letters.is_fifo() {
        // The source message id is unique, so the dead-letter copy is sent once even if
        // this forward is repeated within the deduplication window.
        message.group_id = Some(record.group_id.unwrap_or(record.message_id).to_owned());
        message.deduplication_id = Some(record.message_id.to_owned());
    }
    let report = dead_letters
        .send_batch(vec![message])
        .await
        .map_err(|error| error.to_string())?;
    match report.results.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err(failure)) => Err(format!("{}: {}", failure.code, failure.message)),
        None => Err("the queue reported no result for the message".to_owned()),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_truncated_on_a_char_boundary() {
        let reason = "é".repeat(2000);
        let kept = truncate(&reason, MAX_REASON_CHARS);
        assert_eq!(kept.chars().count(), MAX_REASON_CHARS + 1);
    }
}
