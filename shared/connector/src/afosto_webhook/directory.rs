//! Which of our tenants an `X-Afosto-Tenant` header belongs to, without a secret read.
//!
//! The mapping lives in the tenant configuration (`TenantConfig::afosto_tenant`). The
//! directory keeps it in memory for the container's life and reloads it from the tenant
//! store's active list at most once per [`TenantDirectory::MIN_RELOAD`]: a header that
//! is not mapped is answered from the cache (the negative cache is the whole map, so a
//! flood of random headers costs at most one tenant listing per interval and never a
//! Secrets Manager call). A mapped tenant that stops being listed (paused, removed) is
//! forgotten at the next reload.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Mutex;

use crate::ports::{PageRequest, StoreError, TenantStore};
use domain::tenant::TenantId;

pub struct TenantDirectory {
    tenants: Arc<dyn TenantStore>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    by_afosto: HashMap<String, TenantId>,
    loaded_at: Option<DateTime<Utc>>,
}

impl TenantDirectory {
    /// A miss reloads at most this often: the negative cache's lifetime.
    pub const MIN_RELOAD: TimeDelta = TimeDelta::seconds(60);
    /// A hit older than this is re-checked, so a remapped Afosto tenant moves within it.
    pub const MAX_AGE: TimeDelta = TimeDelta::minutes(5);

    pub fn new(tenants: Arc<dyn TenantStore>) -> Self {
        Self {
            tenants,
            state: Mutex::new(State::default()),
        }
    }

    /// The tenant mapped to `afosto_tenant`, if any.
    pub async fn lookup(
        &self,
        afosto_tenant: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TenantId>, StoreError> {
        // One lock over the reload: concurrent misses wait for one listing, not many.
        let mut state = self.state.lock().await;
        let age = state.loaded_at.map(|at| now - at);
        let found = state.by_afosto.get(afosto_tenant).cloned();
        let reload = match (&found, age) {
            (_, None) => true,
            (Some(_), Some(age)) => age > Self::MAX_AGE,
            (None, Some(age)) => age > Self::MIN_RELOAD,
        };
        if !reload {
            return Ok(found);
        }
        let mut by_afosto = HashMap::new();
        let mut page = PageRequest::first(crate::ports::paging::MAX_PAGE);
        loop {
            let listed = self.tenants.list_active(page).await?;
            for tenant in listed.items {
                if let Some(afosto) = tenant.afosto_tenant {
                    by_afosto.insert(afosto, tenant.id);
                }
            }
            match listed.next {
                Some(token) => page = PageRequest::after(crate::ports::paging::MAX_PAGE, token),
                None => break,
            }
        }
        state.by_afosto = by_afosto;
        state.loaded_at = Some(now);
        Ok(state.by_afosto.get(afosto_tenant).cloned())
    }
}
