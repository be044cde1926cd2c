//! Embedded token store: table `tokens`, one row per tenant. The database file is
//! owner-readable only; it is for local runs.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::db::{Database, KvTable};
use connector::ports::clock::truncate_to_millis;
use connector::ports::tokens::TokenPutOutcome;
use connector::ports::{StoreError, TokenStore};
use domain::tenant::TenantId;
use domain::tokens::TenantTokens;

pub(crate) const TABLE: KvTable = KvTable {
    name: "tokens",
    what: "tokens",
};

/// The stored form; deliberately without `Debug` so tokens cannot end up in logs.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct StoredTokens {
    access_token: String,
    access_expires_at: DateTime<Utc>,
    refresh_token: Option<String>,
    version: u64,
}

impl StoredTokens {
    fn to_tokens(&self) -> TenantTokens {
        TenantTokens {
            access_token: SecretString::from(self.access_token.clone()),
            access_expires_at: self.access_expires_at,
            refresh_token: self.refresh_token.clone().map(SecretString::from),
            version: self.version,
        }
    }

    /// The token values, for the test that scans the other tables for them.
    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.access_token.as_str()).chain(self.refresh_token.as_deref())
    }
}

/// The JSON-file format this store had before SQLite (`tokens.json`), for the migration.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    tenants: std::collections::BTreeMap<TenantId, StoredTokens>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        for (tenant, tokens) in &self.tenants {
            TABLE.put(tx, tenant.as_str(), tokens)?;
        }
        Ok(self.tenants.len())
    }
}

pub struct EmbeddedTokenStore {
    db: Arc<Database>,
}

impl EmbeddedTokenStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
        })
    }
}

#[async_trait]
impl TokenStore for EmbeddedTokenStore {
    async fn get(&self, tenant: &TenantId) -> Result<Option<TenantTokens>, StoreError> {
        let tenant = tenant.clone();
        let stored = self
            .db
            .read(move |connection| TABLE.get::<StoredTokens>(connection, tenant.as_str()))
            .await?;
        Ok(stored.as_ref().map(StoredTokens::to_tokens))
    }

    async fn put_if_version(
        &self,
        tenant: &TenantId,
        tokens: &TenantTokens,
    ) -> Result<TokenPutOutcome, StoreError> {
        let tenant = tenant.clone();
        let expected = tokens.version;
        let version = expected + 1;
        let next = StoredTokens {
            access_token: tokens.access_token.expose_secret().to_owned(),
            access_expires_at: truncate_to_millis(tokens.access_expires_at),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            version,
        };
        self.db
            .write(move |tx| {
                let current = TABLE.get::<StoredTokens>(tx, tenant.as_str())?;
                if current.as_ref().map_or(0, |t| t.version) != expected {
                    return Ok(TokenPutOutcome::Stale {
                        current: current.as_ref().map(StoredTokens::to_tokens),
                    });
                }
                TABLE.put(tx, tenant.as_str(), &next)?;
                Ok(TokenPutOutcome::Stored { version })
            })
            .await
    }

    async fn delete(&self, tenant: &TenantId) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.db
            .write(move |tx| TABLE.delete(tx, tenant.as_str()).map(|_| ()))
            .await
    }
}
