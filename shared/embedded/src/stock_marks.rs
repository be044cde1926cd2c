//! Embedded stock marks and intents.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::truncate_to_millis;
use connector::ports::stock_marks::{
    AdvanceOutcome, ClearOutcome, CommitOutcome, IntentOutcome, check_intent, check_key,
};
use connector::ports::store_keys::composite_key;
use connector::ports::{StockMarkStore, StoreError};
use domain::stock_mark::{StockIntent, StockKey, StockMark};
use domain::tenant::TenantId;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredMark {
    tenant: TenantId,
    mark: StockMark,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct MarksFile {
    /// Keyed by `{tenant}#{location}#{sku}`.
    marks: BTreeMap<String, StoredMark>,
}

pub struct EmbeddedStockMarkStore {
    file: JsonFile<MarksFile>,
}

impl EmbeddedStockMarkStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("stock_marks.json")).await?,
        })
    }
}

fn mark_key(tenant: &TenantId, key: &StockKey) -> String {
    composite_key(&[tenant.as_str(), &key.location, &key.sku])
}

fn entry<'a>(file: &'a mut MarksFile, tenant: &TenantId, key: &StockKey) -> &'a mut StockMark {
    &mut file
        .marks
        .entry(mark_key(tenant, key))
        .or_insert_with(|| StoredMark {
            tenant: tenant.clone(),
            mark: StockMark {
                key: key.clone(),
                observed_at: None,
                pending: None,
            },
        })
        .mark
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
        Ok(self
            .file
            .read(|file| file.marks.get(&id).map(|m| m.mark.clone()))
            .await)
    }

    async fn advance(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        observed_at: DateTime<Utc>,
    ) -> Result<AdvanceOutcome, StoreError> {
        check_key(key)?;
        let observed_at = truncate_to_millis(observed_at);
        self.file
            .update(|file| {
                let mark = entry(file, tenant, key);
                if let Some(current) = mark.observed_at
                    && current >= observed_at
                {
                    return Ok(Mutation::Unchanged(AdvanceOutcome::NotNewer { current }));
                }
                mark.observed_at = Some(observed_at);
                Ok(Mutation::Changed(AdvanceOutcome::Advanced))
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
        self.file
            .update(|file| {
                let mark = entry(file, tenant, key);
                if let Some(pending) = &mark.pending {
                    return Ok(Mutation::Unchanged(IntentOutcome::Busy {
                        pending: pending.clone(),
                    }));
                }
                if let Some(current) = mark.observed_at
                    && current >= intent.observed_at
                {
                    return Ok(Mutation::Unchanged(IntentOutcome::NotNewer { current }));
                }
                mark.pending = Some(intent);
                Ok(Mutation::Changed(IntentOutcome::Recorded))
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
        let id = mark_key(tenant, key);
        self.file
            .update(|file| {
                let Some(stored) = file.marks.get_mut(&id) else {
                    return Ok(Mutation::Unchanged(CommitOutcome::IntentMismatch {
                        pending: None,
                    }));
                };
                let mark = &mut stored.mark;
                let Some(intent) = mark.pending.take_if(|p| p.intent_id == intent_id) else {
                    return Ok(Mutation::Unchanged(CommitOutcome::IntentMismatch {
                        pending: mark.pending.clone(),
                    }));
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
                Ok(Mutation::Changed(outcome))
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
        let id = mark_key(tenant, key);
        self.file
            .update(|file| {
                let Some(stored) = file.marks.get_mut(&id) else {
                    return Ok(Mutation::Unchanged(ClearOutcome::IntentMismatch {
                        pending: None,
                    }));
                };
                let mark = &mut stored.mark;
                if mark.pending.take_if(|p| p.intent_id == intent_id).is_none() {
                    return Ok(Mutation::Unchanged(ClearOutcome::IntentMismatch {
                        pending: mark.pending.clone(),
                    }));
                }
                Ok(Mutation::Changed(ClearOutcome::Cleared))
            })
            .await
    }

    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<StockMark>, StoreError> {
        Ok(self
            .file
            .read(|file| {
                file.marks
                    .values()
                    .filter(|m| &m.tenant == tenant && m.mark.pending.is_some())
                    .map(|m| m.mark.clone())
                    .collect()
            })
            .await)
    }
}
