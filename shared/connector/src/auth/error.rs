//! The errors of tenant authentication.

use crate::ports::StoreError;
use beyond::{BeyondError, Disposition};
use domain::tenant::{SecretRef, TenantId};

/// Why a tenant's shop client could not be built or could not get an access token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// An authorization-code tenant without stored tokens: the app was never installed,
    /// or it was uninstalled.
    #[error("tenant {tenant}: no ePages tokens are stored; re-install the app in the shop")]
    NotInstalled { tenant: TenantId },

    /// The shop refused the stored refresh token (revoked, or lost in a rotation).
    #[error("tenant {tenant}: the shop rejected the refresh token; re-install the app in the shop")]
    RefreshRejected {
        tenant: TenantId,
        #[source]
        source: Box<BeyondError>,
    },

    /// The token endpoint refused the app's client id or secret.
    #[error(
        "tenant {tenant}: the shop rejected the client credentials; check the client id and \
         secret (`epages-sync tenant verify`)"
    )]
    CredentialsRejected {
        tenant: TenantId,
        #[source]
        source: Box<BeyondError>,
    },

    /// The client secret the tenant points at does not exist.
    #[error("tenant {tenant}: the client secret {name} is not stored")]
    MissingClientSecret { tenant: TenantId, name: SecretRef },

    /// The token endpoint failed otherwise (network, 5xx, an unreadable answer).
    #[error("tenant {tenant}: the token request failed")]
    TokenEndpoint {
        tenant: TenantId,
        #[source]
        source: Box<BeyondError>,
    },

    /// The shop client could not be built (e.g. an unusable API URL).
    #[error("tenant {tenant}: cannot build the shop client")]
    Client {
        tenant: TenantId,
        #[source]
        source: Box<BeyondError>,
    },

    /// Reading or writing tokens or secrets failed.
    #[error("tenant {tenant}: {what} failed")]
    Store {
        tenant: TenantId,
        what: &'static str,
        #[source]
        source: Box<StoreError>,
    },

    /// Other writers kept replacing the tokens while this one tried to store its own.
    #[error("tenant {tenant}: the stored tokens kept changing during a refresh")]
    Contended { tenant: TenantId },
}

impl AuthError {
    /// Transient errors are worth retrying (the message goes back to the queue); permanent
    /// ones need a person (re-install, fix credentials) and go to the activity log.
    pub fn disposition(&self) -> Disposition {
        match self {
            AuthError::NotInstalled { .. }
            | AuthError::RefreshRejected { .. }
            | AuthError::CredentialsRejected { .. }
            | AuthError::MissingClientSecret { .. }
            | AuthError::Client { .. } => Disposition::Reject,
            AuthError::TokenEndpoint { source, .. } => match source.disposition() {
                // A token request is safe to repeat.
                Disposition::Ambiguous => Disposition::Retry,
                class => class,
            },
            AuthError::Store { source, .. } => {
                if source.is_transient() {
                    Disposition::Retry
                } else {
                    Disposition::Reject
                }
            }
            AuthError::Contended { .. } => Disposition::Retry,
        }
    }

    pub fn is_permanent(&self) -> bool {
        self.disposition() == Disposition::Reject
    }

    pub fn tenant(&self) -> &TenantId {
        match self {
            AuthError::NotInstalled { tenant }
            | AuthError::RefreshRejected { tenant, .. }
            | AuthError::CredentialsRejected { tenant, .. }
            | AuthError::MissingClientSecret { tenant, .. }
            | AuthError::TokenEndpoint { tenant, .. }
            | AuthError::Client { tenant, .. }
            | AuthError::Store { tenant, .. }
            | AuthError::Contended { tenant } => tenant,
        }
    }
}

impl From<AuthError> for BeyondError {
    /// What a [`beyond::TokenSource`] hands to the client: the auth error stays
    /// the source, so `BeyondError::disposition` can see that it is permanent.
    fn from(error: AuthError) -> Self {
        BeyondError::Token {
            disposition: error.disposition(),
            source: Box::new(error),
        }
    }
}
