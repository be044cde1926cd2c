//! A tenant's ePages OAuth tokens.

use chrono::{DateTime, Utc};
use secrecy::SecretString;

/// The tokens of one shop. `version` is owned by the store (0 = nothing stored yet); a
/// write names the version it read, so a rotated refresh token is never overwritten by a
/// refresh that started from an older one.
#[derive(Clone, Debug)]
pub struct TenantTokens {
    pub access_token: SecretString,
    pub access_expires_at: DateTime<Utc>,
    /// Absent for client-credentials apps.
    pub refresh_token: Option<SecretString>,
    pub version: u64,
}

impl TenantTokens {
    /// Whether the access token is still usable at `now` with `margin` to spare.
    pub fn is_fresh(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.access_expires_at - margin > now
    }
}
