//! The SQS batch processor (`connector::pipeline::sqs_batch`) over a real embedded
//! dead-letter queue: partial batch responses, FIFO group hold-back, dead-lettering with a
//! reason, and no empty batch item identifier.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use connector::pipeline::sqs_batch::*;
use connector::ports::{MessageQueue, SystemClock};
use embedded::{EmbeddedQueue, EmbeddedQueueConfig};

/// Answers from the body: `ok`, `retry`, `reject`; records every call.
struct ScriptedHandler {
    calls: Mutex<Vec<String>>,
}

#[async_trait]
impl RecordHandler for ScriptedHandler {
    async fn handle(&self, record: Record<'_>) -> RecordOutcome {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(record.message_id.to_owned());
        }
        match record.body {
            "retry" => RecordOutcome::retry("shop answered 503"),
            "reject" => RecordOutcome::reject("field `type`: unknown command type"),
            _ => RecordOutcome::Done,
        }
    }
}

fn record(id: &str, body: &str, group: Option<&str>) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.to_owned());
    message.body = Some(body.to_owned());
    message.event_source_arn = Some("arn:aws:sqs:eu-west-1:000000000000:source".to_owned());
    message
        .attributes
        .insert("ApproximateReceiveCount".to_owned(), "1".to_owned());
    if let Some(group) = group {
        message
            .attributes
            .insert("MessageGroupId".to_owned(), group.to_owned());
    }
    message
}

fn event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

async fn dead_letter_queue(dir: &std::path::Path, name: &str) -> Arc<EmbeddedQueue> {
    EmbeddedQueue::open(dir, EmbeddedQueueConfig::new(name), Arc::new(SystemClock))
        .await
        .expect("queue opens")
}

fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
    let mut ids: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn fifo_holds_back_the_rest_of_a_failed_group_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dlq = dead_letter_queue(dir.path(), "commands-dlq.fifo").await;
    let handler = ScriptedHandler {
        calls: Mutex::new(Vec::new()),
    };
    let batch = event(vec![
        record("a1", "ok", Some("order-a")),
        record("b1", "retry", Some("order-b")),
        record("a2", "ok", Some("order-a")),
        record("b2", "ok", Some("order-b")),
        record("b3", "ok", Some("order-b")),
    ]);
    let (response, summary) = process_batch(
        &batch,
        QueueOrdering::Fifo { concurrency: 4 },
        dlq.as_ref(),
        &handler,
    )
    .await
    .expect("batch answers");

    assert_eq!(failed_ids(&response), vec!["b1", "b2", "b3"]);
    assert_eq!(
        summary,
        BatchSummary {
            done: 2,
            retried: 1,
            held_back: 2,
            dead_lettered: 0
        }
    );
    let calls = handler.calls.lock().expect("lock").clone();
    assert!(!calls.contains(&"b2".to_owned()), "b2 must not overtake b1");
    let position = |id: &str| calls.iter().position(|call| call == id);
    assert!(
        position("a1") < position("a2"),
        "group order kept: {calls:?}"
    );
}

#[tokio::test]
async fn a_rejected_record_goes_to_the_dead_letter_queue_with_its_reason_and_is_not_retried() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dlq = dead_letter_queue(dir.path(), "commands-dlq.fifo").await;
    let handler = ScriptedHandler {
        calls: Mutex::new(Vec::new()),
    };
    let batch = event(vec![
        record("x1", "reject", Some("order-x")),
        record("x2", "ok", Some("order-x")),
    ]);
    let (response, summary) = process_batch(
        &batch,
        QueueOrdering::Fifo { concurrency: 1 },
        dlq.as_ref(),
        &handler,
    )
    .await
    .expect("batch answers");

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(summary.dead_lettered, 1);
    assert_eq!(summary.done, 1);
    let received = dlq
        .receive(10, Duration::ZERO, None)
        .await
        .expect("dead letters readable");
    assert_eq!(received.len(), 1);
    let dead = &received[0];
    assert_eq!(dead.body, "reject");
    assert_eq!(
        dead.attributes
            .get(dead_letter_attributes::REASON)
            .map(String::as_str),
        Some("field `type`: unknown command type")
    );
    assert_eq!(
        dead.attributes
            .get(dead_letter_attributes::SOURCE_MESSAGE_ID)
            .map(String::as_str),
        Some("x1")
    );
}

#[tokio::test]
async fn standard_queues_report_each_failure_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dlq = dead_letter_queue(dir.path(), "poll-dlq").await;
    let handler = ScriptedHandler {
        calls: Mutex::new(Vec::new()),
    };
    let batch = event(vec![
        record("p1", "retry", None),
        record("p2", "ok", None),
        record("p3", "retry", None),
    ]);
    let (response, summary) = process_batch(
        &batch,
        QueueOrdering::Standard { concurrency: 2 },
        dlq.as_ref(),
        &handler,
    )
    .await
    .expect("batch answers");
    assert_eq!(failed_ids(&response), vec!["p1", "p3"]);
    assert_eq!(summary.done, 1);
    assert_eq!(handler.calls.lock().expect("lock").len(), 3);
}

#[tokio::test]
async fn a_record_without_message_id_fails_the_whole_batch_instead_of_an_empty_identifier() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dlq = dead_letter_queue(dir.path(), "poll-dlq").await;
    let handler = ScriptedHandler {
        calls: Mutex::new(Vec::new()),
    };
    let mut anonymous = record("ignored", "ok", None);
    anonymous.message_id = Some(String::new());
    let batch = event(vec![record("p1", "ok", None), anonymous]);
    let error = process_batch(
        &batch,
        QueueOrdering::Standard { concurrency: 1 },
        dlq.as_ref(),
        &handler,
    )
    .await
    .expect_err("no empty item identifier is ever returned");
    assert!(matches!(error, BatchError::MissingMessageId { index: 1 }));
    assert!(
        handler.calls.lock().expect("lock").is_empty(),
        "nothing runs before the batch is known to be reportable"
    );
}
