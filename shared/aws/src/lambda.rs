//! The AWS wiring of the six handlers: each function's `main` calls
//! `Handler::from_env()` ([`FromEnv`]) and hands the handler to `lambda_runtime`. Settings
//! come from the environment the template sets, read once per container through
//! `connector::config`; state is DynamoDB and Secrets Manager, queues are SQS, and the
//! metrics publisher writes EMF to stdout.

use std::sync::Arc;
use std::time::Duration;

use beyond::HttpSettings;
use connector::afosto_webhook::{AfostoWebhook, WebhookSettings};
use connector::auth::ShopClients;
use connector::config::ConfigError;
use connector::epages_webhook::{ShopInstallationProbe, WebhookConfig, WebhookReceiver};
use connector::install::{InstallConfig, Installer};
use connector::lambda::{
    ApplyCommands, InstallApp, PollOrders, ReceiveAfostoWebhooks, ReceiveEpagesWebhooks,
    SchedulePolls,
};
use connector::metrics::{Function, MetricsPublisher};
use connector::pipeline::apply::{ApplySettings, CommandApplier};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::schedule::{ScheduleSettings, Scheduler};
use connector::ports::{Clock, MessageQueue, StateStores, SystemClock};

use crate::config::open_queue;
use crate::xray::XrayLayer;
use crate::{AwsStateConfig, StageQueuesError, state_stores};

/// The function's logging and tracing, installed once at the top of `main`: the log lines
/// `lambda_runtime::tracing::init_default_subscriber` writes (JSON when
/// `AWS_LAMBDA_LOG_FORMAT=JSON`, the level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`), plus
/// the X-Ray layer when Lambda runs a daemon (`AWS_XRAY_DAEMON_ADDRESS`, `Tracing: Active`).
///
/// A record's log lines carry its span's `trace_id`, which leads to its trace. The X-Ray
/// layer has its own filter (INFO): a quieter log level must not empty the traces.
pub fn init_tracing() {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, Registry};

    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let filter = secret_safe_filter(
        EnvFilter::builder()
            .with_default_directive(level.into())
            .from_env_lossy(),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time();
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if json {
        logs.json().with_filter(filter).boxed()
    } else {
        logs.with_filter(filter).boxed()
    };
    let service =
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "epages-sync".to_owned());
    // A broken daemon address must not stop the function: it runs, untraced, and says so.
    let (xray, xray_error) = match XrayLayer::from_env(service) {
        Ok(layer) => (layer, None),
        Err(error) => (None, Some(error)),
    };
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(xray.map(|layer| layer.with_filter(LevelFilter::INFO)))
        .try_init();
    if let Some(error) = xray_error {
        tracing::warn!(error = %connector::error_chain::error_chain(&error), "X-Ray export is off");
    }
    if installed.is_err() {
        tracing::warn!("a tracing subscriber was already installed; kept it");
    }
}

/// Targets whose TRACE output is the wire: the AWS SDK then prints whole response bodies
/// (DynamoDB items holding tokens, Secrets Manager values), the HTTP stacks their frames.
const WIRE_TARGETS: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_http",
    "aws_sdk_dynamodb",
    "aws_sdk_secretsmanager",
    "aws_sdk_sqs",
    "aws_config",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
];

