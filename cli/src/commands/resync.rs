//! `epages-sync resync --tenant T --since DATE [--force]`: asks the poller to re-read a
//! tenant's orders updated since DATE (see `connector::pipeline::poll::resync`).
//!
//! Backend (`crate::backend`): `--backend aws` uses the deployment's environment, plus
//! `POLL_QUEUE_URL`; `embedded` (the default) the state directory of local runs, whose poll
//! queue is the embedded queue `poll` in that directory.

use std::sync::Arc;

use aws_adapters::{StageQueuesError, queue_from_env};
use clap::Args;
use connector::pipeline::poll::resync::{ResyncError, parse_since, request_resync};
use connector::pipeline::poll_request::PollTrigger;
use connector::ports::{MessageQueue, StoreError};
use domain::tenant::TenantId;
use embedded::{EmbeddedQueue, EmbeddedQueueConfig};

use crate::backend::{self, BackendArgs, BackendError, BackendKind};

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
    #[command(flatten)]
    pub backend: BackendArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum ResyncCommandError {
    #[error(transparent)]
    Resync(#[from] ResyncError),
    #[error("opening the poll queue")]
    Queue(#[from] StageQueuesError),
    #[error("opening the poll queue")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Local runs name the poll queue like this in the state directory.
const EMBEDDED_POLL_QUEUE: &str = "poll";

pub async fn run(args: ResyncArgs) -> Result<(), ResyncCommandError> {
    let since = parse_since(&args.since)?;
    let opened = backend::open(&args.backend).await?;
    let poll_queue: Arc<dyn MessageQueue> = match args.backend.backend {
        BackendKind::Embedded => {
            EmbeddedQueue::open(
                &args.backend.state_dir,
                EmbeddedQueueConfig::new(EMBEDDED_POLL_QUEUE),
                opened.clock.clone(),
            )
            .await?
        }
        BackendKind::Aws => {
            let sdk = aws_adapters::sdk::load_sdk_config().await;
            queue_from_env(&sdk, "POLL_QUEUE_URL").await?
        }
    };
    let request = request_resync(
        opened.stores.tenants.as_ref(),
        poll_queue.as_ref(),
        &args.tenant,
        since,
        args.force,
        opened.clock.now(),
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
