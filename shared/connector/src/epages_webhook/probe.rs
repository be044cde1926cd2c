//! Asking the shop whether the app is still installed before acting on `app.uninstalled`.
//!
//! An uninstall deletes the tenant's tokens and pauses it, so acting on one that no longer
//! describes the shop is costly: ePages app payloads carry no time of their own, so a
//! genuine `app.uninstalled` delivered late — after the merchant re-installed — looks like
//! a fresh one. The shop knows: after an uninstall it refuses the app's tokens; after a
//! re-install it accepts the new ones. One cheap authenticated read decides.

use std::sync::Arc;

use async_trait::async_trait;

use crate::auth::ShopClients;
use beyond::{BeyondError, Disposition};
use domain::tenant::TenantConfig;

/// Whether the shop still accepts the tenant's credentials.
#[async_trait]
pub trait InstallationProbe: Send + Sync {
    /// `Ok(true)`: the app is installed (the shop answered a read with the tenant's
    /// credentials); `Ok(false)`: the shop refused them; `Err`: it could not tell now.
    async fn still_installed(&self, tenant: &TenantConfig) -> Result<bool, ProbeError>;
}

/// The shop could not be asked (network, 5xx, 429, an unusable configuration): the
/// delivery is answered with a retryable status and nothing is changed.
#[derive(Debug, thiserror::Error)]
#[error("cannot ask the shop whether the app is still installed")]
pub struct ProbeError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

/// The probe over the connector's own shop clients: lists the webhook subscriptions (a
/// read the app's scopes include, as install-app registers them).
pub struct ShopInstallationProbe {
    clients: Arc<ShopClients>,
}

impl ShopInstallationProbe {
    pub fn new(clients: Arc<ShopClients>) -> Self {
        Self { clients }
    }
}

#[async_trait]
impl InstallationProbe for ShopInstallationProbe {
    async fn still_installed(&self, tenant: &TenantConfig) -> Result<bool, ProbeError> {
        let client = self
            .clients
            .client_for(tenant)
            .map_err(|error| ProbeError(Box::new(error)))?;
        let answer = client.list_subscriptions().await;
        // The next call for this tenant must not reuse what the uninstall may revoke.
        self.clients.forget(&tenant.id);
        match answer {
            Ok(_) => Ok(true),
            Err(error) => refused(&error)
                .then_some(false)
                .ok_or_else(|| ProbeError(Box::new(error))),
        }
    }
}

/// The shop refused the credentials themselves: a 401 from the API, or a token source
/// that needs a person (refresh token rejected, no tokens stored, client credentials
/// rejected). A 403 is not a refusal of the app: it is installed without that scope.
fn refused(error: &BeyondError) -> bool {
    match error {
        BeyondError::Token { disposition, .. } => *disposition == Disposition::Reject,
        other => other.status().map(|status| status.as_u16()) == Some(401),
    }
}
