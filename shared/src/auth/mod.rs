//! Tenant authentication towards ePages Beyond: per-tenant shop clients whose tokens live
//! in the [`crate::ports::TokenStore`] and are refreshed safely across processes.
//!
//! - [`ShopClients`]: `client_for(&TenantConfig)` → a cached [`crate::beyond::BeyondClient`].
//! - [`StoredTokens`]: the [`crate::beyond::TokenSource`] behind it (client credentials, or
//!   the refresh grant with rotated refresh tokens stored by version).
//! - [`AuthError`]: what went wrong, [`AuthError::class`] says whether a person must act.

mod error;
mod shop_clients;
mod stored_tokens;

pub use error::AuthError;
pub use shop_clients::ShopClients;
pub use stored_tokens::{
    DEFAULT_REFRESH_MARGIN, StoredTokens, TokenCounters, TokenCounts, TokenPorts,
};
