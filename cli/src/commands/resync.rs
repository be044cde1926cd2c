//! `epages-sync resync --tenant T --since DATE [--force]`: asks the poller to re-read a
//! tenant's orders updated since DATE (see `shared::pipeline::poll::resync`).
//!
//! Backend: `--backend aws` uses the deployment's environment (`STATE_TABLE`,
//! `ACTIVITY_TABLE`, `SECRETS_PREFIX`, `POLL_QUEUE_URL`); `embedded` (the default) the state
//! directory of local runs, whose poll queue is `{state-dir}/queues/poll.json`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use shared::adapters::aws::{AwsStateConfig, ConfigError, SqsQueue, queue_url_from_env};
use shared::adapters::embedded::{EmbeddedQueue, EmbeddedQueueConfig, EmbeddedTenantStore};
use shared::domain::tenant::TenantId;
use shared::pipeline::poll::resync::{ResyncError, parse_since, request_resync};
use shared::pipeline::poll_request::PollTrigger;
use shared::ports::{Clock, MessageQueue, StoreError, SystemClock, TenantStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Embedded,
    Aws,
}

#[derive(Debug, Args)]
pub struct ResyncArgs {
    /// The tenant whose orders are read again.
    #[arg(long)]
    pub tenant: TenantId,
    /// Re-read orders updated since this time (RFC 3339) or date (YYYY-MM-DD, midnight UTC).
    #[arg(long)]
    pub since: String,
    /// Emit again what was already emitted, under new event ids derived from this request.
    #[arg(long)]
    pub force: bool,
    #[arg(long, value_enum, default_value = "embedded")]
    pub backend: Backend,
    /// State directory of the embedded backend.
    #[arg(
        long,
        env = "EPAGES_SYNC_STATE_DIR",
        default_value = ".epages-sync/state"
    )]
    pub state_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ResyncCommandError {
    #[error(transparent)]
    Resync(#[from] ResyncError),
    #[error("configuration")]
    Config(#[from] ConfigError),
    #[error("opening the backend")]
    Store(#[from] StoreError),
}

/// Local runs name the poll queue like this in the state directory.
const EMBEDDED_POLL_QUEUE: &str = "poll";

pub async fn run(args: ResyncArgs) -> Result<(), ResyncCommandError> {
    let since = parse_since(&args.since)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (tenants, poll_queue): (Arc<dyn TenantStore>, Arc<dyn MessageQueue>) = match args.backend {
        Backend::Embedded => {
            let tenants = EmbeddedTenantStore::open(&args.state_dir).await?;
            let queue = EmbeddedQueue::open(
                &args.state_dir,
                EmbeddedQueueConfig::new(EMBEDDED_POLL_QUEUE),
                clock.clone(),
            )
            .await?;
            (Arc::new(tenants), queue)
        }
        Backend::Aws => {
            let state = AwsStateConfig::from_env()?;
            let poll_url = queue_url_from_env("POLL_QUEUE_URL")?;
            let sdk = shared::aws::load_sdk_config().await;
            let stores = shared::adapters::aws::state_stores(&sdk, &state, clock.clone());
            let queue = SqsQueue::connect(aws_sdk_sqs::Client::new(&sdk), poll_url).await?;
            (stores.tenants, Arc::new(queue))
        }
    };
    let request = request_resync(
        tenants.as_ref(),
        poll_queue.as_ref(),
        &args.tenant,
        since,
        args.force,
        clock.now(),
    )
    .await?;
    if let PollTrigger::Resync { since, force } = request.trigger {
        println!(
            "resync of tenant {} since {} enqueued (force: {force}, request {})",
            request.tenant,
            since.to_rfc3339(),
            request.requested_at.to_rfc3339()
        );
    }
    Ok(())
}
