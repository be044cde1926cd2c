//! Builds the embedded stores, the stage queues and the handlers over them, exactly as the
//! functions build them over AWS (`PollOrders::from_env` & co.), with the embedded adapters.

use std::path::Path;
use std::sync::Arc;

use beyond::HttpSettings;
use connector::auth::ShopClients;
use connector::lambda::{ApplyCommands, PollOrders, SchedulePolls};
use connector::metrics::{DiscardSink, EmfSettings, Function, Metrics, MetricsPublisher};
use connector::pipeline::apply::{ApplySettings, CommandApplier};
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::schedule::{ScheduleSettings, Scheduler};
use connector::ports::queue::StageQueues;
use connector::ports::secrets::SecretNaming;
use connector::ports::{Clock, StateStores};

use crate::backend::{self, BackendArgs, BackendError, BackendKind};

/// What the handlers are configured with (the functions read the same from their
/// environment).
#[derive(Debug, Clone, Default)]
pub struct RuntimeSettings {
    pub poll: PollSettings,
    pub schedule: ScheduleSettings,
    pub apply: ApplySettings,
    pub http: HttpSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("opening the embedded state")]
    Backend(#[from] BackendError),
}

/// The state, the queues and the handlers of one local deployment.
pub struct LocalRuntime {
    pub stores: StateStores,
    pub secrets: SecretNaming,
    pub queues: StageQueues,
    /// What the three handlers counted (the metrics the functions publish as EMF); read
    /// with `snapshot()`. Nothing is written anywhere: a local run has no CloudWatch.
    pub metrics: Arc<Metrics>,
    pub scheduler: SchedulePolls,
    pub poller: PollOrders,
    pub applier: ApplyCommands,
    /// The clock and HTTP settings the handlers use, for the webhook receivers of
    /// `run --listen` (see `listen.rs`).
    pub clock: Arc<dyn Clock>,
    pub http: HttpSettings,
    /// The poller's skew: the receivers' catch-up poll waits for it.
    pub poll_skew: std::time::Duration,
}

impl LocalRuntime {
    /// Opens (or creates) the embedded state under `state_dir` and wires the handlers.
    pub async fn open(state_dir: &Path, settings: RuntimeSettings) -> Result<Self, RuntimeError> {
        let args = BackendArgs {
            backend: BackendKind::Embedded,
            state_dir: state_dir.to_path_buf(),
        };
        let opened = backend::open(&args).await?;
        let queues = backend::open_queues(&args, opened.clock.clone()).await?;
        let stores = opened.stores;
        let clock = opened.clock;
        let http = settings.http.clone();
        let poll_skew = settings.poll.skew;
        let clients = Arc::new(ShopClients::new(&stores, settings.http, clock.clone()));
        let metrics = Metrics::new();
        let publisher = |function| {
            MetricsPublisher::new(
                metrics.clone(),
                EmfSettings::new(function),
                Arc::new(DiscardSink),
            )
        };
        let scheduler = SchedulePolls::new(Scheduler::new(
            stores.tenants.clone(),
            queues.poll.clone(),
            clock.clone(),
            settings.schedule,
        ))
        .with_metrics(publisher(Function::SchedulePolls));
        let poller = PollOrders::new(
            PollService::new(
                stores.clone(),
                clients.clone(),
                queues.order_events.clone(),
                queues.poll.clone(),
                clock.clone(),
                settings.poll,
            ),
            queues.poll_dead_letters.clone(),
        )
        .with_metrics(publisher(Function::PollOrders));
        // Command results go to the order-events queue: Afosto's one outbound queue.
        let applier = ApplyCommands::new(
            CommandApplier::new(
                stores.clone(),
                clients,
                queues.order_events.clone(),
                clock.clone(),
                settings.apply,
            ),
            queues.command_dead_letters.clone(),
            clock.clone(),
        )
        .with_metrics(publisher(Function::ApplyCommands));
        Ok(Self {
            stores,
            secrets: opened.secrets,
            queues,
            metrics,
            scheduler,
            poller,
            applier,
            clock,
            http,
            poll_skew,
        })
    }
}
