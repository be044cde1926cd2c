//! "Give me a Beyond client for this tenant": the one thing the consumer needs from auth.
//! [`ShopClients`] (stored, refreshed tokens, both auth modes) is what the handlers use;
//! tests put fakes behind the same trait.

use async_trait::async_trait;

use crate::auth::{AuthError, ShopClients};
use crate::ports::StoreError;
use beyond::{BeyondClient, BeyondError, Disposition};
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
        self.disposition().is_retry()
    }

    pub fn disposition(&self) -> Disposition {
        match self {
            ClientsError::Secret { source, .. } => source.disposition(),
            ClientsError::Other {
                transient: true, ..
            } => Disposition::Retry,
            ClientsError::Other { .. }
            | ClientsError::SecretMissing { .. }
            | ClientsError::UnsupportedAuthMode { .. }
            | ClientsError::Build { .. } => Disposition::Reject,
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
            transient: source.disposition() == Disposition::Retry,
            source: Box::new(source),
        })
    }
}
