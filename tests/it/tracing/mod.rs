//! Tracing across functions: the X-Ray trace header travels through the queues
//! (`AWSTraceHeader`, on both adapters) and each record's work is exported as a segment of
//! the record's trace, with Beyond calls as subsegments, to a fake X-Ray daemon.
//!
//! The daemon's address is handed to the layer, not set in the environment (the test
//! binary's environment is shared by every test), and the subscriber is scoped to the
//! future under test.

mod headers;

use std::net::UdpSocket;
use std::time::Duration;

use ::tracing::instrument::WithSubscriber;
use aws_adapters::xray::XrayLayer;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use connector::pipeline::poll_request::PollTrigger;
use connector::ports::queue::ReceivedMessage;
use connector::trace::{AWS_TRACE_HEADER, TraceHeader};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

use crate::pipeline_apply::harness::{Backend as ApplyBackend, Harness};
use crate::pipeline_poll::harness::{Backend as PollBackend, World};

const ROOT: &str = "1-6a1b2c3d-0123456789abcdef01234567";
const PARENT: &str = "53995c3f42cd8ad8";

/// A UDP socket standing in for the X-Ray daemon.
struct FakeDaemon {
    socket: UdpSocket,
}

impl FakeDaemon {
    fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a UDP port");
        socket
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout set");
        Self { socket }
    }

    /// A subscriber exporting to this daemon, as `init_tracing` builds it in a Lambda.
    fn dispatch(&self, service: &str) -> ::tracing::Dispatch {
        let layer = XrayLayer::new(self.socket.local_addr().expect("bound"), service)
            .expect("the layer starts");
        ::tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
    }

    /// Every document received so far, each checked for the daemon's header line.
    fn documents(&self) -> Vec<Value> {
        let mut documents = Vec::new();
        let mut buffer = vec![0u8; 70 * 1024];
        while let Ok(len) = self.socket.recv(&mut buffer) {
            let text = std::str::from_utf8(&buffer[..len]).expect("UTF-8 datagram");
            let (header, body) = text.split_once('\n').expect("a header line");
            assert_eq!(header, r#"{"format":"json","version":1}"#);
            documents.push(serde_json::from_str(body).expect("a JSON segment document"));
        }
        documents
    }
}

fn header() -> String {
    format!("Root={ROOT};Parent={PARENT};Sampled=1")
}

/// The one segment (not subsegment) of the trace, and the subsegments below it.
fn segment_and_children(documents: &[Value]) -> (Value, Vec<Value>) {
    let segments: Vec<&Value> = documents
        .iter()
        .filter(|d| d["trace_id"] == ROOT && d.get("type").is_none())
        .collect();
    assert_eq!(
        segments.len(),
        1,
        "one segment in the trace: {documents:#?}"
    );
    let segment = segments[0].clone();
    // Subsegments hang below the segment, directly or through other subsegments.
    let mut ids = vec![segment["id"].clone()];
    let mut children = Vec::new();
    let mut grew = true;
    while grew {
        grew = false;
        for doc in documents {
            if doc["type"] == "subsegment"
                && ids.contains(&doc["parent_id"])
                && !ids.contains(&doc["id"])
            {
                assert_eq!(doc["trace_id"], ROOT);
                ids.push(doc["id"].clone());
                children.push(doc.clone());
                grew = true;
            }
        }
    }
    (segment, children)
}

/// Beyond calls are remote subsegments with a method, a path template and a status, and
/// nothing of the query, body or tokens.
fn assert_beyond_calls(children: &[Value], raw: &str) {
    let calls: Vec<&Value> = children
        .iter()
        .filter(|c| c["name"] == "epages-beyond")
        .collect();
    assert!(
        !calls.is_empty(),
        "Beyond calls are subsegments: {children:#?}"
    );
    for call in &calls {
        assert_eq!(call["namespace"], "remote");
        assert!(call["http"]["request"]["method"].is_string(), "{call}");
        let path = call["http"]["request"]["url"].as_str().expect("a path");
        assert!(path.starts_with('/') && !path.contains('?'), "{path}");
        assert!(call["http"]["response"]["status"].is_u64(), "{call}");
        assert!(call["annotations"]["operation"].is_string(), "{call}");
    }
    for secret in [
        "Bearer",
        "access_token",
        "client_secret",
        "poll-secret",
        "password",
    ] {
        assert!(!raw.contains(secret), "{secret} leaked into a segment");
    }
}

