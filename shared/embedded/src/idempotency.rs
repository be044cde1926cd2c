//! Embedded idempotency records with the same claim rules as the DynamoDB adapter: table
//! `idempotency`, one row per key, with its expiry as a column so expired rows are pruned
//! through an index.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::db::{Database, from_json, sql, to_json};
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

/// The JSON-file format this store had before SQLite (`idempotency.json`), for the
/// migration.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    records: std::collections::BTreeMap<String, Record>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        for (key, record) in &self.records {
            put(tx, key, record)?;
        }
        Ok(self.records.len())
    }
}

pub struct EmbeddedIdempotencyStore {
    db: Arc<Database>,
}

impl EmbeddedIdempotencyStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
        })
    }
}

const WHAT: &str = "idempotency record";

fn get(connection: &Connection, key: &str) -> Result<Option<Record>, StoreError> {
    use rusqlite::OptionalExtension;
    let text: Option<String> = connection
        .prepare_cached("SELECT value FROM idempotency WHERE key = ?1")
        .and_then(|mut s| s.query_row([key], |row| row.get(0)).optional())
        .map_err(sql("select"))?;
    text.map(|text| from_json(WHAT, &text)).transpose()
}

fn put(connection: &Connection, key: &str, record: &Record) -> Result<(), StoreError> {
    let text = to_json(WHAT, record)?;
    connection
        .prepare_cached(
            "INSERT INTO idempotency (key, expires_at, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, \
             value = excluded.value",
        )
        .and_then(|mut s| s.execute((key, record.expires_at.timestamp(), text)))
        .map_err(sql("upsert"))?;
    Ok(())
}

fn delete(connection: &Connection, key: &str) -> Result<(), StoreError> {
    connection
        .prepare_cached("DELETE FROM idempotency WHERE key = ?1")
        .and_then(|mut s| s.execute([key]))
        .map_err(sql("delete"))?;
    Ok(())
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
        let key = key.to_string();
        self.db
            .write(move |tx| {
                // Expired records are dropped here, as DynamoDB TTL does eventually (the
                // index on the expiry keeps this proportional to what expired).
                tx.prepare_cached("DELETE FROM idempotency WHERE expires_at < ?1")
                    .and_then(|mut s| s.execute([now.timestamp()]))
                    .map_err(sql("prune"))?;
                if let Some(record) = get(tx, &key)?
                    && !claimable(&record, now)
                {
                    return match record.status {
                        Status::InProgress => Ok(ClaimOutcome::InProgress {
                            until: record.in_progress_until,
                        }),
                        Status::Completed => Ok(ClaimOutcome::AlreadyCompleted(decode(&record)?)),
                    };
                }
                let record = Record {
                    status: Status::InProgress,
                    in_progress_until,
                    expires_at,
                    data: None,
                };
                put(tx, &key, &record)?;
                Ok(ClaimOutcome::Claimed)
            })
            .await
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        result: &serde_json::Value,
    ) -> Result<CompleteOutcome, StoreError> {
        let data = encode_result(result)?;
        let key = key.to_string();
        self.db
            .write(move |tx| match get(tx, &key)? {
                Some(mut record) if record.status == Status::InProgress => {
                    record.status = Status::Completed;
                    record.data = Some(data);
                    put(tx, &key, &record)?;
                    Ok(CompleteOutcome::Completed)
                }
                _ => Ok(CompleteOutcome::NotInProgress),
            })
            .await
    }

    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError> {
        let key = key.to_string();
        self.db
            .write(move |tx| {
                if get(tx, &key)?.is_some_and(|record| record.status == Status::InProgress) {
                    delete(tx, &key)?;
                }
                Ok(())
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