/// `filter` with the wire-level targets capped at DEBUG, whatever `RUST_LOG` asks for
/// (issue 13: no secret in any log, at any level). Every subscriber of the project uses it.
///
/// A cap, not a setting: a directive `hyper=debug` would also *raise* those targets to
/// DEBUG under an `info` or `warn` filter, and fill the logs (and CloudWatch's bill) with
/// connection-pool chatter. So the directives are added only when the filter can enable
/// TRACE somewhere; a filter that stops at DEBUG or below already keeps the wire out.
pub fn secret_safe_filter(
    mut filter: tracing_subscriber::EnvFilter,
) -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::filter::LevelFilter;
    let reaches_trace = filter
        .max_level_hint()
        .is_none_or(|level| level >= LevelFilter::TRACE);
    if !reaches_trace {
        return filter;
    }
    for target in WIRE_TARGETS {
        if let Ok(directive) = format!("{target}=debug").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Why a function could not start: bad configuration or an unreachable queue. Reported by
/// the runtime as an init error, so the deployment fails loudly instead of dropping
/// messages.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("configuration")]
    Config(#[from] ConfigError),
    #[error("opening a queue")]
    Queue(#[from] StageQueuesError),
}

/// A handler built from the Lambda environment.
#[allow(async_fn_in_trait)] // Called once from `main`; no `Send` bound is needed.
pub trait FromEnv: Sized {
    async fn from_env() -> Result<Self, InitError>;
}

/// Signer secrets change when a reinstall has to create a new signer; a short cache keeps
/// a warm `epages-webhook` container from refusing the new signatures for long.
const SIGNER_CACHE: Duration = Duration::from_secs(30);

/// What every function builds first: the state over DynamoDB and Secrets Manager, the
/// system clock, and an SQS client.
struct AwsWiring {
    config: AwsStateConfig,
    stores: StateStores,
    clock: Arc<dyn Clock>,
    sqs: aws_sdk_sqs::Client,
}

impl AwsWiring {
    async fn from_env() -> Result<Self, InitError> {
        Ok(Self::new(AwsStateConfig::from_env()?).await)
    }

    async fn new(config: AwsStateConfig) -> Self {
        let sdk = crate::sdk::load_sdk_config().await;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Self {
            stores: state_stores(&sdk, &config, clock.clone()),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            config,
            clock,
        }
    }

    /// The queue whose URL is in `env`.
    async fn queue(&self, env: &'static str) -> Result<Arc<dyn MessageQueue>, InitError> {
        Ok(open_queue(&self.sqs, env).await?)
    }

    /// Shop clients that count their Beyond calls and token refreshes into `metrics`.
    fn shop_clients(&self, metrics: &MetricsPublisher) -> Arc<ShopClients> {
        Arc::new(
            ShopClients::new(&self.stores, HttpSettings::default(), self.clock.clone())
                .with_metrics(metrics.metrics().clone()),
        )
    }
}

impl FromEnv for PollOrders {
    async fn from_env() -> Result<Self, InitError> {
        let settings = PollSettings::from_env()?;
        let aws = AwsWiring::from_env().await?;
        let order_events = aws.queue("ORDER_EVENTS_QUEUE_URL").await?;
        let poll_queue = aws.queue("POLL_QUEUE_URL").await?;
        let dead_letters = aws.queue("POLL_DLQ_URL").await?;
        let metrics = MetricsPublisher::stdout_from_env(Function::PollOrders);
        let clients = aws.shop_clients(&metrics);
        let service = PollService::new(
            aws.stores,
            clients,
            order_events,
            poll_queue,
            aws.clock,
            settings,
        );
        Ok(Self::new(service, dead_letters).with_metrics(metrics))
    }
}

impl FromEnv for ApplyCommands {
    /// Command results go to the order-events queue, Afosto's outbound.
    async fn from_env() -> Result<Self, InitError> {
        let settings = ApplySettings::from_env()?;
        let aws = AwsWiring::from_env().await?;
        let results = aws.queue("ORDER_EVENTS_QUEUE_URL").await?;
        let dead_letters = aws.queue("COMMAND_DLQ_URL").await?;
        let metrics = MetricsPublisher::stdout_from_env(Function::ApplyCommands);
        let clients = aws.shop_clients(&metrics);
        let applier =
            CommandApplier::new(aws.stores, clients, results, aws.clock.clone(), settings);
        Ok(Self::new(applier, dead_letters, aws.clock).with_metrics(metrics))
    }
}

impl FromEnv for SchedulePolls {
    async fn from_env() -> Result<Self, InitError> {
        let settings = ScheduleSettings::from_env()?;
        let aws = AwsWiring::from_env().await?;
        let poll_queue = aws.queue("POLL_QUEUE_URL").await?;
        let scheduler = Scheduler::new(aws.stores.tenants, poll_queue, aws.clock, settings);
        Ok(Self::new(scheduler)
            .with_metrics(MetricsPublisher::stdout_from_env(Function::SchedulePolls)))
    }
}

impl FromEnv for ReceiveAfostoWebhooks {
    async fn from_env() -> Result<Self, InitError> {
        let aws = AwsWiring::from_env().await?;
        let commands = aws.queue("COMMAND_QUEUE_URL").await?;
        let settings = WebhookSettings::new(aws.config.secrets.clone());
        let webhook = AfostoWebhook::new(
            aws.stores.tenants,
            aws.stores.secrets,
            aws.stores.idempotency,
            aws.stores.activity,
            commands,
            aws.clock,
            settings,
        );
        Ok(Self::new(webhook)
            .with_metrics(MetricsPublisher::stdout_from_env(Function::AfostoWebhook)))
    }
}

impl FromEnv for ReceiveEpagesWebhooks {
    async fn from_env() -> Result<Self, InitError> {
        let config = WebhookConfig::from_env()?;
        let mut state = AwsStateConfig::from_env()?;
        state.secrets_cache_ttl = SIGNER_CACHE.min(state.secrets_cache_ttl);
        let aws = AwsWiring::new(state).await;
        let poll_queue = aws.queue("POLL_QUEUE_URL").await?;
        let metrics = MetricsPublisher::stdout_from_env(Function::EpagesWebhook);
        let installation = Arc::new(ShopInstallationProbe::new(aws.shop_clients(&metrics)));
        let receiver = WebhookReceiver {
            config,
            stores: aws.stores,
            poll_queue,
            clock: aws.clock,
            installation: Some(installation),
        };
        Ok(Self::new(receiver).with_metrics(metrics))
    }
}

impl FromEnv for InstallApp {
    async fn from_env() -> Result<Self, InitError> {
        let config = InstallConfig::from_env()?;
        let aws = AwsWiring::from_env().await?;
        let installer = Installer {
            config,
            stores: aws.stores,
            clock: aws.clock,
        };
        Ok(Self::new(installer)
            .with_metrics(MetricsPublisher::stdout_from_env(Function::InstallApp)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::EnvFilter;

    use super::secret_safe_filter;

    /// The events `filter` lets through, as `target:level` lines.
    fn passed(filter: &str) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(secret_safe_filter(EnvFilter::new(filter)))
            .with_ansi(false)
            .without_time()
            .with_writer(move || Line(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "hyper_util::client", "wire trace");
            tracing::debug!(target: "hyper_util::client", "wire debug");
            tracing::info!(target: "hyper_util::client", "wire info");
            tracing::trace!(target: "epages_sync_connector", "own trace");
            tracing::debug!(target: "epages_sync_connector", "own debug");
            tracing::info!(target: "epages_sync_connector", "own info");
        });
        let lines = seen.lock().expect("not poisoned").clone();
        lines
            .iter()
            .filter_map(|line| line.split_whitespace().last().map(str::to_owned))
            .zip(lines.iter().map(|l| l.contains("wire")))
            .map(|(level, wire)| format!("{}:{level}", if wire { "wire" } else { "own" }))
            .collect()
    }

    struct Line(Arc<Mutex<Vec<String>>>);

    impl std::io::Write for Line {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("not poisoned")
                .push(String::from_utf8_lossy(bytes).trim().to_owned());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_wire_is_capped_at_debug_and_never_raised() {
        // At TRACE everywhere: our own TRACE passes, the wire's stops at DEBUG.
        assert_eq!(
            passed("trace"),
            [
                "wire:debug",
                "wire:info",
                "own:trace",
                "own:debug",
                "own:info"
            ]
        );
        // An explicit TRACE for a wire target is capped too.
        assert!(!passed("warn,hyper_util=trace").contains(&"wire:trace".to_owned()));
        // At INFO or WARN nothing is raised: no connection-pool chatter.
        assert_eq!(passed("info"), ["wire:info", "own:info"]);
        assert!(passed("warn").is_empty());
    }
}
