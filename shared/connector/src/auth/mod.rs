//! Tenant authentication towards ePages Beyond: per-tenant shop clients whose tokens live
//! in the [`crate::ports::TokenStore`] and are refreshed safely across processes.
//!
//! - [`ShopClients`]: `client_for(&TenantConfig)` → a cached [`beyond::BeyondClient`].
//! - [`StoredTokens`]: the [`beyond::TokenSource`] behind it (client credentials, or
//!   the refresh grant with rotated refresh tokens stored by version).
//! - [`AuthError`]: what went wrong, [`AuthError::disposition`] says whether a person must act.

mod error;
pub mod scopes;
mod shop_clients;
mod stored_tokens;

pub use error::AuthError;
pub use scopes::{FLOW_SCOPES, Flow, FlowCheck, FlowScopes, ScopeReport, check_scopes};
pub use shop_clients::ShopClients;
pub use stored_tokens::{
    DEFAULT_REFRESH_MARGIN, StoredTokens, TokenCounters, TokenCounts, TokenPorts,
};

/// An error with its chain of causes, `: `-joined (for logs and the activity log).
pub use crate::error_chain::error_chain as report;

/// When a token fetched at `fetched_at` with `expires_in` seconds expires.
pub fn stored_tokens_expiry(
    fetched_at: chrono::DateTime<chrono::Utc>,
    expires_in: Option<u64>,
) -> chrono::DateTime<chrono::Utc> {
    stored_tokens::expiry(fetched_at, expires_in)
}
