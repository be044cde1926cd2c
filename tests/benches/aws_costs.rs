//! What the deployed handlers cost in AWS calls, counted against moto through a counting
//! proxy (every DynamoDB, SQS and Secrets Manager request names its operation in
//! `X-Amz-Target`): per idle poll, per order event, per command; the scheduler's fan-out to
//! 10,000 tenants; the cold start of the release function binaries under an emulated Lambda
//! Runtime API; and a cost model per tenant-month computed from those counts.
//!
//! Run: `infra/tools.sh && source tests/moto/moto.sh && cargo bench -p epages-sync-tests --bench aws_costs`
//! `BENCH_TENANTS` (default 10,000) sizes the fan-out; `BENCH_SECTIONS` picks sections
//! (`calls,fanout,cold,cost`; default all); `BENCH_BIN_DIR` holds the release binaries
//! for the cold start (default `target/release`; `tests/benches/scripts/cold-start.sh`
//! builds them); `BENCH_COLD_RUNS` (default 7) runs per function; `BENCH_LOG_BYTES`
//! (`poll-orders:795,apply-commands:797`) gives the cost model log bytes per invocation
//! when the cold start is not run.

#[path = "common/mod.rs"]
mod common;

use common::{drain, epoch, size};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_adapters::provision::{StageResources, provision_stage};
use aws_adapters::{AwsStateConfig, SqsQueue, state_stores};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use beyond::HttpSettings;
use chrono::{DateTime, TimeDelta, Utc};
use connector::auth::ShopClients;
use connector::lambda::{
    ApplyCommands, PollOrders, SchedulePolls, SqsEventSource, lambda_context, scheduled_event,
};
use connector::pipeline::apply::{ApplySettings, CommandApplier};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::pipeline::schedule::{ScheduleSettings, Scheduler};
use connector::ports::activity::Retention;
use connector::ports::queue::OutgoingMessage;
use connector::ports::secrets::SecretNaming;
use connector::ports::{Clock, ManualClock, MessageQueue, StateStores, SystemClock};
use domain::tenant::{AuthMode, LocationMapping, SecretRef, StockTarget, TenantConfig, TenantId};
use futures::StreamExt;
use sandbox::{JournalFilter, Sandbox, SandboxHandle, SeedOrder, SeedProduct, ShopConfig};
use secrecy::SecretString;
use serde_json::{Value, json};

const SHOP: &str = "s1";

#[path = "aws_costs/proxy.rs"]
mod proxy;
use proxy::{Counts, OpCount, Proxy, start_proxy};

// ---------------------------------------------------------------------------------------
// A stage on moto with one tenant on the sandbox shop.

struct Stage {
    resources: StageResources,
    stores: StateStores,
    sdk: aws_config::SdkConfig,
    config: AwsStateConfig,
}

async fn stage(clock: Arc<dyn Clock>) -> Stage {
    let sdk = aws_adapters::sdk::load_sdk_config().await;
    let name = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let resources = provision_stage(&sdk, &name).await.expect("stage on moto");
    let config = AwsStateConfig {
        state_table: resources.state_table.clone(),
        activity_table: resources.activity_table.clone(),
        secrets: SecretNaming::new(format!("epages-sync/{name}")).expect("prefix"),
        secrets_kms_key_id: None,
        activity_retention: Retention::default(),
        secrets_cache_ttl: Duration::from_secs(300),
    };
    let stores = state_stores(&sdk, &config, clock);
    Stage {
        resources,
        stores,
        sdk,
        config,
    }
}

impl Stage {
    async fn queue(&self, url: &str) -> Arc<dyn MessageQueue> {
        Arc::new(
            SqsQueue::connect(aws_sdk_sqs::Client::new(&self.sdk), url.to_owned())
                .await
                .expect("queue"),
        )
    }

    async fn tenant(&self, id: &str, api_url: &str, at: DateTime<Utc>) -> TenantId {
        let tenant = TenantId::parse(id).expect("tenant id");
        let secret = self.config.secrets.tenant_client_secret(&tenant);
        self.stores
            .secrets
            .put(&secret, SecretString::from("secret-1"))
            .await
            .expect("secret");
        let mut config = TenantConfig::new(
            tenant.clone(),
            url::Url::parse(api_url).expect("url"),
            AuthMode::ClientCredentials,
            "client-1",
            secret,
            at - TimeDelta::hours(1),
        );
        config.locations = vec![LocationMapping {
            afosto_location_id: "wh-1".into(),
            target: StockTarget::ShopAvailability,
            epages_location_id: None,
        }];
        self.stores
            .tenants
            .create(config, at)
            .await
            .expect("tenant");
        tenant
    }
}

