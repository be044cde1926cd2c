//! A queue with SQS semantics in the state database (table `queue_messages`, a row per
//! message, and `queue_dedup`): visibility timeout and redelivery with a receive count,
//! redrive to a dead-letter queue after `max_receive_count` receives, FIFO group ordering
//! (an in-flight group blocks its later messages), 5-minute deduplication, delays, the
//! `AWSTraceHeader` attribute. Several processes may send to and receive from one queue:
//! every receive is one `BEGIN IMMEDIATE` transaction, so a message is handed to one of them.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use md5::Md5;
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::db::{Database, from_json, sql, to_json};
use connector::ports::clock::add_std;
use connector::ports::queue::{
    QueueDepth, ReceiptHandle, ReceivedMessage, SendReport, SentMessage, check_outgoing,
    check_receive, check_visibility, limits,
};
use connector::ports::{Clock, MessageQueue, StoreError};

/// How often a long poll re-checks for messages whose delay or visibility ran out, or that
/// another process sent (arrivals from this process wake it at once).
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

/// What a message row keeps as JSON: everything that never changes after the send.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct MessageContent {
    body: String,
    md5_of_body: String,
    attributes: BTreeMap<String, String>,
    deduplication_id: Option<String>,
    sent_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace_header: Option<String>,
}

/// A message row.
struct Stored {
    sequence: i64,
    message_id: String,
    group_id: Option<String>,
    receive_count: u32,
    first_received_at: Option<DateTime<Utc>>,
    receipt: Option<String>,
    content: MessageContent,
}

impl Stored {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<(Self, String)> {
        let first: Option<i64> = row.get(4)?;
        Ok((
            Self {
                sequence: row.get(0)?,
                message_id: row.get(1)?,
                group_id: row.get(2)?,
                receive_count: row.get(3)?,
                first_received_at: first.and_then(DateTime::from_timestamp_micros),
                receipt: row.get(5)?,
                content: MessageContent {
                    body: String::new(),
                    md5_of_body: String::new(),
                    attributes: BTreeMap::new(),
                    deduplication_id: None,
                    sent_at: DateTime::UNIX_EPOCH,
                    trace_header: None,
                },
            },
            row.get(6)?,
        ))
    }
}

