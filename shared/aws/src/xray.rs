//! Spans as X-Ray segments: a `tracing` layer that writes segment documents to the X-Ray
//! daemon Lambda runs beside the function (`Tracing: Active`, `AWS_XRAY_DAEMON_ADDRESS`).
//!
//! Why our own layer rather than a crate: `xray-lite` is a daemon client for hand-written
//! subsegments (no `tracing` integration, one unstable release) and reads its address from
//! the environment only; the OpenTelemetry route (`opentelemetry-aws`) brings the X-Ray id
//! format and propagator but exports through an OTLP collector, which a plain Lambda does
//! not run. The daemon protocol is small: one UDP datagram per document,
//! `{"format":"json","version":1}\n{segment}`.
//!
//! What becomes what:
//! - a span with `trace_id` and `segment_id` fields (a record's or a request's work,
//!   `connector::trace::RecordTrace::span`) is a **segment** in that trace, its parent the
//!   `parent_id` field (the sender's segment); named after the function;
//! - every span opened inside it is a **subsegment**; `beyond.request` is a remote call
//!   (method, path template, status; `throttle` on 429, `error` on 4xx, `fault` on 5xx or
//!   no answer);
//! - `tenant`, `order_id`, `command_id`, `message_id` and `operation` fields become indexed
//!   **annotations** (`annotation.command_id = "…"`): on the (sub)segment whose span has
//!   them, and the first value seen inside a segment also on the segment itself, so that
//!   one record's segment is found by its tenant and ids.
//!
//! Only those named fields are read: no other field, message, body, query or token ever
//! reaches a document. Export is best effort and never blocks: a non-blocking UDP send per
//! closed span, dropped when it fails or the document is too large. A segment whose trace
//! header says `Sampled=0` is not exported.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The environment variable Lambda sets to the daemon's address when tracing is active.
pub const DAEMON_ADDRESS_ENV: &str = "AWS_XRAY_DAEMON_ADDRESS";

const HEADER: &str = "{\"format\":\"json\",\"version\":1}\n";
/// The daemon reads datagrams of up to 64 KiB; a larger document would be cut, so it is
/// dropped instead.
const MAX_DATAGRAM: usize = 64 * 1024;
/// X-Ray accepts annotation values up to 1,000 characters; ours are ids, far shorter.
const MAX_ANNOTATION_CHARS: usize = 250;
/// The span of a Beyond call (`shared/beyond/src/client/http.rs`).
const BEYOND_SPAN: &str = "beyond.request";
/// The remote service's name in the service map.
const BEYOND_NAME: &str = "epages-beyond";
/// The module paths of this workspace's crates (`epages_sync_connector::…`, …).
const OWN_TARGETS: &str = "epages_sync";
const ANNOTATIONS: [&str; 5] = [
    "tenant",
    "order_id",
    "command_id",
    "message_id",
    "operation",
];

/// Why the layer could not start.
#[derive(Debug, thiserror::Error)]
pub enum XrayError {
    #[error("{DAEMON_ADDRESS_ENV}={value:?} names no UDP address")]
    Address { value: String },
    #[error("cannot open a UDP socket towards the X-Ray daemon")]
    Socket(#[source] io::Error),
}

/// The daemon's UDP address from `AWS_XRAY_DAEMON_ADDRESS`: `host:port`, or Lambda's
/// `tcp:host:port udp:host:port` form.
pub fn daemon_address(value: &str) -> Result<SocketAddr, XrayError> {
    let error = || XrayError::Address {
        value: value.chars().take(100).collect(),
    };
    let words: Vec<&str> = value.split_whitespace().collect();
    let udp = words
        .iter()
        .find_map(|word| word.strip_prefix("udp:"))
        .or_else(|| match words.as_slice() {
            [only] if !only.starts_with("tcp:") => Some(*only),
            _ => None,
        })
        .ok_or_else(error)?;
    udp.to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(error)
}

/// The layer. Documents sent and dropped are counted (tests, and a warning at most once).
pub struct XrayLayer {
    service: String,
    daemon: SocketAddr,
    socket: UdpSocket,
    counts: Arc<XrayCounts>,
}

/// What the layer did so far.
#[derive(Debug, Default)]
pub struct XrayCounts {
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
}

impl XrayLayer {
    /// Sends to `daemon`; segments are named `service` (the function's name).
    pub fn new(daemon: SocketAddr, service: impl Into<String>) -> Result<Self, XrayError> {
        let local: SocketAddr = if daemon.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).map_err(XrayError::Socket)?;
        // Export must never hold up the handler: a full socket buffer drops the document.
        socket.set_nonblocking(true).map_err(XrayError::Socket)?;
        Ok(Self {
            service: segment_name(&service.into()),
            daemon,
            socket,
            counts: Arc::new(XrayCounts::default()),
        })
    }

