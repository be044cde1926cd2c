//! Stock ordering marks (last applied `observedAt`) and pending adjustment intents.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use domain::stock_mark::{StockIntent, StockKey, StockMark};
use domain::tenant::TenantId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdvanceOutcome {
    Advanced,
    /// The stored mark is at or after the given `observed_at`: the level is outdated.
    NotNewer {
        current: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentOutcome {
    Recorded,
    /// Another adjustment is in flight for this key; reconcile or wait.
    Busy {
        pending: StockIntent,
    },
    /// The mark is already at or after the intent's `observed_at`.
    NotNewer {
        current: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The intent is gone and the mark moved to the intent's `observed_at`.
    Committed,
    /// The intent is gone; the mark was already newer and stays.
    NotNewer { current: DateTime<Utc> },
    /// The pending intent is not this one (cleared, or replaced).
    IntentMismatch { pending: Option<StockIntent> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClearOutcome {
    Cleared,
    IntentMismatch { pending: Option<StockIntent> },
}

#[async_trait]
pub trait StockMarkStore: Send + Sync {
    async fn get(&self, tenant: &TenantId, key: &StockKey)
    -> Result<Option<StockMark>, StoreError>;

    /// Moves the mark to `observed_at` only if it is newer than the stored mark.
    async fn advance(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        observed_at: DateTime<Utc>,
    ) -> Result<AdvanceOutcome, StoreError>;

    /// Records an adjustment before it is posted: refused while another one is pending or
    /// when the mark is already at or after `intent.observed_at`.
    async fn record_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent: &StockIntent,
    ) -> Result<IntentOutcome, StoreError>;

    /// After ePages accepted the adjustment: clears the intent and advances the mark to its
    /// `observed_at` in one step.
    async fn commit_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent_id: &str,
    ) -> Result<CommitOutcome, StoreError>;

    /// After ePages refused the adjustment: clears the intent, mark unchanged.
    async fn clear_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent_id: &str,
    ) -> Result<ClearOutcome, StoreError>;

    /// Every key of the tenant with a pending intent, for crash reconciliation.
    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<StockMark>, StoreError>;
}

pub fn check_key(key: &StockKey) -> Result<(), StoreError> {
    if key.sku.is_empty() {
        return Err(StoreError::invalid("sku", "is empty"));
    }
    if key.location.is_empty() {
        return Err(StoreError::invalid("stock location", "is empty"));
    }
    if key.sku.len() + key.location.len() > 900 {
        return Err(StoreError::invalid(
            "stock key",
            "sku and location together exceed 900 bytes",
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
