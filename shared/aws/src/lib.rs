//! The AWS side of epages-sync: the adapters of the connector's ports (DynamoDB for state,
//! SQS for queues, Secrets Manager for client secrets, with a TTL cache), the one SDK
//! configuration ([`sdk`]), and how each function's handler is built from its environment
//! ([`lambda::FromEnv`]). The only crate with a direct AWS SDK dependency; stage
//! provisioning on moto is behind the `testing` feature. Table layout and key design:
//! docs/STATE.md (constants in [`keys`]).

mod activity;
mod attr;
mod batch;
mod config;
mod error;
mod idempotency;
pub mod keys;
pub mod lambda;
mod order_ledger;
mod poll_state;
#[cfg(feature = "testing")]
pub mod provision;
pub mod sdk;
mod secret_cache;
mod secrets;
mod sqs;
mod stock_marks;
mod table;
mod tenants;
mod tokens;
pub mod xray;

use std::sync::Arc;

use aws_config::SdkConfig;

pub use activity::DynamoActivityLog;
pub use config::{
    AwsStateConfig, ConfigError, StageQueuesError, queue_from_env, queue_url_from_env,
    stage_queues_from_env,
};
pub use idempotency::DynamoIdempotencyStore;
pub use order_ledger::DynamoOrderLedger;
pub use poll_state::DynamoPollStateStore;
pub use secret_cache::CachedSecretStore;
pub use secrets::SecretsManagerStore;
pub use sqs::SqsQueue;
pub use stock_marks::DynamoStockMarkStore;
pub use tenants::DynamoTenantStore;
pub use tokens::DynamoTokenStore;

use connector::ports::{Clock, StateStores};

/// Every state port on AWS, from one SDK configuration. Secrets are cached for
/// `config.secrets_cache_ttl`.
pub fn state_stores(
    sdk: &SdkConfig,
    config: &AwsStateConfig,
    clock: Arc<dyn Clock>,
) -> StateStores {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let table = &config.state_table;
    let secrets = SecretsManagerStore::new(
        aws_sdk_secretsmanager::Client::new(sdk),
        config.secrets_kms_key_id.clone(),
    );
    StateStores {
        tenants: Arc::new(DynamoTenantStore::new(dynamodb.clone(), table)),
        poll_state: Arc::new(DynamoPollStateStore::new(dynamodb.clone(), table)),
        tokens: Arc::new(DynamoTokenStore::new(dynamodb.clone(), table)),
        idempotency: Arc::new(DynamoIdempotencyStore::new(dynamodb.clone(), table)),
        order_ledger: Arc::new(DynamoOrderLedger::new(dynamodb.clone(), table)),
        stock_marks: Arc::new(DynamoStockMarkStore::new(dynamodb.clone(), table)),
        activity: Arc::new(DynamoActivityLog::new(
            dynamodb,
            &config.activity_table,
            config.activity_retention,
        )),
        secrets: Arc::new(CachedSecretStore::new(
            Arc::new(secrets),
            config.secrets_cache_ttl,
            clock,
        )),
    }
}
