//! Message queues with SQS semantics (standard and FIFO, visibility timeout, redrive to a
//! dead-letter queue): the port, its message types, the checks every adapter applies, and
//! the stage's three queue pairs. Dead-letter peek and replay, written once over this port,
//! are in `pipeline::dead_letters`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsMessage;
/// The Lambda SQS event types: a local runner builds events from received messages and
/// reads the handlers' partial batch responses.
use chrono::{DateTime, Utc};

use super::StoreError;

/// SQS limits that every adapter enforces the same way.
pub mod limits {
    /// Messages per SendMessageBatch / ReceiveMessage call.
    pub const BATCH: usize = 10;
    /// Bytes per message body and per SendMessageBatch payload.
    pub const PAYLOAD_BYTES: usize = 256 * 1024;
    pub const MAX_DELAY_SECONDS: u64 = 900;
    pub const MAX_WAIT_SECONDS: u64 = 20;
    pub const MAX_VISIBILITY_SECONDS: u64 = 12 * 3600;
    /// Length of group and deduplication ids.
    pub const MAX_ID_LEN: usize = 128;
    /// The FIFO deduplication interval.
    pub const DEDUP_WINDOW_SECONDS: i64 = 300;
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    /// FIFO only: messages of one group are delivered one at a time, in order.
    pub group_id: Option<String>,
    /// FIFO only: a repeat within 5 minutes is accepted but not delivered.
    pub deduplication_id: Option<String>,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
    /// Standard queues only (SQS refuses per-message delay on FIFO queues).
    pub delay: Option<Duration>,
    /// An X-Ray trace header to send instead of the current one (a dead-letter replay keeps
    /// the message's own). Usually `None`: see [`Self::trace_header_to_send`].
    pub trace_header: Option<String>,
}

impl OutgoingMessage {
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            ..Self::default()
        }
    }

    pub fn fifo(
        body: impl Into<String>,
        group_id: impl Into<String>,
        deduplication_id: impl Into<String>,
    ) -> Self {
        Self {
            body: body.into(),
            group_id: Some(group_id.into()),
            deduplication_id: Some(deduplication_id.into()),
            ..Self::default()
        }
    }

    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The `AWSTraceHeader` every adapter sends with this message: the explicit one, else the
    /// trace context of the work in progress ([`crate::trace::current`]). Always re-parsed
    /// and re-formatted, because SQS refuses a malformed header (and a replayed one came
    /// from outside): a bad one is dropped, never a reason not to send.
    pub fn trace_header_to_send(&self) -> Option<String> {
        match &self.trace_header {
            Some(explicit) => crate::trace::TraceHeader::parse(explicit).ok(),
            None => crate::trace::current(),
        }
        .map(|header| header.to_string())
    }

    /// Bytes this message counts towards the batch payload limit.
    pub fn payload_bytes(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len() + "String".len())
                .sum::<usize>()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
    /// FIFO only.
    pub sequence_number: Option<String>,
}

/// Why one message of a batch was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendFailure {
    pub code: String,
    pub message: String,
    /// Sending it again later may work (throttling, service errors); false for bad input.
    pub transient: bool,
}

impl SendFailure {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: "InvalidParameterValue".into(),
            message: message.into(),
            transient: false,
        }
    }
}

/// One result per message, in the order the messages were given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendReport {
    pub results: Vec<Result<SentMessage, SendFailure>>,
}

impl SendReport {
    pub fn all_sent(&self) -> bool {
        self.results.iter().all(Result::is_ok)
    }

    /// `(index, failure)` of every message that was not sent.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &SendFailure)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|f| (i, f)))
    }
}

/// Identifies one receipt of a message; a redelivery gets a new one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReceiptHandle(pub String);

/// A received message with everything an SQS Lambda event record carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: ReceiptHandle,
    pub body: String,
    pub md5_of_body: String,
    pub attributes: BTreeMap<String, String>,
    /// `ApproximateReceiveCount`, this receipt included.
    pub receive_count: u32,
    /// `SentTimestamp`.
    pub sent_at: DateTime<Utc>,
    /// `ApproximateFirstReceiveTimestamp`.
    pub first_received_at: Option<DateTime<Utc>>,
    pub sender_id: String,
    pub group_id: Option<String>,
    pub deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
    pub queue_arn: String,
    pub queue_name: String,
    /// The `AWSTraceHeader` system attribute, as sent (unchecked: it may come from anyone
    /// who can send to the queue).
    pub trace_header: Option<String>,
}

