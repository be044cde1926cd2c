//! An in-process queue with SQS semantics, persisted under the state directory: visibility
//! timeout and redelivery with a receive count, redrive to a dead-letter queue after
//! `max_receive_count` receives, FIFO group ordering (an in-flight group blocks its later
//! messages), 5-minute deduplication, delays.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::add_std;
use connector::ports::queue::{
    QueueDepth, ReceiptHandle, ReceivedMessage, SendReport, SentMessage, check_outgoing,
    check_receive, check_visibility, limits,
};
use connector::ports::{Clock, MessageQueue, StoreError};

/// How often a long poll re-checks for messages whose delay or visibility ran out.
const POLL_STEP: Duration = Duration::from_millis(50);

/// Where a queue sends messages received too often.
#[derive(Clone)]
pub struct Redrive {
    pub dead_letter: Arc<EmbeddedQueue>,
    pub max_receive_count: u32,
}

#[derive(Clone)]
pub struct EmbeddedQueueConfig {
    /// A name ending in `.fifo` makes a FIFO queue, as in SQS.
    pub name: String,
    pub visibility_timeout: Duration,
    /// Queue-level delay for every message.
    pub delay: Duration,
    /// FIFO only: use the body's SHA-256 when a message has no deduplication id.
    pub content_based_deduplication: bool,
    pub redrive: Option<Redrive>,
}