fn journal(sandbox: &SandboxHandle) -> usize {
    sandbox
        .journal(&JournalFilter {
            shop: Some(SHOP.to_owned()),
            webhooks: Some(false),
            ..JournalFilter::default()
        })
        .len()
}

/// The measured per-unit counts the cost model uses.
#[derive(Clone, Debug, Default)]
struct Measured {
    idle_poll: Counts,
    /// Per order event, marginal: a poll with 20 new orders minus one with 10, over 10
    /// (calls: the total over `events_per_poll` events; units: per event).
    per_event: Counts,
    events_per_poll: usize,
    /// What a poll that emits costs beyond an idle poll and its events: the lease it takes
    /// (10-order poll − idle poll − the 10 events' marginal cost).
    emit_overhead: Counts,
    ship: Counts,
    stock: Counts,
    fanout_tenants: usize,
    fanout: Counts,
    /// Wall time of the handler on moto (indicative only).
    idle_poll_ms: f64,
    /// Log bytes per warm-ish invocation of each function (from the cold start runs).
    log_bytes: BTreeMap<String, usize>,
}

fn print_counts(label: &str, c: &Counts) {
    let ddb = c.ddb();
    println!(
        "{label:<34} DynamoDB {:>3} calls {:>6.1} RRU {:>6.1} WRU | SQS {:>3} | Secrets {:>2} | {}",
        ddb.calls,
        ddb.rru,
        ddb.wru,
        c.sqs(),
        c.secrets(),
        c.short()
    );
}

