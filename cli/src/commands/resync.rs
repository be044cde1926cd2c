//! `epages-sync resync --tenant T --since DATE [--force]`: asks the poller to re-read a
//! tenant's orders updated since DATE (see `connector::pipeline::poll::resync`).
//!
//! Backend (`crate::backend`): `--backend aws` uses the deployment's environment, plus
//! `POLL_QUEUE_URL`; `embedded` (the default) the state directory of local runs, whose poll
//! queue is opened by `backend::open_queues`, the same call `run` makes, so the next `run`
//! processes the request, also when it is already running: the state database is shared
//! between processes, and `run` reads its poll queue at every step.

use std::sync::Arc;

use aws_adapters::{StageQueuesError, queue_from_env};
use clap::Args;
use connector::pipeline::poll::resync::{ResyncError, parse_since, request_resync};
use connector::pipeline::poll_request::PollTrigger;
use connector::ports::MessageQueue;
use domain::tenant::TenantId;

use crate::backend::{self, BackendArgs, BackendError, BackendKind};

#[derive(Debug, Args)]
pub struct ResyncArgs {
    /// The tenant whose orders are read again.
    #[arg(long)]
    pub tenant: TenantId,
    /// Re-read orders updated since this time: a duration back from now (`24h`, `7d`), a
    /// date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time.
    #[arg(long, value_parser = crate::when::point_in_time_rfc3339)]
    pub since: String,
    /// Emit again what was already emitted, under new event ids derived from this request.
    #[arg(long)]
    pub force: bool,
    /// Global options, set by `main`.
    #[arg(skip)]
    pub backend: BackendArgs,
    #[arg(skip)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResyncCommandError {
    #[error(transparent)]
    Resync(#[from] ResyncError),
    #[error("opening the poll queue")]
    Queue(#[from] StageQueuesError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
}

pub async fn run(args: ResyncArgs) -> Result<(), ResyncCommandError> {
    let since = parse_since(&args.since)?;
    let opened = backend::open(&args.backend).await?;
    let poll_queue: Arc<dyn MessageQueue> = match args.backend.backend {
        // The stage queues `run` reads (`embedded::open_stage_queues`): one place names
        // them, so the request cannot land in a queue nobody consumes.
        BackendKind::Embedded => {
            backend::open_queues(&args.backend, opened.clock.clone())
                .await?
                .poll
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
    if args.json {
        println!("{}", serde_json::to_string(&request)?);
    } else if let PollTrigger::Resync { since, force } = request.trigger {
        println!(
            "resync of tenant {} since {} enqueued (force: {force}, request {})",
            request.tenant,
            since.to_rfc3339(),
            request.requested_at.to_rfc3339()
        );
    }
    Ok(())
}
