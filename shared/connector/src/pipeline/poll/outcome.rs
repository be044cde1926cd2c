//! What a poll can end in: its errors (and whether they are worth a retry), the reasons a
//! request was not polled, and the statistics of a completed or continued poll.

use chrono::{DateTime, Utc};

use crate::auth::AuthError;
use crate::pipeline::poll_request::PollRequest;
use crate::ports::StoreError;
use beyond::{BeyondError, Disposition};

#[cfg(feature = "testing")]
use super::PollStep;

/// Why a poll failed. [`PollError::is_transient`] decides between retrying the request
/// and dead-lettering it.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("state store")]
    Store(#[from] StoreError),
    #[error("shop client")]
    Auth(#[from] AuthError),
    #[error("reading the shop failed")]
    Shop(#[source] BeyondError),
    #[error("the ledger of order {order_id} was written by someone else meanwhile")]
    LedgerConflict { order_id: String },
    #[error("{failed} order events were not sent: {reason}")]
    Send {
        failed: usize,
        reason: String,
        transient: bool,
    },
    #[error("the poll lease was lost (expired or taken over)")]
    LeaseLost,
    #[error(
        "the poll state changed under the poll {attempts} times (other polls of the tenant kept running)"
    )]
    StateContended { attempts: u32 },
    #[error("the order window kept shifting while it was read ({restarts} restarts)")]
    WindowUnstable { restarts: u32 },
    #[error(
        "the time budget ran out before the read could be checkpointed (the shop does not \
         sort by updatedAt, or more orders than a page share one millisecond); the cursor \
         stays put"
    )]
    OutOfTime,
    #[error("encoding an order event failed")]
    Encode(#[source] serde_json::Error),
    #[cfg(feature = "testing")]
    #[error("injected failure at {step:?}: {message}")]
    Injected { step: PollStep, message: String },
}

impl PollError {
    pub fn is_transient(&self) -> bool {
        self.disposition().is_retry()
    }

    /// Retry or reject. A poll only reads the shop, so an ambiguous read is a retry.
    pub fn disposition(&self) -> Disposition {
        match self {
            PollError::Store(error) => error.disposition(),
            PollError::Auth(error) if error.is_permanent() => Disposition::Reject,
            PollError::Auth(_) => Disposition::Retry,
            PollError::Shop(error) if error.is_transient() => Disposition::Retry,
            PollError::Shop(_) => Disposition::Reject,
            PollError::Send {
                transient: true, ..
            } => Disposition::Retry,
            PollError::LedgerConflict { .. }
            | PollError::LeaseLost
            | PollError::StateContended { .. }
            | PollError::WindowUnstable { .. }
            | PollError::OutOfTime => Disposition::Retry,
            #[cfg(feature = "testing")]
            PollError::Injected { .. } => Disposition::Retry,
            PollError::Send { .. } | PollError::Encode(_) => Disposition::Reject,
        }
    }
}

/// Why a request was acknowledged without polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotPolled {
    UnknownTenant,
    Paused,
    OrdersFlowOff,
}

/// Counts of one poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollStats {
    pub pages: u32,
    pub orders_seen: usize,
    pub events_sent: usize,
    /// Forced re-emissions of a `--force` resync, included in `events_sent`.
    pub events_forced: usize,
    pub orders_invalid: usize,
    /// Orders whose events could not be sent even shrunk: parked (docs/ORDER-EVENTS.md).
    pub orders_parked: usize,
    pub orders_held: usize,
    pub shipment_reads: usize,
    pub restarts: u32,
    /// Beyond HTTP requests this poll made (every attempt, token calls included).
    pub shop_requests: u64,
    /// The cursor after the poll.
    pub cursor: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    NotPolled(NotPolled),
    /// Another poll holds the tenant's lease.
    LeaseHeld {
        owner: String,
        until: DateTime<Utc>,
    },
    /// The whole window was read.
    Completed(PollStats),
    /// The budget ran out; `continuation` was enqueued to read on.
    Continued {
        stats: PollStats,
        continuation: PollRequest,
    },
}
