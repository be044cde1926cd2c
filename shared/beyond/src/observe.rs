//! What the client reports while it works, for whoever counts: the app maps these events
//! onto its metrics (`connector::metrics`), so this crate needs no metrics of its own.

/// One thing worth counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEvent {
    /// An HTTP request was sent (every attempt, token calls included).
    ApiCall,
    /// Beyond answered 429 to an attempt.
    Throttled,
    /// A token was obtained with a refresh token or client credentials (not an install's
    /// code exchange).
    TokenRefresh,
}

/// Receives [`ClientEvent`]s; called on the request path, so it must be cheap.
pub trait ClientObserver: Send + Sync {
    fn observe(&self, event: ClientEvent);
}

/// The observer of an engine built without one.
#[derive(Debug, Clone, Copy, Default)]
pub struct IgnoreEvents;

impl ClientObserver for IgnoreEvents {
    fn observe(&self, _event: ClientEvent) {}
}
