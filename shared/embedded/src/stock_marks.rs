//! Embedded stock records: one [`SkuStock`] per (tenant, SKU), changed under the file's lock.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::truncate_to_millis;
use connector::ports::stock_marks::{
    ClearOutcome, EmittedOrderLine, IntentOutcome, LevelOutcome, check_intent, check_level,
    check_order_line, check_sku,
};
use connector::ports::store_keys::composite_key;
use connector::ports::{StockMarkStore, StoreError};
use domain::command_plan::{LevelDecision, judge_level};
use domain::stock_mark::{LocationLevel, SkuStock, StockIntent};
use domain::tenant::TenantId;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredStock {
    tenant: TenantId,
    stock: SkuStock,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct StockFile {
    /// Keyed by `{tenant}#{sku}`.
    skus: BTreeMap<String, StoredStock>,
}

pub struct EmbeddedStockMarkStore {
    file: JsonFile<StockFile>,
}

impl EmbeddedStockMarkStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            // Per SKU since stock is summed over locations; the per-location marks of
            // `stock_marks.json` carried no levels and are not read.
            file: JsonFile::open(dir.join("sku_stock.json")).await?,
        })
    }
}

fn record_key(tenant: &TenantId, sku: &str) -> String {
    composite_key(&[tenant.as_str(), sku])
}

fn entry<'a>(file: &'a mut StockFile, tenant: &TenantId, sku: &str) -> &'a mut SkuStock {
    &mut file
        .skus
        .entry(record_key(tenant, sku))
        .or_insert_with(|| StoredStock {
            tenant: tenant.clone(),
            stock: SkuStock::new(sku),
        })
        .stock
}

#[async_trait]
impl StockMarkStore for EmbeddedStockMarkStore {
    async fn get(&self, tenant: &TenantId, sku: &str) -> Result<Option<SkuStock>, StoreError> {
        check_sku(sku)?;
        let id = record_key(tenant, sku);
        Ok(self
            .file
            .read(|file| file.skus.get(&id).map(|s| s.stock.clone()))
            .await)
    }

    async fn record_level(
        &self,
        tenant: &TenantId,
        sku: &str,
        location: &str,
        level: &LocationLevel,
    ) -> Result<LevelOutcome, StoreError> {
        check_sku(sku)?;
        check_level(location, level)?;
        let mut level = level.clone();
        level.observed_at = truncate_to_millis(level.observed_at);
        self.file
            .update(|file| {
                let stock = entry(file, tenant, sku);
                let stored = stock.levels.get(location);
                match judge_level(stored, &level.command_id, level.observed_at) {
                    LevelDecision::Stale { .. } => {
                        Ok(Mutation::Unchanged(LevelOutcome::NotNewer {
                            current: stored.cloned().unwrap_or(level),
                        }))
                    }
                    LevelDecision::Redelivered => {
                        Ok(Mutation::Unchanged(LevelOutcome::Recorded(stock.clone())))
                    }
                    LevelDecision::Record => {
                        stock.levels.insert(location.to_owned(), level);
                        Ok(Mutation::Changed(LevelOutcome::Recorded(stock.clone())))
                    }
                }
            })
            .await
    }

    async fn record_orders(
        &self,
        tenant: &TenantId,
        lines: &[EmittedOrderLine],
    ) -> Result<usize, StoreError> {
        for line in lines {
            check_order_line(line)?;
        }
        if lines.is_empty() {
            return Ok(0);
        }
        self.file
            .update(|file| {
                let mut stored = 0;
                for line in lines {
                    let Some(record) = file.skus.get_mut(&record_key(tenant, &line.sku)) else {
                        continue;
                    };
                    if !record.stock.orders.contains_key(&line.order_id) {
                        let mut order = line.order.clone();
                        order.emitted_at = truncate_to_millis(order.emitted_at);
                        record.stock.orders.insert(line.order_id.clone(), order);
                        stored += 1;
                    }
                }
                Ok(if stored == 0 {
                    Mutation::Unchanged(0)
                } else {
                    Mutation::Changed(stored)
                })
            })
            .await
    }

    async fn forget_orders(
        &self,
        tenant: &TenantId,
        sku: &str,
        order_ids: &[String],
    ) -> Result<(), StoreError> {
        check_sku(sku)?;
        let id = record_key(tenant, sku);
        self.file
            .update(|file| {
                let Some(record) = file.skus.get_mut(&id) else {
                    return Ok(Mutation::Unchanged(()));
                };
                let before = record.stock.orders.len();
                record
                    .stock
                    .orders
                    .retain(|order_id, _| !order_ids.contains(order_id));
                Ok(if record.stock.orders.len() == before {
                    Mutation::Unchanged(())
                } else {
                    Mutation::Changed(())
                })
            })
            .await
    }

    async fn record_intent(
        &self,
        tenant: &TenantId,
        sku: &str,
        intent: &StockIntent,
    ) -> Result<IntentOutcome, StoreError> {
        check_sku(sku)?;
        check_intent(intent)?;
        let mut intent = intent.clone();
        intent.recorded_at = truncate_to_millis(intent.recorded_at);
        self.file
            .update(|file| {
                let stock = entry(file, tenant, sku);
                if let Some(pending) = &stock.pending {
                    return Ok(Mutation::Unchanged(IntentOutcome::Busy {
                        pending: pending.clone(),
                    }));
                }
                stock.pending = Some(intent);
                Ok(Mutation::Changed(IntentOutcome::Recorded))
            })
            .await
    }

    async fn clear_intent(
        &self,
        tenant: &TenantId,
        sku: &str,
        intent_id: &str,
    ) -> Result<ClearOutcome, StoreError> {
        check_sku(sku)?;
        let id = record_key(tenant, sku);
        self.file
            .update(|file| {
                let Some(stored) = file.skus.get_mut(&id) else {
                    return Ok(Mutation::Unchanged(ClearOutcome::IntentMismatch {
                        pending: None,
                    }));
                };
                let stock = &mut stored.stock;
                if stock
                    .pending
                    .take_if(|p| p.intent_id == intent_id)
                    .is_none()
                {
                    return Ok(Mutation::Unchanged(ClearOutcome::IntentMismatch {
                        pending: stock.pending.clone(),
                    }));
                }
                Ok(Mutation::Changed(ClearOutcome::Cleared))
            })
            .await
    }

    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<SkuStock>, StoreError> {
        Ok(self
            .file
            .read(|file| {
                file.skus
                    .values()
                    .filter(|s| &s.tenant == tenant && s.stock.pending.is_some())
                    .map(|s| s.stock.clone())
                    .collect()
            })
            .await)
    }
}
