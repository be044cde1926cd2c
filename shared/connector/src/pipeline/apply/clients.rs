//! "Give me a Beyond client for this tenant": the one thing the consumer needs from auth.
//! [`ShopClients`] (stored, refreshed tokens, both auth modes) is what the Lambda uses;
//! [`SecretStoreClients`] builds plain client-credentials clients from the tenant's secret
//! (tests, and tools that must not touch the token store).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::auth::{AuthError, ShopClients};
use crate::ports::{SecretStore, StoreError};
use beyond::{BeyondClient, BeyondError, ClientConfig, ErrorClass, HttpSettings};
use domain::tenant::{AuthMode, TenantConfig, TenantId};

/// Why no client could be built for a tenant.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error("reading the client secret {name} failed")]
    Secret {
        name: String,
        #[source]
        source: StoreError,
    },
    #[error("the client secret {name} does not exist")]
    SecretMissing { name: String },
    #[error("tenant {tenant} uses {mode:?}, which this client source cannot serve")]
    UnsupportedAuthMode { tenant: TenantId, mode: AuthMode },
    #[error("building the Beyond client for tenant {tenant} failed")]
    Build {
        tenant: TenantId,
        #[source]
        source: BeyondError,
    },
    /// Any other source (e.g. `ShopClients`), with its own classification.
    #[error("no Beyond client for tenant {tenant}")]
    Other {
        tenant: TenantId,
        transient: bool,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl ClientsError {
    /// Whether a later attempt may get a client (a throttled secret read, a token outage).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientsError::Secret { source, .. } => source.is_transient(),
            ClientsError::Other { transient, .. } => *transient,
            ClientsError::SecretMissing { .. }
            | ClientsError::UnsupportedAuthMode { .. }
            | ClientsError::Build { .. } => false,
        }
    }
}

#[async_trait]
pub trait TenantClients: Send + Sync {
    async fn client_for(&self, tenant: &TenantConfig) -> Result<BeyondClient, ClientsError>;
}

#[async_trait]
impl TenantClients for ShopClients {
    async fn client_for(&self, tenant: &TenantConfig) -> Result<BeyondClient, ClientsError> {
        ShopClients::client_for(self, tenant).map_err(|source: AuthError| ClientsError::Other {
            tenant: tenant.id.clone(),
            transient: source.class() == ErrorClass::Transient,
            source: Box::new(source),
        })
    }
}

/// Client-credentials clients (custom apps) from the secret store, one per tenant and
/// configuration version, kept for the container's life so tokens and connections are
/// reused across messages.
pub struct SecretStoreClients {
    secrets: Arc<dyn SecretStore>,
    http: HttpSettings,
    cache: Mutex<HashMap<TenantId, (u64, BeyondClient)>>,
}

impl SecretStoreClients {
    pub fn new(secrets: Arc<dyn SecretStore>, http: HttpSettings) -> Self {
        Self {
            secrets,
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl TenantClients for SecretStoreClients {
    async fn client_for(&self, tenant: &TenantConfig) -> Result<BeyondClient, ClientsError> {
        if let Some((version, client)) = self.cache.lock().await.get(&tenant.id)
            && *version == tenant.version
        {
            return Ok(client.clone());
        }
        if tenant.auth_mode != AuthMode::ClientCredentials {
            return Err(ClientsError::UnsupportedAuthMode {
                tenant: tenant.id.clone(),
                mode: tenant.auth_mode,
            });
        }
        let name = tenant.client_secret.to_string();
        let secret = self
            .secrets
            .get(&tenant.client_secret)
            .await
            .map_err(|source| ClientsError::Secret {
                name: name.clone(),
                source,
            })?
            .ok_or(ClientsError::SecretMissing { name })?;
        let config = ClientConfig {
            api_url: tenant.api_url.clone(),
            http: self.http.clone(),
        };
        let client = BeyondClient::with_client_credentials(&config, &tenant.client_id, secret)
            .map_err(|source| ClientsError::Build {
                tenant: tenant.id.clone(),
                source,
            })?;
        self.cache
            .lock()
            .await
            .insert(tenant.id.clone(), (tenant.version, client.clone()));
        Ok(client)
    }
}
