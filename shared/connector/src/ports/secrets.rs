//! Client secrets: the port and how secrets are named. The TTL cache Lambda containers put
//! in front of Secrets Manager is `epages_sync_aws::CachedSecretStore`.

use async_trait::async_trait;
use secrecy::SecretString;

use super::StoreError;
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