fn trace_of(message: &ReceivedMessage) -> TraceHeader {
    let value = message
        .trace_header
        .as_deref()
        .unwrap_or_else(|| panic!("message {} carries no trace header", message.message_id));
    TraceHeader::parse(value).expect("a well-formed trace header")
}

fn record(body: String, header: Option<&str>) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(uuid::Uuid::new_v4().to_string());
    record.body = Some(body);
    if let Some(header) = header {
        record
            .attributes
            .insert(AWS_TRACE_HEADER.to_owned(), header.to_owned());
    }
    record
}

async fn a_poll_is_one_segment_and_its_events_stay_in_the_trace(backend: PollBackend) {
    let world = World::start(backend).await;
    world.order(&[("MUG-1", 1)]);
    world.order(&[("BAG-1", 2)]);
    world.settle();
    let service = world.service(Default::default());
    let daemon = FakeDaemon::start();
    let body = world.request(PollTrigger::Schedule).to_json();
    let mut event = SqsEvent::default();
    event.records = vec![record(body, Some(&header()))];
    let response = service
        .handle_event(&event, world.poll_dead_letters.as_ref())
        .with_subscriber(daemon.dispatch("poll-orders"))
        .await
        .expect("the batch answers");
    assert!(response.batch_item_failures.is_empty(), "{response:?}");

    let documents = daemon.documents();
    let (segment, children) = segment_and_children(&documents);
    assert_eq!(segment["name"], "poll-orders");
    assert_eq!(segment["parent_id"], PARENT);
    assert_eq!(segment["annotations"]["tenant"], world.tenant.as_str());
    assert_beyond_calls(&children, &json!(documents).to_string());

    let mut sent = Vec::new();
    loop {
        let batch = world
            .order_events
            .receive(10, Duration::ZERO, Some(Duration::from_secs(30)))
            .await
            .expect("receive");
        if batch.is_empty() {
            break;
        }
        for message in &batch {
            world
                .order_events
                .delete(&message.receipt_handle)
                .await
                .expect("deleted");
        }
        sent.extend(batch);
    }
    assert_eq!(sent.len(), 2, "one event per order");
    // Each order the poll emitted for is a subsegment annotated with its id, so
    // `annotation.order_id = "…"` finds this trace.
    let mut emitted: Vec<String> = sent
        .iter()
        .map(|message| {
            let body: Value = serde_json::from_str(&message.body).expect("an order event");
            body["orderId"].as_str().expect("orderId").to_owned()
        })
        .collect();
    let mut annotated: Vec<String> = children
        .iter()
        .filter(|child| child["name"] == "order")
        .map(|child| {
            child["annotations"]["order_id"]
                .as_str()
                .expect("annotated")
                .to_owned()
        })
        .collect();
    emitted.sort();
    annotated.sort();
    assert_eq!(annotated, emitted);
    if backend == PollBackend::Aws {
        // moto drops MessageSystemAttributes on SendMessageBatch (it keeps them on
        // SendMessage only), so the round trip is checked on the embedded adapter; the SQS
        // adapter's request is checked in `shared/aws/src/sqs.rs` and its receive side in
        // `aws_receive_delivers_the_header_like_lambda`.
        return;
    }
    for message in &sent {
        let trace = trace_of(message);
        assert_eq!(trace.root, ROOT);
        assert_eq!(trace.parent.as_deref(), segment["id"].as_str());
        assert_eq!(trace.sampled, Some(true));
        // What Lambda would hand the consumer.
        let delivered = message.to_lambda_record("eu-west-1");
        assert_eq!(
            delivered.attributes.get(AWS_TRACE_HEADER),
            message.trace_header.as_ref()
        );
    }
}

