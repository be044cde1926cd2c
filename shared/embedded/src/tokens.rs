//! Embedded token store. The state file is owner-readable only; it is for local runs.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::truncate_to_millis;
use connector::ports::tokens::TokenPutOutcome;
use connector::ports::{StoreError, TokenStore};
use domain::tenant::TenantId;
use domain::tokens::TenantTokens;

/// The on-disk form; deliberately without `Debug` so tokens cannot end up in logs.
#[derive(Clone, Serialize, Deserialize)]
struct StoredTokens {
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
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct TokensFile {
    tenants: BTreeMap<TenantId, StoredTokens>,
}

pub struct EmbeddedTokenStore {
    file: JsonFile<TokensFile>,
}

impl EmbeddedTokenStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("tokens.json")).await?,
        })
    }
}

#[async_trait]
impl TokenStore for EmbeddedTokenStore {
    async fn get(&self, tenant: &TenantId) -> Result<Option<TenantTokens>, StoreError> {
        Ok(self
            .file
            .read(|file| file.tenants.get(tenant).map(StoredTokens::to_tokens))
            .await)
    }

    async fn put_if_version(
        &self,
        tenant: &TenantId,
        tokens: &TenantTokens,
    ) -> Result<TokenPutOutcome, StoreError> {
        self.file
            .update(|file| {
                let stored_version = file.tenants.get(tenant).map_or(0, |t| t.version);
                if stored_version != tokens.version {
                    return Ok(Mutation::Unchanged(TokenPutOutcome::Stale {
                        current: file.tenants.get(tenant).map(StoredTokens::to_tokens),
                    }));
                }
                let version = tokens.version + 1;
                file.tenants.insert(
                    tenant.clone(),
                    StoredTokens {
                        access_token: tokens.access_token.expose_secret().to_owned(),
                        access_expires_at: truncate_to_millis(tokens.access_expires_at),
                        refresh_token: tokens
                            .refresh_token
                            .as_ref()
                            .map(|t| t.expose_secret().to_owned()),
                        version,
                    },
                );
                Ok(Mutation::Changed(TokenPutOutcome::Stored { version }))
            })
            .await
    }

    async fn delete(&self, tenant: &TenantId) -> Result<(), StoreError> {
        self.file
            .update(|file| {
                Ok(match file.tenants.remove(tenant) {
                    Some(_) => Mutation::Changed(()),
                    None => Mutation::Unchanged(()),
                })
            })
            .await
    }
}
