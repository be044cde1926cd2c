//! Queue contract: SQS semantics on both adapters (batching, FIFO groups, visibility,
//! redrive to the dead-letter queue, replay, deduplication, delays).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use connector::pipeline::dead_letters::{peek, replay};
use connector::ports::queue::{OutgoingMessage, ReceivedMessage};
use connector::ports::{MessageQueue, StoreError};
use futures::future::BoxFuture;

use crate::support::aws::QueuePairFixture;

type MakePair = fn(QueueSpec) -> BoxFuture<'static, QueuePairFixture>;

const LONG: Duration = Duration::from_secs(30);

/// Receives until `want` messages arrived or a receive comes back empty (after a short wait).
async fn drain(queue: &dyn MessageQueue, want: usize) -> Vec<ReceivedMessage> {
    let mut got = Vec::new();
    for _ in 0..50 {
        if got.len() >= want {
            break;
        }
        let batch = queue
            .receive(10, Duration::from_secs(1), Some(LONG))
            .await
            .expect("receive");
        if batch.is_empty() {
            break;
        }
        got.extend(batch);
    }
    got
}

async fn batches_more_than_ten_and_reports_per_message(make: MakePair) {
    let pair = make(QueueSpec::standard("batch")).await;
    let queue = pair.queue.as_ref();
    let mut messages: Vec<_> = (0..25)
        .map(|i| {
            OutgoingMessage::new(format!("body-{i}")).with_attribute("tenant", format!("t-{i}"))
        })
        .collect();
    messages[7] = OutgoingMessage::new("");
    messages[19] = OutgoingMessage::new("late").with_delay(Duration::from_secs(901));
    let report = queue.send_batch(messages).await.expect("send");
    assert_eq!(report.results.len(), 25);
    let failed: Vec<usize> = report.failures().map(|(i, _)| i).collect();
    assert_eq!(failed, [7, 19]);
    assert!(report.failures().all(|(_, f)| !f.transient));
    assert!(!report.all_sent());

    let depth = queue.depth().await.expect("depth");
    assert_eq!(depth.visible, 23);
    let received = drain(queue, 23).await;
    assert_eq!(received.len(), 23);
    let bodies: HashSet<_> = received.iter().map(|m| m.body.clone()).collect();
    let expected: HashSet<_> = (0..25)
        .filter(|i| *i != 7 && *i != 19)
        .map(|i| format!("body-{i}"))
        .collect();
    assert_eq!(bodies, expected);
    for message in &received {
        let i = &message.body["body-".len()..];
        assert_eq!(message.attributes.get("tenant"), Some(&format!("t-{i}")));
        assert_eq!(message.receive_count, 1);
        assert_eq!(message.queue_arn, queue.arn());
        assert!(!message.md5_of_body.is_empty());
    }
    let depth = queue.depth().await.expect("depth");
    assert_eq!((depth.visible, depth.in_flight), (0, 23));
    for message in &received {
        queue.delete(&message.receipt_handle).await.expect("delete");
    }
    assert_eq!(queue.depth().await.expect("depth").total(), 0);
}