async fn a_command_is_one_segment_and_its_result_stays_in_the_trace(backend: ApplyBackend) {
    let h = Harness::start(backend).await;
    let order = h.order("new");
    let command = h.command(
        "trace-cancel-1",
        "cancel",
        json!({ "order": { "id": order }, "wholeOrder": true }),
    );
    // Sent from inside a traced piece of work: the queue adapter attaches its header.
    let sender = TraceHeader::parse(&header()).expect("valid");
    connector::trace::scope(Some(sender), h.send(std::slice::from_ref(&command))).await;

    let daemon = FakeDaemon::start();
    let received = h
        .invoke_once()
        .with_subscriber(daemon.dispatch("apply-commands"))
        .await;
    assert_eq!(received, 1);

    let documents = daemon.documents();
    if backend == ApplyBackend::Aws {
        // moto loses the command's header on SendMessageBatch (see the poll test): the record
        // runs in a new trace. Its segment must still be there, annotated.
        let segment = documents
            .iter()
            .find(|d| d.get("type").is_none())
            .unwrap_or_else(|| panic!("a segment: {documents:#?}"));
        assert_eq!(segment["annotations"]["command_id"], "trace-cancel-1");
        assert_ne!(segment["trace_id"], ROOT);
        return;
    }
    let (segment, children) = segment_and_children(&documents);
    assert_eq!(segment["name"], "apply-commands");
    assert_eq!(segment["parent_id"], PARENT);
    assert_eq!(
        segment["annotations"]["command_id"], "trace-cancel-1",
        "{documents:#?}"
    );
    assert_eq!(segment["annotations"]["tenant"], h.tenant.as_str());
    assert_beyond_calls(&children, &json!(documents).to_string());

    let results = h
        .results
        .queue
        .receive(10, Duration::ZERO, None)
        .await
        .expect("receive results");
    assert_eq!(results.len(), 1, "one result");
    let trace = trace_of(&results[0]);
    assert_eq!(trace.root, ROOT);
    assert_eq!(trace.parent.as_deref(), segment["id"].as_str());
}

/// What SQS delivers (here: moto, with a single SendMessage, which keeps system
/// attributes) reaches the record the way Lambda hands it over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_receive_delivers_the_header_like_lambda() {
    use aws_sdk_sqs::types::{MessageSystemAttributeNameForSends, MessageSystemAttributeValue};
    let sdk = crate::support::aws::sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let pair =
        crate::support::aws::queue_pair(aws_adapters::provision::QueueSpec::standard("trace"))
            .await;
    let url = client
        .get_queue_url()
        .queue_name(pair.queue.name())
        .send()
        .await
        .expect("queue url")
        .queue_url
        .expect("a url");
    client
        .send_message()
        .queue_url(url)
        .message_body("{}")
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(header())
                .build()
                .expect("valid"),
        )
        .send()
        .await
        .expect("sent");
    let received = pair
        .queue
        .receive(1, Duration::from_secs(1), None)
        .await
        .expect("received");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].trace_header.as_deref(), Some(header().as_str()));
    let delivered = received[0].to_lambda_record("eu-west-1");
    assert_eq!(
        delivered
            .attributes
            .get(AWS_TRACE_HEADER)
            .map(String::as_str),
        Some(header().as_str())
    );
}

mod embedded {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_poll_is_one_segment_and_its_events_stay_in_the_trace() {
        super::a_poll_is_one_segment_and_its_events_stay_in_the_trace(PollBackend::Embedded).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_command_is_one_segment_and_its_result_stays_in_the_trace() {
        super::a_command_is_one_segment_and_its_result_stays_in_the_trace(ApplyBackend::Embedded)
            .await;
    }
}

mod aws {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_poll_is_one_segment_and_its_events_stay_in_the_trace() {
        super::a_poll_is_one_segment_and_its_events_stay_in_the_trace(PollBackend::Aws).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_command_is_one_segment_and_its_result_stays_in_the_trace() {
        super::a_command_is_one_segment_and_its_result_stays_in_the_trace(ApplyBackend::Aws).await;
    }
}
