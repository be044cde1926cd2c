//! Embedded order ledger: table `order_ledger`, one row per `{tenant}#{order id}`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::db::{Database, KvTable};
use connector::ports::clock::truncate_to_millis;
use connector::ports::order_ledger::{LedgerPutOutcome, check_order_id};
use connector::ports::store_keys::composite_key;
use connector::ports::{OrderLedger, StoreError};
use domain::order_ledger::OrderLedgerEntry;
use domain::tenant::TenantId;

pub(crate) const TABLE: KvTable = KvTable {
    name: "order_ledger",
    what: "order ledger entry",
};

/// The JSON-file format this store had before SQLite (`order_ledger.json`), for the
/// migration: keyed by `{tenant}#{order id}` as the rows are.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    entries: std::collections::BTreeMap<String, OrderLedgerEntry>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        for (key, entry) in &self.entries {
            TABLE.put(tx, key, entry)?;
        }
        Ok(self.entries.len())
    }
}

pub struct EmbeddedOrderLedger {
    db: Arc<Database>,
}

impl EmbeddedOrderLedger {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
        })
    }
}

fn entry_key(tenant: &TenantId, order_id: &str) -> String {
    composite_key(&[tenant.as_str(), order_id])
}

#[async_trait]
impl OrderLedger for EmbeddedOrderLedger {
    async fn get(
        &self,
        tenant: &TenantId,
        order_id: &str,
    ) -> Result<Option<OrderLedgerEntry>, StoreError> {
        check_order_id(order_id)?;
        let key = entry_key(tenant, order_id);
        self.db
            .read(move |connection| TABLE.get(connection, &key))
            .await
    }

    async fn get_many(
        &self,
        tenant: &TenantId,
        order_ids: &[String],
    ) -> Result<HashMap<String, OrderLedgerEntry>, StoreError> {
        for order_id in order_ids {
            check_order_id(order_id)?;
        }
        let keys: Vec<(String, String)> = order_ids
            .iter()
            .map(|id| (id.clone(), entry_key(tenant, id)))
            .collect();
        self.db
            .read(move |connection| {
                let mut found = HashMap::new();
                for (id, key) in keys {
                    if let Some(entry) = TABLE.get(connection, &key)? {
                        found.insert(id, entry);
                    }
                }
                Ok(found)
            })
            .await
    }

    async fn put(
        &self,
        tenant: &TenantId,
        order_id: &str,
        data: serde_json::Value,
        expected_version: u64,
        now: DateTime<Utc>,
    ) -> Result<LedgerPutOutcome, StoreError> {
        check_order_id(order_id)?;
        let key = entry_key(tenant, order_id);
        let order_id = order_id.to_owned();
        self.db
            .write(move |tx| {
                let current: Option<OrderLedgerEntry> = TABLE.get(tx, &key)?;
                if current.as_ref().map_or(0, |e| e.version) != expected_version {
                    return Ok(LedgerPutOutcome::Stale { current });
                }
                let entry = OrderLedgerEntry {
                    order_id,
                    data,
                    version: expected_version + 1,
                    updated_at: truncate_to_millis(now),
                };
                TABLE.put(tx, &key, &entry)?;
                Ok(LedgerPutOutcome::Stored(entry))
            })
            .await
    }
}
