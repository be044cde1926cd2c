//! The `AWSTraceHeader` of a record comes from outside: malformed, oversized or hostile
//! values are ignored (the record runs in a new trace, or the invocation's), never a panic
//! or a failed record; and what the record sends (dead letters included) carries a
//! well-formed header of the trace it ran in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::sqs::SqsEvent;
use connector::pipeline::sqs_batch::{
    QueueOrdering, Record, RecordHandler, RecordOutcome, process_batch,
};
use connector::ports::MessageQueue;
use connector::trace::{self, TraceHeader};

use super::{ROOT, header, record};
use crate::support;

/// Remembers the trace context each record ran in; rejects every record.
#[derive(Default)]
struct Capture {
    seen: Mutex<Vec<Option<TraceHeader>>>,
}

#[async_trait]
impl RecordHandler for Capture {
    async fn handle(&self, _record: Record<'_>) -> RecordOutcome {
        self.seen
            .lock()
            .expect("not poisoned")
            .push(trace::current());
        RecordOutcome::reject("for the test")
    }
}

fn hostile_headers() -> Vec<String> {
    vec![
        String::new(),
        "Root=".into(),
        "Root=evil".into(),
        "Root=1-zzzzzzzz-0123456789abcdef01234567".into(),
        format!("Root={ROOT};Parent=not-hex"),
        format!("Root={ROOT};Sampled=maybe"),
        format!("Root={ROOT};Root={ROOT}"),
        format!("Root={ROOT};Parent=53995c3f42cd8ad8\u{0}"),
        format!("Root={ROOT};{}", "Lineage=x;".repeat(10_000)),
        "\u{1F600}".repeat(300),
        ";;;===;;;".into(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_headers_are_ignored_and_a_new_root_is_used() {
    let dead_letters = support::embedded::queue_pair(QueueSpec::standard("trace-dlq")).await;
    let mut event = SqsEvent::default();
    event.records = hostile_headers()
        .into_iter()
        .map(|value| record("{}".to_owned(), Some(&value)))
        .collect();
    let handler = Capture::default();
    let (response, summary) = process_batch(
        &event,
        QueueOrdering::Standard { concurrency: 4 },
        dead_letters.queue.as_ref(),
        &handler,
    )
    .await
    .expect("the batch answers");
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(summary.dead_lettered, event.records.len());

    let seen = handler.seen.lock().expect("not poisoned").clone();
    assert_eq!(seen.len(), event.records.len());
    let mut roots = std::collections::BTreeSet::new();
    for context in seen {
        let context = context.expect("every record runs in a trace");
        assert_ne!(context.root, ROOT, "a bad header's root is not taken");
        assert!(TraceHeader::parse(&context.to_string()).is_ok());
        roots.insert(context.root);
    }
    assert_eq!(roots.len(), event.records.len(), "a new root per record");

    // The dead letters carry the trace their record ran in, well-formed.
    let forwarded = dead_letters
        .queue
        .receive(10, Duration::ZERO, None)
        .await
        .expect("receive");
    assert_eq!(forwarded.len(), 10);
    for message in forwarded {
        let header = message.trace_header.expect("a trace header");
        let parsed = TraceHeader::parse(&header).expect("well-formed");
        assert!(roots.contains(&parsed.root));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_a_header_runs_in_the_invocations_trace() {
    let dead_letters = support::embedded::queue_pair(QueueSpec::standard("trace-dlq")).await;
    let invocation = TraceHeader::parse(&header()).expect("valid");
    let mut event = SqsEvent::default();
    event.records = vec![
        record("{}".to_owned(), None),
        record("{}".to_owned(), Some("Root=garbage")),
    ];
    let handler = Arc::new(Capture::default());
    let queue: Arc<dyn MessageQueue> = dead_letters.queue.clone();
    trace::scope(Some(invocation.clone()), async {
        process_batch(
            &event,
            QueueOrdering::Fifo { concurrency: 1 },
            queue.as_ref(),
            handler.as_ref(),
        )
        .await
        .expect("the batch answers")
    })
    .await;
    for context in handler.seen.lock().expect("not poisoned").iter() {
        let context = context.as_ref().expect("a trace");
        assert_eq!(context.root, ROOT);
        // The record's own segment, below the invocation's.
        assert_ne!(context.parent, invocation.parent);
        assert_eq!(context.parent.as_ref().map(String::len), Some(16));
    }
}
