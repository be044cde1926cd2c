//! The activity log port.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, PageRequest, StoreError};
use domain::activity::{ActivityEntry, EntityKind};
use domain::tenant::TenantId;

/// How long entries are kept. Reads filter on it in code, because DynamoDB TTL deletes late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention(pub Duration);

impl Retention {
    pub const DEFAULT_DAYS: u64 = 30;

    pub fn days(days: u64) -> Self {
        Self(Duration::from_secs(days * 24 * 3600))
    }

    /// When an entry made at `at` expires.
    pub fn expiry_of(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        chrono::TimeDelta::from_std(self.0)
            .ok()
            .and_then(|d| at.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self::days(Self::DEFAULT_DAYS)
    }
}

/// A half-open time window `[from, to)`; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// A window that cannot hold anything (`to` at or before `from`).
    pub fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(from), Some(to)) if to <= from)
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| at >= from) && self.to.is_none_or(|to| at < to)
    }
}

#[async_trait]
pub trait ActivityLog: Send + Sync {
    /// Appends entries (any tenants); the store sets their expiry from its retention.
    async fn append(&self, entries: &[ActivityEntry]) -> Result<(), StoreError>;

    /// A tenant's entries in `range`, newest first, unexpired at `now`.
    async fn by_tenant(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError>;

    /// A tenant's entries about one entity (e.g. an order id or a SKU), newest first.
    async fn by_entity(
        &self,
        tenant: &TenantId,
        kind: EntityKind,
        entity_id: &str,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError>;
}

/// Longest error message kept per entry; longer ones are cut, never refused, so a failure
/// is always logged.
pub const MAX_ERROR_LEN: usize = 4000;

/// Validates an entry and brings it to stored form (millisecond time, clipped error).
pub fn prepare_entry(entry: &ActivityEntry) -> Result<ActivityEntry, StoreError> {
    if entry.entry_id.is_empty() {
        return Err(StoreError::invalid("activity entry id", "is empty"));
    }
    if entry.entity.id.is_empty() {
        return Err(StoreError::invalid("activity entity id", "is empty"));
    }
    let mut stored = entry.clone();
    stored.at = super::clock::truncate_to_millis(entry.at);
    if let Some(error) = &entry.error
        && let Some((cut, _)) = error.char_indices().nth(MAX_ERROR_LEN)
    {
        stored.error = Some(format!("{}…", &error[..cut]));
    }
    Ok(stored)
}
