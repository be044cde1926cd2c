//! The one error disposition every layer's errors report: what the caller should do about a
//! failure. It lives in the lowest crate so the Beyond client, the domain and the connector
//! speak the same three words; each error type has one `disposition()` that decides.

/// What to do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Worth retrying later: 429, 5xx, timeouts, connection failures, a throttled store,
    /// a lease held by another poller.
    Retry,
    /// Retrying will fail the same way: validation, not found, a missing scope, a body
    /// that does not decode, a command that cannot be planned. It goes to the activity
    /// log and the dead-letter queue with its reason.
    Reject,
    /// An UNSAFE request may or may not have been applied: re-read the state (order
    /// buckets, processes, stock) before deciding to repeat it.
    Ambiguous,
}

impl Disposition {
    /// `true` for [`Disposition::Retry`].
    pub fn is_retry(self) -> bool {
        self == Disposition::Retry
    }

    /// `true` for [`Disposition::Reject`].
    pub fn is_reject(self) -> bool {
        self == Disposition::Reject
    }
}
