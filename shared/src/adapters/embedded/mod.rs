//! Embedded adapters: in-process stores persisted as JSON files under one state directory,
//! with the same conditional semantics as the AWS adapters. For local runs and tests; one
//! process per state directory.

mod activity;
mod idempotency;
mod order_ledger;
mod persist;
mod poll_state;
mod queue;
mod secrets;
mod stock_marks;
mod tenants;
mod tokens;

use std::path::Path;
use std::sync::Arc;

pub use activity::EmbeddedActivityLog;
pub use idempotency::EmbeddedIdempotencyStore;
pub use order_ledger::EmbeddedOrderLedger;
pub use poll_state::EmbeddedPollStateStore;
pub use queue::{EmbeddedQueue, EmbeddedQueueConfig, Redrive};
pub use secrets::EmbeddedSecretStore;
pub use stock_marks::EmbeddedStockMarkStore;
pub use tenants::EmbeddedTenantStore;
pub use tokens::EmbeddedTokenStore;

use crate::ports::activity::Retention;
use crate::ports::{Clock, StateStores, StoreError};

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
