//! Embedded-adapter fixtures, each in its own temporary state directory.

use std::path::Path;
use std::sync::Arc;

use ::embedded::{
    EmbeddedActivityLog, EmbeddedIdempotencyStore, EmbeddedOrderLedger, EmbeddedPollStateStore,
    EmbeddedQueue, EmbeddedSecretStore, EmbeddedStockMarkStore, EmbeddedTenantStore,
    EmbeddedTokenStore,
};
use aws_adapters::provision::QueueSpec;
use connector::ports::activity::Retention;
use connector::ports::{
    ActivityLog, IdempotencyStore, MessageQueue, OrderLedger, PollStateStore, SecretStore,
    StockMarkStore, SystemClock, TenantStore, TokenStore,
};
use tempfile::TempDir;

use super::Fixture;
use super::aws::QueuePairFixture;

pub fn state_dir() -> TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

pub async fn tenants() -> Fixture<dyn TenantStore> {
    let dir = state_dir();
    let store = EmbeddedTenantStore::open(dir.path()).await.expect("opens");
    Fixture::new(Arc::new(store), dir)
}

pub async fn poll_state() -> Fixture<dyn PollStateStore> {
    let dir = state_dir();
    let store = EmbeddedPollStateStore::open(dir.path())
        .await
        .expect("opens");
    Fixture::new(Arc::new(store), dir)
}

pub async fn tokens() -> Fixture<dyn TokenStore> {
    let dir = state_dir();
    let store = EmbeddedTokenStore::open(dir.path()).await.expect("opens");
    Fixture::new(Arc::new(store), dir)
}

pub async fn idempotency() -> Fixture<dyn IdempotencyStore> {
    let dir = state_dir();
    let store = EmbeddedIdempotencyStore::open(dir.path())
        .await
        .expect("opens");
    Fixture::new(Arc::new(store), dir)
}

pub async fn order_ledger() -> Fixture<dyn OrderLedger> {
    let dir = state_dir();
    let store = EmbeddedOrderLedger::open(dir.path()).await.expect("opens");
    Fixture::new(Arc::new(store), dir)
}

pub async fn stock_marks() -> Fixture<dyn StockMarkStore> {
    let dir = state_dir();
    let store = EmbeddedStockMarkStore::open(dir.path())
        .await
        .expect("opens");
    Fixture::new(Arc::new(store), dir)
}

pub async fn activity_with(retention: Retention) -> Fixture<dyn ActivityLog> {
    let dir = state_dir();
    let store = EmbeddedActivityLog::open(dir.path(), retention, Arc::new(SystemClock))
        .await
        .expect("opens");
    Fixture::new(Arc::new(store), dir)
}

pub async fn activity() -> Fixture<dyn ActivityLog> {
    activity_with(Retention::default()).await
}

pub async fn secrets() -> Fixture<dyn SecretStore> {
    let dir = state_dir();
    let store = EmbeddedSecretStore::open(dir.path()).await.expect("opens");
    Fixture::new(Arc::new(store), dir)
}

/// A queue and its dead-letter queue under `dir`, configured like [`QueueSpec`] says.
pub async fn open_queue_pair(
    dir: &Path,
    spec: &QueueSpec,
) -> (Arc<EmbeddedQueue>, Arc<EmbeddedQueue>) {
    ::embedded::open_queue_pair(dir, spec, Arc::new(SystemClock))
        .await
        .expect("opens the queue and its dead-letter queue")
}

pub async fn queue_pair(spec: QueueSpec) -> QueuePairFixture {
    let dir = state_dir();
    let (queue, dead_letters) = open_queue_pair(dir.path(), &spec).await;
    QueuePairFixture {
        queue: queue as Arc<dyn MessageQueue>,
        dead_letters: dead_letters as Arc<dyn MessageQueue>,
        _keep: Box::new(dir),
    }
}
