//! Embedded activity log. Expired entries are dropped on append and never returned.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::activity::{Retention, TimeRange, prepare_entry};
use connector::ports::paging::check_page;
use connector::ports::store_keys::{decode_page_token, encode_page_token};
use connector::ports::{ActivityLog, Clock, Page, PageRequest, StoreError};
use domain::activity::{ActivityEntry, EntityKind};
use domain::tenant::TenantId;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredEntry {
    entry: ActivityEntry,
    expires_at: DateTime<Utc>,
}

/// Sort position of an entry: time, then id.
type Position = (i64, String);

fn position(entry: &ActivityEntry) -> Position {
    (entry.at.timestamp_millis(), entry.entry_id.clone())
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct ActivityFile {
    /// Per tenant, sorted by position (oldest first).
    tenants: BTreeMap<TenantId, Vec<StoredEntry>>,
}

pub struct EmbeddedActivityLog {
    file: JsonFile<ActivityFile>,
    retention: Retention,
    clock: Arc<dyn Clock>,
}

impl EmbeddedActivityLog {
    pub async fn open(
        dir: &Path,
        retention: Retention,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("activity.json")).await?,
            retention,
            clock,
        })
    }

    async fn query(
        &self,
        tenant: &TenantId,
        page: PageRequest,
        now: DateTime<Utc>,
        keep: impl Fn(&ActivityEntry) -> bool,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        let limit = check_page(&page)?;
        let before: Option<Position> = page.token.as_ref().map(decode_page_token).transpose()?;
        let (items, more) = self
            .file
            .read(|file| {
                let Some(entries) = file.tenants.get(tenant) else {
                    return (Vec::new(), false);
                };
                let mut matching = entries
                    .iter()
                    .rev()
                    .filter(|s| before.as_ref().is_none_or(|b| position(&s.entry) < *b))
                    .filter(|s| s.expires_at > now && keep(&s.entry))
                    .map(|s| &s.entry);
                let items: Vec<ActivityEntry> = matching.by_ref().take(limit).cloned().collect();
                (items, matching.next().is_some())
            })
            .await;
        let next = match (more, items.last()) {
            (true, Some(last)) => Some(encode_page_token(&position(last))?),
            _ => None,
        };
        Ok(Page { items, next })
    }
}

#[async_trait]
impl ActivityLog for EmbeddedActivityLog {
    async fn append(&self, entries: &[ActivityEntry]) -> Result<(), StoreError> {
        let prepared = entries
            .iter()
            .map(prepare_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.clock.now();
        self.file
            .update(|file| {
                for entry in prepared {
                    let expires_at = self.retention.expiry_of(entry.at);
                    let list = file.tenants.entry(entry.tenant.clone()).or_default();
                    let at = position(&entry);
                    let index = list.partition_point(|s| position(&s.entry) < at);
                    if list.get(index).is_some_and(|s| position(&s.entry) == at) {
                        // The same entry appended twice (a retried batch) is stored once.
                        continue;
                    }
                    list.insert(index, StoredEntry { entry, expires_at });
                }
                for list in file.tenants.values_mut() {
                    list.retain(|s| s.expires_at > now);
                }
                file.tenants.retain(|_, list| !list.is_empty());
                Ok(Mutation::Changed(()))
            })
            .await
    }

    async fn by_tenant(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        self.query(tenant, page, now, |entry| range.contains(entry.at))
            .await
    }

    async fn by_entity(
        &self,
        tenant: &TenantId,
        kind: EntityKind,
        entity_id: &str,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        self.query(tenant, page, now, |entry| {
            entry.entity.kind == kind && entry.entity.id == entity_id
        })
        .await
    }
}
