//! Embedded order ledger.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::truncate_to_millis;
use connector::ports::order_ledger::{LedgerPutOutcome, check_order_id};
use connector::ports::store_keys::composite_key;
use connector::ports::{OrderLedger, StoreError};
use domain::order_ledger::OrderLedgerEntry;
use domain::tenant::TenantId;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    /// Keyed by `{tenant}#{order id}`.
    entries: BTreeMap<String, OrderLedgerEntry>,
}

pub struct EmbeddedOrderLedger {
    file: JsonFile<LedgerFile>,
}

impl EmbeddedOrderLedger {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("order_ledger.json")).await?,
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
        Ok(self.file.read(|file| file.entries.get(&key).cloned()).await)
    }

    async fn get_many(
        &self,
        tenant: &TenantId,
        order_ids: &[String],
    ) -> Result<HashMap<String, OrderLedgerEntry>, StoreError> {
        for order_id in order_ids {
            check_order_id(order_id)?;
        }
        Ok(self
            .file
            .read(|file| {
                order_ids
                    .iter()
                    .filter_map(|id| {
                        file.entries
                            .get(&entry_key(tenant, id))
                            .map(|entry| (id.clone(), entry.clone()))
                    })
                    .collect()
            })
            .await)
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
        self.file
            .update(|file| {
                let stored_version = file.entries.get(&key).map_or(0, |e| e.version);
                if stored_version != expected_version {
                    return Ok(Mutation::Unchanged(LedgerPutOutcome::Stale {
                        current: file.entries.get(&key).cloned(),
                    }));
                }
                let entry = OrderLedgerEntry {
                    order_id: order_id.to_owned(),
                    data,
                    version: expected_version + 1,
                    updated_at: truncate_to_millis(now),
                };
                file.entries.insert(key, entry.clone());
                Ok(Mutation::Changed(LedgerPutOutcome::Stored(entry)))
            })
            .await
    }
}
