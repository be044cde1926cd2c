//! Per (tenant, SKU) stock records ([`SkuStock`]): the latest level per Afosto location,
//! the orders emitted to Afosto that its levels may not include yet, and the one pending
//! relative adjustment of the shop's stock. Every write is conditional or idempotent, so
//! redeliveries, crashes and a stray concurrent attempt cannot move a level back, count an
//! order twice or lose an in-flight adjustment.

use async_trait::async_trait;

use super::StoreError;
use domain::stock_mark::{EmittedOrder, LocationLevel, SkuStock, StockIntent};
use domain::tenant::TenantId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LevelOutcome {
    /// The level is the location's latest now: it was newer than the stored one, or the
    /// stored one is this command's own (same command id and `observed_at`: a
    /// redelivery). Carries the SKU's record after the write.
    Recorded(SkuStock),
    /// The location's stored level, from another command, was observed at or after this
    /// one: nothing changed.
    NotNewer { current: LocationLevel },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentOutcome {
    Recorded,
    /// Another adjustment is in flight for this SKU; reconcile it first.
    Busy {
        pending: StockIntent,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClearOutcome {
    Cleared,
    /// The pending intent is not this one (cleared already, or replaced).
    IntentMismatch {
        pending: Option<StockIntent>,
    },
}

/// One `order.created` the poll emitted, with the pieces of one SKU on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmittedOrderLine {
    pub sku: String,
    pub order_id: String,
    pub order: EmittedOrder,
}

#[async_trait]
pub trait StockMarkStore: Send + Sync {
    async fn get(&self, tenant: &TenantId, sku: &str) -> Result<Option<SkuStock>, StoreError>;

    /// Stores `level` as `location`'s latest level of `sku` if it was observed after the
    /// stored one (or there is none), or the stored one is this command's own.
    async fn record_level(
        &self,
        tenant: &TenantId,
        sku: &str,
        location: &str,
        level: &LocationLevel,
    ) -> Result<LevelOutcome, StoreError>;

    /// Remembers emitted orders per SKU, keyed by order id: the first emission of an
    /// order stays (a re-sent event changes nothing). Only SKUs that already have a record
    /// (their stock is synced) are tracked, so the store does not grow with SKUs whose
    /// stock the connector never sets. Returns how many lines were newly stored.
    async fn record_orders(
        &self,
        tenant: &TenantId,
        lines: &[EmittedOrderLine],
    ) -> Result<usize, StoreError>;

    /// Forgets orders of `sku` that Afosto's levels include by now (unconditional: an
    /// order once known stays known).
    async fn forget_orders(
        &self,
        tenant: &TenantId,
        sku: &str,
        order_ids: &[String],
    ) -> Result<(), StoreError>;

    /// Records an adjustment of the shop's stock of `sku` before it is posted: refused
    /// while another one is pending.
    async fn record_intent(
        &self,
        tenant: &TenantId,
        sku: &str,
        intent: &StockIntent,
    ) -> Result<IntentOutcome, StoreError>;

    /// After ePages answered the adjustment (accepted, refused, or reconciled from a fresh
    /// read): clears the intent if it is still this one.
    async fn clear_intent(
        &self,
        tenant: &TenantId,
        sku: &str,
        intent_id: &str,
    ) -> Result<ClearOutcome, StoreError>;

    /// Every SKU of the tenant with a pending intent, for crash reconciliation.
    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<SkuStock>, StoreError>;
}

/// The longest SKU or location the stores take (Beyond allows 255-character SKUs;
/// locations are bounded by the command contract).
const MAX_KEY_BYTES: usize = 900;

pub fn check_sku(sku: &str) -> Result<(), StoreError> {
    if sku.is_empty() {
        return Err(StoreError::invalid("sku", "is empty"));
    }
    if sku.len() > MAX_KEY_BYTES {
        return Err(StoreError::invalid("sku", "exceeds 900 bytes"));
    }
    Ok(())
}

pub fn check_level(location: &str, level: &LocationLevel) -> Result<(), StoreError> {
    if location.is_empty() {
        return Err(StoreError::invalid("stock location", "is empty"));
    }
    if location.len() > MAX_KEY_BYTES {
        return Err(StoreError::invalid("stock location", "exceeds 900 bytes"));
    }
    if level.command_id.is_empty() {
        return Err(StoreError::invalid("level command id", "is empty"));
    }
    Ok(())
}

pub fn check_order_line(line: &EmittedOrderLine) -> Result<(), StoreError> {
    check_sku(&line.sku)?;
    if line.order_id.is_empty() || line.order_id.len() > MAX_KEY_BYTES {
        return Err(StoreError::invalid(
            "order id",
            "is empty or exceeds 900 bytes",
        ));
    }
    Ok(())
}

pub fn check_intent(intent: &StockIntent) -> Result<(), StoreError> {
    if intent.intent_id.is_empty() {
        return Err(StoreError::invalid("intent id", "is empty"));
    }
    if intent.command_id.is_empty() {
        return Err(StoreError::invalid("intent command id", "is empty"));
    }
    Ok(())
}
