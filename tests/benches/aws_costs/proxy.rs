//! The counting proxy of the AWS cost bench: it sits between the SDK clients and moto,
//! counts every call per operation and estimates DynamoDB request units from the bodies.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// The counting proxy.

/// Calls and DynamoDB request units of one operation (`DynamoDB_20120810.Query`, ...).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct OpCount {
    pub(crate) calls: u64,
    /// Read request units (on-demand), estimated from the items read (see `units`).
    pub(crate) rru: f64,
    /// Write request units (on-demand), estimated from the items written.
    pub(crate) wru: f64,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Counts(pub(crate) BTreeMap<String, OpCount>);

impl Counts {
    pub(crate) fn minus(&self, before: &Counts) -> Counts {
        let mut out = BTreeMap::new();
        for (op, now) in &self.0 {
            let was = before.0.get(op).copied().unwrap_or_default();
            // Saturating: a difference of two polls (not of two snapshots) can have fewer
            // calls of an operation whose units still differ (one BatchWriteItem of 10 or
            // of 20 entries).
            let diff = OpCount {
                calls: now.calls.saturating_sub(was.calls),
                rru: now.rru - was.rru,
                wru: now.wru - was.wru,
            };
            if diff.calls > 0 || diff.rru != 0.0 || diff.wru != 0.0 {
                out.insert(op.clone(), diff);
            }
        }
        Counts(out)
    }

    pub(crate) fn service(&self, prefix: &str) -> OpCount {
        self.0.iter().filter(|(op, _)| op.starts_with(prefix)).fold(
            OpCount::default(),
            |acc, (_, c)| OpCount {
                calls: acc.calls + c.calls,
                rru: acc.rru + c.rru,
                wru: acc.wru + c.wru,
            },
        )
    }

    pub(crate) fn op(&self, name: &str) -> u64 {
        self.0
            .iter()
            .filter(|(op, _)| op.ends_with(name))
            .map(|(_, c)| c.calls)
            .sum()
    }

    pub(crate) fn ddb(&self) -> OpCount {
        self.service("DynamoDB")
    }
    pub(crate) fn sqs(&self) -> u64 {
        self.service("AmazonSQS").calls
    }
    pub(crate) fn secrets(&self) -> u64 {
        self.service("secretsmanager").calls
    }

    /// `Query×2 PutItem×1 ...`, the operations in short.
    pub(crate) fn short(&self) -> String {
        self.0
            .iter()
            .map(|(op, c)| {
                let name = op.rsplit('.').next().unwrap_or(op);
                format!("{name}×{}", c.calls)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub(crate) struct Proxy {
    pub(crate) upstream: String,
    pub(crate) client: reqwest::Client,
    pub(crate) counts: Mutex<Counts>,
}

impl Proxy {
    pub(crate) fn snapshot(&self) -> Counts {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// ceil(bytes / unit), at least 1: DynamoDB bills items by size in 1 KB (write) and 4 KB
/// (read) steps. The size is the item's DynamoDB-JSON text, a little more than the billed
/// size (attribute names and values), so the units are an upper estimate.
pub(crate) fn steps(bytes: usize, unit: usize) -> f64 {
    bytes.div_ceil(unit).max(1) as f64
}

pub(crate) fn json_len(value: &Value) -> usize {
    value.to_string().len()
}

/// Request units of one DynamoDB call, from its request and response bodies.
pub(crate) fn units(op: &str, request: &Value, response: &Value) -> (f64, f64) {
    let consistent = |spec: &Value| spec["ConsistentRead"].as_bool().unwrap_or(false);
    let read = |item: &Value, consistent: bool| {
        steps(json_len(item), 4096) * if consistent { 1.0 } else { 0.5 }
    };
    match op {
        "PutItem" => (0.0, steps(json_len(&request["Item"]), 1024)),
        // The written item's size is unknown without ALL_NEW; the request size bounds it.
        "UpdateItem" | "DeleteItem" => (0.0, steps(json_len(request), 1024)),
        "BatchWriteItem" => {
            let w = request["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|tables| tables.values())
                .flat_map(|writes| writes.as_array().cloned().unwrap_or_default())
                .map(|write| steps(json_len(&write), 1024))
                .sum();
            (0.0, w)
        }
        "TransactWriteItems" => {
            let w = request["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| 2.0 * steps(json_len(item), 1024))
                .sum();
            (0.0, w)
        }
        "GetItem" => (read(&response["Item"], consistent(request)), 0.0),
        "BatchGetItem" => {
            let mut r = 0.0;
            if let Some(tables) = response["Responses"].as_object() {
                for (table, items) in tables {
                    let c = consistent(&request["RequestItems"][table]);
                    for item in items.as_array().into_iter().flatten() {
                        r += read(item, c);
                    }
                }
            }
            (r, 0.0)
        }
        // A query is billed on the sum of its items' sizes, rounded up to 4 KB.
        "Query" | "Scan" => {
            let bytes: usize = response["Items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(json_len)
                .sum();
            (
                steps(bytes, 4096) * if consistent(request) { 1.0 } else { 0.5 },
                0.0,
            )
        }
        "TransactGetItems" => {
            let r = response["Responses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| 2.0 * steps(json_len(&item["Item"]), 4096))
                .sum();
            (r, 0.0)
        }
        _ => (0.0, 0.0),
    }
}

pub(crate) async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        // Query-protocol calls (none expected) name the action in the form body.
        .unwrap_or_else(|| format!("other.{method}"));
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = proxy
        .client
        .request(method.clone(), format!("{}{path}", proxy.upstream));
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let upstream = match request.body(body.clone()).send().await {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = upstream.status();
    let mut out_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if name != "transfer-encoding" && name != "connection" && name != "content-length" {
            out_headers.insert(name.clone(), value.clone());
        }
    }
    let bytes = upstream.bytes().await.unwrap_or_default();
    let op = target.rsplit('.').next().unwrap_or("").to_owned();
    let (rru, wru) = if target.starts_with("DynamoDB") && status.is_success() {
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let response: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        units(&op, &request, &response)
    } else {
        (0.0, 0.0)
    };
    if let Ok(mut counts) = proxy.counts.lock() {
        let entry = counts.0.entry(target).or_default();
        entry.calls += 1;
        entry.rru += rru;
        entry.wru += wru;
    }
    (status, out_headers, bytes).into_response()
}

/// Starts the proxy in front of `AWS_ENDPOINT_URL` (moto) and points the variable at it,
/// so every client built afterwards (and every child process) is counted.
pub(crate) async fn start_proxy() -> Arc<Proxy> {
    let upstream = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        upstream.contains("127.0.0.1"),
        "the bench needs moto: infra/tools.sh && source tests/moto/moto.sh"
    );
    // reqwest is built without a TLS provider of its own; the shared crate installs ring.
    beyond::tls::install_crypto_provider();
    let proxy = Arc::new(Proxy {
        upstream,
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client"),
        counts: Mutex::new(Counts::default()),
    });
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    // SAFETY: nothing else reads or writes the environment at this point (the SDK reads it
    // when a config is loaded, after this; no child process is running yet).
    unsafe { std::env::set_var("AWS_ENDPOINT_URL", format!("http://{addr}")) };
    proxy
}
