//! Per-tenant polling state: the incremental cursor, the lease that keeps two polls of one
//! tenant from overlapping, and the bookkeeping shown in status reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tenant::TenantId;

/// The `updatedAfter` watermark of a tenant's order poll. `version` starts at 0 (never
/// advanced) and goes up by one with every accepted advance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollCursor {
    pub updated_after: Option<DateTime<Utc>>,
    pub version: u64,
}

/// A held poll lease. `epoch` is a fencing token: it changes on every acquisition, so a
/// holder whose lease was taken over cannot release or renew the new holder's lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub tenant: TenantId,
    pub owner: String,
    pub until: DateTime<Utc>,
    pub epoch: u64,
}

/// The last failed poll, for status reporting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollFailure {
    pub at: DateTime<Utc>,
    pub message: String,
}

/// Everything stored about a tenant's polling.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollState {
    /// The record's version: 0 when nothing was stored (or the record predates versions),
    /// +1 with every accepted write of any part of it (lease, cursor, bookkeeping). A poll
    /// that read version `v` and writes conditionally on `v` knows nobody polled meanwhile.
    #[serde(default)]
    pub version: u64,
    pub cursor: PollCursor,
    /// The current lease, expired or not (compare `until` with the clock).
    pub lease: Option<Lease>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure: Option<PollFailure>,
}
