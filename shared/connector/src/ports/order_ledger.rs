//! The order ledger: what was emitted per (tenant, ePages order).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use domain::order_ledger::OrderLedgerEntry;
use domain::tenant::TenantId;

#[derive(Clone, Debug, PartialEq)]
pub enum LedgerPutOutcome {
    Stored(OrderLedgerEntry),
    /// The stored version is not the expected one; `current` is what is stored (`None` if
    /// nothing is).
    Stale {
        current: Option<OrderLedgerEntry>,
    },
}

#[async_trait]
pub trait OrderLedger: Send + Sync {
    async fn get(
        &self,
        tenant: &TenantId,
        order_id: &str,
    ) -> Result<Option<OrderLedgerEntry>, StoreError>;

    /// The entries of many orders at once (a page of polled orders); missing ones are absent
    /// from the map. Duplicated ids are read once.
    async fn get_many(
        &self,
        tenant: &TenantId,
        order_ids: &[String],
    ) -> Result<HashMap<String, OrderLedgerEntry>, StoreError>;

    /// Writes `data` if the stored version is `expected_version` (0 = absent).
    async fn put(
        &self,
        tenant: &TenantId,
        order_id: &str,
        data: serde_json::Value,
        expected_version: u64,
        now: DateTime<Utc>,
    ) -> Result<LedgerPutOutcome, StoreError>;
}

pub fn check_order_id(order_id: &str) -> Result<(), StoreError> {
    if order_id.is_empty() {
        return Err(StoreError::invalid("order id", "is empty"));
    }
    if order_id.len() > 512 {
        return Err(StoreError::invalid("order id", "is longer than 512 bytes"));
    }
    Ok(())
}
