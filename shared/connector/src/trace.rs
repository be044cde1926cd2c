//! The X-Ray trace context, carried through the queues so that one order's path (schedule →
//! poll → order event) and one command's (webhook → queue → shop calls → result) are one
//! trace across functions.
//!
//! - Every message the connector sends carries the trace header of the work that sent it as
//!   the SQS system attribute `AWSTraceHeader`, which is how SQS and Lambda propagate X-Ray
//!   natively (Lambda hands it to the consumer as `record.attributes["AWSTraceHeader"]`).
//!   The pipelines do not pass it around: the work in progress runs inside [`scope`] and the
//!   queue adapters read [`current`] when they send ([`OutgoingMessage::trace_header_to_send`]
//!   (crate::ports::queue::OutgoingMessage::trace_header_to_send)).
//! - The handlers open the invocation's scope (Lambda's own trace header); the SQS batch
//!   opens one per record, in the record's trace when the record carries a header
//!   ([`RecordTrace`]), so that each record's work is one X-Ray segment of its own trace.
//! - The header arrives from outside (Afosto sends commands, anyone with queue access can
//!   send anything), so [`TraceHeader::parse`] is strict and bounded, and a bad header is
//!   dropped, never an error: tracing must not fail a record.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};
use tracing::Span;

/// The SQS message system attribute (and Lambda record attribute) of the trace header.
pub const AWS_TRACE_HEADER: &str = "AWSTraceHeader";

/// Longest header accepted. Ours are about 80 bytes; Lambda's add a `Lineage` entry. Anything
/// much longer is not an X-Ray header, and is not worth parsing.
pub const MAX_HEADER_BYTES: usize = 512;

/// Why a trace header was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceHeaderError {
    #[error("the trace header is {len} bytes; at most {MAX_HEADER_BYTES} accepted")]
    TooLong { len: usize },
    #[error("the trace header has no Root")]
    NoRoot,
    #[error("the trace header's Root is not `1-{{8 hex}}-{{24 hex}}`")]
    BadRoot,
    #[error("the trace header's Parent is not 16 hex digits")]
    BadParent,
    #[error("the trace header's Sampled is not 0, 1 or ?")]
    BadSampled,
    #[error("the trace header names {key} twice")]
    Duplicate { key: &'static str },
    #[error("the trace header has an entry without `=`")]
    Malformed,
}

/// An X-Ray trace header: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    /// The trace id, `1-{epoch seconds, 8 hex}-{24 hex}`.
    pub root: String,
    /// The segment (or subsegment) that did the work this header came from.
    pub parent: Option<String>,
    /// The sampling decision taken upstream; `None` when it was deferred (`?` or absent).
    pub sampled: Option<bool>,
}

impl TraceHeader {
    /// Parses a header, strictly: bounded length, a well-formed `Root`, and when present a
    /// well-formed `Parent` and `Sampled`. Other keys (`Lineage`, `Self`, …) are ignored.
    pub fn parse(value: &str) -> Result<Self, TraceHeaderError> {
        if value.len() > MAX_HEADER_BYTES {
            return Err(TraceHeaderError::TooLong { len: value.len() });
        }
        let (mut root, mut parent, mut sampled) = (None, None, None);
        for entry in value.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, value) = entry.split_once('=').ok_or(TraceHeaderError::Malformed)?;
            match key.trim() {
                "Root" => {
                    if !is_trace_id(value) {
                        return Err(TraceHeaderError::BadRoot);
                    }
                    set_once(&mut root, value.to_owned(), "Root")?;
                }
                "Parent" => {
                    if !is_hex(value, 16) {
                        return Err(TraceHeaderError::BadParent);
                    }
                    set_once(&mut parent, value.to_owned(), "Parent")?;
                }
                "Sampled" => {
                    let decision = match value {
                        "1" => Some(true),
                        "0" => Some(false),
                        "?" => None,
                        _ => return Err(TraceHeaderError::BadSampled),
                    };
                    set_once(&mut sampled, decision, "Sampled")?;
                }
                _ => {}
            }
        }
        Ok(Self {
            root: root.ok_or(TraceHeaderError::NoRoot)?,
            parent,
            sampled: sampled.flatten(),
        })
    }

    /// A new trace, started `now`, sampled: used only where no upstream decided (a record
    /// without a header outside Lambda); inside Lambda the invocation's header decides.
    pub fn new_root(now: DateTime<Utc>) -> Self {
        let epoch = u32::try_from(now.timestamp().max(0)).unwrap_or(u32::MAX);
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            root: format!("1-{epoch:08x}-{}", &random[..24]),
            parent: None,
            sampled: Some(true),
        }
    }

    /// The same trace and sampling decision, as seen from the segment `parent`.
    pub fn child_of(&self, parent: &str) -> Self {
        Self {
            root: self.root.clone(),
            parent: Some(parent.to_owned()),
            sampled: self.sampled,
        }
    }

    /// Whether the work should be exported: only an explicit `Sampled=0` says no.
    pub fn is_sampled(&self) -> bool {
        self.sampled != Some(false)
    }
}

