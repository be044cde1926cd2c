//! Embedded idempotency records with the same claim rules as the DynamoDB adapter.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::truncate_to_millis;
use connector::ports::idempotency::{
    ClaimOutcome, CompleteOutcome, IdempotencyKey, check_claim, encode_result,
};
use connector::ports::{IdempotencyStore, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Status {
    InProgress,
    Completed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    status: Status,
    in_progress_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// The stored result as JSON text, exactly as the DynamoDB adapter keeps it.
    data: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct IdempotencyFile {
    records: BTreeMap<IdempotencyKey, Record>,
}

pub struct EmbeddedIdempotencyStore {
    file: JsonFile<IdempotencyFile>,
}

impl EmbeddedIdempotencyStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("idempotency.json")).await?,
        })
    }
}

/// The DynamoDB condition, in code: absent, expired (compared in epoch seconds, as the
/// TTL attribute is), or in progress past its lock.
fn claimable(record: &Record, now: DateTime<Utc>) -> bool {
    expired(record, now) || (record.status == Status::InProgress && record.in_progress_until < now)
}

fn expired(record: &Record, now: DateTime<Utc>) -> bool {
    record.expires_at.timestamp() < now.timestamp()
}

#[async_trait]
impl IdempotencyStore for EmbeddedIdempotencyStore {
    async fn claim(
        &self,
        key: &IdempotencyKey,
        in_progress_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        check_claim(in_progress_until, expires_at, now)?;
        let now = truncate_to_millis(now);
        let (in_progress_until, expires_at) = (
            truncate_to_millis(in_progress_until),
            truncate_to_millis(expires_at),
        );
        self.file
            .update(|file| {
                // Expired records are dropped here, as DynamoDB TTL does eventually.
                let before = file.records.len();
                file.records.retain(|_, record| !expired(record, now));
                let pruned = file.records.len() != before;
                if let Some(record) = file.records.get(key)
                    && !claimable(record, now)
                {
                    let outcome = match record.status {
                        Status::InProgress => ClaimOutcome::InProgress {
                            until: record.in_progress_until,
                        },
                        Status::Completed => ClaimOutcome::AlreadyCompleted(decode(record)?),
                    };
                    return Ok(if pruned {
                        Mutation::Changed(outcome)
                    } else {
                        Mutation::Unchanged(outcome)
                    });
                }
                file.records.insert(
                    key.clone(),
                    Record {
                        status: Status::InProgress,
                        in_progress_until,
                        expires_at,
                        data: None,
                    },
                );
                Ok(Mutation::Changed(ClaimOutcome::Claimed))
            })
            .await
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        result: &serde_json::Value,
    ) -> Result<CompleteOutcome, StoreError> {
        let data = encode_result(result)?;
        self.file
            .update(|file| match file.records.get_mut(key) {
                Some(record) if record.status == Status::InProgress => {
                    record.status = Status::Completed;
                    record.data = Some(data);
                    Ok(Mutation::Changed(CompleteOutcome::Completed))
                }
                _ => Ok(Mutation::Unchanged(CompleteOutcome::NotInProgress)),
            })
            .await
    }

    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError> {
        self.file
            .update(|file| {
                if file
                    .records
                    .get(key)
                    .is_some_and(|record| record.status == Status::InProgress)
                {
                    file.records.remove(key);
                    return Ok(Mutation::Changed(()));
                }
                Ok(Mutation::Unchanged(()))
            })
            .await
    }
}

fn decode(record: &Record) -> Result<serde_json::Value, StoreError> {
    let text = record
        .data
        .as_deref()
        .ok_or_else(|| StoreError::corrupt("idempotency record", "completed without data"))?;
    serde_json::from_str(text).map_err(|e| StoreError::corrupt_from("idempotency result", e))
}