async fn fifo_keeps_group_order_and_blocks_in_flight_groups(make: MakePair) {
    let pair = make(QueueSpec::fifo("order")).await;
    let queue = pair.queue.as_ref();
    assert!(queue.is_fifo());
    // 3 groups × 5 messages, interleaved, 15 in one call (two SendMessageBatch chunks).
    let messages: Vec<_> = (0..5)
        .flat_map(|seq| {
            ["a", "b", "c"].map(|group| {
                OutgoingMessage::fifo(
                    format!("{group}{seq}"),
                    format!("tenant:{group}"),
                    format!("{group}-{seq}"),
                )
            })
        })
        .collect();
    let report = queue.send_batch(messages).await.expect("send");
    assert!(report.all_sent(), "{report:?}");

    let first = queue
        .receive(1, Duration::ZERO, Some(LONG))
        .await
        .expect("receive");
    assert_eq!(first.len(), 1);
    let head = &first[0];
    assert_eq!(head.body, "a0");
    assert_eq!(head.group_id.as_deref(), Some("tenant:a"));
    assert_eq!(head.deduplication_id.as_deref(), Some("a-0"));
    assert!(head.sequence_number.is_some());

    // While a0 is in flight, group a delivers nothing; b and c flow in order.
    let others = drain(queue, 10).await;
    assert_eq!(others.len(), 10);
    assert!(
        others.iter().all(|m| !m.body.starts_with('a')),
        "group a is blocked"
    );
    let mut per_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for message in &others {
        per_group
            .entry(message.group_id.clone().unwrap_or_default())
            .or_default()
            .push(message.body.clone());
        queue.delete(&message.receipt_handle).await.expect("delete");
    }
    assert_eq!(per_group["tenant:b"], ["b0", "b1", "b2", "b3", "b4"]);
    assert_eq!(per_group["tenant:c"], ["c0", "c1", "c2", "c3", "c4"]);

    queue.delete(&head.receipt_handle).await.expect("delete a0");
    let rest = drain(queue, 4).await;
    let bodies: Vec<_> = rest.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["a1", "a2", "a3", "a4"]);
}

async fn visibility_timeout_redelivers_with_receive_count(make: MakePair) {
    let mut spec = QueueSpec::standard("vis");
    spec.visibility_timeout = Duration::from_secs(1);
    spec.max_receive_count = 10;
    let pair = make(spec).await;
    let queue = pair.queue.as_ref();
    queue
        .send_batch(vec![OutgoingMessage::new("work")])
        .await
        .expect("send");

    let first = queue
        .receive(10, Duration::ZERO, None)
        .await
        .expect("receive");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].receive_count, 1);
    assert!(first[0].first_received_at.is_some());
    assert!(
        queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive")
            .is_empty(),
        "hidden while in flight"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = queue
        .receive(10, Duration::from_secs(1), None)
        .await
        .expect("receive");
    assert_eq!(second.len(), 1, "visible again after the timeout");
    assert_eq!(second[0].message_id, first[0].message_id);
    assert_eq!(second[0].receive_count, 2);
    assert_ne!(second[0].receipt_handle, first[0].receipt_handle);

    // A failed handler hands the message back at once.
    queue
        .change_visibility(&second[0].receipt_handle, Duration::ZERO)
        .await
        .expect("release");
    let third = queue
        .receive(10, Duration::from_secs(1), Some(LONG))
        .await
        .expect("receive");
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].receive_count, 3);
    let record = third[0].to_lambda_record("eu-west-1");
    assert_eq!(
        record
            .attributes
            .get("ApproximateReceiveCount")
            .map(String::as_str),
        Some("3")
    );
    assert_eq!(record.event_source_arn.as_deref(), Some(queue.arn()));

    queue
        .delete(&third[0].receipt_handle)
        .await
        .expect("delete");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive")
            .is_empty(),
        "deleted for good"
    );
    let bogus = queue
        .change_visibility(&third[0].receipt_handle, Duration::ZERO)
        .await;
    assert!(matches!(
        bogus,
        Err(StoreError::InvalidReceipt { .. }) | Err(StoreError::Backend { .. })
    ));
}

