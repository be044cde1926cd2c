//! Embedded tenant store: table `tenants`, one row per tenant.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::db::{Database, KvTable, from_json, sql};
use connector::ports::clock::truncate_to_millis;
use connector::ports::paging::check_page;
use connector::ports::store_keys::{decode_page_token, encode_page_token};
use connector::ports::tenants::{CreateOutcome, DeleteOutcome, UpdateOutcome};
use connector::ports::{Page, PageRequest, StoreError, TenantStore};
use domain::tenant::{TenantConfig, TenantId};

pub(crate) const TABLE: KvTable = KvTable {
    name: "tenants",
    what: "tenant",
};

pub struct EmbeddedTenantStore {
    db: Arc<Database>,
}

impl EmbeddedTenantStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
        })
    }
}

/// The JSON-file format this store had before SQLite (`tenants.json`), for the migration.
#[derive(serde::Deserialize)]
pub(crate) struct LegacyFile {
    tenants: std::collections::BTreeMap<TenantId, TenantConfig>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        for (id, config) in &self.tenants {
            TABLE.put(tx, id.as_str(), config)?;
        }
        Ok(self.tenants.len())
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
        self.db
            .write(move |tx| {
                if TABLE.get::<TenantConfig>(tx, config.id.as_str())?.is_some() {
                    return Ok(CreateOutcome::AlreadyExists);
                }
                config.version = 1;
                config.created_at = now;
                config.updated_at = now;
                TABLE.put(tx, config.id.as_str(), &config)?;
                Ok(CreateOutcome::Created(config))
            })
            .await
    }

    async fn update(
        &self,
        mut config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<UpdateOutcome, StoreError> {
        let now = truncate_to_millis(now);
        self.db
            .write(move |tx| {
                let Some(current) = TABLE.get::<TenantConfig>(tx, config.id.as_str())? else {
                    return Ok(UpdateOutcome::NotFound);
                };
                if current.version != config.version {
                    return Ok(UpdateOutcome::Stale { current });
                }
                config.version += 1;
                config.created_at = current.created_at;
                config.updated_at = now;
                TABLE.put(tx, config.id.as_str(), &config)?;
                Ok(UpdateOutcome::Updated(config))
            })
            .await
    }

    async fn get(&self, id: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        let id = id.clone();
        self.db
            .read(move |connection| TABLE.get(connection, id.as_str()))
            .await
    }

    async fn list_active(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        self.list(page, TenantConfig::is_active).await
    }

    async fn list_all(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        self.list(page, |_| true).await
    }

    async fn delete(&self, id: &TenantId) -> Result<DeleteOutcome, StoreError> {
        let id = id.clone();
        self.db
            .write(move |tx| {
                Ok(if TABLE.delete(tx, id.as_str())? {
                    DeleteOutcome::Deleted
                } else {
                    DeleteOutcome::NotFound
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
            .db
            .read(move |connection| {
                let after = after.as_ref().map_or("", TenantId::as_str);
                let mut statement = connection
                    .prepare_cached("SELECT value FROM tenants WHERE key > ?1 ORDER BY key")
                    .map_err(sql("select"))?;
                let rows = statement
                    .query_map([after], |row| row.get::<_, String>(0))
                    .map_err(sql("select"))?;
                let mut items = Vec::new();
                for text in rows {
                    let config: TenantConfig =
                        from_json(TABLE.what, &text.map_err(sql("select"))?)?;
                    if !keep(&config) {
                        continue;
                    }
                    if items.len() == limit {
                        return Ok((items, true));
                    }
                    items.push(config);
                }
                Ok((items, false))
            })
            .await?;
        let next = match (more, items.last()) {
            (true, Some(last)) => Some(encode_page_token(&last.id)?),
            _ => None,
        };
        Ok(Page { items, next })
    }
}