impl EmbeddedQueueConfig {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            visibility_timeout: Duration::from_secs(30),
            delay: Duration::ZERO,
            content_based_deduplication: false,
            redrive: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredMessage {
    message_id: String,
    sequence: u64,
    body: String,
    md5_of_body: String,
    attributes: BTreeMap<String, String>,
    group_id: Option<String>,
    deduplication_id: Option<String>,
    sent_at: DateTime<Utc>,
    visible_at: DateTime<Utc>,
    receive_count: u32,
    first_received_at: Option<DateTime<Utc>>,
    /// The nonce of the latest receipt; older receipts are refused.
    receipt: Option<String>,
    /// The `AWSTraceHeader` system attribute (absent from files written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace_header: Option<String>,
}

impl StoredMessage {
    fn in_flight(&self, now: DateTime<Utc>) -> bool {
        self.receive_count > 0 && self.receipt.is_some() && self.visible_at > now
    }
}

/// A message about to be stored.
struct Draft {
    message_id: String,
    body: String,
    attributes: BTreeMap<String, String>,
    group_id: Option<String>,
    deduplication_id: Option<String>,
    sent_at: DateTime<Utc>,
    visible_at: DateTime<Utc>,
    trace_header: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct DedupEntry {
    until: DateTime<Utc>,
    message_id: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct QueueFile {
    next_sequence: u64,
    /// In send order.
    messages: Vec<StoredMessage>,
    dedup: BTreeMap<String, DedupEntry>,
}

pub struct EmbeddedQueue {
    name: String,
    arn: String,
    fifo: bool,
    content_dedup: bool,
    visibility_timeout: Duration,
    delay: Duration,
    redrive: Option<Redrive>,
    file: JsonFile<QueueFile>,
    clock: Arc<dyn Clock>,
    arrivals: Notify,
}

const SENDER_ID: &str = "EMBEDDED";

impl EmbeddedQueue {
    /// Opens (or creates) the queue persisted at `{dir}/queues/{name}.json`.
    pub async fn open(
        dir: &Path,
        config: EmbeddedQueueConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, StoreError> {
        let name = config.name;
        let base = name.strip_suffix(".fifo").unwrap_or(&name);
        if base.is_empty()
            || name.len() > 80
            || !base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(StoreError::invalid(
                "queue name",
                format!("{name:?} must be 1..=80 of A-Za-z0-9-_ (plus .fifo)"),
            ));
        }
        let fifo = name.ends_with(".fifo");
        check_visibility(config.visibility_timeout)?;
        if config.delay.as_secs() > limits::MAX_DELAY_SECONDS {
            return Err(StoreError::invalid("queue delay", "exceeds 900 s"));
        }
        if let Some(redrive) = &config.redrive {
            if redrive.dead_letter.fifo != fifo {
                return Err(StoreError::invalid(
                    "dead-letter queue",
                    "must be of the same type (FIFO or standard) as its source",
                ));
            }
            if redrive.dead_letter.name == name {
                return Err(StoreError::invalid(
                    "dead-letter queue",
                    "a queue cannot be its own dead-letter queue",
                ));
            }
            if redrive.max_receive_count == 0 {
                return Err(StoreError::invalid(
                    "max receive count",
                    "must be at least 1",
                ));
            }
        }
        let file = JsonFile::open(dir.join("queues").join(format!("{name}.json"))).await?;
        Ok(Arc::new(Self {
            arn: format!("arn:aws:sqs:local:000000000000:{name}"),
            name,
            fifo,
            content_dedup: fifo && config.content_based_deduplication,
            visibility_timeout: config.visibility_timeout,
            delay: config.delay,
            redrive: config.redrive,
            file,
            clock,
            arrivals: Notify::new(),
        }))
    }

    /// Appends a message with the next sequence number.
    fn push(file: &mut QueueFile, draft: Draft) -> &mut StoredMessage {
        file.next_sequence += 1;
        file.messages.push(StoredMessage {
            message_id: draft.message_id,
            sequence: file.next_sequence,
            md5_of_body: hex::encode(Md5::digest(draft.body.as_bytes())),
            body: draft.body,
            attributes: draft.attributes,
            group_id: draft.group_id,
            deduplication_id: draft.deduplication_id,
            sent_at: draft.sent_at,
            visible_at: draft.visible_at,
            receive_count: 0,
            first_received_at: None,
            receipt: None,
            trace_header: draft.trace_header,
        });
        let last = file.messages.len() - 1;
        &mut file.messages[last]
    }

    /// Takes messages redriven from a source queue. They keep their id, body, attributes,
    /// group, sent time and receive count (as moto does; counting on in the dead-letter
    /// queue shows how often a message was tried).
    async fn accept_dead_letters(&self, messages: Vec<StoredMessage>) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.file
            .update(|file| {
                for message in messages {
                    let moved = Self::push(
                        file,
                        Draft {
                            message_id: message.message_id,
                            body: message.body,
                            attributes: message.attributes,
                            group_id: message.group_id,
                            deduplication_id: message.deduplication_id,
                            sent_at: message.sent_at,
                            visible_at: now,
                            trace_header: message.trace_header,
                        },
                    );
                    moved.receive_count = message.receive_count;
                    moved.first_received_at = message.first_received_at;
                }
                Ok(Mutation::Changed(()))
            })
            .await?;
        self.arrivals.notify_waiters();
        Ok(())
    }

    fn to_received(&self, message: &StoredMessage) -> ReceivedMessage {
        ReceivedMessage {
            message_id: message.message_id.clone(),
            receipt_handle: ReceiptHandle(format!(
                "{}:{}",
                message.message_id,
                message.receipt.clone().unwrap_or_default()
            )),
            body: message.body.clone(),
            md5_of_body: message.md5_of_body.clone(),
            attributes: message.attributes.clone(),
            receive_count: message.receive_count,
            sent_at: message.sent_at,
            first_received_at: message.first_received_at,
            sender_id: SENDER_ID.to_owned(),
            group_id: message.group_id.clone(),
            deduplication_id: message.deduplication_id.clone(),
            sequence_number: self.fifo.then(|| format!("{:020}", message.sequence)),
            queue_arn: self.arn.clone(),
            queue_name: self.name.clone(),
            trace_header: message.trace_header.clone(),
        }
    }

    /// One receive attempt: redrives exhausted messages, then takes what is deliverable.
    async fn try_receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        let now = self.clock.now();
        let visible_again_at = add_std(now, visibility, "visibility timeout")?;
        let mut guard = self.file.lock().await;
        let mut next = guard.current().clone();

        let mut exhausted = Vec::new();
        if let Some(redrive) = &self.redrive {
            next.messages.retain(|m| {
                let done = m.visible_at <= now && m.receive_count >= redrive.max_receive_count;
                if done {
                    exhausted.push(m.clone());
                }
                !done
            });
        }

        // FIFO: a group with a message in flight (or delayed ahead) delivers nothing more
        // until that message is deleted or visible again, which keeps the group in order.
        let mut blocked: HashSet<Option<String>> = if self.fifo {
            next.messages
                .iter()
                .filter(|m| m.in_flight(now))
                .map(|m| m.group_id.clone())
                .collect()
        } else {
            HashSet::new()
        };
        let mut taken = Vec::new();
        for message in next.messages.iter_mut() {
            if taken.len() == max {
                break;
            }
            if self.fifo && blocked.contains(&message.group_id) {
                continue;
            }
            if message.visible_at > now {
                if self.fifo {
                    blocked.insert(message.group_id.clone());
                }
                continue;
            }
            message.receive_count += 1;
            message.first_received_at.get_or_insert(now);
            message.receipt = Some(uuid::Uuid::new_v4().simple().to_string());
            message.visible_at = visible_again_at;
            taken.push(self.to_received(message));
        }

        if let (Some(redrive), false) = (&self.redrive, exhausted.is_empty()) {
            // Dead-letter queue first: a crash in between duplicates a message, never loses it.
            redrive.dead_letter.accept_dead_letters(exhausted).await?;
            guard.save(next).await?;
        } else if !taken.is_empty() {
            guard.save(next).await?;
        }
        Ok(taken)
    }

    /// Finds the message a receipt names, refusing receipts of an earlier delivery.
    fn locate<'a>(
        file: &'a mut QueueFile,
        receipt: &ReceiptHandle,
    ) -> Result<Option<&'a mut StoredMessage>, StoreError> {
        let (message_id, nonce) = receipt
            .0
            .split_once(':')
            .ok_or_else(|| StoreError::invalid_receipt("not a receipt of this queue"))?;
        match file
            .messages
            .iter_mut()
            .find(|m| m.message_id == message_id)
        {
            None => Ok(None),
            Some(message) if message.receipt.as_deref() == Some(nonce) => Ok(Some(message)),
            Some(_) => Err(StoreError::invalid_receipt(
                "the message was received again since; use the latest receipt",
            )),
        }
    }
}