async fn dead_letters_after_max_receive_count_and_replays(make: MakePair) {
    let mut spec = QueueSpec::standard("dlq");
    spec.max_receive_count = 2;
    let pair = make(spec).await;
    let (queue, dead_letters) = (pair.queue.as_ref(), pair.dead_letters.as_ref());
    queue
        .send_batch(vec![
            OutgoingMessage::new("poison").with_attribute("kind", "cancel"),
        ])
        .await
        .expect("send");
    for attempt in 1..=2 {
        let got = queue
            .receive(1, Duration::from_secs(1), None)
            .await
            .expect("receive");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].receive_count, attempt);
        queue
            .change_visibility(&got[0].receipt_handle, Duration::ZERO)
            .await
            .expect("fail");
    }
    // The third receive finds the message over its limit and moves it aside.
    assert!(
        queue
            .receive(1, Duration::from_secs(1), None)
            .await
            .expect("receive")
            .is_empty()
    );
    assert_eq!(dead_letters.depth().await.expect("depth").visible, 1);

    let peeked = peek(dead_letters, 10).await.expect("peek");
    assert_eq!(peeked.len(), 1);
    assert_eq!(peeked[0].body, "poison");
    // The count carries over into the dead-letter queue (two tries); SQS can only look by
    // receiving, which counts this peek too, while the embedded queue looks without it.
    let looking = u32::from(dead_letters.peek_receives());
    assert_eq!(peeked[0].receive_count, 2 + looking);
    assert_eq!(
        peeked[0].attributes.get("kind").map(String::as_str),
        Some("cancel")
    );
    let again = peek(dead_letters, 10).await.expect("peek again");
    assert_eq!(again.len(), 1, "peek consumes nothing");
    assert_eq!(again[0].receive_count, 2 + 2 * looking);
    assert_eq!(
        dead_letters.depth().await.expect("depth").visible,
        1,
        "still visible after looking"
    );

    let report = replay(dead_letters, queue, 10).await.expect("replay");
    assert_eq!((report.moved, report.failed.len()), (1, 0));
    assert_eq!(dead_letters.depth().await.expect("depth").total(), 0);
    let back = queue
        .receive(1, Duration::from_secs(1), None)
        .await
        .expect("receive");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].body, "poison");
    assert_eq!(back[0].receive_count, 1);
    assert_eq!(
        back[0].attributes.get("kind").map(String::as_str),
        Some("cancel")
    );
}

async fn fifo_dead_letters_unblock_the_group_and_replay(make: MakePair) {
    let mut spec = QueueSpec::fifo("fdlq");
    spec.max_receive_count = 1;
    let pair = make(spec).await;
    let (queue, dead_letters) = (pair.queue.as_ref(), pair.dead_letters.as_ref());
    queue
        .send_batch(vec![
            OutgoingMessage::fifo("m1", "tenant:o-1", "d1"),
            OutgoingMessage::fifo("m2", "tenant:o-1", "d2"),
        ])
        .await
        .expect("send");
    let got = queue
        .receive(1, Duration::ZERO, None)
        .await
        .expect("receive");
    assert_eq!(got[0].body, "m1");
    queue
        .change_visibility(&got[0].receipt_handle, Duration::ZERO)
        .await
        .expect("fail");
    let next = drain(queue, 1).await;
    assert_eq!(
        next.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["m2"]
    );
    queue.delete(&next[0].receipt_handle).await.expect("delete");

    let dead = peek(dead_letters, 10).await.expect("peek");
    assert_eq!(
        dead.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["m1"]
    );
    assert_eq!(dead[0].group_id.as_deref(), Some("tenant:o-1"));

    let report = replay(dead_letters, queue, 10).await.expect("replay");
    assert_eq!(report.moved, 1);
    let back = drain(queue, 1).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].body, "m1");
    assert_eq!(back[0].group_id.as_deref(), Some("tenant:o-1"));
    let dedup = back[0].deduplication_id.clone().unwrap_or_default();
    assert!(dedup.starts_with("replay-"), "a fresh dedup id: {dedup}");
}

