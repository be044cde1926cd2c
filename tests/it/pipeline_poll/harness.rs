//! A tenant on a sandbox shop with every port on one backend (embedded or moto), the
//! outbound FIFO queue and the poll queue, and a clock shared by sandbox and poller.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::AwsStateConfig;
use aws_adapters::provision::QueueSpec;
use beyond::{HttpSettings, RetryPolicy};
use chrono::{DateTime, TimeDelta, Utc};
use connector::auth::ShopClients;
use connector::pipeline::poll::{PollError, PollOutcome, PollService, PollSettings};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::ports::activity::Retention;
use connector::ports::secrets::SecretNaming;
use connector::ports::tenants::CreateOutcome;
use connector::ports::{Clock, ManualClock, MessageQueue, StateStores};
use contracts::order_event::OrderEvent;
use domain::tenant::{AuthMode, SecretRef, TenantConfig, TenantId};
use sandbox::{
    JournalFilter, Sandbox, SandboxHandle, SeedAction, SeedLine, SeedOrder, SeedProduct,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::support;

pub const SHOP: &str = "poll-shop";
const CLIENT_ID: &str = "poll-client";
const CLIENT_SECRET: &str = "poll-secret";
pub const SKUS: [&str; 3] = ["MUG-1", "BAG-1", "CAP-1"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

/// Runs each scenario on both backends: `both_backends!(a, b)` makes
/// `embedded::a`, `aws::a`, … calling `super::a(Backend)`.
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::pipeline_poll::harness::Backend::Embedded).await;
                }
            )+
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::pipeline_poll::harness::Backend::Aws).await;
                }
            )+
        }
    };
}
pub(crate) use both_backends;

/// Retries fast enough for tests, with room for a 1 s `Retry-After`.
pub fn fast_http() -> HttpSettings {
    HttpSettings {
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(1500),
        },
        max_concurrent_requests: 4,
        user_agent: "epages-sync-poll-tests".to_owned(),
        ..HttpSettings::default()
    }
}

pub struct World {
    pub sandbox: SandboxHandle,
    pub clock: Arc<ManualClock>,
    pub stores: StateStores,
    pub order_events: Arc<dyn MessageQueue>,
    pub poll_queue: Arc<dyn MessageQueue>,
    pub poll_dead_letters: Arc<dyn MessageQueue>,
    pub clients: Arc<ShopClients>,
    pub tenant: TenantId,
    _keep: Vec<Box<dyn Any + Send + Sync>>,
}

/// The instant every world starts at (the sandbox clock is frozen there).
pub fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).expect("valid time")
}

