//! Typed configuration of the AWS adapters, read from the environment once at start-up.

use std::time::Duration;

use crate::ports::activity::Retention;
use crate::ports::secrets::SecretNaming;

/// A missing or malformed environment variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set")]
    Missing { name: &'static str },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

pub(crate) fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(ConfigError::Missing { name }),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::Invalid {
            name,
            reason: "not valid UTF-8".into(),
        }),
    }
}

fn optional(name: &'static str) -> Result<Option<String>, ConfigError> {
    match required(name) {
        Ok(value) => Ok(Some(value)),
        Err(ConfigError::Missing { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

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
        let secrets =
            SecretNaming::new(required("SECRETS_PREFIX")?).map_err(|e| ConfigError::Invalid {
                name: "SECRETS_PREFIX",
                reason: e.to_string(),
            })?;
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            optional(name)?.map_or(Ok(default), |raw| {
                raw.parse()
                    .map_err(|e: std::num::ParseIntError| ConfigError::Invalid {
                        name,
                        reason: e.to_string(),
                    })
            })
        };
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

/// The stage's queues from the environment the functions (and the operator CLI) read:
/// `POLL_QUEUE_URL`, `POLL_DLQ_URL`, `ORDER_EVENTS_QUEUE_URL`, `ORDER_EVENTS_DLQ_URL`,
/// `COMMAND_QUEUE_URL`, `COMMAND_DLQ_URL` (the stack's outputs).
pub async fn stage_queues_from_env(
    sqs: &aws_sdk_sqs::Client,
) -> Result<crate::ports::queue::StageQueues, StageQueuesError> {
    async fn open(
        sqs: &aws_sdk_sqs::Client,
        env: &'static str,
    ) -> Result<std::sync::Arc<dyn crate::ports::MessageQueue>, StageQueuesError> {
        let url = queue_url_from_env(env)?;
        let queue = crate::adapters::aws::SqsQueue::connect(sqs.clone(), url)
            .await
            .map_err(|source| StageQueuesError::Connect { env, source })?;
        Ok(std::sync::Arc::new(queue))
    }
    Ok(crate::ports::queue::StageQueues {
        poll: open(sqs, "POLL_QUEUE_URL").await?,
        poll_dead_letters: open(sqs, "POLL_DLQ_URL").await?,
        order_events: open(sqs, "ORDER_EVENTS_QUEUE_URL").await?,
        order_events_dead_letters: open(sqs, "ORDER_EVENTS_DLQ_URL").await?,
        commands: open(sqs, "COMMAND_QUEUE_URL").await?,
        command_dead_letters: open(sqs, "COMMAND_DLQ_URL").await?,
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
        source: crate::ports::StoreError,
    },
}
