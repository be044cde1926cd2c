//! Poll cursor, lease and last-poll bookkeeping per tenant.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use domain::poll_state::{Lease, PollCursor, PollState};

use domain::tenant::TenantId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenewOutcome {
    Renewed(Lease),
    /// The lease expired or was taken over: stop working on the tenant.
    Lost,
}

/// The bookkeeping a poll leaves behind: when it last succeeded, or why it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PollRecord {
    Success { at: DateTime<Utc> },
    Failure { at: DateTime<Utc>, message: String },
}

/// One write of a poll that holds no lease: its bookkeeping and, if the read covered it,
/// the cursor's new watermark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnleasedWrite {
    /// Moves the cursor forward to this watermark (never back); `None` leaves it.
    pub cursor: Option<DateTime<Utc>>,
    pub record: PollRecord,
}

/// One write of the lease holder: a cursor checkpoint, optionally with the release of the
/// lease and the poll's bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeasedWrite {
    /// Moves the cursor forward to this watermark (never back); `None` leaves it.
    pub cursor: Option<DateTime<Utc>>,
    /// Releases the lease in the same write.
    pub release: bool,
    pub record: Option<PollRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionedLeaseOutcome {
    Acquired(Lease),
    /// Another owner holds an unexpired lease.
    Held {
        owner: String,
        until: DateTime<Utc>,
    },
    /// No live lease, but the record is no longer at the version read: someone polled
    /// meanwhile. `current` is the record now (read in the same call).
    Stale {
        current: PollState,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnleasedOutcome {
    /// Written; the record after the write.
    Written(PollState),
    /// The record changed since it was read (version), a lease is live, or the cursor would
    /// go backwards: nothing was written. `current` is the record now.
    Stale { current: PollState },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeasedOutcome {
    /// Written; the record after the write.
    Written(PollState),
    /// The lease expired into someone else's hands or was released: nothing was written.
    NotHeld,
    /// The lease is held, but the cursor is already past the watermark: nothing was written.
    NotForward { current: PollCursor },
}

#[async_trait]
pub trait PollStateStore: Send + Sync {
    /// The tenant's state; a default (empty) state when nothing was stored yet.
    async fn get(&self, tenant: &TenantId) -> Result<PollState, StoreError>;

    /// Extends a lease that is still held (same owner and epoch, not expired at `now`).
    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<RenewOutcome, StoreError>;

    /// Takes the lease only if the record is still at `expected_version` (0 = never
    /// written) and no unexpired lease is held at `now`: one conditional write. A poll that
    /// read the record, then the shop, takes the lease this way, so it knows nobody polled
    /// between its read and its lease.
    async fn acquire_lease_at(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<VersionedLeaseOutcome, StoreError>;

    /// The one write of a poll that found nothing to emit: bookkeeping and a forward cursor
    /// move, only if the record is still at `expected_version` and no lease is live at
    /// `now`.
    async fn write_unleased(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        write: &UnleasedWrite,
        now: DateTime<Utc>,
    ) -> Result<UnleasedOutcome, StoreError>;

    /// A write of the lease holder (same owner and epoch; an expired lease not yet taken
    /// over still counts): a checkpoint, or the end of the poll (cursor, bookkeeping and
    /// release in one write).
    async fn write_leased(
        &self,
        lease: &Lease,
        write: &LeasedWrite,
    ) -> Result<LeasedOutcome, StoreError>;

    /// Records the failure of a poll that took no lease: bookkeeping only, unconditional.
    ///
    /// Not expressed as `write_unleased`: that write is refused when the record moved since
    /// the poll read it or another poll holds a live lease, and then this poll's failure (a
    /// 429 from the shop, say) would never reach the status page. It touches neither cursor
    /// nor lease, so it needs no condition; its version bump only makes a poll that read the
    /// record before it start over.
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
