//! Idempotency records, after the Powertools design: one conditional write claims a key;
//! the holder completes it with the result or releases it on failure.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;

/// A business key such as `{tenant}:command:{message_id}`; the caller chooses the scheme.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// DynamoDB allows 2048 bytes per partition key; the prefix needs a few of them.
    pub const MAX_LEN: usize = 1024;

    pub fn new(key: impl Into<String>) -> Result<Self, StoreError> {
        let key = key.into();
        if key.is_empty() {
            return Err(StoreError::invalid("idempotency key", "is empty"));
        }
        if key.len() > Self::MAX_LEN {
            return Err(StoreError::invalid(
                "idempotency key",
                format!("is {} bytes; at most {} allowed", key.len(), Self::MAX_LEN),
            ));
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClaimOutcome {
    /// The caller holds the key until `in_progress_until`: do the work, then `complete`
    /// (or `release` on failure).
    Claimed,
    /// The work was done before; here is its stored result.
    AlreadyCompleted(serde_json::Value),
    /// Someone else is doing the work; retry after `until`.
    InProgress { until: DateTime<Utc> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompleteOutcome {
    Completed,
    /// No in-progress record exists for the key (released, expired and removed, or already
    /// completed); the result was not stored.
    NotInProgress,
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` with one conditional write. A record is claimable when absent, past
    /// `expires_at`, or in progress past its `in_progress_until`.
    async fn claim(
        &self,
        key: &IdempotencyKey,
        in_progress_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError>;

    /// Stores the result of a claimed key; later claims get `AlreadyCompleted(result)`.
    async fn complete(
        &self,
        key: &IdempotencyKey,
        result: &serde_json::Value,
    ) -> Result<CompleteOutcome, StoreError>;

    /// Deletes an in-progress record so a retry can run. A completed record is kept.
    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError>;
}

/// Largest stored result: DynamoDB items stop at 400 KB and the record needs room for keys.
pub const MAX_RESULT_BYTES: usize = 350 * 1024;

/// Refuses claims that would lock nothing or forever. Powertools once stored no
/// in-progress expiry when the remaining Lambda time read 0, which left the record
/// INPROGRESS until TTL (powertools-lambda-python#4759): here the expiry is mandatory
/// and must lie in the future.
pub fn check_claim(
    in_progress_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if in_progress_until <= now {
        return Err(StoreError::invalid(
            "in_progress_until",
            format!("{in_progress_until} is not after now ({now})"),
        ));
    }
    if expires_at < in_progress_until {
        return Err(StoreError::invalid(
            "expires_at",
            format!("{expires_at} is before in_progress_until ({in_progress_until})"),
        ));
    }
    Ok(())
}

pub fn encode_result(result: &serde_json::Value) -> Result<String, StoreError> {
    let text = serde_json::to_string(result)
        .map_err(|e| StoreError::invalid("idempotency result", e.to_string()))?;
    if text.len() > MAX_RESULT_BYTES {
        return Err(StoreError::invalid(
            "idempotency result",
            format!(
                "is {} bytes; at most {MAX_RESULT_BYTES} allowed",
                text.len()
            ),
        ));
    }
    Ok(text)
}
