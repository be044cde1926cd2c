//! The deployment under test, on the embedded backend: one sandbox with a shop per tenant,
//! the state stores and the stage's queues in a temporary directory, the three Lambda
//! handlers wired as the functions wire them, and the local event source mappings that
//! feed them.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::embedded::{open_stage_queues, open_state};
use beyond::{HttpSettings, RetryPolicy};
use chrono::{DateTime, TimeDelta, Utc};
use connector::auth::ShopClients;
use connector::lambda::{ApplyCommands, PollOrders, SchedulePolls, SqsEventSource};
use connector::pipeline::apply::{ApplySettings, CommandApplier};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::pipeline::schedule::{ScheduleSettings, Scheduler};
use connector::ports::activity::Retention;
use connector::ports::queue::{OutgoingMessage, StageQueues};
use connector::ports::{Clock, ManualClock, MessageQueue, StateStores, SystemClock};
use contracts::command_result::CommandResult;
use contracts::order_event::OrderEvent;
use domain::tenant::{AuthMode, LocationMapping, SecretRef, StockTarget, TenantConfig, TenantId};
use sandbox::{Sandbox, SandboxHandle, SeedProduct};
use secrecy::SecretString;

use super::faults::{Crashes, REQUEST_TIMEOUT};
use super::stock::{COUNTING_LOCATIONS, IGNORED_LOCATION};
use super::webhooks::Webhooks;
use super::workload::{INITIAL_STOCK, PRODUCTS, SHOPS, STOCK_SKUS, tenant};

/// The queues' clock: real time, plus the gaps between rounds. A round is five minutes
/// apart from the next for SQS too, so its deduplication window closes in between.
#[derive(Debug, Default)]
pub struct QueueClock {
    offset_ms: AtomicI64,
}

impl QueueClock {
    pub fn jump(&self, by: TimeDelta) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for QueueClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

/// Real time plus a day (past the activity log's retention).
#[derive(Debug)]
struct AheadClock;

impl Clock for AheadClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::days(Retention::DEFAULT_DAYS as i64 + 1)
    }
}

/// Short timeouts and tiny backoffs keep the run fast; six attempts make a read that
/// fails for good under 20 % faults rare (0.2^6).
pub fn chaos_http() -> HttpSettings {
    HttpSettings {
        request_timeout: REQUEST_TIMEOUT,
        connect_timeout: REQUEST_TIMEOUT,
        retry: RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
        },
        max_concurrent_requests: 4,
        user_agent: "epages-sync-chaos".to_owned(),
        ..HttpSettings::default()
    }
}

/// A crashed command holds its idempotency claim until its invocation's deadline; the
/// retry delay is more than half of it, so a crash costs at most one extra receive.
const INVOCATION: Duration = Duration::from_secs(2);
const COMMAND_RETRY: Duration = Duration::from_millis(1200);
const POLL_RETRY: Duration = Duration::from_millis(200);
const WAIT: Duration = Duration::from_millis(50);
/// A drain that takes longer is stuck.
const STUCK: Duration = Duration::from_secs(180);

/// What the event source mappings saw.
#[derive(Debug, Default, Clone)]
pub struct DriveStats {
    pub poll_invocations: usize,
    pub poll_records: usize,
    pub poll_retries: usize,
    pub command_invocations: usize,
    pub command_records: usize,
    pub command_retries: usize,
    /// Command ids that failed at least one delivery (crash, claim held, transient).
    pub retried_commands: BTreeSet<String>,
}

/// One message from Afosto's outbound queue.
#[derive(Debug)]
pub enum Outbound {
    Event {
        event: Box<OrderEvent>,
        group: Option<String>,
        dedup: Option<String>,
    },
    Result(Box<CommandResult>),
}

pub struct World {
    pub sandbox: SandboxHandle,
    /// The shop's and the poller's time: frozen within a round, five minutes per round.
    pub clock: Arc<ManualClock>,
    pub queue_clock: Arc<QueueClock>,
    pub queues: StageQueues,
    pub schedule: SchedulePolls,
    pub poll: PollOrders,
    pub apply: ApplyCommands,
    pub tenants: Vec<TenantId>,
    pub webhooks: Webhooks,
    poll_source: SqsEventSource,
    command_source: SqsEventSource,
    pub stats: Mutex<DriveStats>,
    _dir: tempfile::TempDir,
}

