//! The deployed handlers (`connector::lambda::{PollOrders, ApplyCommands}`) driven by the local
//! SQS event source mapping, over the embedded state and queues and a zero-latency sandbox
//! shop. Prints counts that hold on a loaded machine (Beyond API calls from the sandbox's
//! journal, ratios to the ideal) and indicative wall-clock throughput.
//!
//! Run: `cargo bench -p epages-sync-tests --bench handlers`
//! (`BENCH_BACKFILL_ORDERS` sizes the backfill, default 10,000; `BENCH_THROUGHPUT` the
//! throughput workloads, default 400).
//!
//! `BENCH_INSTRUCTIONS=events:N` or `commands:N` runs only a fixed workload of N order events
//! or N commands, for `tests/benches/scripts/instructions.sh` under callgrind. The sandbox
//! then runs on a thread of its own (and is seeded there), so `--separate-threads=yes` splits
//! the connector's instructions from the emulated shop's.

#[path = "common/mod.rs"]
mod common;

use common::{drain, epoch, size};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::embedded::{open_stage_queues, open_state};
use beyond::HttpSettings;
use chrono::{DateTime, TimeDelta, Utc};
use connector::auth::ShopClients;
use connector::lambda::{ApplyCommands, PollOrders, SqsEventSource};
use connector::pipeline::apply::{ApplySettings, CommandApplier};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::ports::activity::Retention;
use connector::ports::queue::{OutgoingMessage, StageQueues};
use connector::ports::{Clock, ManualClock, StateStores, SystemClock};
use domain::tenant::{AuthMode, LocationMapping, SecretRef, StockTarget, TenantConfig, TenantId};
use sandbox::{JournalFilter, Sandbox, SandboxHandle};
use secrecy::SecretString;
use serde_json::{Value, json};

const SHOP: &str = "s1";
const PAGE: u64 = 100;

/// The sandbox, either on the bench's runtime or on a thread of its own (callgrind mode).
struct Shop {
    handle: Arc<SandboxHandle>,
}

impl Shop {
    /// Starts a sandbox on its own OS thread and current-thread runtime, seeds it there, and
    /// keeps serving until the process ends.
    fn on_own_thread(seed: Value) -> (Self, Value) {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("sandbox".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox");
                    let report = sandbox.seed(&serde_json::from_value(seed).expect("seed"));
                    let report = serde_json::to_value(report.expect("seeded")).expect("json");
                    tx.send((Arc::new(sandbox), report)).expect("send");
                    std::future::pending::<()>().await;
                });
            })
            .expect("thread");
        let (handle, report) = rx.recv().expect("sandbox started");
        (Self { handle }, report)
    }

    async fn here(seed: Value) -> (Self, Value) {
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox");
        let report = sandbox.seed(&serde_json::from_value(seed).expect("seed"));
        let report = serde_json::to_value(report.expect("seeded")).expect("json");
        (
            Self {
                handle: Arc::new(sandbox),
            },
            report,
        )
    }

    fn calls(&self, path: Option<&str>) -> usize {
        self.handle
            .journal(&JournalFilter {
                shop: Some(SHOP.to_owned()),
                path: path.map(str::to_owned),
                webhooks: Some(false),
                ..JournalFilter::default()
            })
            .len()
    }
}