#[async_trait]
impl MessageQueue for EmbeddedQueue {
    fn name(&self) -> &str {
        &self.name
    }

    fn arn(&self) -> &str {
        &self.arn
    }

    fn is_fifo(&self) -> bool {
        self.fifo
    }

    async fn send_batch(
        &self,
        messages: Vec<connector::ports::queue::OutgoingMessage>,
    ) -> Result<SendReport, StoreError> {
        let now = self.clock.now();
        let window = TimeDelta::seconds(limits::DEDUP_WINDOW_SECONDS);
        let results = self
            .file
            .update(|file| {
                file.dedup.retain(|_, entry| entry.until > now);
                let mut results = Vec::with_capacity(messages.len());
                for message in messages {
                    if let Err(failure) = check_outgoing(&message, self.fifo, self.content_dedup) {
                        results.push(Err(failure));
                        continue;
                    }
                    let dedup_id = if self.fifo {
                        message
                            .deduplication_id
                            .clone()
                            .or_else(|| Some(hex::encode(Sha256::digest(message.body.as_bytes()))))
                    } else {
                        None
                    };
                    if let Some(entry) = dedup_id.as_ref().and_then(|id| file.dedup.get(id)) {
                        // Accepted but not delivered again, like SQS inside the window.
                        results.push(Ok(SentMessage {
                            message_id: entry.message_id.clone(),
                            sequence_number: None,
                        }));
                        continue;
                    }
                    // Like SQS's `AWSTraceHeader` system attribute: the sending work's trace.
                    let trace_header = message.trace_header_to_send();
                    let delay = message.delay.unwrap_or(self.delay);
                    let visible_at = add_std(now, delay, "delay")?;
                    let message_id = uuid::Uuid::new_v4().to_string();
                    let sequence = Self::push(
                        file,
                        Draft {
                            message_id: message_id.clone(),
                            body: message.body,
                            attributes: message.attributes,
                            group_id: message.group_id,
                            deduplication_id: dedup_id.clone(),
                            sent_at: now,
                            visible_at,
                            trace_header,
                        },
                    )
                    .sequence;
                    if let Some(id) = dedup_id {
                        file.dedup.insert(
                            id,
                            DedupEntry {
                                until: now + window,
                                message_id: message_id.clone(),
                            },
                        );
                    }
                    results.push(Ok(SentMessage {
                        message_id,
                        sequence_number: self.fifo.then(|| format!("{sequence:020}")),
                    }));
                }
                Ok(Mutation::Changed(results))
            })
            .await?;
        self.arrivals.notify_waiters();
        Ok(SendReport { results })
    }

    async fn receive(
        &self,
        max: u32,
        wait: Duration,
        visibility: Option<Duration>,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        check_receive(max, wait, visibility)?;
        let visibility = visibility.unwrap_or(self.visibility_timeout);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrival = self.arrivals.notified();
            let taken = self.try_receive(max as usize, visibility).await?;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !taken.is_empty() || left.is_zero() {
                return Ok(taken);
            }
            tokio::select! {
                () = arrival => {}
                () = tokio::time::sleep(left.min(POLL_STEP)) => {}
            }
        }
    }

    async fn delete(&self, receipt: &ReceiptHandle) -> Result<(), StoreError> {
        self.file
            .update(|file| {
                let Some(message) = Self::locate(file, receipt)? else {
                    // Already deleted: SQS answers success too.
                    return Ok(Mutation::Unchanged(()));
                };
                let id = message.message_id.clone();
                file.messages.retain(|m| m.message_id != id);
                Ok(Mutation::Changed(()))
            })
            .await
    }

    async fn change_visibility(
        &self,
        receipt: &ReceiptHandle,
        timeout: Duration,
    ) -> Result<(), StoreError> {
        check_visibility(timeout)?;
        let now = self.clock.now();
        let visible_at = add_std(now, timeout, "visibility timeout")?;
        self.file
            .update(|file| match Self::locate(file, receipt)? {
                Some(message) if message.in_flight(now) => {
                    message.visible_at = visible_at;
                    Ok(Mutation::Changed(()))
                }
                _ => Err(StoreError::invalid_receipt("the message is not in flight")),
            })
            .await?;
        if timeout.is_zero() {
            self.arrivals.notify_waiters();
        }
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        let now = self.clock.now();
        Ok(self
            .file
            .read(|file| {
                let mut depth = QueueDepth::default();
                for message in &file.messages {
                    if message.visible_at <= now {
                        depth.visible += 1;
                    } else if message.in_flight(now) {
                        depth.in_flight += 1;
                    } else {
                        depth.delayed += 1;
                    }
                }
                depth
            })
            .await)
    }
}
