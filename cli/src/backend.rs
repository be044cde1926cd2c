//! Which state the CLI works on: the embedded state directory of local runs (default) or
//! the deployment's AWS resources, configured by the same environment as the Lambdas.

use std::path::PathBuf;
use std::sync::Arc;

use aws_adapters::{AwsStateConfig, ConfigError, StageQueuesError};
use connector::ports::activity::Retention;
use connector::ports::queue::StageQueues;
use connector::ports::secrets::SecretNaming;
use connector::ports::{Clock, StateStores, StoreError, SystemClock};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// The SQLite state database in `--state-dir` (several processes may share it).
    #[default]
    Embedded,
    /// DynamoDB, SQS and Secrets Manager (`STATE_TABLE`, `ACTIVITY_TABLE`, `SECRETS_PREFIX`, …).
    Aws,
}

/// Global options (`main.rs`): accepted before or after any subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct BackendArgs {
    /// Where the state lives: `embedded` (a SQLite database in --state-dir) or `aws` (the deployed
    /// stack named by STATE_TABLE, ACTIVITY_TABLE, SECRETS_PREFIX and the queue URLs).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "embedded",
        env = "EPAGES_SYNC_BACKEND"
    )]
    pub backend: BackendKind,
    /// State directory of the embedded backend.
    #[arg(
        long,
        global = true,
        env = "EPAGES_SYNC_STATE_DIR",
        default_value = ".state"
    )]
    pub state_dir: PathBuf,
}

/// What a command holds until `main` hands it the parsed global options.
impl Default for BackendArgs {
    fn default() -> Self {
        Self {
            backend: BackendKind::Embedded,
            state_dir: PathBuf::from(".state"),
        }
    }
}

/// Local runs name their secrets under this prefix.
pub const EMBEDDED_SECRETS_PREFIX: &str = "epages-sync/local";

/// The opened state and how secrets are named in it.
pub struct Backend {
    pub stores: StateStores,
    pub secrets: SecretNaming,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("AWS configuration")]
    Config(#[from] ConfigError),
    #[error("opening the state")]
    Store(#[from] StoreError),
    #[error("opening the queues")]
    Queues(#[from] StageQueuesError),
    #[error("state directory {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

async fn create_state_dir(args: &BackendArgs) -> Result<(), BackendError> {
    tokio::fs::create_dir_all(&args.state_dir)
        .await
        .map_err(|source| BackendError::Io {
            path: args.state_dir.clone(),
            source,
        })
}

pub async fn open(args: &BackendArgs) -> Result<Backend, BackendError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match args.backend {
        BackendKind::Embedded => {
            create_state_dir(args).await?;
            let stores =
                embedded::open_state(&args.state_dir, Retention::default(), clock.clone()).await?;
            Ok(Backend {
                stores,
                secrets: SecretNaming::new(EMBEDDED_SECRETS_PREFIX)?,
                clock,
            })
        }
        BackendKind::Aws => {
            let config = AwsStateConfig::from_env()?;
            let sdk = aws_adapters::sdk::load_sdk_config().await;
            let stores = aws_adapters::state_stores(&sdk, &config, clock.clone());
            Ok(Backend {
                stores,
                secrets: config.secrets.clone(),
                clock,
            })
        }
    }
}

/// The deployment's queues: in `{state-dir}/state.db` for the embedded backend (the ones
/// `run` and `demo` use), or the SQS queues named by `POLL_QUEUE_URL`, `POLL_DLQ_URL`,
/// `ORDER_EVENTS_QUEUE_URL`, `ORDER_EVENTS_DLQ_URL`, `COMMAND_QUEUE_URL`, `COMMAND_DLQ_URL`.
pub async fn open_queues(
    args: &BackendArgs,
    clock: Arc<dyn Clock>,
) -> Result<StageQueues, BackendError> {
    match args.backend {
        BackendKind::Embedded => {
            create_state_dir(args).await?;
            Ok(embedded::open_stage_queues(&args.state_dir, clock).await?)
        }
        BackendKind::Aws => {
            let sdk = aws_adapters::sdk::load_sdk_config().await;
            Ok(aws_adapters::stage_queues_from_env(&sdk).await?)
        }
    }
}
