//! A tenant on the sandbox shop `s1`, its state on either backend, the command FIFO queue
//! with its DLQ, the outbound results queue, and a driver that plays Lambda's SQS event
//! source mapping (receive, invoke, delete the done records, release the failed ones).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::embedded::open_state;
use aws_adapters::provision::{QueueSpec, create_table};
use aws_adapters::{AwsStateConfig, state_stores};
use aws_lambda_events::event::sqs::SqsEvent;
use beyond::{BeyondClient, ClientConfig, HttpSettings, RetryPolicy};
use chrono::{DateTime, Utc};
use connector::auth::ShopClients;
use connector::pipeline::apply::{ApplySettings, CommandApplier, StepHook};
use connector::ports::activity::Retention;
use connector::ports::queue::{OutgoingMessage, ReceivedMessage};
use connector::ports::secrets::SecretNaming;
use connector::ports::{Clock, StateStores, SystemClock};
use contracts::command_result::CommandResult;
use domain::tenant::{AuthMode, LocationMapping, SecretRef, StockTarget, TenantConfig, TenantId};
use sandbox::{JournalEntry, JournalFilter, Sandbox, SandboxHandle};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::aws::{QueuePairFixture, sdk_config, unique};
use crate::support::{embedded, unique_tenant};

pub const SHOP: &str = "s1";
const SEED: &str = include_str!("../support/fixtures/beyond/client-shop.json");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Aws,
}

/// Crashes the attempt of `command_id` after `step`, once.
#[derive(Default)]
pub struct CrashOnce {
    plan: Mutex<Option<(String, String)>>,
}

impl CrashOnce {
    pub fn arm(&self, command_id: &str, step: &str) {
        if let Ok(mut plan) = self.plan.lock() {
            *plan = Some((command_id.to_owned(), step.to_owned()));
        }
    }
}

impl StepHook for CrashOnce {
    fn crash_after(&self, command_id: &str, step: &str) -> bool {
        let Ok(mut plan) = self.plan.lock() else {
            return false;
        };
        if plan
            .as_ref()
            .is_some_and(|(id, at)| id == command_id && at == step)
        {
            *plan = None;
            return true;
        }
        false
    }
}

pub struct Harness {
    pub sandbox: SandboxHandle,
    pub tenant: TenantId,
    pub stores: StateStores,
    pub commands: QueuePairFixture,
    pub results: QueuePairFixture,
    pub applier: CommandApplier,
    pub crash: Arc<CrashOnce>,
    /// A client of its own, for assertions.
    pub shop: BeyondClient,
    pub orders: BTreeMap<String, Uuid>,
    /// How long each invocation holds a claim (its "remaining time").
    pub invocation: Duration,
    _dir: Option<tempfile::TempDir>,
}

pub fn fast_settings() -> HttpSettings {
    HttpSettings {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
        },
        max_concurrent_requests: 4,
        user_agent: "epages-sync-tests".to_owned(),
        ..HttpSettings::default()
    }
}

