//! The consumer's settings, read from the environment once at init, and (with the
//! `testing` feature) the hook a test uses to stop an attempt between two steps.

use std::time::Duration;

use crate::config::{self, ConfigError};

/// Consumer settings, read from the environment once at init.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplySettings {
    /// How long a completed command id is remembered (duplicates within it are skipped
    /// with the stored result). `COMMAND_IDEMPOTENCY_DAYS`, default 30: longer than any
    /// DLQ retention, so a replayed message is still recognised.
    pub idempotency_ttl: Duration,
    /// Turn on stock management for an unmanaged product instead of failing.
    /// `ENABLE_STOCK_MANAGEMENT_IF_UNMANAGED` (`true`/`false`, default `false`).
    /// Deployment-wide because `TenantConfig` has no such field yet.
    pub enable_stock_management_if_unmanaged: bool,
    /// Re-plans after ambiguous calls before giving up for this delivery.
    pub max_replans: u32,
}

impl Default for ApplySettings {
    fn default() -> Self {
        Self {
            idempotency_ttl: Duration::from_secs(30 * 24 * 3600),
            enable_stock_management_if_unmanaged: false,
            max_replans: 3,
        }
    }
}

impl ApplySettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut settings = Self::default();
        if let Some(days) = config::parsed::<u64>("COMMAND_IDEMPOTENCY_DAYS")? {
            settings.idempotency_ttl = Duration::from_secs(days.max(1) * 24 * 3600);
        }
        if let Some(flag) = config::flag("ENABLE_STOCK_MANAGEMENT_IF_UNMANAGED")? {
            settings.enable_stock_management_if_unmanaged = flag;
        }
        Ok(settings)
    }
}

/// Test-only fault injection (the `testing` feature): called after each step of an attempt (`step` is a planned
/// call's name, or `record-intent`); returning `true` makes the attempt stop right there
/// as if the process died: no release, no completion, no result event.
#[cfg(feature = "testing")]
pub trait StepHook: Send + Sync {
    fn crash_after(&self, command_id: &str, step: &str) -> bool;
}