/// A seed: shop `s1` with the products the commands use and `per_kind` orders of each
/// kind (`new-i`, `paid-i`, `shipped-i`, `pickup-i`), created `spacing_ms` apart before
/// `at` (the sandbox clock is set to `at` first when given).
fn seed(per_kind: usize, extra_new: usize, at: Option<DateTime<Utc>>) -> Value {
    let mut orders = Vec::new();
    let stamp = |n: usize| {
        at.map(|at| at - TimeDelta::milliseconds(5 * (per_kind * 4 + extra_new - n) as i64))
    };
    let mut n = 0;
    for i in 0..per_kind {
        for (kind, extra) in [
            ("new", json!({})),
            ("paid", json!({"actions": [{"action": "pay"}]})),
            (
                "shipped",
                json!({"actions": [{"action": "pay"}, {"action": "ship", "trackingCode": format!("TRACK-{i}")}]}),
            ),
            ("pickup", json!({"pickup": true})),
        ] {
            let mut order = json!({
                "reference": format!("{kind}-{i}"),
                "lines": [{"sku": "MUG-001", "quantity": 3}, {"sku": "BAG-001", "quantity": 2}],
                "shippingPrice": 4.90,
                "adjustStock": false,
            });
            if let (Some(o), Value::Object(e)) = (order.as_object_mut(), extra) {
                o.extend(e);
            }
            if let Some(t) = stamp(n) {
                order["createdAt"] = json!(t);
            }
            n += 1;
            orders.push(order);
        }
    }
    for i in 0..extra_new {
        let mut order = json!({
            "reference": format!("bulk-{i}"),
            "lines": [{"sku": "MUG-001", "quantity": 1}],
            "shippingPrice": 4.90,
            "adjustStock": false,
        });
        if let Some(t) = stamp(n) {
            order["createdAt"] = json!(t);
        }
        n += 1;
        orders.push(order);
    }
    json!({ "shops": [{
        "name": SHOP, "clientId": "client-1", "clientSecret": "secret-1",
        "products": [
            { "sku": "MUG-001", "name": "Coffee Mug", "price": 12.90, "stock": 100000 },
            { "sku": "BAG-001", "name": "Canvas Tote Bag", "price": 19.90, "stock": 100000 },
            { "name": "Organic T-Shirt", "price": 24.90, "variations": [
                { "sku": "TSHIRT-S", "attributes": { "size": "S" }, "stock": 10 },
                { "sku": "TSHIRT-M", "attributes": { "size": "M" }, "stock": 4 } ] }
        ],
        "orders": orders,
    }]})
}

fn order_id(report: &Value, reference: &str) -> String {
    report["orders"][reference]["orderId"]
        .as_str()
        .unwrap_or_else(|| panic!("no seeded order {reference}: {report}"))
        .to_owned()
}

/// Embedded state and queues (in a temporary directory, on tmpfs when available) with one
/// tenant on the sandbox shop.
struct Env {
    stores: StateStores,
    queues: StageQueues,
    tenant: TenantId,
    clock: Arc<dyn Clock>,
    _dir: tempfile::TempDir,
}

async fn env(shop_api_url: &str, clock: Arc<dyn Clock>, sync_start: DateTime<Utc>) -> Env {
    // tmpfs keeps the embedded stores' fsyncs from dominating (Lambda's state is DynamoDB).
    let dir = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm"),
        false => tempfile::tempdir(),
    }
    .expect("state dir");
    // The plain embedded stores: one SQLite database, a row per ledger entry and activity
    // entry, so a write costs the same at 10 or 10,000 orders (no sharding needed).
    let stores = open_state(dir.path(), Retention::default(), clock.clone())
        .await
        .expect("state");
    let queues = open_stage_queues(dir.path(), clock.clone())
        .await
        .expect("queues");
    let tenant = TenantId::parse("bench-tenant").expect("tenant id");
    let secret = SecretRef(format!("bench/{tenant}/client-secret"));
    stores
        .secrets
        .put(&secret, SecretString::from("secret-1"))
        .await
        .expect("secret");
    let mut config = TenantConfig::new(
        tenant.clone(),
        url::Url::parse(shop_api_url).expect("url"),
        AuthMode::ClientCredentials,
        "client-1",
        secret,
        sync_start,
    );
    config.locations = vec![LocationMapping {
        afosto_location_id: "wh-1".into(),
        target: StockTarget::ShopAvailability,
        epages_location_id: None,
    }];
    stores
        .tenants
        .create(config, clock.now())
        .await
        .expect("tenant");
    Env {
        stores,
        queues,
        tenant,
        clock,
        _dir: dir,
    }
}

impl Env {
    fn poller(&self, max_pages: u32) -> PollOrders {
        let clients = Arc::new(ShopClients::new(
            &self.stores,
            HttpSettings::default(),
            self.clock.clone(),
        ));
        let service = PollService::new(
            self.stores.clone(),
            clients,
            self.queues.order_events.clone(),
            self.queues.poll.clone(),
            self.clock.clone(),
            PollSettings {
                page_size: PAGE,
                max_pages,
                ..PollSettings::default()
            },
        );
        PollOrders::new(service, self.queues.poll_dead_letters.clone())
    }

    fn applier(&self) -> ApplyCommands {
        let clients = Arc::new(ShopClients::new(
            &self.stores,
            HttpSettings::default(),
            self.clock.clone(),
        ));
        let applier = CommandApplier::new(
            self.stores.clone(),
            clients,
            self.queues.order_events.clone(),
            self.clock.clone(),
            ApplySettings::default(),
        );
        ApplyCommands::new(
            applier,
            self.queues.command_dead_letters.clone(),
            self.clock.clone(),
        )
    }

