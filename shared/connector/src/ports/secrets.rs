//! Client secrets, and a TTL cache in front of any secret store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use tokio::sync::Mutex;

use super::{Clock, StoreError};
use domain::tenant::{SecretRef, TenantId};

#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, StoreError>;

    /// Creates the secret or stores a new current value.
    async fn put(&self, name: &SecretRef, value: SecretString) -> Result<(), StoreError>;

    /// Deletes the secret at once, without a recovery window: a removed tenant's client
    /// secret must stop working, and `tenant add` asks for it again anyway (a secret
    /// scheduled for deletion could not be re-created under its name for days). Deleting a
    /// missing secret is not an error, so a retried removal succeeds.
    async fn delete(&self, name: &SecretRef) -> Result<(), StoreError>;
}

/// How secret names are built: `{prefix}/tenants/{tenant}/client-secret` for a custom
/// app's own secret, `{prefix}/apps/{app}/client-secret` for a public app shared by its
/// tenants. The prefix lets IAM policies grant `{prefix}/*` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretNaming {
    prefix: String,
}

impl SecretNaming {
    pub fn new(prefix: impl Into<String>) -> Result<Self, StoreError> {
        let prefix = prefix.into().trim_end_matches('/').to_owned();
        if prefix.is_empty()
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
        {
            return Err(StoreError::invalid(
                "secret prefix",
                format!("{prefix:?} must be non-empty and use only A-Za-z0-9/_+=.@-"),
            ));
        }
        Ok(Self { prefix })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn tenant_client_secret(&self, tenant: &TenantId) -> SecretRef {
        SecretRef(format!("{}/tenants/{tenant}/client-secret", self.prefix))
    }

    pub fn app_client_secret(&self, app: &str) -> SecretRef {
        SecretRef(format!("{}/apps/{app}/client-secret", self.prefix))
    }
}

/// A read-through, write-through cache over any [`SecretStore`]: Lambda containers keep
/// secrets for `ttl` instead of paying a Secrets Manager call per message. Misses are not
/// cached, so a secret created later is seen at once.
pub struct CachedSecretStore {
    inner: Arc<dyn SecretStore>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<SecretRef, (SecretString, DateTime<Utc>)>>,
}

impl CachedSecretStore {
    pub fn new(inner: Arc<dyn SecretStore>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            ttl,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets a cached value, e.g. after the shop rejected it.
    pub async fn invalidate(&self, name: &SecretRef) {
        self.entries.lock().await.remove(name);
    }

    fn expiry(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        chrono::TimeDelta::from_std(self.ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(now)
    }
}

#[async_trait]
impl SecretStore for CachedSecretStore {
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        if let Some((value, until)) = self.entries.lock().await.get(name)
            && *until > self.clock.now()
        {
            return Ok(Some(value.clone()));
        }
        let fetched = self.inner.get(name).await?;
        let mut entries = self.entries.lock().await;
        match &fetched {
            Some(value) => {
                entries.insert(name.clone(), (value.clone(), self.expiry()));
            }
            None => {
                entries.remove(name);
            }
        }
        Ok(fetched)
    }

    async fn put(&self, name: &SecretRef, value: SecretString) -> Result<(), StoreError> {
        self.inner.put(name, value.clone()).await?;
        self.entries
            .lock()
            .await
            .insert(name.clone(), (value, self.expiry()));
        Ok(())
    }

    async fn delete(&self, name: &SecretRef) -> Result<(), StoreError> {
        // Forget first: a concurrent reader must not re-serve the deleted value from cache.
        self.entries.lock().await.remove(name);
        self.inner.delete(name).await
    }
}