impl fmt::Display for TraceHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Root={}", self.root)?;
        if let Some(parent) = &self.parent {
            write!(f, ";Parent={parent}")?;
        }
        match self.sampled {
            Some(true) => write!(f, ";Sampled=1"),
            Some(false) => write!(f, ";Sampled=0"),
            None => Ok(()),
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &'static str) -> Result<(), TraceHeaderError> {
    if slot.is_some() {
        return Err(TraceHeaderError::Duplicate { key });
    }
    *slot = Some(value);
    Ok(())
}

fn is_hex(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_trace_id(value: &str) -> bool {
    let mut parts = value.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("1"), Some(epoch), Some(random), None) if is_hex(epoch, 8) && is_hex(random, 24)
    )
}

/// A new segment id: 16 hex digits.
pub fn new_segment_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

tokio::task_local! {
    static CURRENT: TraceHeader;
}

/// The trace header of the work in progress: what a message sent now carries.
pub fn current() -> Option<TraceHeader> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `work` with `header` as the current trace context (none: whatever is current).
pub async fn scope<F: Future>(header: Option<TraceHeader>, work: F) -> F::Output {
    match header {
        Some(header) => CURRENT.scope(header, work).await,
        None => work.await,
    }
}

/// The invocation's trace header: the runtime's (`Context::xray_trace_id`), else the
/// `_X_AMZN_TRACE_ID` variable (set by the runtime outside its concurrent mode). A bad one
/// is ignored.
pub fn invocation_header(xray_trace_id: Option<&str>) -> Option<TraceHeader> {
    let from_env = std::env::var("_X_AMZN_TRACE_ID").ok();
    xray_trace_id
        .or(from_env.as_deref())
        .and_then(|value| TraceHeader::parse(value).ok())
}

/// The trace of one record's work: a segment of its own in the record's trace (or, without
/// a usable header, the invocation's; without one either, a new trace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordTrace {
    /// The trace the record's segment belongs to, and its parent (the sender's segment).
    pub upstream: TraceHeader,
    /// The record's segment.
    pub segment_id: String,
}

impl RecordTrace {
    /// `record_header` is the record's `AWSTraceHeader` (from outside: checked here).
    pub fn start(
        record_header: Option<&str>,
        invocation: Option<&TraceHeader>,
        now: DateTime<Utc>,
    ) -> Self {
        let own = record_header.and_then(|value| match TraceHeader::parse(value) {
            Ok(header) => Some(header),
            Err(error) => {
                tracing::warn!(%error, "ignoring the record's trace header");
                None
            }
        });
        let upstream = own
            .or_else(|| invocation.cloned())
            .unwrap_or_else(|| TraceHeader::new_root(now));
        Self {
            upstream,
            segment_id: new_segment_id(),
        }
    }

    /// What the messages this work sends carry: same trace, this segment as their parent.
    pub fn outgoing(&self) -> TraceHeader {
        self.upstream.child_of(&self.segment_id)
    }

    /// The span of the record's work, which the X-Ray layer exports as a segment (named
    /// after the function) and whose `trace_id` every log line inside it carries. `tenant`,
    /// `command_id` and `order_id` become the segment's annotations: recorded on it by
    /// whoever learns them, or taken from the spans and events logged inside it.
    pub fn span(&self, message_id: Option<&str>) -> Span {
        tracing::info_span!(
            "record",
            trace_id = %self.upstream.root,
            segment_id = %self.segment_id,
            parent_id = self.upstream.parent.as_deref(),
            sampled = self.upstream.is_sampled(),
            message_id,
            tenant = tracing::field::Empty,
            command_id = tracing::field::Empty,
            order_id = tracing::field::Empty,
        )
    }

