//! Tenants and auth: per-tenant shop clients and token lifecycle.

pub(crate) mod install;
mod no_secrets_in_logs;
mod shop_clients;
pub mod support;

/// An error with its chain of causes, `: `-joined.
pub fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