impl ReceivedMessage {
    /// The record Lambda's SQS event source mapping would deliver for this message.
    pub fn to_lambda_record(&self, region: &str) -> SqsMessage {
        let mut attributes = std::collections::HashMap::new();
        attributes.insert(
            "ApproximateReceiveCount".to_owned(),
            self.receive_count.to_string(),
        );
        attributes.insert(
            "SentTimestamp".to_owned(),
            self.sent_at.timestamp_millis().to_string(),
        );
        attributes.insert("SenderId".to_owned(), self.sender_id.clone());
        if let Some(first) = self.first_received_at {
            attributes.insert(
                "ApproximateFirstReceiveTimestamp".to_owned(),
                first.timestamp_millis().to_string(),
            );
        }
        for (name, value) in [
            ("MessageGroupId", &self.group_id),
            ("MessageDeduplicationId", &self.deduplication_id),
            ("SequenceNumber", &self.sequence_number),
            (crate::trace::AWS_TRACE_HEADER, &self.trace_header),
        ] {
            if let Some(value) = value {
                attributes.insert(name.to_owned(), value.clone());
            }
        }
        let message_attributes = self
            .attributes
            .iter()
            .map(|(name, value)| {
                let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
                attribute.string_value = Some(value.clone());
                attribute.data_type = Some("String".to_owned());
                (name.clone(), attribute)
            })
            .collect();
        let mut record = SqsMessage::default();
        record.message_id = Some(self.message_id.clone());
        record.receipt_handle = Some(self.receipt_handle.0.clone());
        record.body = Some(self.body.clone());
        record.md5_of_body = Some(self.md5_of_body.clone());
        record.attributes = attributes;
        record.message_attributes = message_attributes;
        record.event_source_arn = Some(self.queue_arn.clone());
        record.event_source = Some("aws:sqs".to_owned());
        record.aws_region = Some(region.to_owned());
        record
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// `ApproximateNumberOfMessages`.
    pub visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible`.
    pub in_flight: u64,
    /// `ApproximateNumberOfMessagesDelayed`.
    pub delayed: u64,
}

impl QueueDepth {
    pub fn total(&self) -> u64 {
        self.visible + self.in_flight + self.delayed
    }
}

#[async_trait]
pub trait MessageQueue: Send + Sync {
    fn name(&self) -> &str;
    fn arn(&self) -> &str;
    fn is_fifo(&self) -> bool;

    /// Sends any number of messages (in calls of at most 10); failed entries are retried a
    /// bounded number of times, then reported per message.
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<SendReport, StoreError>;

    /// Up to `max` (1..=10) messages, waiting up to `wait` (≤ 20 s) for the first one.
    /// `visibility` overrides the queue's visibility timeout for these receipts.
    async fn receive(
        &self,
        max: u32,
        wait: Duration,
        visibility: Option<Duration>,
    ) -> Result<Vec<ReceivedMessage>, StoreError>;

    async fn delete(&self, receipt: &ReceiptHandle) -> Result<(), StoreError>;

    /// Makes an in-flight message visible again after `timeout` (0 = now).
    async fn change_visibility(
        &self,
        receipt: &ReceiptHandle,
        timeout: Duration,
    ) -> Result<(), StoreError>;

    async fn depth(&self) -> Result<QueueDepth, StoreError>;

    /// Up to `max` visible messages, oldest first, for looking at (the operator's `dlq list`
    /// and `dlq show`); their receipts are not for deleting. The default receives them and
    /// makes them visible again at once ([`peek_by_receiving`]), which raises their receive
    /// count: SQS has no way to look without receiving. An adapter that can read without
    /// receiving overrides this and [`Self::peek_receives`].
    async fn peek(&self, max: usize) -> Result<Vec<ReceivedMessage>, StoreError> {
        peek_by_receiving(self, max).await
    }

    /// Whether [`Self::peek`] receives (raising the receive count of what it shows).
    fn peek_receives(&self) -> bool {
        true
    }
}

/// How long [`peek_by_receiving`] hides the messages it looks at; long enough for a batch.
const PEEK_VISIBILITY: Duration = Duration::from_secs(30);

/// Looks at up to `max` messages by receiving them and making them visible again before
/// returning, even when a receive failed, so nothing stays hidden. Raises their receive
/// count.
pub async fn peek_by_receiving<Q: MessageQueue + ?Sized>(
    queue: &Q,
    max: usize,
) -> Result<Vec<ReceivedMessage>, StoreError> {
    let mut seen: Vec<ReceivedMessage> = Vec::new();
    let mut outcome = Ok(());
    while seen.len() < max {
        let want = (max - seen.len()).min(limits::BATCH) as u32;
        match queue
            .receive(want, Duration::ZERO, Some(PEEK_VISIBILITY))
            .await
        {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => seen.extend(batch),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    for message in &seen {
        queue
            .change_visibility(&message.receipt_handle, Duration::ZERO)
            .await?;
    }
    outcome.map(|()| seen)
}

/// Checks one outgoing message against the rules SQS applies, identically for every adapter.
/// `content_dedup` is the FIFO queue's `ContentBasedDeduplication` setting.
pub fn check_outgoing(
    message: &OutgoingMessage,
    fifo: bool,
    content_dedup: bool,
) -> Result<(), SendFailure> {
    if message.body.is_empty() {
        return Err(SendFailure::invalid("the message body is empty"));
    }
    if message.payload_bytes() > limits::PAYLOAD_BYTES {
        return Err(SendFailure::invalid(format!(
            "the message is {} bytes; at most {} allowed",
            message.payload_bytes(),
            limits::PAYLOAD_BYTES
        )));
    }
    for (what, id) in [
        ("MessageGroupId", &message.group_id),
        ("MessageDeduplicationId", &message.deduplication_id),
    ] {
        if let Some(id) = id {
            if !fifo {
                return Err(SendFailure::invalid(format!(
                    "{what} is only allowed on FIFO queues"
                )));
            }
            if id.is_empty() || id.len() > limits::MAX_ID_LEN {
                return Err(SendFailure::invalid(format!(
                    "{what} must be 1..={} characters",
                    limits::MAX_ID_LEN
                )));
            }
        }
    }
    if fifo {
        if message.group_id.is_none() {
            return Err(SendFailure::invalid(
                "MessageGroupId is required on FIFO queues",
            ));
        }
        if message.deduplication_id.is_none() && !content_dedup {
            return Err(SendFailure::invalid(
                "MessageDeduplicationId is required: the queue has no content-based deduplication",
            ));
        }
        if message.delay.is_some_and(|d| !d.is_zero()) {
            return Err(SendFailure::invalid(
                "per-message DelaySeconds is not allowed on FIFO queues",
            ));
        }
    }
    if let Some(delay) = message.delay
        && (delay.as_secs() > limits::MAX_DELAY_SECONDS || delay.subsec_nanos() != 0)
    {
        return Err(SendFailure::invalid(format!(
            "DelaySeconds must be whole seconds in 0..={}",
            limits::MAX_DELAY_SECONDS
        )));
    }
    Ok(())
}

pub fn check_receive(
    max: u32,
    wait: Duration,
    visibility: Option<Duration>,
) -> Result<(), StoreError> {
    if max == 0 || max as usize > limits::BATCH {
        return Err(StoreError::invalid(
            "max messages",
            format!("{max} is not within 1..={}", limits::BATCH),
        ));
    }
    if wait.as_secs() > limits::MAX_WAIT_SECONDS {
        return Err(StoreError::invalid(
            "wait time",
            format!("{wait:?} exceeds {} s", limits::MAX_WAIT_SECONDS),
        ));
    }
    if let Some(visibility) = visibility {
        check_visibility(visibility)?;
    }
    Ok(())
}

pub fn check_visibility(visibility: Duration) -> Result<(), StoreError> {
    if visibility.as_secs() > limits::MAX_VISIBILITY_SECONDS {
        return Err(StoreError::invalid(
            "visibility timeout",
            format!(
                "{visibility:?} exceeds {} s",
                limits::MAX_VISIBILITY_SECONDS
            ),
        ));
    }
    Ok(())
}

/// A borrowed queue of a [`StageQueues`].
pub type QueueRef<'a> = &'a Arc<dyn MessageQueue>;

/// The three queues of a deployment, each with its dead-letter queue: poll requests, order
/// events (and command results) for Afosto, and Afosto's commands. The local runner, the
/// operator CLI and the tests open them from either backend.
#[derive(Clone)]
pub struct StageQueues {
    pub poll: Arc<dyn MessageQueue>,
    pub poll_dead_letters: Arc<dyn MessageQueue>,
    pub order_events: Arc<dyn MessageQueue>,
    pub order_events_dead_letters: Arc<dyn MessageQueue>,
    pub commands: Arc<dyn MessageQueue>,
    pub command_dead_letters: Arc<dyn MessageQueue>,
}

impl StageQueues {
    /// `(source, dead-letter queue)` pairs, named as the operator CLI names them.
    pub fn pairs(&self) -> [(&'static str, QueueRef<'_>, QueueRef<'_>); 3] {
        [
            ("poll", &self.poll, &self.poll_dead_letters),
            (
                "order-events",
                &self.order_events,
                &self.order_events_dead_letters,
            ),
            ("commands", &self.commands, &self.command_dead_letters),
        ]
    }
}