    async fn request_poll(&self) {
        let request = PollRequest {
            tenant: self.tenant.clone(),
            trigger: PollTrigger::Schedule,
            requested_at: self.clock.now(),
        };
        let report = self
            .queues
            .poll
            .send_batch(vec![OutgoingMessage::new(request.to_json())])
            .await
            .expect("poll request");
        assert!(report.all_sent(), "{report:?}");
    }

    /// Runs the poll mapping until the poll queue is empty (continuations included),
    /// consuming the order events as they come so the queue stays small; (invocations,
    /// events).
    async fn poll_all(&self, poller: &PollOrders) -> (usize, usize) {
        let mapping = SqsEventSource::new(self.queues.poll.clone());
        let (mut invocations, mut events) = (0, 0);
        loop {
            let report = mapping
                .poll_once(Duration::ZERO, |event| poller.handle(event))
                .await
                .expect("poll mapping");
            if report.received == 0 {
                return (invocations, events);
            }
            assert_eq!(report.failed, 0, "a poll failed: {report:?}");
            invocations += 1;
            events += drain(self.queues.order_events.as_ref()).await;
        }
    }

    async fn send_commands(&self, bodies: &[Value]) {
        for chunk in bodies.chunks(10) {
            let messages = chunk
                .iter()
                .map(|body| {
                    let text = body.to_string();
                    let command = contracts::command::parse_command(text.as_bytes())
                        .unwrap_or_else(|e| panic!("command {body}: {e:?}"));
                    OutgoingMessage::fifo(text, command.message_group_id(), command.id.to_string())
                })
                .collect();
            let report = self
                .queues
                .commands
                .send_batch(messages)
                .await
                .expect("commands sent");
            assert!(report.all_sent(), "{report:?}");
        }
    }

    /// Runs the command mapping until the queue is empty; the number of results consumed.
    async fn apply_all(&self, applier: &ApplyCommands) -> usize {
        let mapping =
            SqsEventSource::new(self.queues.commands.clone()).with_retry_delay(Duration::ZERO);
        let mut results = 0;
        for _ in 0..100_000 {
            let report = mapping
                .poll_once(Duration::ZERO, |event| applier.handle(event))
                .await
                .expect("command mapping");
            results += drain(self.queues.order_events.as_ref()).await;
            if report.received == 0 {
                return results;
            }
        }
        panic!("the command queue did not drain");
    }

    fn command(&self, id: &str, kind: &str, fields: Value) -> Value {
        let mut body = json!({
            "schemaVersion": 1,
            "id": id,
            "tenant": self.tenant.as_str(),
            "issuedAt": "2026-01-01T10:00:00Z",
            "type": kind,
        });
        if let (Some(target), Value::Object(extra)) = (body.as_object_mut(), fields) {
            target.extend(extra);
        }
        body
    }
}

/// The command of `kind` for the `i`-th order of its kind; `n` makes ids and stock levels
/// unique.
fn command_for(env: &Env, report: &Value, kind: &str, i: usize, n: usize) -> Value {
    let id = format!("{kind}-{i}-{n}");
    let order = |reference: &str| json!({ "id": order_id(report, &format!("{reference}-{i}")) });
    match kind {
        "ship" => env.command(
            &id,
            "ship",
            json!({ "order": order("paid"), "allUnshipped": true, "trackingCode": format!("T-{i}") }),
        ),
        "cancel" => env.command(&id, "cancel", json!({ "order": order("new"), "wholeOrder": true })),
        "return_accepted" | "return_rejected" => {
            let decision = kind.trim_start_matches("return_");
            env.command(
                &id,
                "return",
                json!({ "order": order("shipped"), "lines": [ { "sku": "BAG-001", "quantity": 1, "decision": decision } ] }),
            )
        }
        "ready_for_pickup" => env.command(&id, "ready_for_pickup", json!({ "order": order("pickup") })),
        "picked_up" => env.command(&id, "picked_up", json!({ "order": order("pickup") })),
        "deliver" => env.command(
            &id,
            "deliver",
            json!({ "order": order("shipped"), "trackingCode": format!("TRACK-{i}") }),
        ),
        "stock" => env.command(
            &id,
            "stock",
            json!({ "sku": "MUG-001", "quantity": 1000 + n as i64, "location": "wh-1",
                    "observedAt": (epoch() + TimeDelta::seconds(n as i64)).to_rfc3339() }),
        ),
        other => panic!("unknown kind {other}"),
    }
}

