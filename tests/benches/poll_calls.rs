//! Counts what polling costs: Beyond API calls (from the sandbox's request journal) for an
//! idle poll, 10 changed orders and a backfill, and SQS calls plus wall time of the
//! scheduler's fan-out to 10,000 tenants. State and queues are on moto, as deployed.
//!
//! Run: `infra/tools.sh && source tests/moto/moto.sh && cargo bench -p epages-sync-tests --bench poll_calls`
//! (`BENCH_BACKFILL_ORDERS`, `BENCH_TENANTS` change the sizes; defaults 10,000 each).

#[path = "common/mod.rs"]
mod common;

use common::{epoch, size};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_adapters::provision::{QueueSpec, create_queue_pair, create_table};
use aws_adapters::{AwsStateConfig, SqsQueue, state_stores};
use beyond::HttpSettings;
use chrono::TimeDelta;
use connector::auth::ShopClients;
use connector::pipeline::poll::{PollOutcome, PollService, PollSettings, PollStats};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::pipeline::schedule::{ScheduleSettings, Scheduler};
use connector::ports::activity::Retention;
use connector::ports::secrets::SecretNaming;
use connector::ports::{Clock, ManualClock, MessageQueue, StateStores, SystemClock};
use domain::tenant::{AuthMode, SecretRef, TenantConfig, TenantId};
use futures::StreamExt;
use sandbox::{JournalFilter, Sandbox, SandboxHandle, SeedOrder, SeedProduct, ShopConfig};
use secrecy::SecretString;

const SHOP: &str = "bench-shop";

struct Bench {
    sandbox: SandboxHandle,
    clock: Arc<ManualClock>,
    stores: StateStores,
    service: PollService,
    tenant: TenantId,
    sdk: aws_config::SdkConfig,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn queue(sdk: &aws_config::SdkConfig, spec: QueueSpec) -> Arc<dyn MessageQueue> {
    let client = aws_sdk_sqs::Client::new(sdk);
    let spec = QueueSpec {
        name: unique(&spec.name),
        ..spec
    };
    let pair = create_queue_pair(&client, &spec)
        .await
        .expect("queues on moto");
    Arc::new(
        SqsQueue::connect(client, pair.queue_url)
            .await
            .expect("queue connects"),
    )
}

async fn setup(page_size: u64, max_pages: u32) -> Bench {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| url.contains("127.0.0.1")),
        "the bench needs moto: infra/tools.sh && source tests/moto/moto.sh"
    );
    let sdk = aws_adapters::sdk::load_sdk_config().await;
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox");
    sandbox.clock().set(epoch());
    let clock = Arc::new(ManualClock::new(epoch()));
    sandbox
        .register_shop(ShopConfig::new(SHOP, "bench-client", "bench-secret"))
        .expect("shop");
    let product: SeedProduct =
        serde_json::from_value(serde_json::json!({"sku": "MUG-1", "name": "Mug", "price": 9.5}))
            .expect("product");
    sandbox.add_product(SHOP, &product).expect("product added");

    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let state_table = unique("bench-state");
    let activity_table = unique("bench-activity");
    create_table(&dynamodb, &state_table).await.expect("table");
    create_table(&dynamodb, &activity_table)
        .await
        .expect("table");
    let config = AwsStateConfig {
        state_table,
        activity_table,
        secrets: SecretNaming::new("epages-sync/bench").expect("prefix"),
        secrets_kms_key_id: None,
        activity_retention: Retention::default(),
        secrets_cache_ttl: Duration::from_secs(300),
    };
    let stores = state_stores(&sdk, &config, clock.clone());
    let tenant = TenantId::parse(&unique("bench")[..30]).expect("tenant id");
    let secret = SecretRef(format!("epages-sync/bench/tenants/{tenant}/client-secret"));
    stores
        .secrets
        .put(&secret, SecretString::from("bench-secret".to_owned()))
        .await
        .expect("secret");
    let config = TenantConfig::new(
        tenant.clone(),
        url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("url"),
        AuthMode::ClientCredentials,
        "bench-client",
        secret,
        epoch() - TimeDelta::hours(1),
    );
    stores
        .tenants
        .create(config, epoch())
        .await
        .expect("tenant");
    let order_events = queue(&sdk, QueueSpec::fifo("bench-events")).await;
    let poll_queue = queue(&sdk, QueueSpec::standard("bench-poll")).await;
    let clients = Arc::new(ShopClients::new(
        &stores,
        HttpSettings::default(),
        clock.clone(),
    ));
    let service = PollService::new(
        stores.clone(),
        clients,
        order_events,
        poll_queue,
        clock.clone(),
        PollSettings {
            page_size,
            max_pages,
            ..PollSettings::default()
        },
    );
    Bench {
        sandbox,
        clock,
        stores,
        service,
        tenant,
        sdk,
    }
}

impl Bench {
    fn advance(&self, seconds: i64) {
        self.sandbox.clock().advance(TimeDelta::seconds(seconds));
        self.clock.advance(TimeDelta::seconds(seconds));
    }

    fn calls(&self, path: Option<&str>) -> usize {
        self.sandbox
            .journal(&JournalFilter {
                shop: Some(SHOP.to_owned()),
                path: path.map(str::to_owned),
                webhooks: Some(false),
                ..JournalFilter::default()
            })
            .len()
    }

