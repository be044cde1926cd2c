//! A TTL cache in front of Secrets Manager (or any [`SecretStore`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use tokio::sync::Mutex;

use connector::ports::secrets::SecretStore;
use connector::ports::{Clock, StoreError};
use domain::tenant::SecretRef;

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