async fn fifo_deduplicates_within_the_window(make: MakePair) {
    let pair = make(QueueSpec::fifo("dedup")).await;
    let queue = pair.queue.as_ref();
    for _ in 0..3 {
        let report = queue
            .send_batch(vec![OutgoingMessage::fifo(
                "cancel order 1",
                "g",
                "afosto-msg-1",
            )])
            .await
            .expect("send");
        assert!(report.all_sent(), "duplicates are accepted, not refused");
    }
    queue
        .send_batch(vec![OutgoingMessage::fifo(
            "cancel order 1",
            "g",
            "afosto-msg-2",
        )])
        .await
        .expect("send");
    let got = drain(queue, 3).await;
    assert_eq!(got.len(), 2, "one per dedup id");
    // FIFO rules: a group id is required, per-message delay is refused.
    let report = queue
        .send_batch(vec![
            OutgoingMessage::new("no group"),
            OutgoingMessage::fifo("delayed", "g", "x").with_delay(Duration::from_secs(5)),
            OutgoingMessage {
                group_id: Some("g".into()),
                ..OutgoingMessage::new("no dedup id")
            },
        ])
        .await
        .expect("send");
    assert_eq!(report.failures().count(), 3);
}

async fn content_based_deduplication(make: MakePair) {
    let mut spec = QueueSpec::fifo("content");
    spec.content_based_deduplication = true;
    let pair = make(spec).await;
    let queue = pair.queue.as_ref();
    let same = || OutgoingMessage {
        group_id: Some("g".into()),
        ..OutgoingMessage::new("same body")
    };
    let report = queue.send_batch(vec![same()]).await.expect("send");
    assert!(report.all_sent());
    queue.send_batch(vec![same()]).await.expect("send");
    queue
        .send_batch(vec![OutgoingMessage {
            group_id: Some("g".into()),
            ..OutgoingMessage::new("other body")
        }])
        .await
        .expect("send");
    let bodies: Vec<_> = drain(queue, 3).await.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["same body", "other body"]);
}

async fn delay_seconds_hide_a_message(make: MakePair) {
    let pair = make(QueueSpec::standard("delay")).await;
    let queue = pair.queue.as_ref();
    queue
        .send_batch(vec![
            OutgoingMessage::new("later").with_delay(Duration::from_secs(2)),
        ])
        .await
        .expect("send");
    assert!(
        queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive")
            .is_empty()
    );
    assert_eq!(queue.depth().await.expect("depth").delayed, 1);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let got = queue
        .receive(10, Duration::from_secs(2), None)
        .await
        .expect("receive");
    assert_eq!(
        got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["later"]
    );
}

async fn long_poll_wakes_on_arrival(make: MakePair) {
    let pair = make(QueueSpec::standard("poll")).await;
    let queue = pair.queue.clone();
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        queue
            .send_batch(vec![OutgoingMessage::new("hello")])
            .await
            .expect("send");
    });
    let started = std::time::Instant::now();
    let got = pair
        .queue
        .receive(1, Duration::from_secs(5), None)
        .await
        .expect("receive");
    sender.await.expect("sender");
    assert_eq!(got.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "returned on arrival, not at the deadline"
    );
    assert!(matches!(
        pair.queue.receive(11, Duration::ZERO, None).await,
        Err(StoreError::InvalidInput { .. })
    ));
}

/// What a local runner needs to build a real `SqsEvent` for a handler.
async fn received_messages_make_lambda_records(make: MakePair) {
    let pair = make(QueueSpec::fifo("record")).await;
    let queue = pair.queue.as_ref();
    queue
        .send_batch(vec![
            OutgoingMessage::fifo("{\"k\":1}", "t:o", "d-1")
                .with_attribute("type", "order.created"),
        ])
        .await
        .expect("send");
    let got = drain(queue, 1).await;
    let record = got[0].to_lambda_record("eu-west-1");
    let json = serde_json::to_value(&record).expect("serializes");
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(serde_json::json!({ "Records": [json] })).expect("an SqsEvent");
    let back = &event.records[0];
    assert_eq!(back.message_id.as_deref(), Some(got[0].message_id.as_str()));
    assert_eq!(back.body.as_deref(), Some("{\"k\":1}"));
    assert_eq!(back.event_source.as_deref(), Some("aws:sqs"));
    assert_eq!(back.aws_region.as_deref(), Some("eu-west-1"));
    let attributes: HashMap<_, _> = back.attributes.clone().into_iter().collect();
    for name in [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "MessageGroupId",
        "MessageDeduplicationId",
        "SequenceNumber",
        "ApproximateFirstReceiveTimestamp",
    ] {
        assert!(attributes.contains_key(name), "missing {name}");
    }
    assert_eq!(
        back.message_attributes
            .get("type")
            .and_then(|a| a.string_value.as_deref()),
        Some("order.created")
    );
}

