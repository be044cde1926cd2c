//! Dead-letter tools written once over the queue port: look at a dead-letter queue without
//! consuming it (`MessageQueue::peek`), and replay its messages to their source queue in FIFO group order, one
//! message or all. The operator CLI's `dlq` commands run these on either backend.

use std::time::Duration;

use crate::ports::queue::{OutgoingMessage, ReceivedMessage, SendFailure, limits};
use crate::ports::{MessageQueue, StoreError};

/// How long dead-letter tools hide the messages they look at; long enough for a batch.
const TOOL_VISIBILITY: Duration = Duration::from_secs(30);

/// Up to `max` messages of a (dead-letter) queue without consuming them, through the
/// queue's [`MessageQueue::peek`]: the embedded queue reads them as they are; SQS can only
/// receive them and make them visible again, which raises their receive count
/// ([`MessageQueue::peek_receives`] says which).
pub async fn peek(
    queue: &dyn MessageQueue,
    max: usize,
) -> Result<Vec<ReceivedMessage>, StoreError> {
    queue.peek(max).await
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
        // The replay stays in the trace of the work that sent the message first.
        trace_header: message.trace_header.clone(),
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