pub fn shop_name(shop: usize) -> String {
    format!("shop-{shop}")
}

impl World {
    pub async fn start(crashes: Arc<Crashes>) -> Self {
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
        let epoch = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("valid time");
        sandbox.clock().set(epoch);
        let clock = Arc::new(ManualClock::new(epoch));
        let queue_clock = Arc::new(QueueClock::default());
        // Tmpfs when there is one: the embedded stores fsync every change.
        let dir = match tempfile::tempdir_in("/dev/shm") {
            Ok(dir) => dir,
            Err(_) => tempfile::tempdir().expect("a temporary directory"),
        };
        let system: Arc<dyn Clock> = Arc::new(SystemClock);
        // The activity log is not under test, and the embedded one rewrites its whole file
        // on every append: a clock a day ahead expires each entry as it is written.
        let activity_clock: Arc<dyn Clock> = Arc::new(AheadClock);
        let stores = open_state(dir.path(), Retention::default(), activity_clock)
            .await
            .expect("embedded state opens");
        let queues = open_stage_queues(dir.path(), queue_clock.clone())
            .await
            .expect("stage queues open");

        let mut tenants = Vec::new();
        for shop in 0..SHOPS {
            tenants.push(register(&sandbox, &stores, shop, epoch).await);
        }
        let webhooks =
            Webhooks::start(&stores, queues.poll.clone(), queue_clock.clone(), &tenants).await;

        let poller_clock: Arc<dyn Clock> = clock.clone();
        let service = PollService::new(
            stores.clone(),
            Arc::new(ShopClients::new(
                &stores,
                chaos_http(),
                poller_clock.clone(),
            )),
            queues.order_events.clone(),
            queues.poll.clone(),
            poller_clock.clone(),
            PollSettings::default(),
        )
        .with_hooks(crashes.clone());
        let poll = PollOrders::new(service, queues.poll_dead_letters.clone());
        // The command consumer runs on real time: its claims end with the invocation's
        // deadline, which the event source mapping sets from the real clock.
        let applier = CommandApplier::new(
            stores.clone(),
            Arc::new(ShopClients::new(&stores, chaos_http(), system.clone())),
            queues.order_events.clone(),
            system.clone(),
            ApplySettings::default(),
        )
        .with_step_hook(crashes.clone());
        let apply = ApplyCommands::new(applier, queues.command_dead_letters.clone(), system);
        let schedule = SchedulePolls::new(Scheduler::new(
            stores.tenants.clone(),
            queues.poll.clone(),
            poller_clock,
            ScheduleSettings {
                spread: Duration::ZERO,
                ..ScheduleSettings::default()
            },
        ));
        let poll_source = SqsEventSource::new(queues.poll.clone())
            .with_batch_size(10)
            .with_retry_delay(POLL_RETRY);
        let command_source = SqsEventSource::new(queues.commands.clone())
            .with_batch_size(10)
            .with_retry_delay(COMMAND_RETRY)
            .with_timeout(INVOCATION);
        Self {
            sandbox,
            clock,
            queue_clock,
            queues,
            schedule,
            poll,
            apply,
            tenants,
            webhooks,
            poll_source,
            command_source,
            stats: Mutex::new(DriveStats::default()),
            _dir: dir,
        }
    }

    /// Time passes for the shop and the poller.
    pub fn advance(&self, seconds: i64) {
        self.sandbox.clock().advance(TimeDelta::seconds(seconds));
        self.clock.advance(TimeDelta::seconds(seconds));
    }

    pub async fn send_commands(&self, messages: Vec<OutgoingMessage>) {
        for chunk in messages.chunks(10) {
            let report = self
                .queues
                .commands
                .send_batch(chunk.to_vec())
                .await
                .expect("the command queue answers");
            assert!(report.all_sent(), "{report:?}");
        }
    }

