//! Embedded stock marks and intents: table `stock_marks`, one row per
//! `{tenant}#{location}#{sku}`, with the tenant and whether an intent is pending as
//! columns so `pending_intents` reads an index, not the table.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::db::{Database, from_json, sql, to_json};
use connector::ports::clock::truncate_to_millis;
use connector::ports::stock_marks::{
    AdvanceOutcome, ClearOutcome, CommitOutcome, IntentOutcome, check_intent, check_key,
};
use connector::ports::store_keys::composite_key;
use connector::ports::{StockMarkStore, StoreError};
use domain::stock_mark::{StockIntent, StockKey, StockMark};
use domain::tenant::TenantId;

const WHAT: &str = "stock mark";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredMark {
    tenant: TenantId,
    mark: StockMark,
}

/// The JSON-file format this store had before SQLite (`stock_marks.json`), for the
/// migration: keyed by `{tenant}#{location}#{sku}` as the rows are.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    marks: std::collections::BTreeMap<String, StoredMark>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        for (key, stored) in &self.marks {
            put(tx, key, stored)?;
        }
        Ok(self.marks.len())
    }
}

pub struct EmbeddedStockMarkStore {
    db: Arc<Database>,
}

impl EmbeddedStockMarkStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
        })
    }

    /// Reads the mark (a fresh one when absent), lets `change` decide, and writes it back
    /// when `change` says it changed; one transaction.
    async fn change<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        change: impl FnOnce(&mut StockMark) -> (bool, R) + Send + 'static,
    ) -> Result<R, StoreError> {
        let id = mark_key(tenant, key);
        let tenant = tenant.clone();
        let key = key.clone();
        self.db
            .write(move |tx| {
                let fresh = StoredMark {
                    tenant,
                    mark: StockMark {
                        key,
                        observed_at: None,
                        pending: None,
                    },
                };
                let mut stored = get(tx, &id)?.unwrap_or(fresh);
                let (changed, result) = change(&mut stored.mark);
                if changed {
                    put(tx, &id, &stored)?;
                }
                Ok(result)
            })
            .await
    }

    /// Like [`Self::change`] for writes that need a stored mark (never creating one).
    async fn change_existing<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        absent: R,
        change: impl FnOnce(&mut StockMark) -> (bool, R) + Send + 'static,
    ) -> Result<R, StoreError> {
        let id = mark_key(tenant, key);
        self.db
            .write(move |tx| {
                let Some(mut stored) = get(tx, &id)? else {
                    return Ok(absent);
                };
                let (changed, result) = change(&mut stored.mark);
                if changed {
                    put(tx, &id, &stored)?;
                }
                Ok(result)
            })
            .await
    }
}

fn mark_key(tenant: &TenantId, key: &StockKey) -> String {
    composite_key(&[tenant.as_str(), &key.location, &key.sku])
}

fn get(connection: &Connection, id: &str) -> Result<Option<StoredMark>, StoreError> {
    use rusqlite::OptionalExtension;
    let text: Option<String> = connection
        .prepare_cached("SELECT value FROM stock_marks WHERE key = ?1")
        .and_then(|mut s| s.query_row([id], |row| row.get(0)).optional())
        .map_err(sql("select"))?;
    text.map(|text| from_json(WHAT, &text)).transpose()
}

fn put(connection: &Connection, id: &str, stored: &StoredMark) -> Result<(), StoreError> {
    let text = to_json(WHAT, stored)?;
    connection
        .prepare_cached(
            "INSERT INTO stock_marks (key, tenant, pending, value) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (key) DO UPDATE SET tenant = excluded.tenant, \
             pending = excluded.pending, value = excluded.value",
        )
        .and_then(|mut s| {
            s.execute((
                id,
                stored.tenant.as_str(),
                stored.mark.pending.is_some(),
                text,
            ))
        })
        .map_err(sql("upsert"))?;
    Ok(())
}

#[async_trait]
impl StockMarkStore for EmbeddedStockMarkStore {
    async fn get(
        &self,
        tenant: &TenantId,
        key: &StockKey,
    ) -> Result<Option<StockMark>, StoreError> {
        check_key(key)?;
        let id = mark_key(tenant, key);
        let stored = self.db.read(move |connection| get(connection, &id)).await?;
        Ok(stored.map(|stored| stored.mark))
    }

    async fn advance(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        observed_at: DateTime<Utc>,
    ) -> Result<AdvanceOutcome, StoreError> {
        check_key(key)?;
        let observed_at = truncate_to_millis(observed_at);
        self.change(tenant, key, move |mark| {
            if let Some(current) = mark.observed_at
                && current >= observed_at
            {
                return (false, AdvanceOutcome::NotNewer { current });
            }
            mark.observed_at = Some(observed_at);
            (true, AdvanceOutcome::Advanced)
        })
        .await
    }

    async fn record_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent: &StockIntent,
    ) -> Result<IntentOutcome, StoreError> {
        check_key(key)?;
        check_intent(intent)?;
        let mut intent = intent.clone();
        intent.observed_at = truncate_to_millis(intent.observed_at);
        intent.recorded_at = truncate_to_millis(intent.recorded_at);
        self.change(tenant, key, move |mark| {
            if let Some(pending) = &mark.pending {
                let pending = pending.clone();
                return (false, IntentOutcome::Busy { pending });
            }
            if let Some(current) = mark.observed_at
                && current >= intent.observed_at
            {
                return (false, IntentOutcome::NotNewer { current });
            }
            mark.pending = Some(intent);
            (true, IntentOutcome::Recorded)
        })
        .await
    }

    async fn commit_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent_id: &str,
    ) -> Result<CommitOutcome, StoreError> {
        check_key(key)?;
        let intent_id = intent_id.to_owned();
        let absent = CommitOutcome::IntentMismatch { pending: None };
        self.change_existing(tenant, key, absent, move |mark| {
            let Some(intent) = mark.pending.take_if(|p| p.intent_id == intent_id) else {
                let pending = mark.pending.clone();
                return (false, CommitOutcome::IntentMismatch { pending });
            };
            let outcome = match mark.observed_at {
                Some(current) if current >= intent.observed_at => {
                    CommitOutcome::NotNewer { current }
                }
                _ => {
                    mark.observed_at = Some(intent.observed_at);
                    CommitOutcome::Committed
                }
            };
            (true, outcome)
        })
        .await
    }

    async fn clear_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent_id: &str,
    ) -> Result<ClearOutcome, StoreError> {
        check_key(key)?;
        let intent_id = intent_id.to_owned();
        let absent = ClearOutcome::IntentMismatch { pending: None };
        self.change_existing(tenant, key, absent, move |mark| {
            if mark.pending.take_if(|p| p.intent_id == intent_id).is_none() {
                let pending = mark.pending.clone();
                return (false, ClearOutcome::IntentMismatch { pending });
            }
            (true, ClearOutcome::Cleared)
        })
        .await
    }

    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<StockMark>, StoreError> {
        let tenant = tenant.clone();
        self.db
            .read(move |connection| {
                let mut statement = connection
                    .prepare_cached(
                        "SELECT value FROM stock_marks WHERE tenant = ?1 AND pending = 1 \
                         ORDER BY key",
                    )
                    .map_err(sql("select"))?;
                let rows = statement
                    .query_map([tenant.as_str()], |row| row.get::<_, String>(0))
                    .map_err(sql("select"))?;
                let mut marks = Vec::new();
                for text in rows {
                    let stored: StoredMark = from_json(WHAT, &text.map_err(sql("select"))?)?;
                    marks.push(stored.mark);
                }
                Ok(marks)
            })
            .await
    }
}
