//! OAuth tokens per tenant.

use async_trait::async_trait;

use super::StoreError;
use domain::tenant::TenantId;
use domain::tokens::TenantTokens;

#[derive(Clone, Debug)]
pub enum TokenPutOutcome {
    /// Stored; the new version.
    Stored { version: u64 },
    /// The stored version is not `tokens.version`: another refresh won. Use `current`
    /// (`None` if the tokens were deleted meanwhile).
    Stale { current: Option<TenantTokens> },
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn get(&self, tenant: &TenantId) -> Result<Option<TenantTokens>, StoreError>;

    /// Writes `tokens` if the stored version is still `tokens.version` (0 = nothing stored).
    async fn put_if_version(
        &self,
        tenant: &TenantId,
        tokens: &TenantTokens,
    ) -> Result<TokenPutOutcome, StoreError>;

    async fn delete(&self, tenant: &TenantId) -> Result<(), StoreError>;
}