macro_rules! queue_contracts {
    ($($name:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(|spec| Box::pin(crate::support::embedded::queue_pair(spec))).await;
                }
            )+
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(|spec| Box::pin(crate::support::aws::queue_pair(spec))).await;
                }
            )+
        }
    };
}

queue_contracts!(
    batches_more_than_ten_and_reports_per_message,
    fifo_keeps_group_order_and_blocks_in_flight_groups,
    visibility_timeout_redelivers_with_receive_count,
    dead_letters_after_max_receive_count_and_replays,
    fifo_dead_letters_unblock_the_group_and_replay,
    fifo_deduplicates_within_the_window,
    content_based_deduplication,
    delay_seconds_hide_a_message,
    long_poll_wakes_on_arrival,
    received_messages_make_lambda_records,
);

#[tokio::test]
async fn embedded_queue_survives_reopen_with_in_flight_state() {
    let dir = crate::support::embedded::state_dir();
    let spec = QueueSpec::fifo("persist");
    let received_id = {
        let (queue, _) = crate::support::embedded::open_queue_pair(dir.path(), &spec).await;
        queue
            .send_batch(vec![
                OutgoingMessage::fifo("one", "g", "1"),
                OutgoingMessage::fifo("two", "g", "2"),
            ])
            .await
            .expect("send");
        let got = queue
            .receive(1, Duration::ZERO, Some(LONG))
            .await
            .expect("receive");
        got[0].message_id.clone()
    };
    let (queue, _) = crate::support::embedded::open_queue_pair(dir.path(), &spec).await;
    let depth = queue.depth().await.expect("depth");
    assert_eq!((depth.visible, depth.in_flight), (1, 1));
    assert!(
        queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive")
            .is_empty(),
        "group still blocked"
    );
    // Dedup ids are remembered across a restart too.
    queue
        .send_batch(vec![OutgoingMessage::fifo("one", "g", "1")])
        .await
        .expect("send");
    assert_eq!(queue.depth().await.expect("depth").total(), 2);
    assert!(!received_id.is_empty());
}

/// SQS keeps a deduplication id for the whole 5-minute window even after the message was
/// deleted (aws-patterns.md C.2); moto 5.2.5 forgets it on delete, so this part of the
/// contract is checked on the embedded queue only. The window itself ends after 5 minutes.
#[tokio::test]
async fn embedded_dedup_window_outlives_delete_and_then_ends() {
    use ::embedded::{EmbeddedQueue, EmbeddedQueueConfig};
    use connector::ports::ManualClock;
    let dir = crate::support::embedded::state_dir();
    let clock = std::sync::Arc::new(ManualClock::new(crate::support::now()));
    let queue = EmbeddedQueue::open(
        dir.path(),
        EmbeddedQueueConfig::new("window.fifo"),
        clock.clone(),
    )
    .await
    .expect("opens");
    let send = async |body: &str| {
        let report = queue
            .send_batch(vec![OutgoingMessage::fifo(body, "g", "afosto-msg-1")])
            .await
            .expect("send");
        assert!(report.all_sent());
    };
    send("first").await;
    let got = queue
        .receive(10, Duration::ZERO, None)
        .await
        .expect("receive");
    queue.delete(&got[0].receipt_handle).await.expect("delete");
    clock.advance(chrono::TimeDelta::seconds(299));
    send("inside the window").await;
    assert!(
        queue
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive")
            .is_empty()
    );
    clock.advance(chrono::TimeDelta::seconds(2));
    send("after the window").await;
    let got = queue
        .receive(10, Duration::ZERO, None)
        .await
        .expect("receive");
    assert_eq!(
        got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["after the window"]
    );
}
