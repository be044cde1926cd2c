//! "Give me a Beyond client for this tenant": the one thing the consumer needs from auth.
//! [`ShopClients`] (stored, refreshed tokens, both auth modes) is what the handlers use;
//! tests put fakes behind the same trait.

use async_trait::async_trait;

use crate::auth::{AuthError, ShopClients};
use beyond::{BeyondClient, Disposition};
use domain::tenant::{TenantConfig, TenantId};

/// Why no client could be built for a tenant, and whether a later attempt may get one (a
/// token outage, a throttled store) as the client source judged it.
#[derive(Debug, thiserror::Error)]
#[error("no Beyond client for tenant {tenant}")]
pub struct ClientsError {
    pub tenant: TenantId,
    pub transient: bool,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl ClientsError {
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    pub fn disposition(&self) -> Disposition {
        if self.transient {
            Disposition::Retry
        } else {
            Disposition::Reject
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
        ShopClients::client_for(self, tenant).map_err(|source: AuthError| ClientsError {
            tenant: tenant.id.clone(),
            transient: source.disposition() == Disposition::Retry,
            source: Box::new(source),
        })
    }
}