/// Polls and commands through the handlers, AWS adapters on moto, counted by the proxy.
async fn calls(proxy: &Proxy, m: &mut Measured) {
    println!(
        "\n## AWS calls per unit of work (moto behind a counting proxy; handlers via SqsEventSource)"
    );
    // --- polls: ManualClock, the sandbox's clock in step.
    let clock = Arc::new(ManualClock::new(epoch()));
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox");
    sandbox.clock().set(epoch());
    sandbox
        .register_shop(ShopConfig::new(SHOP, "client-1", "secret-1"))
        .expect("shop");
    let product: SeedProduct = serde_json::from_value(
        json!({"sku": "MUG-001", "name": "Mug", "price": 9.5, "stock": 1000000}),
    )
    .expect("product");
    sandbox.add_product(SHOP, &product).expect("product");
    let add_orders = |count: usize, now: DateTime<Utc>| {
        for n in 0..count {
            let seed = SeedOrder {
                created_at: Some(now - TimeDelta::milliseconds(500 * (count - n) as i64)),
                ..SeedOrder::new(&[("MUG-001", 1)])
            };
            sandbox.create_order(SHOP, &seed).expect("order");
        }
    };
    let advance = |seconds: i64| {
        sandbox.clock().advance(TimeDelta::seconds(seconds));
        clock.advance(TimeDelta::seconds(seconds));
    };
    let stage = stage(clock.clone()).await;
    let tenant = stage
        .tenant("bench-poll", &sandbox.shop_api_url(SHOP), epoch())
        .await;
    add_orders(3, clock.now());
    let r = &stage.resources;
    let poll_queue = stage.queue(&r.poll.queue_url).await;
    let events = stage.queue(&r.order_events.queue_url).await;
    let clients = Arc::new(ShopClients::new(
        &stage.stores,
        HttpSettings::default(),
        clock.clone(),
    ));
    let service = PollService::new(
        stage.stores.clone(),
        clients,
        events.clone(),
        poll_queue.clone(),
        clock.clone(),
        PollSettings::default(),
    );
    let poller = PollOrders::new(service, stage.queue(&r.poll.dead_letter_url).await);
    let mapping = SqsEventSource::new(poll_queue.clone());
    let request = |at: DateTime<Utc>| {
        OutgoingMessage::new(
            PollRequest {
                tenant: tenant.clone(),
                trigger: PollTrigger::Schedule,
                requested_at: at,
            }
            .to_json(),
        )
    };
    // One poll as deployed: the scheduler's message (not counted: the fan-out's share is
    // counted there), the mapping's receive, the handler, the mapping's delete.
    let (poll_queue, events, mapping, poller, clock) =
        (&poll_queue, &events, &mapping, &poller, &clock);
    let poll_once = || async move {
        poll_queue
            .send_batch(vec![request(clock.now())])
            .await
            .expect("send");
        let before = proxy.snapshot();
        let started = Instant::now();
        let report = mapping
            .poll_once(Duration::from_secs(1), |event| poller.handle(event))
            .await
            .expect("mapping");
        let elapsed = started.elapsed();
        assert_eq!((report.received, report.failed), (1, 0), "{report:?}");
        let counts = proxy.snapshot().minus(&before);
        let sent = drain(events.as_ref()).await;
        // The SendMessage of the request is before the snapshot; subtracting nothing else.
        (counts, sent, elapsed)
    };
    advance(60);
    let (first, first_events, _) = poll_once().await;
    advance(300);
    let (idle, _, idle_time) = poll_once().await;
    advance(300);
    let beyond = journal(&sandbox);
    let (idle2, _, _) = poll_once().await;
    let idle_beyond = journal(&sandbox) - beyond;
    add_orders(10, clock.now());
    advance(60);
    let (ten, ten_events, _) = poll_once().await;
    // An idle poll first, so the 10 orders leave the overlap: the 20-order poll then reads
    // only its own orders, like the 10-order poll.
    advance(300);
    let _ = poll_once().await;
    advance(300);
    add_orders(20, clock.now());
    advance(60);
    let (twenty, twenty_events, _) = poll_once().await;
    assert_eq!((ten_events, twenty_events), (10, 20));
    print_counts(
        &format!("first poll ({first_events} events, token)"),
        &first,
    );
    print_counts("idle poll", &idle);
    print_counts(
        &format!("idle poll again ({idle_beyond} Beyond call)"),
        &idle2,
    );
    print_counts(&format!("poll with 10 new orders ({ten_events} ev)"), &ten);
    print_counts(
        &format!("poll with 20 new orders ({twenty_events} ev)"),
        &twenty,
    );
    // Per event as measured before issue 16 (the emitting poll's lease included), for
    // comparison with the earlier figures.
    // Against the idle poll with nothing in its overlap: the 10-order poll re-reads nothing
    // either.
    let all_in = ten.minus(&idle2).ddb();
    println!(
        "per order event incl. the emitting poll's overhead (10-order poll − idle poll again, / {ten_events}): DynamoDB {:.2} calls {:.2} RRU {:.2} WRU",
        all_in.calls as f64 / ten_events.max(1) as f64,
        all_in.rru / ten_events.max(1) as f64,
        all_in.wru / ten_events.max(1) as f64,
    );
    // Per event, marginal: what 10 more events in a poll cost.
    let marginal = twenty.minus(&ten);
    let overhead = ten.minus(&idle2).minus(&marginal);
    print_counts("emitting poll overhead (lease)", &overhead);
    let ten_events = twenty_events - ten_events;
    let mut per_event = BTreeMap::new();
    for (op, c) in marginal.0 {
        per_event.insert(
            op,
            OpCount {
                calls: c.calls,
                rru: c.rru / ten_events.max(1) as f64,
                wru: c.wru / ten_events.max(1) as f64,
            },
        );
    }
    let per_event = Counts(per_event);
    let pe = per_event.ddb();
    println!(
        "per order event, marginal (20-order poll − 10-order poll, / {ten_events}): DynamoDB {:.2} calls {:.2} RRU {:.2} WRU | SQS {:.2} calls",
        pe.calls as f64 / ten_events.max(1) as f64,
        pe.rru,
        pe.wru,
        per_event.sqs() as f64 / ten_events.max(1) as f64
    );
    m.idle_poll = idle;
    m.idle_poll_ms = idle_time.as_secs_f64() * 1000.0;
    m.per_event = per_event;
    m.events_per_poll = ten_events;
    m.emit_overhead = overhead;

    // --- commands: SystemClock (claims run to the invocation's deadline).
    let (shop, report) = {
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox");
        let seed = json!({ "shops": [{
            "name": SHOP, "clientId": "client-1", "clientSecret": "secret-1",
            "products": [ { "sku": "MUG-001", "name": "Mug", "price": 9.5, "stock": 1000000 } ],
            "orders": (0..3).map(|i| json!({"reference": format!("paid-{i}"),
                "lines": [{"sku": "MUG-001", "quantity": 2}], "adjustStock": false,
                "actions": [{"action": "pay"}]})).collect::<Vec<_>>(),
        }]});
        let report = sandbox
            .seed(&serde_json::from_value(seed).expect("seed"))
            .expect("seeded");
        (sandbox, serde_json::to_value(report).expect("json"))
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stage = self::stage(clock.clone()).await;
    let tenant = stage
        .tenant("bench-apply", &shop.shop_api_url(SHOP), Utc::now())
        .await;
    let r = &stage.resources;
    let commands = stage.queue(&r.commands.queue_url).await;
    let results = stage.queue(&r.order_events.queue_url).await;
    let clients = Arc::new(ShopClients::new(
        &stage.stores,
        HttpSettings::default(),
        clock.clone(),
    ));
    let applier = ApplyCommands::new(
        CommandApplier::new(
            stage.stores.clone(),
            clients,
            results.clone(),
            clock.clone(),
            ApplySettings::default(),
        ),
        stage.queue(&r.commands.dead_letter_url).await,
        clock,
    );
    let mapping = SqsEventSource::new(commands.clone());
    let command = |id: String, kind: &str, fields: Value| {
        let mut body = json!({"schemaVersion": 1, "id": id, "tenant": tenant.as_str(),
            "issuedAt": "2026-01-01T10:00:00Z", "type": kind});
        if let (Some(o), Value::Object(e)) = (body.as_object_mut(), fields) {
            o.extend(e);
        }
        let text = body.to_string();
        let parsed = contracts::command::parse_command(text.as_bytes()).expect("command");
        OutgoingMessage::fifo(text, parsed.message_group_id(), parsed.id.to_string())
    };
    let (commands, results, mapping, applier) = (&commands, &results, &mapping, &applier);
    let apply = |message: OutgoingMessage| async move {
        commands.send_batch(vec![message]).await.expect("send");
        let before = proxy.snapshot();
        let report = mapping
            .poll_once(Duration::from_secs(1), |event| applier.handle(event))
            .await
            .expect("mapping");
        assert_eq!((report.received, report.failed), (1, 0), "{report:?}");
        let counts = proxy.snapshot().minus(&before);
        assert_eq!(drain(results.as_ref()).await, 1, "one result");
        counts
    };
    let order = |i: usize| json!({"id": report["orders"][format!("paid-{i}")]["orderId"]});
    let stock = |n: i64| {
        json!({"sku": "MUG-001", "quantity": 500 + n, "location": "wh-1",
               "observedAt": (epoch() + TimeDelta::seconds(n)).to_rfc3339()})
    };
    let ship_first = apply(command(
        "ship-0".into(),
        "ship",
        json!({"order": order(0), "allUnshipped": true, "trackingCode": "T0"}),
    ))
    .await;
    let ship = apply(command(
        "ship-1".into(),
        "ship",
        json!({"order": order(1), "allUnshipped": true, "trackingCode": "T1"}),
    ))
    .await;
    let stock_first = apply(command("stock-1".into(), "stock", stock(1))).await;
    let stock_warm = apply(command("stock-2".into(), "stock", stock(2))).await;
    print_counts("ship command, first (token)", &ship_first);
    print_counts("ship command, warm", &ship);
    print_counts("stock command, first", &stock_first);
    print_counts("stock command, warm", &stock_warm);
    m.ship = ship;
    m.stock = stock_warm;
}

/// The scheduler's fan-out to `tenants` tenants through `SchedulePolls::handle`.
async fn fanout(proxy: &Proxy, tenants: usize, m: &mut Measured) {
    println!("\n## Scheduler fan-out to {tenants} tenants (moto behind the counting proxy)");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stage = stage(clock.clone()).await;
    let seeding = Instant::now();
    let store = stage.stores.tenants.clone();
    // moto serialises requests (tests/moto/moto_server.py); 8 in flight keeps it busy
    // without queueing many connections.
    futures::stream::iter(0..tenants)
        .map(|n| {
            let store = store.clone();
            async move {
                let config = TenantConfig::new(
                    TenantId::parse(&format!("fan-{n:05}")).expect("id"),
                    url::Url::parse("https://shop.example/api").expect("url"),
                    AuthMode::ClientCredentials,
                    "client",
                    SecretRef("unused".into()),
                    epoch(),
                );
                store.create(config, epoch()).await.expect("tenant");
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    println!(
        "seeded {tenants} tenants with TenantStore::create (8 in flight) in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let poll_queue = stage.queue(&stage.resources.poll.queue_url).await;
    let handler = SchedulePolls::new(Scheduler::new(
        stage.stores.tenants.clone(),
        poll_queue.clone(),
        clock,
        ScheduleSettings::default(),
    ));
    let before = proxy.snapshot();
    let started = Instant::now();
    let summary = handler
        .handle(lambda_runtime::LambdaEvent::new(
            scheduled_event(Utc::now()),
            lambda_context("fanout", Utc::now() + TimeDelta::minutes(4)),
        ))
        .await
        .expect("fan-out");
    let elapsed = started.elapsed().as_secs_f64();
    let counts = proxy.snapshot().minus(&before);
    println!(
        "SchedulePolls::handle: {} enqueued of {} listed, {} SendMessageBatch (ideal ceil(N/10) = {}), {} DynamoDB page(s) read, {:.2} s on moto (indicative)",
        summary.enqueued,
        summary.tenants_listed,
        counts.op("SendMessageBatch"),
        tenants.div_ceil(10),
        counts.op("Query") + counts.op("Scan"),
        elapsed
    );
    print_counts("fan-out, all calls", &counts);
    m.fanout_tenants = tenants;
    m.fanout = counts;
}

// ---------------------------------------------------------------------------------------
// Cold start under an emulated Lambda Runtime API.

struct Runtime {
    /// The event the next `GET .../invocation/next` returns (once).
    event: Mutex<Option<String>>,
    /// Set when the response (or an error) for the invocation arrives.
    done: tokio::sync::Notify,
    outcome: Mutex<Option<(Instant, String)>>,
}

async fn next(State(rt): State<Arc<Runtime>>) -> Response {
    let event = rt.event.lock().ok().and_then(|mut e| e.take());
    match event {
        Some(body) => {
            let deadline = Utc::now().timestamp_millis() + 60_000;
            (
                [
                    ("lambda-runtime-aws-request-id", "cold-start-1".to_owned()),
                    ("lambda-runtime-deadline-ms", deadline.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:eu-west-1:000000000000:function:bench".to_owned(),
                    ),
                    ("lambda-runtime-trace-id", "Root=1-0-0".to_owned()),
                    ("content-type", "application/json".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        // The one invocation is served: hold the next poll until the process is killed.
        None => std::future::pending().await,
    }
}

async fn respond(
    State(rt): State<Arc<Runtime>>,
    Path((_id, kind)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    if let Ok(mut outcome) = rt.outcome.lock() {
        *outcome = Some((
            Instant::now(),
            format!("{kind}: {}", String::from_utf8_lossy(&body)),
        ));
    }
    rt.done.notify_one();
    StatusCode::ACCEPTED
}

async fn init_error(State(rt): State<Arc<Runtime>>, body: Bytes) -> StatusCode {
    if let Ok(mut outcome) = rt.outcome.lock() {
        *outcome = Some((
            Instant::now(),
            format!("init error: {}", String::from_utf8_lossy(&body)),
        ));
    }
    rt.done.notify_one();
    StatusCode::ACCEPTED
}

fn sqs_event(body: &str, fifo: bool) -> String {
    let now = Utc::now().timestamp_millis().to_string();
    let mut attributes = json!({"ApproximateReceiveCount": "1", "SentTimestamp": now,
        "SenderId": "bench", "ApproximateFirstReceiveTimestamp": now});
    if fifo {
        attributes["MessageGroupId"] = json!("g1");
        attributes["MessageDeduplicationId"] = json!("d1");
        attributes["SequenceNumber"] = json!("1");
    }
    json!({"Records": [{"messageId": "m1", "receiptHandle": "r1", "body": body,
        "attributes": attributes, "messageAttributes": {}, "md5OfBody": "",
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:000000000000:q",
        "awsRegion": "eu-west-1"}]})
    .to_string()
}

struct ColdRun {
    ready_ms: f64,
    vm_hwm_kb: u64,
    log_bytes: usize,
    calls: Counts,
    outcome: String,
}

async fn cold_run(
    proxy: &Proxy,
    binary: &std::path::Path,
    env: &[(String, String)],
    memory: u32,
    event: String,
) -> ColdRun {
    let rt = Arc::new(Runtime {
        event: Mutex::new(Some(event)),
        done: tokio::sync::Notify::new(),
        outcome: Mutex::new(None),
    });
    let app = axum::Router::new()
        .route(
            "/2018-06-01/runtime/invocation/next",
            axum::routing::get(next),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/{kind}",
            axum::routing::post(respond),
        )
        .route(
            "/2018-06-01/runtime/init/error",
            axum::routing::post(init_error),
        )
        .with_state(rt.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let name = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let before = proxy.snapshot();
    let started = Instant::now();
    let mut child = std::process::Command::new(binary)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench/stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
    let waited = tokio::time::timeout(Duration::from_secs(30), rt.done.notified()).await;
    let (at, outcome) = rt
        .outcome
        .lock()
        .ok()
        .and_then(|o| o.clone())
        .unwrap_or((Instant::now(), format!("no response ({waited:?})")));
    let hwm = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0);
    // Give the runtime a moment to log the end of the invocation, then stop it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = child.kill();
    let mut log = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_end(&mut log);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_end(&mut log);
    }
    let _ = child.wait();
    server.abort();
    ColdRun {
        ready_ms: (at - started).as_secs_f64() * 1000.0,
        vm_hwm_kb: hwm,
        log_bytes: log.len(),
        calls: proxy.snapshot().minus(&before),
        outcome,
    }
}

async fn cold_start(proxy: &Proxy, m: &mut Measured) {
    let dir = PathBuf::from(
        std::env::var("BENCH_BIN_DIR").unwrap_or_else(|_| "../target/release".to_owned()),
    );
    let runs = size("BENCH_COLD_RUNS", 7);
    println!(
        "\n## Cold start: process start → first invocation answered (release x86_64 binaries in {}; deployed: arm64; AWS on moto via the proxy; {runs} runs, median)",
        dir.display()
    );
    let stage = stage(Arc::new(SystemClock)).await;
    let r = &stage.resources;
    let mut env: Vec<(String, String)> = r
        .env_vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    env.push(("POLL_DLQ_URL".into(), r.poll.dead_letter_url.clone()));
    env.push(("COMMAND_DLQ_URL".into(), r.commands.dead_letter_url.clone()));
    env.push(("RUST_LOG".into(), "info".into()));
    // The webhook functions' settings (install-app refuses to start without a public app).
    env.push((
        "EPAGES_WEBHOOK_URL".into(),
        "https://hooks.example/epages".into(),
    ));
    env.push(("PUBLIC_APP_CLIENT_ID".into(), "bench-app".into()));
    env.push(("ALLOWED_SHOP_HOSTS".into(), "*.beyondshop.cloud".into()));
    for key in [
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        env.push((key.into(), std::env::var(key).unwrap_or_default()));
    }
    let poll = PollRequest {
        tenant: TenantId::parse("nobody-here").expect("id"),
        trigger: PollTrigger::Schedule,
        requested_at: Utc::now(),
    }
    .to_json();
    let command = json!({"schemaVersion": 1, "id": "cold-1", "tenant": "nobody-here",
        "issuedAt": "2026-01-01T10:00:00Z", "type": "stock", "sku": "MUG-001",
        "quantity": 1, "location": "wh-1", "observedAt": "2026-01-01T10:00:00Z"})
    .to_string();
    let scheduled = serde_json::to_string(&scheduled_event(Utc::now())).expect("event");
    // An unsigned request: each webhook function answers it (401/400) without touching a
    // shop, which is what the first request of a cold container costs before any real work.
    let unsigned = |path: &str, query: &str| {
        json!({
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
            "headers": {"content-type": "application/json", "host": "hooks.example"},
            "requestContext": {"accountId": "anonymous", "apiId": "bench", "domainName": "hooks.example",
                "domainPrefix": "hooks", "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1", "userAgent": "bench"}, "requestId": "cold", "routeKey": "$default",
                "stage": "$default", "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_000_000_000u64},
            "body": "{}", "isBase64Encoded": false
        })
        .to_string()
    };
    let functions = [
        (
            "poll-orders",
            512,
            sqs_event(&poll, false),
            "poll request, unknown tenant",
        ),
        (
            "apply-commands",
            256,
            sqs_event(&command, true),
            "stock command, unknown tenant",
        ),
        (
            "schedule-polls",
            256,
            scheduled,
            "scheduled event, no tenants",
        ),
        (
            "afosto-webhook",
            256,
            unsigned("/", ""),
            "unsigned webhook, refused",
        ),
        (
            "epages-webhook",
            256,
            unsigned("/", "tenant=nobody-here"),
            "unsigned webhook, refused",
        ),
        (
            "install-app",
            256,
            unsigned("/", ""),
            "callback without a signature, refused",
        ),
    ];
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>9} {:>8} {:>10}  first event; AWS calls in init + invocation",
        "function", "median ms", "min ms", "max ms", "RSS MiB", "log B", "binary MB"
    );
    for (name, memory, event, what) in functions {
        let binary = dir.join(name);
        if !binary.is_file() {
            println!(
                "{name:<16} not measured: {} missing (tests/benches/scripts/cold-start.sh builds it)",
                binary.display()
            );
            continue;
        }
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let run = cold_run(proxy, &binary, &env, memory, event.clone()).await;
            assert!(
                run.outcome.starts_with("response"),
                "{name}: {}",
                run.outcome
            );
            times.push(run.ready_ms);
            last = Some(run);
        }
        times.sort_by(f64::total_cmp);
        let Some(run) = last else { continue };
        let bytes = std::fs::metadata(&binary).map(|md| md.len()).unwrap_or(0);
        println!(
            "{name:<16} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8} {:>10.2}  {what}; {}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            run.vm_hwm_kb as f64 / 1024.0,
            run.log_bytes,
            bytes as f64 / 1e6,
            run.calls.short()
        );
        m.log_bytes.insert(name.to_owned(), run.log_bytes);
    }
}

// ---------------------------------------------------------------------------------------
// The cost model.

/// Published on-demand prices for eu-west-1 (USD). Sources and dates in docs/PERFORMANCE.md.
mod price {
    /// Lambda Arm, per GB-second (first tier) and per request.
    pub const LAMBDA_ARM_GB_S: f64 = 0.000_013_333_4;
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// SQS per request (64 KB chunk), standard and FIFO.
    pub const SQS_STANDARD: f64 = 0.40 / 1e6;
    pub const SQS_FIFO: f64 = 0.50 / 1e6;
    /// DynamoDB on-demand, per request unit (eu-west-1, after the November 2024 cut).
    pub const DDB_WRU: f64 = 0.705 / 1e6;
    pub const DDB_RRU: f64 = 0.141 / 1e6;
    /// Secrets Manager per secret-month and per API call.
    pub const SECRET_MONTH: f64 = 0.40;
    pub const SECRET_CALL: f64 = 0.05 / 10_000.0;
    /// CloudWatch Logs ingestion per GB (eu-west-1) and custom metric per month.
    pub const LOGS_GB: f64 = 0.57;
}

/// Assumptions the counts cannot give; each is printed with the table.
struct Workload {
    orders_per_day: f64,
    /// Order events per order over its life (created, paid, shipped, delivered ...).
    events_per_order: f64,
    /// Commands from Afosto per order (ship, deliver) and stock updates per order.
    commands_per_order: f64,
    stock_per_order: f64,
}

fn cost(m: &Measured) {
    println!(
        "\n## Cost per tenant-month, eu-west-1 on-demand prices, computed from the counts above"
    );
    const MONTH_POLLS: f64 = 12.0 * 24.0 * 30.0; // rate(5 minutes)
    // Lambda durations: not measurable here (moto and the sandbox are not AWS). Assumed:
    // a DynamoDB call 6 ms, an SQS call 10 ms, a Beyond call 150 ms, all sequential (an upper
    // bound: pages and writes overlap in places). CPU time is negligible beside them
    // (see the instruction counts).
    let ms = |c: &Counts, beyond: f64| {
        c.ddb().calls as f64 * 6.0 + c.sqs() as f64 * 10.0 + beyond * 150.0
    };
    let idle_ms = ms(&m.idle_poll, 1.0);
    let per_event_ms = ms(&m.per_event, 0.0) / m.events_per_poll.max(1) as f64;
    let emit_ms = ms(&m.emit_overhead, 0.0);
    let ship_ms = ms(&m.ship, 4.0);
    let stock_ms = ms(&m.stock, 2.0);
    let fan_calls = |prefix: &str| m.fanout.service(prefix);
    let per_tenant_fan = |x: f64| x / m.fanout_tenants.max(1) as f64;
    let log_bytes = |name: &str| m.log_bytes.get(name).copied().unwrap_or(2_000) as f64;
    println!(
        "assumed latencies: DynamoDB 6 ms, SQS 10 ms, Beyond 150 ms per call, sequential → idle poll {idle_ms:.0} ms, +{emit_ms:.0} ms per poll that emits, +{per_event_ms:.0} ms per event, ship {ship_ms:.0} ms, stock {stock_ms:.0} ms"
    );
    println!(
        "{:<26} {:>12} {:>12}",
        "per tenant-month (USD)", "10 orders/d", "1,000 orders/d"
    );
    let workloads = [10.0, 1000.0].map(|orders_per_day| Workload {
        orders_per_day,
        events_per_order: 3.0,
        commands_per_order: 2.0,
        stock_per_order: 1.0,
    });
    let rows: Vec<[f64; 7]> = workloads
        .iter()
        .map(|w| {
            let orders = w.orders_per_day * 30.0;
            let events = orders * w.events_per_order;
            let ships = orders * w.commands_per_order;
            let stocks = orders * w.stock_per_order;
            // Polls that emit pay the lease on top of the idle poll: at most one per event
            // (every event in a poll of its own, an upper bound), at most every poll.
            let emitting = events.min(MONTH_POLLS);
            // Events arrive within the polls (one poll per 5 min carries them); one
            // invocation per poll (batches of up to 4 polls are possible with many tenants,
            // not assumed) and per command batch (1 command per invocation, worst case).
            let poll_s =
                (MONTH_POLLS * idle_ms + emitting * emit_ms + events * per_event_ms) / 1000.0;
            let cmd_s = (ships * ship_ms + stocks * stock_ms) / 1000.0;
            let lambda = (poll_s * 0.5 + cmd_s * 0.25) * price::LAMBDA_ARM_GB_S
                + (MONTH_POLLS + ships + stocks) * price::LAMBDA_REQUEST
                // The scheduler's run, shared by all tenants.
                + per_tenant_fan(MONTH_POLLS) * price::LAMBDA_REQUEST;
            let ddb_rru = MONTH_POLLS * m.idle_poll.ddb().rru
                + emitting * m.emit_overhead.ddb().rru
                + events * m.per_event.ddb().rru
                + ships * m.ship.ddb().rru
                + stocks * m.stock.ddb().rru
                + MONTH_POLLS * per_tenant_fan(fan_calls("DynamoDB").rru);
            let ddb_wru = MONTH_POLLS * m.idle_poll.ddb().wru
                + emitting * m.emit_overhead.ddb().wru
                + events * m.per_event.ddb().wru
                + ships * m.ship.ddb().wru
                + stocks * m.stock.ddb().wru;
            let ddb = ddb_rru * price::DDB_RRU + ddb_wru * price::DDB_WRU;
            // Poll queue (standard): the scheduler's share of a batch, receive, delete.
            // Order events and commands (FIFO): the counted calls per unit, plus Afosto's
            // receive + delete of each event and its send of each command (its bill too,
            // but the same AWS account in this deployment).
            let poll_sqs = MONTH_POLLS
                * (m.idle_poll.sqs() as f64
                    + 2.0
                    + per_tenant_fan(fan_calls("AmazonSQS").calls as f64));
            let fifo = emitting * m.emit_overhead.sqs() as f64
                + events * (m.per_event.sqs() as f64 / m.events_per_poll.max(1) as f64 + 2.0)
                + (ships + stocks) * (m.ship.sqs() as f64 + 1.0 + 2.0);
            let sqs = poll_sqs * price::SQS_STANDARD + fifo * price::SQS_FIFO;
            // One secret per tenant; reads are cached 300 s per container and needed only
            // when the stored token is refreshed: counted calls (0 in warm polls) plus one
            // per hour for the token refresh, an upper bound.
            let secret_calls = MONTH_POLLS * m.idle_poll.secrets() as f64 + 24.0 * 30.0;
            let secrets = price::SECRET_MONTH + secret_calls * price::SECRET_CALL;
            // Logs: the measured bytes per invocation plus Lambda's START/END/REPORT lines
            // (~350 bytes).
            let log_gb = (MONTH_POLLS * (log_bytes("poll-orders") + 350.0)
                + (ships + stocks) * (log_bytes("apply-commands") + 350.0))
                / 1e9;
            let logs = log_gb * price::LOGS_GB;
            let total = lambda + ddb + sqs + secrets + logs;
            [lambda, ddb, sqs, secrets, logs, total, ddb_wru]
        })
        .collect();
    for (i, label) in [
        "Lambda (GB-s + requests)",
        "DynamoDB on-demand",
        "SQS requests",
        "Secrets Manager",
        "CloudWatch Logs",
        "total",
    ]
    .iter()
    .enumerate()
    {
        println!("{label:<26} {:>12.4} {:>12.4}", rows[0][i], rows[1][i]);
    }
    println!(
        "workload: 3 events, 2 commands, 1 stock update per order; 8,640 polls a month; WRU/month {:.0} and {:.0}",
        rows[0][6], rows[1][6]
    );
    println!(
        "not in the table: custom metrics ($0.30/metric-month, per stage not per tenant, if dimensioned by stage), Lambda's ESM long polls on 3 queues (~$0.3/queue-month, per stage), free tiers"
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sections =
        std::env::var("BENCH_SECTIONS").unwrap_or_else(|_| "calls,fanout,cold,cost".into());
    let proxy = start_proxy().await;
    println!("aws_costs: AWS calls counted at a proxy in front of moto; Beyond is the sandbox");
    let mut measured = Measured::default();
    if sections.contains("calls") || sections.contains("cost") {
        calls(&proxy, &mut measured).await;
    }
    if sections.contains("fanout") || sections.contains("cost") {
        fanout(&proxy, size("BENCH_TENANTS", 10_000), &mut measured).await;
    }
    if sections.contains("cold") {
        cold_start(&proxy, &mut measured).await;
    }
    // Without the cold-start section, `BENCH_LOG_BYTES=poll-orders:795,apply-commands:797`
    // supplies log bytes per invocation measured in an earlier cold-start run (the cost
    // model's logs row needs them; 2,000 B each is assumed otherwise).
    if let Ok(spec) = std::env::var("BENCH_LOG_BYTES") {
        for pair in spec.split(',') {
            if let Some((name, bytes)) = pair.split_once(':')
                && let Ok(bytes) = bytes.trim().parse()
            {
                measured
                    .log_bytes
                    .entry(name.trim().to_owned())
                    .or_insert(bytes);
            }
        }
    }
    if sections.contains("cost") {
        cost(&measured);
    }
}