const KINDS: [&str; 8] = [
    "ship",
    "cancel",
    "return_accepted",
    "return_rejected",
    "ready_for_pickup",
    "picked_up",
    "deliver",
    "stock",
];

/// Beyond calls per command type: the first command of a fresh handler (token fetch, cold
/// caches) and a warm one (same type, another order, same handler).
async fn command_calls() {
    println!("\n## Beyond API calls per command (sandbox journal; token calls included)");
    println!("{:<18} {:>6} {:>6}", "command", "first", "warm");
    for kind in KINDS {
        let (shop, report) = Shop::here(seed(3, 0, None)).await;
        let env = env(
            &shop.handle.shop_api_url(SHOP),
            Arc::new(SystemClock),
            Utc::now() - TimeDelta::days(30),
        )
        .await;
        let applier = env.applier();
        if kind == "picked_up" {
            // Picking up needs the order to be ready first (not counted).
            let ready: Vec<Value> = (0..2)
                .map(|i| command_for(&env, &report, "ready_for_pickup", i, i))
                .collect();
            env.send_commands(&ready).await;
            env.apply_all(&applier).await;
        }
        let mut counts = Vec::new();
        for i in 0..2 {
            let before = shop.calls(None);
            env.send_commands(&[command_for(&env, &report, kind, i, 10 + i)])
                .await;
            let results = env.apply_all(&applier).await;
            assert_eq!(results, 1, "{kind}: one result per command");
            counts.push(shop.calls(None) - before);
        }
        println!("{:<18} {:>6} {:>6}", kind, counts[0], counts[1]);
    }
}

/// Idle poll, 10 changed orders, and a backfill through the poll handler.
async fn poll_calls(backfill: usize) {
    println!("\n## Beyond API calls per poll (page size {PAGE}; sandbox journal)");
    let clock = Arc::new(ManualClock::new(epoch()));
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox");
    sandbox.clock().set(epoch());
    let shop = Shop {
        handle: Arc::new(sandbox),
    };
    let advance = |seconds: i64| {
        shop.handle.clock().advance(TimeDelta::seconds(seconds));
        clock.advance(TimeDelta::seconds(seconds));
    };
    shop.handle
        .seed(&serde_json::from_value(seed(0, 3, Some(epoch()))).expect("seed"))
        .expect("seeded");
    let env = env(
        &shop.handle.shop_api_url(SHOP),
        clock.clone(),
        epoch() - TimeDelta::hours(1),
    )
    .await;
    let poller = env.poller(50);
    advance(60);
    env.request_poll().await;
    env.poll_all(&poller).await;

    advance(300);
    let before = shop.calls(None);
    env.request_poll().await;
    env.poll_all(&poller).await;
    println!(
        "idle poll (token cached)      {:>6} call(s)   ideal 1",
        shop.calls(None) - before
    );

    add_orders(&shop, clock.now(), 10);
    advance(60);
    let (before, before_list) = (shop.calls(None), shop.calls(Some("/orders")));
    env.request_poll().await;
    let (_, events) = env.poll_all(&poller).await;
    println!(
        "10 new orders                 {:>6} list call(s), {} in all, {events} events   ideal ceil(10/{PAGE}) = 1",
        shop.calls(Some("/orders")) - before_list,
        shop.calls(None) - before
    );

    // Backfill: a new tenant whose sync starts before `backfill` orders.
    let seeding = Instant::now();
    add_orders(&shop, clock.now(), backfill);
    let seeded = seeding.elapsed();
    advance(60);
    let env = self::env(
        &shop.handle.shop_api_url(SHOP),
        clock.clone(),
        clock.now() - TimeDelta::hours(2),
    )
    .await;
    // 5 pages per invocation (not 50): the continuations go through the poll queue as
    // in AWS, and the events are drained between invocations.
    let poller = env.poller(5);
    let (before, before_list) = (shop.calls(None), shop.calls(Some("/orders")));
    let started = Instant::now();
    env.request_poll().await;
    let (invocations, events) = env.poll_all(&poller).await;
    let elapsed = started.elapsed().as_secs_f64();
    let lists = shop.calls(Some("/orders")) - before_list;
    let total_orders = backfill + 13;
    let ideal = total_orders.div_ceil(PAGE as usize);
    println!(
        "backfill of {total_orders} orders      {lists:>6} list call(s), {} in all, {invocations} invocations (5 pages each), ideal ceil(N/{PAGE}) = {ideal}, ratio {:.3}; {events} events in {elapsed:.1} s ({:.0} events/s; seeding took {:.1} s)",
        shop.calls(None) - before,
        lists as f64 / ideal as f64,
        events as f64 / elapsed,
        seeded.as_secs_f64()
    );
}