impl World {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// `configure` adjusts the tenant before it is stored.
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut TenantConfig)) -> Self {
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
        sandbox.clock().set(epoch());
        let clock = Arc::new(ManualClock::new(epoch()));
        sandbox
            .register_shop(sandbox::ShopConfig::new(SHOP, CLIENT_ID, CLIENT_SECRET))
            .expect("shop registers");
        for sku in SKUS {
            let product: SeedProduct = serde_json::from_value(serde_json::json!({
                "sku": sku, "name": format!("Product {sku}"), "price": 12.90
            }))
            .expect("a valid seed product");
            sandbox
                .add_product(SHOP, &product)
                .expect("product is added");
        }
        let mut keep: Vec<Box<dyn Any + Send + Sync>> = Vec::new();
        let clock_dyn: Arc<dyn Clock> = clock.clone();
        let (stores, order_events, poll_queue, poll_dead_letters) = match backend {
            Backend::Embedded => {
                let dir = support::embedded::state_dir();
                let stores = ::embedded::open_state(dir.path(), Retention::default(), clock_dyn)
                    .await
                    .expect("embedded state opens");
                let events = support::embedded::queue_pair(QueueSpec::fifo("order-events")).await;
                let poll = support::embedded::queue_pair(QueueSpec::standard("poll")).await;
                keep.push(Box::new(dir));
                let queues = (
                    events.queue.clone(),
                    poll.queue.clone(),
                    poll.dead_letters.clone(),
                );
                keep.push(Box::new(events));
                keep.push(Box::new(poll));
                (stores, queues.0, queues.1, queues.2)
            }
            Backend::Aws => {
                let sdk = support::aws::sdk_config().await;
                let (_, state_table) = support::aws::table("poll-state").await;
                let (_, activity_table) = support::aws::table("poll-activity").await;
                let config = AwsStateConfig {
                    state_table,
                    activity_table,
                    secrets: SecretNaming::new("epages-sync/test").expect("valid prefix"),
                    secrets_kms_key_id: None,
                    activity_retention: Retention::default(),
                    secrets_cache_ttl: Duration::from_secs(300),
                };
                let stores = aws_adapters::state_stores(&sdk, &config, clock_dyn);
                let events = support::aws::queue_pair(QueueSpec::fifo("order-events")).await;
                let poll = support::aws::queue_pair(QueueSpec::standard("poll")).await;
                let queues = (
                    events.queue.clone(),
                    poll.queue.clone(),
                    poll.dead_letters.clone(),
                );
                keep.push(Box::new(events));
                keep.push(Box::new(poll));
                (stores, queues.0, queues.1, queues.2)
            }
        };
        let tenant = support::unique_tenant("poll");
        let secret = SecretRef(format!("epages-sync/test/tenants/{tenant}/client-secret"));
        stores
            .secrets
            .put(&secret, SecretString::from(CLIENT_SECRET.to_owned()))
            .await
            .expect("secret is stored");
        let mut config = TenantConfig::new(
            tenant.clone(),
            url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("valid url"),
            AuthMode::ClientCredentials,
            CLIENT_ID,
            secret,
            epoch() - TimeDelta::hours(1),
        );
        configure(&mut config);
        let created = stores
            .tenants
            .create(config, epoch())
            .await
            .expect("tenant is stored");
        assert!(matches!(created, CreateOutcome::Created(_)));
        let clients = Arc::new(ShopClients::new(&stores, fast_http(), clock.clone()));
        Self {
            sandbox,
            clock,
            stores,
            order_events,
            poll_queue,
            poll_dead_letters,
            clients,
            tenant,
            _keep: keep,
        }
    }

    pub fn service(&self, settings: PollSettings) -> PollService {
        PollService::new(
            self.stores.clone(),
            self.clients.clone(),
            self.order_events.clone(),
            self.poll_queue.clone(),
            self.clock.clone(),
            settings,
        )
    }

    /// Moves both clocks (sandbox and poller) forward.
    pub fn advance(&self, seconds: i64) {
        self.sandbox.clock().advance(TimeDelta::seconds(seconds));
        self.clock.advance(TimeDelta::seconds(seconds));
    }

    /// Moves time past the poller's skew, so what happened so far is inside its window.
    pub fn settle(&self) {
        self.advance(60);
    }

    pub fn order(&self, lines: &[(&str, u32)]) -> Uuid {
        self.order_with(SeedOrder::new(lines))
    }

    pub fn order_with(&self, seed: SeedOrder) -> Uuid {
        self.sandbox
            .create_order(SHOP, &seed)
            .expect("order is created")
            .id
    }

    pub fn act(&self, order: Uuid, action: SeedAction) {
        self.sandbox
            .apply(SHOP, order, &action)
            .unwrap_or_else(|e| panic!("{action:?} on {order} failed: {e}"));
    }

    pub fn request(&self, trigger: PollTrigger) -> PollRequest {
        PollRequest {
            tenant: self.tenant.clone(),
            trigger,
            requested_at: self.clock.now(),
        }
    }

    pub async fn poll(&self, service: &PollService) -> Result<PollOutcome, PollError> {
        service.poll(&self.request(PollTrigger::Schedule)).await
    }

    /// Every event on the outbound queue, received and deleted, in delivery order.
    pub async fn drain_events(&self) -> Vec<OrderEvent> {
        let mut events = Vec::new();
        loop {
            let batch = self
                .order_events
                .receive(10, Duration::ZERO, Some(Duration::from_secs(30)))
                .await
                .expect("receive works");
            if batch.is_empty() {
                return events;
            }
            for message in batch {
                let event: OrderEvent =
                    serde_json::from_str(&message.body).expect("the body is an order event");
                assert_eq!(
                    message.deduplication_id.as_deref(),
                    Some(event.event_id().to_string().as_str()),
                    "deduplication id = event id"
                );
                assert_eq!(message.group_id, Some(event.message_group_id()));
                events.push(event);
                self.order_events
                    .delete(&message.receipt_handle)
                    .await
                    .expect("delete works");
            }
        }
    }

    /// Shop API requests seen so far (token calls included), optionally by path glob.
    pub fn shop_calls(&self, method: &str, path: &str) -> usize {
        self.sandbox
            .journal(&JournalFilter {
                shop: Some(SHOP.to_owned()),
                method: Some(method.to_owned()),
                path: Some(path.to_owned()),
                webhooks: Some(false),
                ..JournalFilter::default()
            })
            .len()
    }

    pub fn all_shop_calls(&self) -> usize {
        self.sandbox
            .journal(&JournalFilter {
                shop: Some(SHOP.to_owned()),
                webhooks: Some(false),
                ..JournalFilter::default()
            })
            .len()
    }
}

/// `(type, sequence)` per order, in the order received.
pub fn by_order(events: &[OrderEvent]) -> BTreeMap<Uuid, Vec<(String, u64)>> {
    let mut map: BTreeMap<Uuid, Vec<(String, u64)>> = BTreeMap::new();
    for event in events {
        map.entry(event.header().order_id)
            .or_default()
            .push((event.kind().as_str().to_owned(), event.sequence()));
    }
    map
}

/// The types of one order's events, in order.
pub fn kinds(events: &[OrderEvent], order: Uuid) -> Vec<&'static str> {
    events
        .iter()
        .filter(|event| event.header().order_id == order)
        .map(|event| event.kind().as_str())
        .collect()
}

pub fn line(sku: &str, quantity: u32) -> SeedLine {
    SeedLine {
        sku: sku.to_owned(),
        quantity,
        status: None,
    }
}

pub fn returned(sku: &str, quantity: u32, status: &str) -> SeedLine {
    SeedLine {
        sku: sku.to_owned(),
        quantity,
        status: Some(status.to_owned()),
    }
}