    /// The scheduler's round, then the same request again for some tenants.
    pub async fn schedule(&self, duplicates: &[usize]) -> usize {
        let event = connector::lambda::scheduled_event(self.clock.now());
        let context =
            connector::lambda::lambda_context("schedule", Utc::now() + TimeDelta::seconds(60));
        let summary = self
            .schedule
            .handle(lambda_runtime::LambdaEvent::new(event, context))
            .await
            .expect("the scheduler runs");
        assert_eq!(summary.enqueued, SHOPS, "{summary:?}");
        let copies: Vec<OutgoingMessage> = duplicates
            .iter()
            .map(|&shop| {
                let request = PollRequest {
                    tenant: self.tenants[shop].clone(),
                    trigger: PollTrigger::Schedule,
                    requested_at: self.clock.now(),
                };
                OutgoingMessage::new(request.to_json())
            })
            .collect();
        if !copies.is_empty() {
            let report = self
                .queues
                .poll
                .send_batch(copies)
                .await
                .expect("the poll queue answers");
            assert!(report.all_sent(), "{report:?}");
        }
        summary.enqueued + duplicates.len()
    }

    /// Runs `workers` local invocations of `poll-orders` until the poll queue is empty.
    pub async fn drain_polls(&self, workers: usize) {
        let started = Instant::now();
        let worker = |_| async {
            loop {
                let report = self
                    .poll_source
                    .poll_once(WAIT, |event| self.poll.handle(event))
                    .await
                    .expect("the poll queue answers");
                if report.received > 0 {
                    let mut stats = self.lock_stats();
                    stats.poll_invocations += 1;
                    stats.poll_records += report.received;
                    stats.poll_retries += report.failed;
                } else if idle(self.poll_source.queue().as_ref()).await {
                    return;
                }
                assert!(started.elapsed() < STUCK, "the poll queue does not drain");
            }
        };
        futures::future::join_all((0..workers).map(worker)).await;
    }

    /// Runs `workers` local invocations of `apply-commands` until the command queue is
    /// empty; records which commands needed more than one delivery.
    pub async fn drain_commands(&self, workers: usize) {
        let started = Instant::now();
        let worker = |_| async {
            loop {
                let report = self
                    .command_source
                    .poll_once(WAIT, |event| async move {
                        let records: Vec<(String, String)> = event
                            .payload
                            .records
                            .iter()
                            .map(|r| {
                                (
                                    r.message_id.clone().unwrap_or_default(),
                                    r.body.clone().unwrap_or_default(),
                                )
                            })
                            .collect();
                        let response = self.apply.handle(event).await;
                        let failed: Vec<&String> = match &response {
                            Ok(response) => records
                                .iter()
                                .filter(|(id, _)| {
                                    response
                                        .batch_item_failures
                                        .iter()
                                        .any(|f| &f.item_identifier == id)
                                })
                                .map(|(_, body)| body)
                                .collect(),
                            Err(_) => records.iter().map(|(_, body)| body).collect(),
                        };
                        let mut stats = self.lock_stats();
                        for body in failed {
                            if let Some(identity) =
                                contracts::command::peek_identity(body.as_bytes())
                            {
                                stats.retried_commands.insert(identity.id.to_string());
                            }
                        }
                        drop(stats);
                        response
                    })
                    .await
                    .expect("the command queue answers");
                if report.received > 0 {
                    let mut stats = self.lock_stats();
                    stats.command_invocations += 1;
                    stats.command_records += report.received;
                    stats.command_retries += report.failed;
                } else if idle(self.command_source.queue().as_ref()).await {
                    return;
                }
                assert!(
                    started.elapsed() < STUCK,
                    "the command queue does not drain"
                );
            }
        };
        futures::future::join_all((0..workers).map(worker)).await;
    }