    /// The layer for a Lambda: `None` without `AWS_XRAY_DAEMON_ADDRESS` (tracing not active,
    /// or a local run): then nothing is exported.
    pub fn from_env(service: impl Into<String>) -> Result<Option<Self>, XrayError> {
        match std::env::var(DAEMON_ADDRESS_ENV) {
            Ok(value) if !value.trim().is_empty() => {
                Self::new(daemon_address(&value)?, service).map(Some)
            }
            _ => Ok(None),
        }
    }

    pub fn counts(&self) -> Arc<XrayCounts> {
        self.counts.clone()
    }

    fn send(&self, document: &Value) {
        let payload = format!("{HEADER}{document}");
        let sent = payload.len() <= MAX_DATAGRAM
            && self.socket.send_to(payload.as_bytes(), self.daemon).is_ok();
        let counter = if sent {
            &self.counts.sent
        } else {
            &self.counts.dropped
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// X-Ray names: at most 200 of letters, digits, whitespace and `_.:/%&#=+\-@`.
fn segment_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(*c))
        .take(200)
        .collect();
    if cleaned.is_empty() {
        "epages-sync".to_owned()
    } else {
        cleaned
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64())
        .unwrap_or_default()
}

fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The fields the layer reads; every other field is ignored.
#[derive(Default)]
struct Fields {
    trace_id: Option<String>,
    segment_id: Option<String>,
    parent_id: Option<String>,
    sampled: Option<bool>,
    method: Option<String>,
    path: Option<String>,
    status: Option<u64>,
    annotations: BTreeMap<&'static str, String>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: String) {
        match field.name() {
            "trace_id" => self.trace_id = Some(value),
            "segment_id" => self.segment_id = Some(value),
            "parent_id" => self.parent_id = Some(value),
            "method" => self.method = Some(value),
            "path" => self.path = Some(value),
            name => {
                if let Some(key) = ANNOTATIONS.iter().find(|key| **key == name) {
                    self.annotations
                        .insert(key, value.chars().take(MAX_ANNOTATION_CHARS).collect());
                }
            }
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_owned());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "sampled" {
            self.sampled = Some(value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.status = Some(value);
        } else {
            self.put(field, value.to_string());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%value` fields arrive here; only the named ones above are kept.
        if ANNOTATIONS.contains(&field.name())
            || matches!(
                field.name(),
                "trace_id" | "segment_id" | "parent_id" | "method" | "path"
            )
        {
            self.put(field, format!("{value:?}"));
        }
    }
}

/// What a traced span becomes, kept in its extensions until it closes.
struct Traced {
    name: String,
    id: String,
    trace_id: String,
    parent_id: Option<String>,
    /// The span of the segment this subsegment belongs to (`None`: it is the segment).
    segment: Option<Id>,
    sampled: bool,
    remote: bool,
    start: f64,
    method: Option<String>,
    path: Option<String>,
    status: Option<u64>,
    annotations: BTreeMap<&'static str, String>,
}

impl Traced {
    fn absorb(&mut self, fields: Fields) {
        self.method = fields.method.or(self.method.take());
        self.path = fields.path.or(self.path.take());
        self.status = fields.status.or(self.status);
        self.annotations.extend(fields.annotations);
    }

    fn document(&self, end: f64) -> Value {
        let mut doc = Map::new();
        doc.insert("name".into(), json!(self.name));
        doc.insert("id".into(), json!(self.id));
        doc.insert("trace_id".into(), json!(self.trace_id));
        if let Some(parent) = &self.parent_id {
            doc.insert("parent_id".into(), json!(parent));
        }
        doc.insert("start_time".into(), json!(self.start));
        doc.insert("end_time".into(), json!(end.max(self.start)));
        if self.segment.is_some() {
            doc.insert("type".into(), json!("subsegment"));
        }
        if self.remote {
            doc.insert("namespace".into(), json!("remote"));
            let mut http = Map::new();
            http.insert(
                "request".into(),
                json!({ "method": self.method, "url": self.path }),
            );
            if let Some(status) = self.status {
                http.insert("response".into(), json!({ "status": status }));
            }
            doc.insert("http".into(), Value::Object(http));
            match self.status {
                Some(429) => {
                    doc.insert("throttle".into(), json!(true));
                    doc.insert("error".into(), json!(true));
                }
                Some(400..=499) => {
                    doc.insert("error".into(), json!(true));
                }
                Some(200..=399) => {}
                // A 5xx, or no answer at all (timeout, connection lost).
                _ => {
                    doc.insert("fault".into(), json!(true));
                }
            }
        }
        if !self.annotations.is_empty() {
            doc.insert("annotations".into(), json!(self.annotations));
        }
        Value::Object(doc)
    }
}

impl XrayLayer {
    /// Sets on the segment `segment` the annotations it does not have yet.
    fn promote<S>(ctx: &Context<'_, S>, segment: &Id, annotations: &BTreeMap<&'static str, String>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if annotations.is_empty() {
            return;
        }
        if let Some(span) = ctx.span(segment)
            && let Some(traced) = span.extensions_mut().get_mut::<Traced>()
        {
            for (key, value) in annotations {
                traced
                    .annotations
                    .entry(key)
                    .or_insert_with(|| value.clone());
            }
        }
    }

    /// The segment span a span (or its nearest traced ancestor) belongs to.
    fn segment_of<S>(ctx: &Context<'_, S>, id: &Id) -> Option<Id>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let span = ctx.span(id)?;
        span.scope().find_map(|ancestor| {
            let extensions = ancestor.extensions();
            let traced = extensions.get::<Traced>()?;
            Some(traced.segment.clone().unwrap_or_else(|| ancestor.id()))
        })
    }
}

impl<S> Layer<S> for XrayLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let traced = match (fields.trace_id.take(), fields.segment_id.take()) {
            (Some(trace_id), Some(segment_id)) => Traced {
                name: self.service.clone(),
                id: segment_id,
                trace_id,
                parent_id: fields.parent_id.take(),
                segment: None,
                sampled: fields.sampled.unwrap_or(true),
                remote: false,
                start: now_seconds(),
                method: None,
                path: None,
                status: None,
                annotations: BTreeMap::new(),
            },
            // Only our own spans: the AWS SDK's and hyper's internal spans (a dozen per call)
            // would bury the work in noise.
            _ if !span.metadata().target().starts_with(OWN_TARGETS) => return,
            _ => {
                // A subsegment of the nearest traced ancestor, if any.
                let Some(parent) = span.scope().skip(1).find_map(|ancestor| {
                    let extensions = ancestor.extensions();
                    let traced = extensions.get::<Traced>()?;
                    Some((
                        traced.id.clone(),
                        traced.trace_id.clone(),
                        traced.segment.clone().unwrap_or_else(|| ancestor.id()),
                        traced.sampled,
                    ))
                }) else {
                    return;
                };
                let (parent_id, trace_id, segment, sampled) = parent;
                let remote = span.name() == BEYOND_SPAN;
                Traced {
                    name: if remote {
                        BEYOND_NAME.to_owned()
                    } else {
                        segment_name(span.name())
                    },
                    id: new_id(),
                    trace_id,
                    parent_id: Some(parent_id),
                    segment: Some(segment),
                    sampled,
                    remote,
                    start: now_seconds(),
                    method: None,
                    path: None,
                    status: None,
                    annotations: BTreeMap::new(),
                }
            }
        };
        let segment = traced.segment.clone();
        let mut traced = traced;
        traced.absorb(fields);
        let annotations = traced.annotations.clone();
        span.extensions_mut().insert(traced);
        if let Some(segment) = segment {
            let mut promoted = annotations;
            // An operation names one call, not the record's work.
            promoted.remove("operation");
            Self::promote(&ctx, &segment, &promoted);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let segment = {
            let mut extensions = span.extensions_mut();
            let Some(traced) = extensions.get_mut::<Traced>() else {
                return;
            };
            let mut promoted = fields.annotations.clone();
            promoted.remove("operation");
            traced.absorb(fields);
            traced.segment.clone().map(|segment| (segment, promoted))
        };
        if let Some((segment, promoted)) = segment {
            Self::promote(&ctx, &segment, &promoted);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // `tenant = …` logged inside a record's work names the record's tenant.
        let mut fields = Fields::default();
        event.record(&mut fields);
        fields.annotations.remove("operation");
        if fields.annotations.is_empty() {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        if let Some(segment) = Self::segment_of(&ctx, &span.id()) {
            Self::promote(&ctx, &segment, &fields.annotations);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(traced) = span.extensions_mut().remove::<Traced>() else {
            return;
        };
        if traced.sampled {
            self.send(&traced.document(now_seconds()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_addresses_in_both_lambda_forms() {
        let plain = daemon_address("169.254.79.129:2000").unwrap();
        assert_eq!(plain, "169.254.79.129:2000".parse().unwrap());
        let both = daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.1:2001").unwrap();
        assert_eq!(both, "127.0.0.1:2001".parse().unwrap());
        for bad in ["", "tcp:127.0.0.1:2000", "nonsense", "udp:", "127.0.0.1"] {
            assert!(daemon_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_keep_only_what_x_ray_accepts() {
        assert_eq!(segment_name("poll-orders"), "poll-orders");
        assert_eq!(segment_name("a<b>{c}"), "abc");
        assert_eq!(segment_name("<>"), "epages-sync");
        assert_eq!(segment_name(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn remote_calls_are_flagged_by_status() {
        let call = |status: Option<u64>| {
            Traced {
                name: BEYOND_NAME.into(),
                id: new_id(),
                trace_id: "1-5759e988-bd862e3fe1be46a994272793".into(),
                parent_id: Some("53995c3f42cd8ad8".into()),
                segment: Some(Id::from_u64(1)),
                sampled: true,
                remote: true,
                start: 1.0,
                method: Some("GET".into()),
                path: Some("/api/orders/{id}".into()),
                status,
                annotations: BTreeMap::new(),
            }
            .document(2.0)
        };
        let ok = call(Some(200));
        assert_eq!(ok["type"], "subsegment");
        assert_eq!(ok["http"]["request"]["url"], "/api/orders/{id}");
        assert!(ok.get("error").is_none() && ok.get("fault").is_none());
        let throttled = call(Some(429));
        assert_eq!(
            (throttled["throttle"].clone(), throttled["error"].clone()),
            (json!(true), json!(true))
        );
        assert_eq!(call(Some(404))["error"], true);
        assert_eq!(call(Some(503))["fault"], true);
        assert_eq!(call(None)["fault"], true);
    }
}
