//! The poller's tunables and how the environment overrides them.

use std::time::Duration;

use crate::config::{self, ConfigError};

/// Tunables of the poller; [`PollSettings::default`] is what production uses unless the
/// environment says otherwise ([`PollSettings::from_env`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSettings {
    /// Orders per list call (`size`). 100: the client's default for full reads.
    pub page_size: u64,
    /// How far before the cursor a read starts: covers clock skew between ePages and us and
    /// orders sharing the cursor's millisecond.
    pub overlap: Duration,
    /// How far before now a read ends, so an order updated during the read is caught whole
    /// by the next poll.
    pub skew: Duration,
    /// How long a lease is held before it must be renewed.
    pub lease_ttl: Duration,
    /// Pages per invocation; a longer read is continued by a new poll request.
    pub max_pages: u32,
    /// Wall time per invocation, likewise; keep it well below the Lambda timeout.
    pub time_budget: Duration,
    /// Ledger writes in flight at once.
    pub ledger_concurrency: usize,
    /// Restarts of a window whose paging shifted, before the poll gives up (to retry later).
    pub max_restarts: u32,
    /// Tenants polled at once from one Lambda batch (each tenant's own calls stay bounded
    /// by its client's concurrency limit).
    pub batch_concurrency: usize,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            page_size: 100,
            overlap: Duration::from_secs(60),
            skew: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(300),
            max_pages: 50,
            time_budget: Duration::from_secs(600),
            ledger_concurrency: 8,
            max_restarts: 3,
            batch_concurrency: 4,
        }
    }
}

impl PollSettings {
    /// Defaults, overridden by `POLL_PAGE_SIZE`, `POLL_MAX_PAGES`, `POLL_TIME_BUDGET_SECONDS`,
    /// `POLL_OVERLAP_SECONDS`, `POLL_SKEW_SECONDS` and `POLL_LEASE_SECONDS` when set.
    pub fn from_env() -> Result<Self, ConfigError> {
        let number = config::number_or;
        let defaults = Self::default();
        let settings = Self {
            page_size: number("POLL_PAGE_SIZE", defaults.page_size)?,
            max_pages: u32::try_from(number("POLL_MAX_PAGES", u64::from(defaults.max_pages))?)
                .map_err(|e| ConfigError::invalid("POLL_MAX_PAGES", e.to_string()))?,
            time_budget: Duration::from_secs(number(
                "POLL_TIME_BUDGET_SECONDS",
                defaults.time_budget.as_secs(),
            )?),
            overlap: Duration::from_secs(number(
                "POLL_OVERLAP_SECONDS",
                defaults.overlap.as_secs(),
            )?),
            skew: Duration::from_secs(number("POLL_SKEW_SECONDS", defaults.skew.as_secs())?),
            lease_ttl: Duration::from_secs(number(
                "POLL_LEASE_SECONDS",
                defaults.lease_ttl.as_secs(),
            )?),
            ..defaults
        };
        if settings.page_size == 0 || settings.max_pages == 0 || settings.lease_ttl.is_zero() {
            return Err(ConfigError::invalid(
                "POLL_PAGE_SIZE / POLL_MAX_PAGES / POLL_LEASE_SECONDS",
                "must be greater than zero",
            ));
        }
        Ok(settings)
    }
}
