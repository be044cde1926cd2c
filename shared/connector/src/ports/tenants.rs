//! Tenant configurations.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Page, PageRequest, StoreError};
use domain::tenant::{TenantConfig, TenantId};

// Returned once per call and matched at once: boxing the config would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum CreateOutcome {
    /// Stored with `version` 1 and both timestamps set to `now`.
    Created(TenantConfig),
    AlreadyExists,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UpdateOutcome {
    /// Stored with `version` + 1 and `updated_at = now`.
    Updated(TenantConfig),
    /// The stored version differs from the one the caller read: re-read and retry.
    Stale {
        current: TenantConfig,
    },
    NotFound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Stores a new tenant; its `version`, `created_at` and `updated_at` are set by the store.
    async fn create(
        &self,
        config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<CreateOutcome, StoreError>;

    /// Replaces a tenant's configuration if `config.version` is still the stored version.
    /// `created_at` is kept from the stored record.
    async fn update(
        &self,
        config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<UpdateOutcome, StoreError>;

    async fn get(&self, id: &TenantId) -> Result<Option<TenantConfig>, StoreError>;

    /// Unpaused tenants ordered by id, one page at a time. On AWS this reads an index that is
    /// eventually consistent: a tenant created a moment ago may show up a moment later.
    async fn list_active(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError>;

    /// Every tenant, paused or not, one page at a time, in no promised order (callers that
    /// show them sort). For operators (`tenant list --all`): on AWS this is a scan of the
    /// state table, which no function's role is granted.
    async fn list_all(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError>;

    /// Removes the configuration (not the tenant's other state).
    async fn delete(&self, id: &TenantId) -> Result<DeleteOutcome, StoreError>;
}
