//! [`ShopClients`]: a [`BeyondClient`] per tenant, kept for the life of the process so a
//! warm Lambda container reuses connections and tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::AuthError;
use super::stored_tokens::{
    AppIdentity, DEFAULT_REFRESH_MARGIN, StoredTokens, TokenCounters, TokenCounts, TokenPorts,
};
use crate::metrics::Metrics;
use crate::ports::{ActivityLog, Clock, SecretStore, StateStores, TokenStore};
use beyond::{BeyondClient, BeyondHttp, HttpSettings};
use domain::tenant::{TenantConfig, TenantId};

/// Builds and caches each tenant's shop client, whose bearer tokens come from
/// [`StoredTokens`]. A cached client is replaced when the tenant's API URL, auth mode,
/// client id or secret reference changed.
pub struct ShopClients {
    ports: TokenPorts,
    http: HttpSettings,
    clients: Mutex<HashMap<TenantId, Cached>>,
    metrics: Arc<Metrics>,
}

struct Cached {
    api_url: url::Url,
    app: AppIdentity,
    client: BeyondClient,
    tokens: Arc<StoredTokens>,
}

impl std::fmt::Debug for ShopClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopClients")
            .field("counters", &self.ports.counters.snapshot())
            .finish_non_exhaustive()
    }
}

impl ShopClients {
    /// Clients over the state bundle's token store, secrets and activity log.
    pub fn new(stores: &StateStores, http: HttpSettings, clock: Arc<dyn Clock>) -> Self {
        Self::from_ports(
            stores.tokens.clone(),
            stores.secrets.clone(),
            stores.activity.clone(),
            http,
            clock,
        )
    }

    pub fn from_ports(
        tokens: Arc<dyn TokenStore>,
        secrets: Arc<dyn SecretStore>,
        activity: Arc<dyn ActivityLog>,
        http: HttpSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            ports: TokenPorts {
                tokens,
                secrets,
                activity,
                clock,
                refresh_margin: DEFAULT_REFRESH_MARGIN,
                counters: Arc::new(TokenCounters::default()),
            },
            http,
            clients: Mutex::new(HashMap::new()),
            metrics: Metrics::disabled(),
        }
    }

    /// Counts the clients' HTTP requests, 429s and token refreshes into `metrics`. Set it
    /// before the first `client_for`: a client already built keeps the collector it had.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Refresh tokens this long before they expire (default 5 minutes).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.ports.refresh_margin = margin;
        self
    }

    /// The tenant's client: cached, or built now.
    pub fn client_for(&self, tenant: &TenantConfig) -> Result<BeyondClient, AuthError> {
        Ok(self.entry_for(tenant)?.0)
    }

    /// The tenant's token source (the one its client uses).
    pub fn tokens_for(&self, tenant: &TenantConfig) -> Result<Arc<StoredTokens>, AuthError> {
        Ok(self.entry_for(tenant)?.1)
    }

    /// Forgets a tenant's client (e.g. after it was uninstalled or removed).
    pub fn forget(&self, tenant: &TenantId) {
        self.lock().remove(tenant);
    }

    /// Token work so far, over all tenants.
    pub fn counts(&self) -> TokenCounts {
        self.ports.counters.snapshot()
    }

    fn entry_for(
        &self,
        tenant: &TenantConfig,
    ) -> Result<(BeyondClient, Arc<StoredTokens>), AuthError> {
        let app = AppIdentity::of(tenant)?;
        let mut clients = self.lock();
        if let Some(cached) = clients.get(&tenant.id)
            && cached.app == app
            && cached.api_url == tenant.api_url
        {
            return Ok((cached.client.clone(), cached.tokens.clone()));
        }
        let build_error = |source| AuthError::Client {
            tenant: tenant.id.clone(),
            source: Box::new(source),
        };
        let http = BeyondHttp::metered(&self.http, self.metrics.clone()).map_err(build_error)?;
        let tokens = Arc::new(StoredTokens::new(tenant, http.clone(), self.ports.clone())?);
        let client = BeyondClient::with_http(http, tenant.api_url.clone(), tokens.clone())
            .map_err(build_error)?;
        clients.insert(
            tenant.id.clone(),
            Cached {
                api_url: tenant.api_url.clone(),
                app,
                client: client.clone(),
                tokens: tokens.clone(),
            },
        );
        Ok((client, tokens))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Cached>> {
        // The map holds no invariant a panic could break half-way.
        self.clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
