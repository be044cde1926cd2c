//! Tenants and auth: per-tenant shop clients and token lifecycle.

pub(crate) mod install;
mod no_secrets_in_logs;
mod shop_clients;
pub mod support;

/// An error with its chain of causes, `: `-joined.
pub use connector::error_chain::error_chain as report;