/// Reads the message rows a query selects (the columns `Stored::from_row` reads, in order).
fn select(
    connection: &Connection,
    query: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Stored>, StoreError> {
    let mut statement = connection.prepare_cached(query).map_err(sql("select"))?;
    let rows = statement
        .query_map(params, Stored::from_row)
        .map_err(sql("select"))?;
    let mut messages = Vec::new();
    for row in rows {
        let (mut stored, value) = row.map_err(sql("select"))?;
        stored.content = from_json("queue message", &value)?;
        messages.push(stored);
    }
    Ok(messages)
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A message about to be stored.
struct Draft {
    message_id: String,
    group_id: Option<String>,
    visible_at: DateTime<Utc>,
    receive_count: u32,
    first_received_at: Option<DateTime<Utc>>,
    content: MessageContent,
}

/// Appends a message to `queue`; returns its sequence number.
fn insert(connection: &Connection, queue: &str, draft: &Draft) -> Result<i64, StoreError> {
    let value = to_json("queue message", &draft.content)?;
    connection
        .prepare_cached(
            "INSERT INTO queue_messages (queue, message_id, group_id, visible_at_us, \
             receive_count, first_received_at_us, receipt, value) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)",
        )
        .and_then(|mut s| {
            s.execute((
                queue,
                &draft.message_id,
                &draft.group_id,
                micros(draft.visible_at),
                draft.receive_count,
                draft.first_received_at.map(micros),
                value,
            ))
        })
        .map_err(sql("insert"))?;
    Ok(connection.last_insert_rowid())
}

/// The JSON-file format of a queue before SQLite (`queues/{name}.json`), for the migration.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    messages: Vec<LegacyMessage>,
    dedup: BTreeMap<String, LegacyDedup>,
}

#[derive(Deserialize)]
struct LegacyMessage {
    message_id: String,
    body: String,
    md5_of_body: String,
    attributes: BTreeMap<String, String>,
    group_id: Option<String>,
    deduplication_id: Option<String>,
    sent_at: DateTime<Utc>,
    visible_at: DateTime<Utc>,
    receive_count: u32,
    first_received_at: Option<DateTime<Utc>>,
    receipt: Option<String>,
    #[serde(default)]
    trace_header: Option<String>,
}

#[derive(Deserialize)]
struct LegacyDedup {
    until: DateTime<Utc>,
    message_id: String,
}

impl LegacyFile {
    /// Imports the queue's messages in send order (in-flight ones keep their receipt, so a
    /// consumer that held one can still delete it) and its deduplication window.
    pub(crate) fn import(
        self,
        tx: &rusqlite::Transaction<'_>,
        queue: &str,
    ) -> Result<usize, StoreError> {
        for message in &self.messages {
            insert(
                tx,
                queue,
                &Draft {
                    message_id: message.message_id.clone(),
                    group_id: message.group_id.clone(),
                    visible_at: message.visible_at,
                    receive_count: message.receive_count,
                    first_received_at: message.first_received_at,
                    content: MessageContent {
                        body: message.body.clone(),
                        md5_of_body: message.md5_of_body.clone(),
                        attributes: message.attributes.clone(),
                        deduplication_id: message.deduplication_id.clone(),
                        sent_at: message.sent_at,
                        trace_header: message.trace_header.clone(),
                    },
                },
            )?;
            if let Some(receipt) = &message.receipt {
                tx.execute(
                    "UPDATE queue_messages SET receipt = ?1 \
                     WHERE sequence = last_insert_rowid()",
                    [receipt],
                )
                .map_err(sql("update"))?;
            }
        }
        for (id, entry) in &self.dedup {
            tx.execute(
                "INSERT OR REPLACE INTO queue_dedup (queue, dedup_id, until_us, message_id) \
                 VALUES (?1, ?2, ?3, ?4)",
                (queue, id, micros(entry.until), &entry.message_id),
            )
            .map_err(sql("insert"))?;
        }
        Ok(self.messages.len())
    }
}

pub struct EmbeddedQueue {
    name: String,
    arn: String,
    fifo: bool,
    content_dedup: bool,
    visibility_timeout: Duration,
    delay: Duration,
    redrive: Option<Redrive>,
    db: Arc<Database>,
    clock: Arc<dyn Clock>,
    arrivals: Notify,
}

const SENDER_ID: &str = "EMBEDDED";

impl EmbeddedQueue {
    /// Opens (or creates) the queue `config.name` in the state database of `dir`.
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
        let db = Database::open(dir).await?;
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
            if !Arc::ptr_eq(&redrive.dead_letter.db, &db) {
                // The move to the dead-letter queue is one transaction.
                return Err(StoreError::invalid(
                    "dead-letter queue",
                    "must be in the same state directory as its source",
                ));
            }
        }
        Ok(Arc::new(Self {
            arn: format!("arn:aws:sqs:local:000000000000:{name}"),
            name,
            fifo,
            content_dedup: fifo && config.content_based_deduplication,
            visibility_timeout: config.visibility_timeout,
            delay: config.delay,
            redrive: config.redrive,
            db,
            clock,
            arrivals: Notify::new(),
        }))
    }

    fn to_received(name: &str, arn: &str, fifo: bool, message: Stored) -> ReceivedMessage {
        ReceivedMessage {
            receipt_handle: ReceiptHandle(format!(
                "{}:{}",
                message.message_id,
                message.receipt.unwrap_or_default()
            )),
            message_id: message.message_id,
            md5_of_body: message.content.md5_of_body,
            body: message.content.body,
            attributes: message.content.attributes,
            receive_count: message.receive_count,
            sent_at: message.content.sent_at,
            first_received_at: message.first_received_at,
            sender_id: SENDER_ID.to_owned(),
            group_id: message.group_id,
            deduplication_id: message.content.deduplication_id,
            sequence_number: fifo.then(|| format!("{:020}", message.sequence)),
            queue_arn: arn.to_owned(),
            queue_name: name.to_owned(),
            trace_header: message.content.trace_header,
        }
    }

    /// One receive attempt, one transaction: redrives exhausted messages, then takes what
    /// is deliverable.
    async fn try_receive(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        let now = self.clock.now();
        let visible_again_at = add_std(now, visibility, "visibility timeout")?;
        let (name, arn, fifo) = (self.name.clone(), self.arn.clone(), self.fifo);
        let redrive = self
            .redrive
            .as_ref()
            .map(|r| (r.dead_letter.name.clone(), r.max_receive_count));
        let (taken, redriven) = self
            .db
            .write(move |tx| {
                let redriven = match &redrive {
                    Some((dead_letter, max_receive_count)) => {
                        redrive_exhausted(tx, &name, dead_letter, *max_receive_count, now)?
                    }
                    None => 0,
                };
                let deliverable = if fifo {
                    // A group with a message in flight, or with an earlier message not yet
                    // visible (delayed), delivers nothing more: that keeps the group in
                    // order. Several messages of one group may go out in one receive.
                    "SELECT sequence, message_id, group_id, receive_count, \
                     first_received_at_us, receipt, value FROM queue_messages m \
                     WHERE m.queue = ?1 AND m.visible_at_us <= ?2 AND NOT EXISTS ( \
                       SELECT 1 FROM queue_messages o WHERE o.queue = ?1 \
                       AND o.group_id = m.group_id AND o.visible_at_us > ?2 \
                       AND ((o.receive_count > 0 AND o.receipt IS NOT NULL) \
                            OR o.sequence < m.sequence)) \
                     ORDER BY m.sequence LIMIT ?3"
                } else {
                    "SELECT sequence, message_id, group_id, receive_count, \
                     first_received_at_us, receipt, value FROM queue_messages \
                     WHERE queue = ?1 AND visible_at_us <= ?2 ORDER BY sequence LIMIT ?3"
                };
                let mut taken = select(tx, deliverable, (&name, micros(now), max as i64))?;
                let mut update = tx
                    .prepare_cached(
                        "UPDATE queue_messages SET receive_count = ?2, \
                         first_received_at_us = ?3, receipt = ?4, visible_at_us = ?5 \
                         WHERE sequence = ?1",
                    )
                    .map_err(sql("update"))?;
                for message in &mut taken {
                    message.receive_count += 1;
                    message.first_received_at.get_or_insert(now);
                    message.receipt = Some(uuid::Uuid::new_v4().simple().to_string());
                    update
                        .execute((
                            message.sequence,
                            message.receive_count,
                            message.first_received_at.map(micros),
                            &message.receipt,
                            micros(visible_again_at),
                        ))
                        .map_err(sql("update"))?;
                }
                let received: Vec<ReceivedMessage> = taken
                    .into_iter()
                    .map(|m| Self::to_received(&name, &arn, fifo, m))
                    .collect();
                Ok((received, redriven))
            })
            .await?;
        if let (Some(redrive), true) = (&self.redrive, redriven > 0) {
            redrive.dead_letter.arrivals.notify_waiters();
        }
        Ok(taken)
    }

    /// Finds the message a receipt names, refusing receipts of an earlier delivery.
    fn locate(
        connection: &Connection,
        queue: &str,
        receipt: &ReceiptHandle,
    ) -> Result<Option<(i64, DateTime<Utc>, u32)>, StoreError> {
        let (message_id, nonce) = receipt
            .0
            .split_once(':')
            .ok_or_else(|| StoreError::invalid_receipt("not a receipt of this queue"))?;
        let row: Option<(i64, Option<String>, i64, u32)> = connection
            .prepare_cached(
                "SELECT sequence, receipt, visible_at_us, receive_count FROM queue_messages \
                 WHERE queue = ?1 AND message_id = ?2",
            )
            .and_then(|mut s| {
                s.query_row((queue, message_id), |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()
            })
            .map_err(sql("select"))?;
        match row {
            None => Ok(None),
            Some((sequence, Some(stored), visible_at, receive_count)) if stored == nonce => {
                let visible_at =
                    DateTime::from_timestamp_micros(visible_at).unwrap_or(DateTime::UNIX_EPOCH);
                Ok(Some((sequence, visible_at, receive_count)))
            }
            Some(_) => Err(StoreError::invalid_receipt(
                "the message was received again since; use the latest receipt",
            )),
        }
    }
}

