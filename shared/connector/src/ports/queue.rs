//! Message queues with SQS semantics (standard and FIFO, visibility timeout, redrive to a
//! dead-letter queue), plus dead-letter peek and replay written once over the port.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
/// The Lambda SQS event types: a local runner builds events from received messages and
/// reads the handlers' partial batch responses.
pub use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
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

/// How long dead-letter tools hide the messages they look at; long enough for a batch.
const TOOL_VISIBILITY: Duration = Duration::from_secs(30);

/// Up to `max` messages of a (dead-letter) queue without consuming them: they are made
/// visible again before returning. Receiving raises their receive count.
pub async fn peek(
    queue: &dyn MessageQueue,
    max: usize,
) -> Result<Vec<ReceivedMessage>, StoreError> {
    let mut seen: Vec<ReceivedMessage> = Vec::new();
    let mut outcome = Ok(());
    while seen.len() < max {
        let want = (max - seen.len()).min(limits::BATCH) as u32;
        match queue
            .receive(want, Duration::ZERO, Some(TOOL_VISIBILITY))
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
    // Hand every message back even when a receive failed, so nothing stays hidden.
    for message in &seen {
        queue
            .change_visibility(&message.receipt_handle, Duration::ZERO)
            .await?;
    }
    outcome.map(|()| seen)
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    pub moved: usize,
    /// `(message id, failure)` of messages left in the dead-letter queue.
    pub failed: Vec<(String, SendFailure)>,
}

/// Moves up to `max` messages from a dead-letter queue back to `target` (their source
/// queue): send first, delete after, so a crash duplicates rather than loses. On FIFO
/// queues the deduplication id becomes `replay-{message id}`: the original id may still be
/// inside the 5-minute window and the copy would be dropped, while a replay repeated after
/// a crash is still recognised. FIFO-aware: see [`replay_with_progress`].
pub async fn replay(
    dead_letters: &dyn MessageQueue,
    target: &dyn MessageQueue,
    max: usize,
) -> Result<ReplayReport, StoreError> {
    replay_with_progress(dead_letters, target, max, &mut |_| {}).await
}

/// [`replay`], calling `progress` after each message moved (for progress bars).
///
/// FIFO dead-letter queues hand out a group's messages in their order and hold the rest of
/// a group back while some of it is in flight, so each received batch is moved group by
/// group in sequence order, one message at a time: a later message never reaches the
/// source queue before an earlier one of its group (a cancellation before the import of
/// its order). When a send fails, the failed message and the rest of its group in the batch
/// stay in the dead-letter queue and the replay stops.
pub async fn replay_with_progress(
    dead_letters: &dyn MessageQueue,
    target: &dyn MessageQueue,
    max: usize,
    progress: &mut (dyn FnMut(&ReceivedMessage) + Send),
) -> Result<ReplayReport, StoreError> {
    let mut report = ReplayReport::default();
    while report.moved + report.failed.len() < max {
        let want = (max - report.moved - report.failed.len()).min(limits::BATCH) as u32;
        let mut batch = dead_letters
            .receive(want, Duration::ZERO, Some(TOOL_VISIBILITY))
            .await?;
        if batch.is_empty() {
            break;
        }
        sort_dead_letters(&mut batch);
        move_in_order(dead_letters, target, batch, &mut report, progress).await?;
        if !report.failed.is_empty() {
            // A failing message would be received again at once; stop instead of looping.
            break;
        }
    }
    Ok(report)
}

/// Puts messages of one group together, each group in the order the queue delivered it
/// (a FIFO queue hands a group out in order, so receive order is the group's order; the
/// sort is stable); messages without a group (standard queues) by sent time. Sequence
/// numbers are not compared: they are only ordered on real SQS, moto draws them at random.
pub fn sort_dead_letters(messages: &mut [ReceivedMessage]) {
    messages.sort_by(|a, b| {
        a.group_id.cmp(&b.group_id).then_with(|| {
            if a.group_id.is_none() {
                a.sent_at.cmp(&b.sent_at)
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
}

fn replay_copy(message: &ReceivedMessage, target: &dyn MessageQueue) -> OutgoingMessage {
    OutgoingMessage {
        body: message.body.clone(),
        group_id: if target.is_fifo() {
            Some(
                message
                    .group_id
                    .clone()
                    .unwrap_or_else(|| message.message_id.clone()),
            )
        } else {
            None
        },
        deduplication_id: target
            .is_fifo()
            .then(|| format!("replay-{}", message.message_id)),
        attributes: message.attributes.clone(),
        delay: None,
    }
}

/// Sends `messages` (sorted) to `target` and deletes each from the dead-letter queue once
/// sent; hands back whatever was not sent.
async fn move_in_order(
    dead_letters: &dyn MessageQueue,
    target: &dyn MessageQueue,
    messages: Vec<ReceivedMessage>,
    report: &mut ReplayReport,
    progress: &mut (dyn FnMut(&ReceivedMessage) + Send),
) -> Result<(), StoreError> {
    if !target.is_fifo() && !dead_letters.is_fifo() {
        // No order to keep: one batch call.
        let outgoing = messages.iter().map(|m| replay_copy(m, target)).collect();
        let sent = target.send_batch(outgoing).await?;
        for (message, result) in messages.iter().zip(sent.results) {
            match result {
                Ok(_) => {
                    dead_letters.delete(&message.receipt_handle).await?;
                    report.moved += 1;
                    progress(message);
                }
                Err(failure) => {
                    dead_letters
                        .change_visibility(&message.receipt_handle, Duration::ZERO)
                        .await?;
                    report.failed.push((message.message_id.clone(), failure));
                }
            }
        }
        return Ok(());
    }
    // FIFO: one message per call, so a failed send cannot be overtaken by a later message
    // of its group sent in the same batch.
    let mut stopped: Vec<Option<String>> = Vec::new();
    for message in &messages {
        if stopped.contains(&message.group_id) {
            dead_letters
                .change_visibility(&message.receipt_handle, Duration::ZERO)
                .await?;
            continue;
        }
        let sent = target
            .send_batch(vec![replay_copy(message, target)])
            .await?;
        match sent.results.into_iter().next() {
            Some(Ok(_)) => {
                dead_letters.delete(&message.receipt_handle).await?;
                report.moved += 1;
                progress(message);
            }
            other => {
                let failure = match other {
                    Some(Err(failure)) => failure,
                    _ => SendFailure::invalid("the send returned no result"),
                };
                dead_letters
                    .change_visibility(&message.receipt_handle, Duration::ZERO)
                    .await?;
                report.failed.push((message.message_id.clone(), failure));
                stopped.push(message.group_id.clone());
            }
        }
    }
    Ok(())
}

/// What [`replay_message`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayOneOutcome {
    /// The message (or its whole group) was moved, or a send failed: see the report.
    Replayed(ReplayReport),
    /// No visible message has this id. On a FIFO queue a message can also hide behind 10
    /// or more earlier messages of its group, which are handed out first.
    NotFound,
    /// FIFO: earlier messages of the same group are still in the dead-letter queue;
    /// replaying this one alone would put it before them. Nothing was moved.
    Refused {
        group: String,
        /// Ids of the earlier messages, oldest first.
        earlier: Vec<String>,
    },
}

/// Moves one message, by id, from a dead-letter queue back to `target`: receives until it
/// is found, then hands every other message back at once. With `whole_group` (FIFO), every
/// message of its group is moved in order instead; without it, a message that has earlier
/// messages of its group still in the dead-letter queue is refused, because it would
/// overtake them (a cancellation applied before the import of its order).
pub async fn replay_message(
    dead_letters: &dyn MessageQueue,
    target: &dyn MessageQueue,
    message_id: &str,
    whole_group: bool,
    progress: &mut (dyn FnMut(&ReceivedMessage) + Send),
) -> Result<ReplayOneOutcome, StoreError> {
    let mut held: Vec<ReceivedMessage> = Vec::new();
    let outcome = find_and_replay(
        dead_letters,
        target,
        message_id,
        whole_group,
        &mut held,
        progress,
    )
    .await;
    // Hand back everything still held, even after a failure, so nothing stays hidden; a
    // receipt that went stale (the message came back on its own) is no loss.
    let mut hand_back = Ok(());
    for message in &held {
        match dead_letters
            .change_visibility(&message.receipt_handle, Duration::ZERO)
            .await
        {
            Ok(()) | Err(StoreError::InvalidReceipt { .. }) => {}
            Err(error) => hand_back = Err(error),
        }
    }
    let outcome = outcome?;
    hand_back.map(|()| outcome)
}

async fn find_and_replay(
    dead_letters: &dyn MessageQueue,
    target: &dyn MessageQueue,
    message_id: &str,
    whole_group: bool,
    held: &mut Vec<ReceivedMessage>,
    progress: &mut (dyn FnMut(&ReceivedMessage) + Send),
) -> Result<ReplayOneOutcome, StoreError> {
    // Receive (keeping everything hidden, or the same messages would come back) until the
    // message shows up or the queue has nothing more to hand out.
    let found = loop {
        let batch = dead_letters
            .receive(limits::BATCH as u32, Duration::ZERO, Some(TOOL_VISIBILITY))
            .await?;
        let fresh = absorb(held, batch);
        if let Some(found) = held.iter().find(|m| m.message_id == message_id) {
            break found.clone();
        }
        if fresh == 0 {
            return Ok(ReplayOneOutcome::NotFound);
        }
    };
    let fifo = dead_letters.is_fifo() && found.group_id.is_some();
    if !fifo {
        held.retain(|m| m.message_id != message_id);
        let mut report = ReplayReport::default();
        move_in_order(dead_letters, target, vec![found], &mut report, progress).await?;
        return Ok(ReplayOneOutcome::Replayed(report));
    }
    let group = found.group_id.clone().unwrap_or_default();
    let mut mine: Vec<ReceivedMessage> = held
        .iter()
        .filter(|m| m.group_id.as_deref() == Some(group.as_str()))
        .cloned()
        .collect();
    sort_dead_letters(&mut mine);
    let position = mine
        .iter()
        .position(|m| m.message_id == message_id)
        .unwrap_or(0);
    if !whole_group {
        if position > 0 {
            return Ok(ReplayOneOutcome::Refused {
                group,
                earlier: mine[..position]
                    .iter()
                    .map(|m| m.message_id.clone())
                    .collect(),
            });
        }
        held.retain(|m| m.message_id != message_id);
        let mut report = ReplayReport::default();
        move_in_order(dead_letters, target, vec![found], &mut report, progress).await?;
        return Ok(ReplayOneOutcome::Replayed(report));
    }
    // The whole group, in order: move what is held, then receive the rest of the group
    // (the queue hands it out once the moved messages are deleted), while the other groups
    // stay hidden in `held`.
    let mut report = ReplayReport::default();
    loop {
        held.retain(|m| m.group_id.as_deref() != Some(group.as_str()));
        move_in_order(dead_letters, target, mine, &mut report, progress).await?;
        if !report.failed.is_empty() {
            break;
        }
        let batch = dead_letters
            .receive(limits::BATCH as u32, Duration::ZERO, Some(TOOL_VISIBILITY))
            .await?;
        let fresh = absorb(held, batch);
        mine = held
            .iter()
            .filter(|m| m.group_id.as_deref() == Some(group.as_str()))
            .cloned()
            .collect();
        if mine.is_empty() && fresh == 0 {
            break;
        }
        sort_dead_letters(&mut mine);
    }
    Ok(ReplayOneOutcome::Replayed(report))
}

/// Adds received messages to `held`, replacing the receipt of one seen before (it became
/// visible again and was received anew); returns how many were new.
fn absorb(held: &mut Vec<ReceivedMessage>, batch: Vec<ReceivedMessage>) -> usize {
    let mut fresh = 0;
    for message in batch {
        match held.iter_mut().find(|m| m.message_id == message.message_id) {
            Some(seen) => *seen = message,
            None => {
                held.push(message);
                fresh += 1;
            }
        }
    }
    fresh
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