impl Harness {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, ApplySettings::default()).await
    }

    pub async fn start_with(backend: Backend, settings: ApplySettings) -> Self {
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
        let report = sandbox.seed_json(SEED).expect("fixture seeds");
        let orders = report
            .orders
            .into_iter()
            .map(|(reference, seeded)| (reference, seeded.order_id))
            .collect();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let (stores, commands, results, dir) = match backend {
            Backend::Embedded => {
                let dir = embedded::state_dir();
                let stores = open_state(dir.path(), Retention::default(), clock.clone())
                    .await
                    .expect("embedded state opens");
                let commands = embedded::queue_pair(spec("commands")).await;
                let results = embedded::queue_pair(spec("results")).await;
                (stores, commands, results, Some(dir))
            }
            Backend::Aws => {
                let sdk = sdk_config().await;
                let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
                let state_table = unique("apply-state");
                let activity_table = unique("apply-activity");
                for table in [&state_table, &activity_table] {
                    create_table(&dynamodb, table)
                        .await
                        .unwrap_or_else(|e| panic!("creating {table} on moto: {e}"));
                }
                let config = AwsStateConfig {
                    state_table,
                    activity_table,
                    secrets: SecretNaming::new(unique("epages-sync/test")).expect("valid prefix"),
                    secrets_kms_key_id: None,
                    activity_retention: Retention::default(),
                    secrets_cache_ttl: Duration::from_secs(60),
                };
                let stores = state_stores(&sdk, &config, clock.clone());
                let commands = crate::support::aws::queue_pair(spec("commands")).await;
                let results = crate::support::aws::queue_pair(spec("results")).await;
                (stores, commands, results, None)
            }
        };
        let tenant = unique_tenant("apply");
        let secret = SecretRef(format!("apply-tests/{tenant}/client-secret"));
        stores
            .secrets
            .put(&secret, SecretString::from("secret-1"))
            .await
            .expect("secret stored");
        let api_url = url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("valid URL");
        let mut config = TenantConfig::new(
            tenant.clone(),
            api_url,
            AuthMode::ClientCredentials,
            "client-1",
            secret,
            Utc::now() - chrono::TimeDelta::days(30),
        );
        config.locations = vec![
            LocationMapping {
                afosto_location_id: "wh-1".into(),
                target: StockTarget::ShopAvailability,
                epages_location_id: None,
            },
            LocationMapping {
                afosto_location_id: "wh-2".into(),
                target: StockTarget::Ignored,
                epages_location_id: None,
            },
        ];
        // Stock across locations (`stock_locations`): two count, one is ignored.
        for (location, target) in [
            ("wh1", StockTarget::ShopAvailability),
            ("wh2", StockTarget::ShopAvailability),
            ("wh3", StockTarget::Ignored),
        ] {
            config.locations.push(LocationMapping {
                afosto_location_id: location.into(),
                target,
                epages_location_id: None,
            });
        }
        stores
            .tenants
            .create(config, Utc::now())
            .await
            .expect("tenant created");
        // The production client source: stored, refreshed tokens.
        let clients = Arc::new(ShopClients::new(&stores, fast_settings(), clock.clone()));
        let crash = Arc::new(CrashOnce::default());
        let applier = CommandApplier::new(
            stores.clone(),
            clients,
            results.queue.clone(),
            clock,
            settings,
        )
        .with_step_hook(crash.clone());
        let mut shop_config = ClientConfig::new(&sandbox.shop_api_url(SHOP)).expect("valid URL");
        shop_config.http = fast_settings();
        let shop = BeyondClient::with_client_credentials(
            &shop_config,
            "client-1",
            SecretString::from("secret-1"),
        )
        .expect("client builds");
        Self {
            sandbox,
            tenant,
            stores,
            commands,
            results,
            applier,
            crash,
            shop,
            orders,
            invocation: Duration::from_secs(30),
            _dir: dir,
        }
    }

    pub fn order(&self, reference: &str) -> Uuid {
        *self
            .orders
            .get(reference)
            .unwrap_or_else(|| panic!("no seeded order {reference:?}"))
    }

    /// A command body for this tenant.
    pub fn command(&self, id: &str, kind: &str, fields: Value) -> Value {
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

    /// Sends commands the way Afosto does (FIFO group of the command, its id as dedup id).
    pub async fn send(&self, bodies: &[Value]) {
        let messages = bodies
            .iter()
            .map(|body| {
                let text = body.to_string();
                let parsed = contracts::command::parse_command(text.as_bytes());
                let (group, dedup) = match parsed {
                    Ok(command) => (command.message_group_id(), command.id.to_string()),
                    Err(_) => (
                        format!("raw-{}", Uuid::new_v4().simple()),
                        Uuid::new_v4().simple().to_string(),
                    ),
                };
                OutgoingMessage::fifo(text, group, dedup)
            })
            .collect();
        let report = self
            .commands
            .queue
            .send_batch(messages)
            .await
            .expect("commands sent");
        assert!(report.all_sent(), "{report:?}");
    }

    /// Sends raw bodies, each in a group of its own.
    pub async fn send_raw(&self, bodies: &[&str]) {
        let messages = bodies
            .iter()
            .map(|body| {
                OutgoingMessage::fifo(
                    *body,
                    format!("raw-{}", Uuid::new_v4().simple()),
                    Uuid::new_v4().simple().to_string(),
                )
            })
            .collect();
        let report = self
            .commands
            .queue
            .send_batch(messages)
            .await
            .expect("sent");
        assert!(report.all_sent(), "{report:?}");
    }

    fn deadline(&self) -> DateTime<Utc> {
        Utc::now() + chrono::TimeDelta::from_std(self.invocation).expect("small duration")
    }

    /// One invocation over up to 10 received messages; failed records are made visible
    /// again at once (a short visibility timeout). Returns how many were received.
    pub async fn invoke_once(&self) -> usize {
        let received: Vec<ReceivedMessage> = self
            .commands
            .queue
            .receive(10, Duration::ZERO, Some(Duration::from_secs(60)))
            .await
            .expect("receive");
        if received.is_empty() {
            return 0;
        }
        let mut event = SqsEvent::default();
        event.records = received
            .iter()
            .map(|message| message.to_lambda_record("eu-west-1"))
            .collect();
        let (response, _summary) = self
            .applier
            .handle_event(&event, self.deadline(), self.commands.dead_letters.as_ref())
            .await
            .expect("batch answers");
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        for message in &received {
            if failed.contains(&message.message_id.as_str()) {
                self.commands
                    .queue
                    .change_visibility(&message.receipt_handle, Duration::ZERO)
                    .await
                    .expect("released");
            } else {
                self.commands
                    .queue
                    .delete(&message.receipt_handle)
                    .await
                    .expect("deleted");
            }
        }
        received.len()
    }

    /// Invokes until the queue is empty (or `max` invocations ran).
    pub async fn drain(&self, max: usize) {
        for _ in 0..max {
            if self.invoke_once().await == 0 {
                return;
            }
        }
    }

    /// The result events sent so far, consumed.
    pub async fn results(&self) -> Vec<CommandResult> {
        let mut events = Vec::new();
        loop {
            let batch = self
                .results
                .queue
                .receive(10, Duration::ZERO, None)
                .await
                .expect("receive results");
            if batch.is_empty() {
                break;
            }
            for message in batch {
                let event: CommandResult =
                    serde_json::from_str(&message.body).expect("a result event");
                events.push(event);
                self.results
                    .queue
                    .delete(&message.receipt_handle)
                    .await
                    .expect("deleted");
            }
        }
        events
    }

    /// Dead letters (consumed): (body, reason attribute).
    pub async fn dead_letters(&self) -> Vec<(String, String)> {
        let mut letters = Vec::new();
        loop {
            let batch = self
                .commands
                .dead_letters
                .receive(10, Duration::ZERO, None)
                .await
                .expect("receive dead letters");
            if batch.is_empty() {
                break;
            }
            for message in batch {
                let reason = message
                    .attributes
                    .get(connector::pipeline::sqs_batch::dead_letter_attributes::REASON)
                    .cloned()
                    .unwrap_or_default();
                letters.push((message.body.clone(), reason));
                self.commands
                    .dead_letters
                    .delete(&message.receipt_handle)
                    .await
                    .expect("deleted");
            }
        }
        letters
    }

    /// Journal entries of shop `s1` for `method` on paths matching `glob`.
    pub fn journal(&self, method: &str, glob: &str) -> Vec<JournalEntry> {
        self.sandbox.journal(&JournalFilter {
            shop: Some(SHOP.to_owned()),
            method: Some(method.to_owned()),
            path: Some(glob.to_owned()),
            ..JournalFilter::default()
        })
    }

    /// Successful (2xx) writes on `glob`: what actually changed the shop.
    pub fn applied_writes(&self, glob: &str) -> usize {
        self.journal("POST", glob)
            .iter()
            .filter(|entry| {
                entry
                    .outcome
                    .status()
                    .is_some_and(|status| (200..300).contains(&status))
                    || entry.outcome.is_dropped()
            })
            .count()
    }

    pub async fn stock_of(&self, sku: &str) -> Option<i64> {
        self.sandbox
            .availability(SHOP, sku)
            .and_then(|availability| availability.available_stock)
    }
}

fn spec(name: &str) -> QueueSpec {
    let mut spec = QueueSpec::fifo(format!("apply-{name}"));
    spec.visibility_timeout = Duration::from_secs(60);
    spec.max_receive_count = 10;
    spec
}

/// Runs each scenario on both backends: `both!(a, b, …)` with `async fn a(Backend)`.
macro_rules! both {
    ($($name:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Embedded).await;
                }
            )+
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Aws).await;
                }
            )+
        }
    };
}

pub(crate) use both;