/// Moves the messages received `max_receive_count` times, and visible again, to the
/// dead-letter queue, in the same transaction. They keep their id, body, attributes,
/// group, sent time and receive count (as moto does; counting on in the dead-letter
/// queue shows how often a message was tried).
fn redrive_exhausted(
    tx: &rusqlite::Transaction<'_>,
    queue: &str,
    dead_letter: &str,
    max_receive_count: u32,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let exhausted = select(
        tx,
        "SELECT sequence, message_id, group_id, receive_count, first_received_at_us, \
         receipt, value FROM queue_messages \
         WHERE queue = ?1 AND visible_at_us <= ?2 AND receive_count >= ?3 \
         ORDER BY sequence",
        (queue, micros(now), max_receive_count),
    )?;
    for message in &exhausted {
        insert(
            tx,
            dead_letter,
            &Draft {
                message_id: message.message_id.clone(),
                group_id: message.group_id.clone(),
                visible_at: now,
                receive_count: message.receive_count,
                first_received_at: message.first_received_at,
                content: message.content.clone(),
            },
        )?;
        tx.prepare_cached("DELETE FROM queue_messages WHERE sequence = ?1")
            .and_then(|mut s| s.execute([message.sequence]))
            .map_err(sql("delete"))?;
    }
    Ok(exhausted.len())
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
        let (name, fifo, content_dedup, queue_delay) =
            (self.name.clone(), self.fifo, self.content_dedup, self.delay);
        // Taken here: the trace context is the sending task's, not the blocking thread's.
        let trace_headers: Vec<Option<String>> = messages
            .iter()
            .map(|message| message.trace_header_to_send())
            .collect();
        let results = self
            .db
            .write(move |tx| {
                tx.prepare_cached("DELETE FROM queue_dedup WHERE queue = ?1 AND until_us <= ?2")
                    .and_then(|mut s| s.execute((&name, micros(now))))
                    .map_err(sql("prune"))?;
                let mut results = Vec::with_capacity(messages.len());
                for (message, trace_header) in messages.into_iter().zip(trace_headers) {
                    if let Err(failure) = check_outgoing(&message, fifo, content_dedup) {
                        results.push(Err(failure));
                        continue;
                    }
                    let dedup_id = if fifo {
                        message
                            .deduplication_id
                            .clone()
                            .or_else(|| Some(hex::encode(Sha256::digest(message.body.as_bytes()))))
                    } else {
                        None
                    };
                    if let Some(id) = &dedup_id {
                        let earlier: Option<String> = tx
                            .prepare_cached(
                                "SELECT message_id FROM queue_dedup \
                                 WHERE queue = ?1 AND dedup_id = ?2",
                            )
                            .and_then(|mut s| s.query_row((&name, id), |row| row.get(0)).optional())
                            .map_err(sql("select"))?;
                        if let Some(message_id) = earlier {
                            // Accepted but not delivered again, like SQS inside the window.
                            results.push(Ok(SentMessage {
                                message_id,
                                sequence_number: None,
                            }));
                            continue;
                        }
                    }
                    let delay = message.delay.unwrap_or(queue_delay);
                    let visible_at = add_std(now, delay, "delay")?;
                    let message_id = uuid::Uuid::new_v4().to_string();
                    let sequence = insert(
                        tx,
                        &name,
                        &Draft {
                            message_id: message_id.clone(),
                            group_id: message.group_id,
                            visible_at,
                            receive_count: 0,
                            first_received_at: None,
                            content: MessageContent {
                                md5_of_body: hex::encode(Md5::digest(message.body.as_bytes())),
                                body: message.body,
                                attributes: message.attributes,
                                deduplication_id: dedup_id.clone(),
                                sent_at: now,
                                trace_header,
                            },
                        },
                    )?;
                    if let Some(id) = dedup_id {
                        tx.prepare_cached(
                            "INSERT INTO queue_dedup (queue, dedup_id, until_us, message_id) \
                             VALUES (?1, ?2, ?3, ?4)",
                        )
                        .and_then(|mut s| s.execute((&name, id, micros(now + window), &message_id)))
                        .map_err(sql("insert"))?;
                    }
                    results.push(Ok(SentMessage {
                        message_id,
                        sequence_number: fifo.then(|| format!("{sequence:020}")),
                    }));
                }
                Ok(results)
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
        let (name, receipt) = (self.name.clone(), receipt.clone());
        self.db
            .write(move |tx| {
                // Already deleted: SQS answers success too.
                if let Some((sequence, _, _)) = Self::locate(tx, &name, &receipt)? {
                    tx.prepare_cached("DELETE FROM queue_messages WHERE sequence = ?1")
                        .and_then(|mut s| s.execute([sequence]))
                        .map_err(sql("delete"))?;
                }
                Ok(())
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
        let (name, receipt) = (self.name.clone(), receipt.clone());
        self.db
            .write(move |tx| match Self::locate(tx, &name, &receipt)? {
                // In flight: received (it has a receipt) and not visible again yet.
                Some((sequence, until, count)) if count > 0 && until > now => {
                    tx.prepare_cached(
                        "UPDATE queue_messages SET visible_at_us = ?2 WHERE sequence = ?1",
                    )
                    .and_then(|mut s| s.execute((sequence, micros(visible_at))))
                    .map_err(sql("update"))?;
                    Ok(())
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
        let now = micros(self.clock.now());
        let name = self.name.clone();
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(
                        "SELECT \
                           COUNT(*) FILTER (WHERE visible_at_us <= ?2), \
                           COUNT(*) FILTER (WHERE visible_at_us > ?2 AND receive_count > 0 \
                                            AND receipt IS NOT NULL), \
                           COUNT(*) FILTER (WHERE visible_at_us > ?2 AND NOT \
                                            (receive_count > 0 AND receipt IS NOT NULL)) \
                         FROM queue_messages WHERE queue = ?1",
                    )
                    .and_then(|mut s| {
                        s.query_row((&name, now), |row| {
                            let count = |i| row.get::<_, i64>(i).map(|n| n.unsigned_abs());
                            Ok(QueueDepth {
                                visible: count(0)?,
                                in_flight: count(1)?,
                                delayed: count(2)?,
                            })
                        })
                    })
                    .map_err(sql("depth"))
            })
            .await
    }

    /// Reads the visible messages, oldest first, without receiving them: nothing about
    /// them changes (receive count, visibility, FIFO group). Their receipts delete nothing.
    async fn peek(&self, max: usize) -> Result<Vec<ReceivedMessage>, StoreError> {
        let now = micros(self.clock.now());
        let (name, arn, fifo) = (self.name.clone(), self.arn.clone(), self.fifo);
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        self.db
            .read(move |connection| {
                let messages = select(
                    connection,
                    "SELECT sequence, message_id, group_id, receive_count, \
                     first_received_at_us, NULL, value FROM queue_messages \
                     WHERE queue = ?1 AND visible_at_us <= ?2 ORDER BY sequence LIMIT ?3",
                    (&name, now, limit),
                )?;
                Ok(messages
                    .into_iter()
                    .map(|m| Self::to_received(&name, &arn, fifo, m))
                    .collect())
            })
            .await
    }

    fn peek_receives(&self) -> bool {
        false
    }
}
