//! Ports: the traits through which the domain reads and writes state and queues.
//!
//! Every port is an object-safe async trait (`Arc<dyn Port>`), implemented by the AWS
//! adapters (DynamoDB, SQS, Secrets Manager) and the embedded (SQLite) adapters with
//! the same conditional semantics. A lost race or a failed condition is an outcome enum
//! variant; [`StoreError`] is reserved for real failures.

pub mod activity;
pub mod clock;
pub mod error;
pub mod idempotency;
pub mod order_ledger;
pub mod paging;
pub mod poll_state;
pub mod queue;
pub mod secrets;
pub mod stock_marks;
pub mod store_keys;
pub mod tenants;
pub mod tokens;

/// Implement ports with `#[shared::ports::async_trait]` without a direct dependency.
pub use async_trait::async_trait;

pub use activity::ActivityLog;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
pub use idempotency::IdempotencyStore;
pub use order_ledger::OrderLedger;
pub use paging::{Page, PageRequest, PageToken};
pub use poll_state::PollStateStore;
pub use queue::MessageQueue;
pub use secrets::SecretStore;
pub use stock_marks::StockMarkStore;
pub use tenants::TenantStore;
pub use tokens::TokenStore;

use std::sync::Arc;

/// Every state port, as one bundle to hand to the pipelines.
#[derive(Clone)]
pub struct StateStores {
    pub tenants: Arc<dyn TenantStore>,
    pub poll_state: Arc<dyn PollStateStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub order_ledger: Arc<dyn OrderLedger>,
    pub stock_marks: Arc<dyn StockMarkStore>,
    pub activity: Arc<dyn ActivityLog>,
    pub secrets: Arc<dyn SecretStore>,
}