    /// Orders `count` orders, `spacing_ms` apart, ending now.
    fn orders(&self, count: usize, spacing_ms: i64) {
        let start = self.clock.now() - TimeDelta::milliseconds(spacing_ms * count as i64);
        for n in 0..count {
            let seed = SeedOrder {
                created_at: Some(start + TimeDelta::milliseconds(spacing_ms * n as i64)),
                ..SeedOrder::new(&[("MUG-1", 1)])
            };
            self.sandbox.create_order(SHOP, &seed).expect("order");
        }
    }

    /// Polls, following continuations, until the window is read; (invocations, stats).
    async fn poll_to_end(&self) -> (usize, Vec<PollStats>) {
        let mut request = PollRequest {
            tenant: self.tenant.clone(),
            trigger: PollTrigger::Schedule,
            requested_at: self.clock.now(),
        };
        let mut all = Vec::new();
        loop {
            match self.service.poll(&request).await.expect("poll") {
                PollOutcome::Completed(stats) => {
                    all.push(stats);
                    return (all.len(), all);
                }
                PollOutcome::Continued {
                    stats,
                    continuation,
                } => {
                    all.push(stats);
                    request = continuation;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

fn ratio(a: usize, b: usize) -> String {
    format!("{:.3}", a as f64 / b.max(1) as f64)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let backfill = size("BENCH_BACKFILL_ORDERS", 10_000);
    let tenants = size("BENCH_TENANTS", 10_000);
    println!(
        "poll_calls: Beyond API calls counted in the sandbox journal; state and queues on moto"
    );

    // Idle poll and 10 changed orders, page size 100.
    let bench = setup(100, 50).await;
    bench.orders(3, 1000);
    bench.advance(60);
    bench.poll_to_end().await;
    bench.advance(300);
    let before = bench.calls(None);
    bench.poll_to_end().await;
    let idle = bench.calls(None) - before;
    println!("idle poll (cached token):           {idle} API call(s)   expected 1");

    bench.orders(10, 1000);
    bench.advance(60);
    let before_all = bench.calls(None);
    let before_list = bench.calls(Some("/orders"));
    bench.poll_to_end().await;
    let changed_all = bench.calls(None) - before_all;
    let changed_list = bench.calls(Some("/orders")) - before_list;
    println!(
        "10 changed orders:                  {changed_list} list call(s), {changed_all} API call(s) in total   expected ceil(10/100) = 1"
    );

    // Backfill: page size 100, 50 pages per invocation, continuations followed.
    let bench = setup(100, 50).await;
    let seeding = Instant::now();
    bench.orders(backfill, 5);
    println!(
        "backfill: {backfill} orders seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    bench.advance(60);
    let before = bench.calls(Some("/orders"));
    let started = Instant::now();
    let (invocations, stats) = bench.poll_to_end().await;
    let elapsed = started.elapsed();
    let lists = bench.calls(Some("/orders")) - before;
    let events: usize = stats.iter().map(|s| s.events_sent).sum();
    let ideal = backfill.div_ceil(100);
    println!(
        "backfill of {backfill} orders:          {lists} list calls over {invocations} invocation(s), ideal ceil(N/100) = {ideal}, ratio {}; {events} events; {:.1} s ({:.0} orders/s)",
        ratio(lists, ideal),
        elapsed.as_secs_f64(),
        backfill as f64 / elapsed.as_secs_f64().max(0.001)
    );
    let cursor = bench
        .stores
        .poll_state
        .get(&bench.tenant)
        .await
        .expect("state")
        .cursor;
    println!("backfill cursor: {:?}", cursor.updated_after);

    // Scheduler fan-out to `tenants` tenants.
    let seeding = Instant::now();
    let configs: Vec<TenantConfig> = (0..tenants)
        .map(|n| {
            let id = TenantId::parse(&format!("fan-{n:05}")).expect("id");
            TenantConfig::new(
                id,
                url::Url::parse("https://shop.example/api").expect("url"),
                AuthMode::ClientCredentials,
                "client",
                SecretRef("unused".into()),
                epoch(),
            )
        })
        .collect();
    let store = bench.stores.tenants.clone();
    futures::stream::iter(configs)
        .map(|config| {
            let store = store.clone();
            async move { store.create(config, epoch()).await.expect("tenant") }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    println!(
        "scheduler: {tenants} tenants stored in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let poll_queue = queue(&bench.sdk, QueueSpec::standard("bench-fanout")).await;
    let scheduler = Scheduler::new(
        bench.stores.tenants.clone(),
        poll_queue.clone(),
        Arc::new(SystemClock),
        ScheduleSettings::default(),
    );
    let started = Instant::now();
    let report = scheduler.run().await.expect("fan-out");
    let elapsed = started.elapsed();
    let depth = poll_queue.depth().await.expect("depth");
    println!(
        "scheduler fan-out: {} requests enqueued ({} tenants listed in {} page(s)) with {} SendMessageBatch calls (ratio {} per tenant) in {:.2} s; queue depth {}",
        report.enqueued,
        report.tenants_listed,
        report.tenant_pages,
        report.send_calls,
        ratio(report.send_calls, report.enqueued),
        elapsed.as_secs_f64(),
        depth.total()
    );
}
