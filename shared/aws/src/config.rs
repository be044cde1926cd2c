//! Typed configuration of the AWS adapters, read from the environment once at start-up.

use std::sync::Arc;
use std::time::Duration;

pub use connector::config::ConfigError;
use connector::config::{number_or, optional, required};
use connector::ports::MessageQueue;
use connector::ports::activity::Retention;
use connector::ports::secrets::SecretNaming;

/// Where state lives in AWS.
#[derive(Clone, Debug)]
pub struct AwsStateConfig {
    /// `STATE_TABLE`: tenants, poll state, tokens, idempotency, order ledger, stock marks.
    pub state_table: String,
    /// `ACTIVITY_TABLE`: the activity log.
    pub activity_table: String,
    /// `SECRETS_PREFIX`: the prefix of every secret name (e.g. `epages-sync/prod`).
    pub secrets: SecretNaming,
    /// `SECRETS_KMS_KEY_ID` (optional): KMS key for secrets the connector creates.
    pub secrets_kms_key_id: Option<String>,
    /// `ACTIVITY_RETENTION_DAYS` (optional, default 30).
    pub activity_retention: Retention,
    /// `SECRETS_CACHE_SECONDS` (optional, default 300): how long a container reuses a secret.
    pub secrets_cache_ttl: Duration,
}

impl AwsStateConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let secrets = SecretNaming::new(required("SECRETS_PREFIX")?)
            .map_err(|e| ConfigError::invalid("SECRETS_PREFIX", e.to_string()))?;
        let number = number_or;
        Ok(Self {
            state_table: required("STATE_TABLE")?,
            activity_table: required("ACTIVITY_TABLE")?,
            secrets,
            secrets_kms_key_id: optional("SECRETS_KMS_KEY_ID")?,
            activity_retention: Retention::days(number(
                "ACTIVITY_RETENTION_DAYS",
                Retention::DEFAULT_DAYS,
            )?),
            secrets_cache_ttl: Duration::from_secs(number("SECRETS_CACHE_SECONDS", 300)?),
        })
    }
}

/// A queue URL from the environment variable `name` (e.g. `POLL_QUEUE_URL`).
pub fn queue_url_from_env(name: &'static str) -> Result<String, ConfigError> {
    required(name)
}

/// The SQS queue whose URL is in the environment variable `env`.
pub async fn queue_from_env(
    sdk: &aws_config::SdkConfig,
    env: &'static str,
) -> Result<Arc<dyn MessageQueue>, StageQueuesError> {
    open_queue(&aws_sdk_sqs::Client::new(sdk), env).await
}

/// The queue whose URL is in `env`, on an existing SQS client: what every function and
/// the operator CLI open their queues with.
pub(crate) async fn open_queue(
    sqs: &aws_sdk_sqs::Client,
    env: &'static str,
) -> Result<Arc<dyn MessageQueue>, StageQueuesError> {
    let url = queue_url_from_env(env)?;
    let queue = crate::SqsQueue::connect(sqs.clone(), url)
        .await
        .map_err(|source| StageQueuesError::Connect { env, source })?;
    Ok(Arc::new(queue))
}

/// The stage's queues from the environment the functions (and the operator CLI) read:
/// `POLL_QUEUE_URL`, `POLL_DLQ_URL`, `ORDER_EVENTS_QUEUE_URL`, `ORDER_EVENTS_DLQ_URL`,
/// `COMMAND_QUEUE_URL`, `COMMAND_DLQ_URL` (the stack's outputs).
pub async fn stage_queues_from_env(
    sdk: &aws_config::SdkConfig,
) -> Result<connector::ports::queue::StageQueues, StageQueuesError> {
    let sqs = &aws_sdk_sqs::Client::new(sdk);
    Ok(connector::ports::queue::StageQueues {
        poll: open_queue(sqs, "POLL_QUEUE_URL").await?,
        poll_dead_letters: open_queue(sqs, "POLL_DLQ_URL").await?,
        order_events: open_queue(sqs, "ORDER_EVENTS_QUEUE_URL").await?,
        order_events_dead_letters: open_queue(sqs, "ORDER_EVENTS_DLQ_URL").await?,
        commands: open_queue(sqs, "COMMAND_QUEUE_URL").await?,
        command_dead_letters: open_queue(sqs, "COMMAND_DLQ_URL").await?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StageQueuesError {
    #[error("queue configuration")]
    Config(#[from] ConfigError),
    #[error("connecting to the queue in {env}")]
    Connect {
        env: &'static str,
        #[source]
        source: connector::ports::StoreError,
    },
}
