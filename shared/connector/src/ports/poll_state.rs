//! Poll cursor, lease and last-poll bookkeeping per tenant.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use domain::poll_state::{Lease, PollCursor, PollState};
use domain::tenant::TenantId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseOutcome {
    Acquired(Lease),
    /// Another owner holds an unexpired lease.
    Held {
        owner: String,
        until: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenewOutcome {
    Renewed(Lease),
    /// The lease expired or was taken over: stop working on the tenant.
    Lost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseOutcome {
    Released,
    /// The lease was already released or taken over by someone else; nothing changed.
    NotHeld,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorOutcome {
    Advanced(PollCursor),
    /// The cursor's version is not the one the caller read.
    Stale {
        current: PollCursor,
    },
    /// The version matched but the new watermark is older than the stored one.
    NotForward {
        current: PollCursor,
    },
}

#[async_trait]
pub trait PollStateStore: Send + Sync {
    /// The tenant's state; a default (empty) state when nothing was stored yet.
    async fn get(&self, tenant: &TenantId) -> Result<PollState, StoreError>;

    /// Takes the lease if nobody holds it or the current lease expired at `now`.
    async fn acquire_lease(
        &self,
        tenant: &TenantId,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<LeaseOutcome, StoreError>;

    /// Extends a lease that is still held (same owner and epoch, not expired at `now`).
    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<RenewOutcome, StoreError>;

    async fn release_lease(&self, lease: &Lease) -> Result<ReleaseOutcome, StoreError>;

    /// Moves the watermark to `updated_after` if the stored cursor version is
    /// `expected_version` (0 = never advanced) and the watermark does not go backwards.
    async fn advance_cursor(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        updated_after: DateTime<Utc>,
    ) -> Result<CursorOutcome, StoreError>;

    async fn record_success(&self, tenant: &TenantId, at: DateTime<Utc>) -> Result<(), StoreError>;

    async fn record_failure(
        &self,
        tenant: &TenantId,
        at: DateTime<Utc>,
        message: &str,
    ) -> Result<(), StoreError>;
}

/// Checks shared by every adapter.
pub fn check_lease_request(owner: &str, ttl: Duration) -> Result<(), StoreError> {
    if owner.is_empty() {
        return Err(StoreError::invalid("lease owner", "is empty"));
    }
    if ttl.is_zero() {
        return Err(StoreError::invalid("lease ttl", "is zero"));
    }
    Ok(())
}

/// Longest failure message kept; a status page needs the gist, not a whole response body.
pub const MAX_FAILURE_MESSAGE: usize = 2000;

pub fn clip_message(message: &str) -> String {
    match message.char_indices().nth(MAX_FAILURE_MESSAGE) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}
