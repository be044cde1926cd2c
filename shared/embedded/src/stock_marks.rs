//! Embedded stock records: table `sku_stock`, one row per `{tenant}#{sku}` holding the
//! [`SkuStock`] (the level per Afosto location, the orders Afosto may not know yet, the
//! pending adjustment), with the tenant and whether an adjustment is pending as columns so
//! `pending_intents` reads an index, not the table. Every change is one transaction.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::db::{Database, from_json, sql, to_json};
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

const WHAT: &str = "stock record";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredStock {
    tenant: TenantId,
    stock: SkuStock,
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

    /// Reads the SKU's record (a fresh one when absent), lets `change` decide, and writes
    /// it back when `change` says it changed; one transaction.
    async fn change<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        sku: &str,
        change: impl FnOnce(&mut SkuStock) -> (bool, R) + Send + 'static,
    ) -> Result<R, StoreError> {
        let id = record_key(tenant, sku);
        let fresh = StoredStock {
            tenant: tenant.clone(),
            stock: SkuStock::new(sku),
        };
        self.db
            .write(move |tx| {
                let mut stored = get(tx, &id)?.unwrap_or(fresh);
                let (changed, result) = change(&mut stored.stock);
                if changed {
                    put(tx, &id, &stored)?;
                }
                Ok(result)
            })
            .await
    }

    /// Like [`Self::change`] for writes that need a stored record (never creating one).
    async fn change_existing<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        sku: &str,
        absent: R,
        change: impl FnOnce(&mut SkuStock) -> (bool, R) + Send + 'static,
    ) -> Result<R, StoreError> {
        let id = record_key(tenant, sku);
        self.db
            .write(move |tx| {
                let Some(mut stored) = get(tx, &id)? else {
                    return Ok(absent);
                };
                let (changed, result) = change(&mut stored.stock);
                if changed {
                    put(tx, &id, &stored)?;
                }
                Ok(result)
            })
            .await
    }
}

fn record_key(tenant: &TenantId, sku: &str) -> String {
    composite_key(&[tenant.as_str(), sku])
}

fn get(connection: &Connection, id: &str) -> Result<Option<StoredStock>, StoreError> {
    use rusqlite::OptionalExtension;
    let text: Option<String> = connection
        .prepare_cached("SELECT value FROM sku_stock WHERE key = ?1")
        .and_then(|mut s| s.query_row([id], |row| row.get(0)).optional())
        .map_err(sql("select"))?;
    text.map(|text| from_json(WHAT, &text)).transpose()
}

fn put(connection: &Connection, id: &str, stored: &StoredStock) -> Result<(), StoreError> {
    let text = to_json(WHAT, stored)?;
    connection
        .prepare_cached(
            "INSERT INTO sku_stock (key, tenant, pending, value) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (key) DO UPDATE SET tenant = excluded.tenant, \
             pending = excluded.pending, value = excluded.value",
        )
        .and_then(|mut s| {
            s.execute((
                id,
                stored.tenant.as_str(),
                stored.stock.pending.is_some(),
                text,
            ))
        })
        .map_err(sql("upsert"))?;
    Ok(())
}

#[async_trait]
impl StockMarkStore for EmbeddedStockMarkStore {
    async fn get(&self, tenant: &TenantId, sku: &str) -> Result<Option<SkuStock>, StoreError> {
        check_sku(sku)?;
        let id = record_key(tenant, sku);
        let stored = self.db.read(move |connection| get(connection, &id)).await?;
        Ok(stored.map(|stored| stored.stock))
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
        let location = location.to_owned();
        self.change(tenant, sku, move |stock| {
            let stored = stock.levels.get(&location);
            match judge_level(stored, &level.command_id, level.observed_at) {
                LevelDecision::Stale { .. } => (
                    false,
                    LevelOutcome::NotNewer {
                        current: stored.cloned().unwrap_or(level),
                    },
                ),
                LevelDecision::Redelivered => (false, LevelOutcome::Recorded(stock.clone())),
                LevelDecision::Record => {
                    stock.levels.insert(location, level);
                    (true, LevelOutcome::Recorded(stock.clone()))
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
        let tenant = tenant.clone();
        let lines = lines.to_vec();
        self.db
            .write(move |tx| {
                let mut stored_lines = 0;
                for line in &lines {
                    // Only SKUs with a record: stock Afosto never synced has no target.
                    let id = record_key(&tenant, &line.sku);
                    let Some(mut record) = get(tx, &id)? else {
                        continue;
                    };
                    if !record.stock.orders.contains_key(&line.order_id) {
                        let mut order = line.order.clone();
                        order.emitted_at = truncate_to_millis(order.emitted_at);
                        record.stock.orders.insert(line.order_id.clone(), order);
                        put(tx, &id, &record)?;
                        stored_lines += 1;
                    }
                }
                Ok(stored_lines)
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
        let order_ids = order_ids.to_vec();
        self.change_existing(tenant, sku, (), move |stock| {
            let before = stock.orders.len();
            stock
                .orders
                .retain(|order_id, _| !order_ids.contains(order_id));
            (stock.orders.len() != before, ())
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
        self.change(tenant, sku, move |stock| {
            if let Some(pending) = &stock.pending {
                let pending = pending.clone();
                return (false, IntentOutcome::Busy { pending });
            }
            stock.pending = Some(intent);
            (true, IntentOutcome::Recorded)
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
        let intent_id = intent_id.to_owned();
        let absent = ClearOutcome::IntentMismatch { pending: None };
        self.change_existing(tenant, sku, absent, move |stock| {
            if stock
                .pending
                .take_if(|p| p.intent_id == intent_id)
                .is_none()
            {
                let pending = stock.pending.clone();
                return (false, ClearOutcome::IntentMismatch { pending });
            }
            (true, ClearOutcome::Cleared)
        })
        .await
    }

    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<SkuStock>, StoreError> {
        let tenant = tenant.clone();
        self.db
            .read(move |connection| {
                let mut statement = connection
                    .prepare_cached(
                        "SELECT value FROM sku_stock WHERE tenant = ?1 AND pending = 1 \
                         ORDER BY key",
                    )
                    .map_err(sql("select"))?;
                let rows = statement
                    .query_map([tenant.as_str()], |row| row.get::<_, String>(0))
                    .map_err(sql("select"))?;
                let mut records = Vec::new();
                for text in rows {
                    let stored: StoredStock = from_json(WHAT, &text.map_err(sql("select"))?)?;
                    records.push(stored.stock);
                }
                Ok(records)
            })
            .await
    }
}