/// Creates `count` orders, 5 ms apart, ending at `now`.
fn add_orders(shop: &Shop, now: DateTime<Utc>, count: usize) {
    for n in 0..count {
        let seed = sandbox::SeedOrder {
            created_at: Some(now - TimeDelta::milliseconds(5 * (count - n) as i64)),
            ..sandbox::SeedOrder::new(&[("MUG-001", 1)])
        };
        shop.handle.create_order(SHOP, &seed).expect("order");
    }
}

/// Order events per second through the poll handler, and commands per second through the
/// command handler (indicative: wall clock on a shared machine).
async fn throughput(n: usize) {
    println!(
        "\n## Throughput through the handlers (embedded state on tmpfs, zero-latency shop; wall clock, indicative)"
    );
    let (shop, _) = Shop::here(seed(0, n, Some(Utc::now() - TimeDelta::minutes(5)))).await;
    let env = env(
        &shop.handle.shop_api_url(SHOP),
        Arc::new(SystemClock),
        Utc::now() - TimeDelta::days(1),
    )
    .await;
    let poller = env.poller(50);
    let started = Instant::now();
    env.request_poll().await;
    let (_, events) = env.poll_all(&poller).await;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "order events (imports)   {events:>6} in {elapsed:>6.2} s = {:>7.0} events/s",
        events as f64 / elapsed
    );

    for kind in ["ship", "stock"] {
        let (shop, report) = Shop::here(seed(n, 0, None)).await;
        let env = self::env(
            &shop.handle.shop_api_url(SHOP),
            Arc::new(SystemClock),
            Utc::now() - TimeDelta::days(30),
        )
        .await;
        let applier = env.applier();
        let bodies: Vec<Value> = (0..n)
            .map(|i| command_for(&env, &report, kind, i, i))
            .collect();
        env.send_commands(&bodies).await;
        let started = Instant::now();
        let results = env.apply_all(&applier).await;
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(results, n, "{kind}: one result per command");
        println!(
            "{kind:<5} commands           {n:>6} in {elapsed:>6.2} s = {:>7.0} commands/s",
            n as f64 / elapsed
        );
    }
}

/// The fixed workload for callgrind: N order events or N ship commands, after a warm-up of
/// the same kind so one-time costs (token, first file writes) fall into the setup.
fn instructions(spec: &str) {
    let (kind, n) = spec.split_once(':').expect("events:N or commands:N");
    let n: usize = n.parse().expect("N");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match kind {
        "events" => {
            let (shop, _) =
                Shop::on_own_thread(seed(0, n, Some(Utc::now() - TimeDelta::minutes(5))));
            runtime.block_on(async {
                let env = env(
                    &shop.handle.shop_api_url(SHOP),
                    Arc::new(SystemClock),
                    Utc::now() - TimeDelta::days(1),
                )
                .await;
                let poller = env.poller(50);
                env.request_poll().await;
                let (_, events) = env.poll_all(&poller).await;
                println!("events {events}");
            });
        }
        "commands" => {
            let (shop, report) = Shop::on_own_thread(seed(n, 0, None));
            runtime.block_on(async {
                let env = env(
                    &shop.handle.shop_api_url(SHOP),
                    Arc::new(SystemClock),
                    Utc::now() - TimeDelta::days(30),
                )
                .await;
                let applier = env.applier();
                let bodies: Vec<Value> = (0..n)
                    .map(|i| command_for(&env, &report, "ship", i, i))
                    .collect();
                env.send_commands(&bodies).await;
                let results = env.apply_all(&applier).await;
                println!("commands {results}");
            });
        }
        other => panic!("unknown workload {other}"),
    }
}

fn main() {
    if let Ok(spec) = std::env::var("BENCH_INSTRUCTIONS") {
        instructions(&spec);
        return;
    }
    let backfill = size("BENCH_BACKFILL_ORDERS", 10_000);
    let n = size("BENCH_THROUGHPUT", 400);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "handlers: connector::lambda handlers via SqsEventSource; embedded backend; sandbox shop"
    );
    runtime.block_on(async {
        command_calls().await;
        poll_calls(backfill).await;
        throughput(n).await;
    });
}
