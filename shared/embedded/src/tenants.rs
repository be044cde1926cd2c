//! Embedded tenant store.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::truncate_to_millis;
use connector::ports::paging::check_page;
use connector::ports::store_keys::{decode_page_token, encode_page_token};
use connector::ports::tenants::{CreateOutcome, DeleteOutcome, UpdateOutcome};
use connector::ports::{Page, PageRequest, StoreError, TenantStore};
use domain::tenant::{TenantConfig, TenantId};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct TenantsFile {
    tenants: BTreeMap<TenantId, TenantConfig>,
}

pub struct EmbeddedTenantStore {
    file: JsonFile<TenantsFile>,
}

impl EmbeddedTenantStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("tenants.json")).await?,
        })
    }
}

#[async_trait]
impl TenantStore for EmbeddedTenantStore {
    async fn create(
        &self,
        mut config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<CreateOutcome, StoreError> {
        let now = truncate_to_millis(now);
        self.file
            .update(|file| {
                if file.tenants.contains_key(&config.id) {
                    return Ok(Mutation::Unchanged(CreateOutcome::AlreadyExists));
                }
                config.version = 1;
                config.created_at = now;
                config.updated_at = now;
                file.tenants.insert(config.id.clone(), config.clone());
                Ok(Mutation::Changed(CreateOutcome::Created(config)))
            })
            .await
    }

    async fn update(
        &self,
        mut config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<UpdateOutcome, StoreError> {
        let now = truncate_to_millis(now);
        self.file
            .update(|file| {
                let Some(current) = file.tenants.get_mut(&config.id) else {
                    return Ok(Mutation::Unchanged(UpdateOutcome::NotFound));
                };
                if current.version != config.version {
                    return Ok(Mutation::Unchanged(UpdateOutcome::Stale {
                        current: current.clone(),
                    }));
                }
                config.version += 1;
                config.created_at = current.created_at;
                config.updated_at = now;
                *current = config.clone();
                Ok(Mutation::Changed(UpdateOutcome::Updated(config)))
            })
            .await
    }

    async fn get(&self, id: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        Ok(self.file.read(|file| file.tenants.get(id).cloned()).await)
    }

    async fn list_active(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        self.list(page, TenantConfig::is_active).await
    }

    async fn list_all(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        self.list(page, |_| true).await
    }

    async fn delete(&self, id: &TenantId) -> Result<DeleteOutcome, StoreError> {
        self.file
            .update(|file| {
                Ok(match file.tenants.remove(id) {
                    Some(_) => Mutation::Changed(DeleteOutcome::Deleted),
                    None => Mutation::Unchanged(DeleteOutcome::NotFound),
                })
            })
            .await
    }
}

impl EmbeddedTenantStore {
    /// The tenants that `keep` keeps, by id, one page at a time.
    async fn list(
        &self,
        page: PageRequest,
        keep: fn(&TenantConfig) -> bool,
    ) -> Result<Page<TenantConfig>, StoreError> {
        let limit = check_page(&page)?;
        let after: Option<TenantId> = page.token.as_ref().map(decode_page_token).transpose()?;
        let (items, more) = self
            .file
            .read(|file| {
                let start = match &after {
                    Some(after) => std::ops::Bound::Excluded(after),
                    None => std::ops::Bound::Unbounded,
                };
                let mut kept = file
                    .tenants
                    .range((start, std::ops::Bound::Unbounded))
                    .map(|(_, config)| config)
                    .filter(|config| keep(config));
                let items: Vec<TenantConfig> = kept.by_ref().take(limit).cloned().collect();
                (items, kept.next().is_some())
            })
            .await;
        let next = match (more, items.last()) {
            (true, Some(last)) => Some(encode_page_token(&last.id)?),
            _ => None,
        };
        Ok(Page { items, next })
    }
}