    /// Runs `work` while a consumer empties Afosto's outbound queue, as Afosto does: the
    /// embedded queue rewrites its file on every change, so it is kept short.
    pub async fn consuming<F: std::future::Future<Output = ()>>(
        &self,
        work: F,
        into: &mut Vec<Outbound>,
    ) {
        let done = std::sync::atomic::AtomicBool::new(false);
        let work = async {
            work.await;
            done.store(true, Ordering::SeqCst);
        };
        let consumer = async {
            let mut seen = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                seen.extend(self.drain_outbound().await);
                if finished {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let ((), seen) = tokio::join!(work, consumer);
        into.extend(seen);
    }

    /// Everything on Afosto's outbound queue, received and deleted, in delivery order.
    pub async fn drain_outbound(&self) -> Vec<Outbound> {
        let mut out = Vec::new();
        loop {
            let batch = self
                .queues
                .order_events
                .receive(10, Duration::ZERO, Some(Duration::from_secs(30)))
                .await
                .expect("the outbound queue answers");
            if batch.is_empty() {
                return out;
            }
            for message in batch {
                let value: serde_json::Value =
                    serde_json::from_str(&message.body).expect("outbound JSON");
                let kind = value["type"].as_str().unwrap_or_default();
                if kind.starts_with("order.") {
                    out.push(Outbound::Event {
                        event: Box::new(serde_json::from_value(value).expect("an order event")),
                        group: message.group_id.clone(),
                        dedup: message.deduplication_id.clone(),
                    });
                } else {
                    out.push(Outbound::Result(Box::new(
                        serde_json::from_value(value).expect("a command result"),
                    )));
                }
                self.queues
                    .order_events
                    .delete(&message.receipt_handle)
                    .await
                    .expect("delete works");
            }
        }
    }

    /// Dead letters of `queue`, consumed: `(body, reason attribute)`.
    pub async fn dead_letters(queue: &dyn MessageQueue) -> Vec<(String, String)> {
        let mut letters = Vec::new();
        loop {
            let batch = queue
                .receive(10, Duration::ZERO, None)
                .await
                .expect("the dead-letter queue answers");
            if batch.is_empty() {
                return letters;
            }
            for message in batch {
                let reason = message
                    .attributes
                    .get(connector::pipeline::sqs_batch::dead_letter_attributes::REASON)
                    .cloned()
                    .unwrap_or_default();
                letters.push((message.body.clone(), reason));
                queue
                    .delete(&message.receipt_handle)
                    .await
                    .expect("deleted");
            }
        }
    }

    /// The embedded state directory (scanned for secrets outside their stores).
    pub fn state_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn lock_stats(&self) -> std::sync::MutexGuard<'_, DriveStats> {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Nothing visible or in flight. Delayed messages (the webhook receiver's trailing reads
/// and catch-up polls) wait for their time, which may be the next round's.
async fn idle(queue: &dyn MessageQueue) -> bool {
    let depth = queue.depth().await.expect("the queue reports its depth");
    depth.visible + depth.in_flight == 0
}

/// A shop with the workload's products and its tenant, stock synced from `wh-1` and `wh-3`.
async fn register(
    sandbox: &SandboxHandle,
    stores: &StateStores,
    shop: usize,
    epoch: DateTime<Utc>,
) -> TenantId {
    let name = shop_name(shop);
    let (client, secret) = (format!("client-{shop}"), format!("secret-{shop}"));
    sandbox
        .register_shop(sandbox::ShopConfig::new(&name, &client, &secret))
        .expect("shop registers");
    for sku in PRODUCTS {
        add_product(
            sandbox,
            &name,
            serde_json::json!({ "sku": sku, "name": sku, "price": 9.5 }),
        );
    }
    for sku in STOCK_SKUS {
        add_product(
            sandbox,
            &name,
            serde_json::json!({ "sku": sku, "name": sku, "price": 4.0, "stock": INITIAL_STOCK }),
        );
    }
    let id = TenantId::parse(&tenant(shop)).expect("a valid tenant id");
    let secret_ref = SecretRef(format!("chaos/{id}/client-secret"));
    stores
        .secrets
        .put(&secret_ref, SecretString::from(secret))
        .await
        .expect("secret stored");
    let mut config = TenantConfig::new(
        id.clone(),
        url::Url::parse(&sandbox.shop_api_url(&name)).expect("valid URL"),
        AuthMode::ClientCredentials,
        client,
        secret_ref,
        epoch - TimeDelta::hours(1),
    );
    config.locations = COUNTING_LOCATIONS
        .iter()
        .map(|location| (*location, StockTarget::ShopAvailability))
        .chain([(IGNORED_LOCATION, StockTarget::Ignored)])
        .map(|(location, target)| LocationMapping {
            afosto_location_id: location.into(),
            target,
            epages_location_id: None,
        })
        .collect();
    stores
        .tenants
        .create(config, epoch)
        .await
        .expect("tenant created");
    id
}

fn add_product(sandbox: &SandboxHandle, shop: &str, product: serde_json::Value) {
    let product: SeedProduct = serde_json::from_value(product).expect("a seed product");
    sandbox.add_product(shop, &product).expect("product added");
}