    /// Runs `work` inside the record's span and trace context.
    pub async fn run<F: Future>(&self, message_id: Option<&str>, work: F) -> F::Output {
        use tracing::Instrument;
        scope(
            Some(self.outgoing()),
            work.instrument(self.span(message_id)),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";

    #[test]
    fn parses_and_formats_a_full_header() {
        let value = format!("Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1");
        let header = TraceHeader::parse(&value).unwrap();
        assert_eq!(header.root, ROOT);
        assert_eq!(header.parent.as_deref(), Some("53995c3f42cd8ad8"));
        assert_eq!(header.sampled, Some(true));
        assert_eq!(header.to_string(), value);
    }

    #[test]
    fn lambda_headers_with_lineage_and_spaces_parse() {
        let value = format!("Root={ROOT}; Parent=53995c3f42cd8ad8; Sampled=0; Lineage=a87bd80c:0");
        let header = TraceHeader::parse(&value).unwrap();
        assert_eq!(header.sampled, Some(false));
        assert!(!header.is_sampled());
        assert_eq!(
            header.to_string(),
            format!("Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=0")
        );
        let deferred = TraceHeader::parse(&format!("Root={ROOT};Sampled=?")).unwrap();
        assert_eq!(deferred.sampled, None);
        assert!(deferred.is_sampled());
        assert_eq!(deferred.to_string(), format!("Root={ROOT}"));
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        let long = format!("Root={ROOT};{}", "x=y;".repeat(200));
        let cases: Vec<(String, TraceHeaderError)> = vec![
            (String::new(), TraceHeaderError::NoRoot),
            ("Parent=53995c3f42cd8ad8".into(), TraceHeaderError::NoRoot),
            ("Root=".into(), TraceHeaderError::BadRoot),
            ("Root=1-5759e988-bd862e3f".into(), TraceHeaderError::BadRoot),
            (
                "Root=2-5759e988-bd862e3fe1be46a994272793".into(),
                TraceHeaderError::BadRoot,
            ),
            (
                "Root=1-5759e98g-bd862e3fe1be46a994272793".into(),
                TraceHeaderError::BadRoot,
            ),
            (format!("Root={ROOT}-00"), TraceHeaderError::BadRoot),
            (
                format!("Root={ROOT};Parent=xyz"),
                TraceHeaderError::BadParent,
            ),
            (
                format!("Root={ROOT};Parent=53995c3f42cd8ad8é"),
                TraceHeaderError::BadParent,
            ),
            (
                format!("Root={ROOT};Sampled=yes"),
                TraceHeaderError::BadSampled,
            ),
            (
                format!("Root={ROOT};Root={ROOT}"),
                TraceHeaderError::Duplicate { key: "Root" },
            ),
            (format!("Root={ROOT};garbage"), TraceHeaderError::Malformed),
            (long.clone(), TraceHeaderError::TooLong { len: long.len() }),
            (
                "Root=1-é5759e98-bd862e3fe1be46a994272793".into(),
                TraceHeaderError::BadRoot,
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(TraceHeader::parse(&value), Err(expected), "{value:?}");
        }
    }

    #[test]
    fn new_roots_are_well_formed_and_distinct() {
        let now = DateTime::from_timestamp(0x5759e988, 0).unwrap();
        let (a, b) = (TraceHeader::new_root(now), TraceHeader::new_root(now));
        assert!(a.root.starts_with("1-5759e988-"));
        assert_ne!(a.root, b.root);
        assert_eq!(TraceHeader::parse(&a.to_string()), Ok(a));
        assert_eq!(new_segment_id().len(), 16);
    }

    #[test]
    fn a_record_uses_its_header_else_the_invocation_else_a_new_root() {
        let now = Utc::now();
        let invocation = TraceHeader::parse(
            "Root=1-00000000-000000000000000000000001;Parent=1111111111111111;Sampled=1",
        )
        .unwrap();
        let own = format!("Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1");
        let trace = RecordTrace::start(Some(&own), Some(&invocation), now);
        assert_eq!(trace.upstream.root, ROOT);
        let out = trace.outgoing();
        assert_eq!(out.parent.as_deref(), Some(trace.segment_id.as_str()));

        let bad = RecordTrace::start(Some("Root=evil"), Some(&invocation), now);
        assert_eq!(bad.upstream, invocation);
        let fresh = RecordTrace::start(Some(&"x".repeat(10_000)), None, now);
        assert_ne!(fresh.upstream.root, ROOT);
        assert!(TraceHeader::parse(&fresh.outgoing().to_string()).is_ok());
    }

    #[tokio::test]
    async fn the_scope_sets_the_current_header() {
        assert_eq!(current(), None);
        let header = TraceHeader::new_root(Utc::now());
        let seen = scope(Some(header.clone()), async { current() }).await;
        assert_eq!(seen, Some(header));
        assert_eq!(scope(None, async { current() }).await, None);
    }
}
