//! Embedded adapters: the stores and queues in one SQLite database per state directory
//! (`db`), with the same conditional semantics as the AWS adapters. For local runs and
//! tests; several processes may share a state directory. Never linked into a Lambda.

mod activity;
mod db;
mod idempotency;
pub mod inspect;
mod migrate;
mod order_ledger;
mod poll_state;
mod queue;
mod secrets;
mod stock_marks;
mod tenants;
mod tokens;

use std::path::Path;
use std::sync::Arc;

pub use activity::EmbeddedActivityLog;
pub use db::DATABASE_FILE;
pub use idempotency::EmbeddedIdempotencyStore;
pub use order_ledger::EmbeddedOrderLedger;
pub use poll_state::EmbeddedPollStateStore;
pub use queue::{EmbeddedQueue, EmbeddedQueueConfig, Redrive};
pub use secrets::EmbeddedSecretStore;
pub use stock_marks::EmbeddedStockMarkStore;
pub use tenants::EmbeddedTenantStore;
pub use tokens::EmbeddedTokenStore;

use connector::ports::activity::Retention;
use connector::ports::{Clock, StateStores, StoreError};

/// Opens every embedded state store under `dir` (created if missing).
pub async fn open_state(
    dir: &Path,
    retention: Retention,
    clock: Arc<dyn Clock>,
) -> Result<StateStores, StoreError> {
    Ok(StateStores {
        tenants: Arc::new(EmbeddedTenantStore::open(dir).await?),
        poll_state: Arc::new(EmbeddedPollStateStore::open(dir).await?),
        tokens: Arc::new(EmbeddedTokenStore::open(dir).await?),
        idempotency: Arc::new(EmbeddedIdempotencyStore::open(dir).await?),
        order_ledger: Arc::new(EmbeddedOrderLedger::open(dir).await?),
        stock_marks: Arc::new(EmbeddedStockMarkStore::open(dir).await?),
        activity: Arc::new(EmbeddedActivityLog::open(dir, retention, clock).await?),
        secrets: Arc::new(EmbeddedSecretStore::open(dir).await?),
    })
}

/// The stage's queues in the state database of `dir`, configured as template.yaml configures them
/// (FIFO where order matters, visibility timeouts, redrive to a dead-letter queue).
pub async fn open_stage_queues(
    dir: &Path,
    clock: Arc<dyn Clock>,
) -> Result<connector::ports::queue::StageQueues, StoreError> {
    let [poll, order_events, commands] = connector::stage::stage_queue_specs("local");
    let (poll, poll_dead_letters) = open_queue_pair(dir, &poll, clock.clone()).await?;
    let (order_events, order_events_dead_letters) =
        open_queue_pair(dir, &order_events, clock.clone()).await?;
    let (commands, command_dead_letters) = open_queue_pair(dir, &commands, clock).await?;
    Ok(connector::ports::queue::StageQueues {
        poll,
        poll_dead_letters,
        order_events,
        order_events_dead_letters,
        commands,
        command_dead_letters,
    })
}

/// A queue and its dead-letter queue under `dir`, as
/// [`QueueSpec`](connector::stage::QueueSpec) says (the same specs the AWS
/// provisioning creates queues from).
pub async fn open_queue_pair(
    dir: &Path,
    spec: &connector::stage::QueueSpec,
    clock: Arc<dyn Clock>,
) -> Result<(Arc<EmbeddedQueue>, Arc<EmbeddedQueue>), StoreError> {
    let suffix = if spec.fifo { ".fifo" } else { "" };
    let mut dead_letter = EmbeddedQueueConfig::new(format!("{}-dlq{suffix}", spec.name));
    dead_letter.content_based_deduplication = spec.content_based_deduplication;
    let dead_letter = EmbeddedQueue::open(dir, dead_letter, clock.clone()).await?;
    let mut source = EmbeddedQueueConfig::new(format!("{}{suffix}", spec.name));
    source.visibility_timeout = spec.visibility_timeout;
    source.content_based_deduplication = spec.content_based_deduplication;
    source.redrive = Some(Redrive {
        dead_letter: dead_letter.clone(),
        max_receive_count: spec.max_receive_count,
    });
    let source = EmbeddedQueue::open(dir, source, clock).await?;
    Ok((source, dead_letter))
}
