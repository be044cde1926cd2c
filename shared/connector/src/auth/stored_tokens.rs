//! [`StoredTokens`]: one tenant's access tokens, shared by every process through the
//! [`TokenStore`] and refreshed by one caller at a time.
//!
//! - Within a process a mutex makes refreshes single-flight: callers wait for the one
//!   refresh in progress and then use its token.
//! - Across processes (Lambda containers) the store's version condition decides: a writer
//!   that lost the race uses the winner's token. An authorization-code refresh token is
//!   rotated by every refresh, so the rotated one must never be overwritten by a writer
//!   that started from an older version; `put_if_version` guarantees that.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use super::error::AuthError;
use crate::ports::tokens::TokenPutOutcome;
use crate::ports::{ActivityLog, Clock, SecretStore, TokenStore};
use beyond::model::{Scopes, TokenResponse};
use beyond::{BeyondError, BeyondHttp, Disposition, TokenEndpoint, TokenSource};
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::tenant::{AuthMode, SecretRef, TenantConfig, TenantId};
use domain::tokens::TenantTokens;

/// Refresh this long before a token expires, so it never expires in flight.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Used when a token response carries no `expires_in`: short enough to be harmless.
const FALLBACK_LIFETIME_SECS: u64 = 300;

/// How often a refresh re-reads after the shop refused the refresh token, waiting for a
/// concurrent refresher (another container) to store the rotated one.
const ROTATION_WAITS: &[Duration] = &[
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
    Duration::from_millis(1600),
];

/// Rounds of read → exchange → conditional write before giving up as contended.
const MAX_ROUNDS: usize = 6;

/// Counters of token work, for metrics. Shared by all tenants of one [`super::ShopClients`].
#[derive(Debug, Default)]
pub struct TokenCounters {
    /// Successful token-endpoint exchanges (new or refreshed tokens).
    pub refreshes: AtomicU64,
    /// Token-endpoint exchanges that failed.
    pub refresh_failures: AtomicU64,
    /// Writes that lost against another process; the winner's token was used.
    pub lost_races: AtomicU64,
    /// Tokens taken from the store that another process had refreshed.
    pub adopted: AtomicU64,
}

/// A snapshot of [`TokenCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub refreshes: u64,
    pub refresh_failures: u64,
    pub lost_races: u64,
    pub adopted: u64,
}

impl TokenCounters {
    pub fn snapshot(&self) -> TokenCounts {
        TokenCounts {
            refreshes: self.refreshes.load(Ordering::Relaxed),
            refresh_failures: self.refresh_failures.load(Ordering::Relaxed),
            lost_races: self.lost_races.load(Ordering::Relaxed),
            adopted: self.adopted.load(Ordering::Relaxed),
        }
    }
}

/// The ports and settings a [`StoredTokens`] works with.
#[derive(Clone)]
pub struct TokenPorts {
    pub tokens: Arc<dyn TokenStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub activity: Arc<dyn ActivityLog>,
    pub clock: Arc<dyn Clock>,
    pub refresh_margin: Duration,
    pub counters: Arc<TokenCounters>,
}

/// What identifies the app a tenant's tokens belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppIdentity {
    pub token_url: Url,
    pub auth_mode: AuthMode,
    pub client_id: String,
    pub client_secret: SecretRef,
}

impl AppIdentity {
    pub(crate) fn of(tenant: &TenantConfig) -> Result<Self, AuthError> {
        let token_url =
            beyond::client::join_path(&tenant.api_url, &["oauth", "token"]).map_err(|source| {
                AuthError::Client {
                    tenant: tenant.id.clone(),
                    source: Box::new(source),
                }
            })?;
        Ok(Self {
            token_url,
            auth_mode: tenant.auth_mode,
            client_id: tenant.client_id.clone(),
            client_secret: tenant.client_secret.clone(),
        })
    }
}

/// One tenant's [`TokenSource`] over the token store.
pub struct StoredTokens {
    tenant: TenantId,
    app: AppIdentity,
    http: BeyondHttp,
    ports: TokenPorts,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The tokens last read or written, with their store version.
    current: Option<TenantTokens>,
    /// A token Beyond answered 401 for: never handed out again, even if still stored.
    rejected: Option<SecretString>,
    /// Built once the client secret was read.
    endpoint: Option<TokenEndpoint>,
    /// The scopes the last exchange of this process was granted.
    granted: Option<Scopes>,
    /// For tokens this process fetched: their store version and when to refresh them.
    /// A lifetime at or below the refresh margin (`expires_in` of 60, or none) would make
    /// every call refresh; such a token is used for half its lifetime instead (issue 13).
    own_refresh_at: Option<(u64, DateTime<Utc>)>,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("tenant", &self.tenant)
            .field("auth_mode", &self.app.auth_mode)
            .finish_non_exhaustive()
    }
}

impl StoredTokens {
    /// Tokens for `tenant`, fetched through `http` (share it with the tenant's client so
    /// token calls obey the same limits).
    pub fn new(
        tenant: &TenantConfig,
        http: BeyondHttp,
        ports: TokenPorts,
    ) -> Result<Self, AuthError> {
        Ok(Self {
            tenant: tenant.id.clone(),
            app: AppIdentity::of(tenant)?,
            http,
            ports,
            state: Mutex::new(State::default()),
        })
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// A valid access token: the cached one while fresh, else the stored one (another
    /// process may have refreshed it), else a new one from the token endpoint.
    pub async fn current_token(&self) -> Result<SecretString, AuthError> {
        let mut state = self.state.lock().await;
        if let Some(token) = self.usable(&state, state.current.as_ref()) {
            return Ok(token);
        }
        for _round in 0..MAX_ROUNDS {
            let stored = self.read_stored().await?;
            if let Some(token) = self.usable(&state, stored.as_ref()) {
                if state
                    .current
                    .as_ref()
                    .is_none_or(|mine| stored.as_ref().is_some_and(|s| s.version != mine.version))
                {
                    self.ports.counters.adopted.fetch_add(1, Ordering::Relaxed);
                }
                state.current = stored;
                return Ok(token);
            }
            let read_version = stored.as_ref().map_or(0, |tokens| tokens.version);
            let fetched_at = self.ports.clock.now();
            let response = match self.exchange(&mut state, stored.as_ref()).await {
                Ok(response) => response,
                Err(Exchange::RefreshRefused(source)) => {
                    // Another process may have used the same refresh token a moment ago
                    // and not stored the rotated one yet: wait for its write before
                    // declaring the token dead.
                    if self.wait_for_newer(read_version).await? {
                        continue;
                    }
                    let error = AuthError::RefreshRejected {
                        tenant: self.tenant.clone(),
                        source: Box::new(source),
                    };
                    self.log_permanent(&error).await;
                    return Err(error);
                }
                Err(Exchange::Failed(error)) => {
                    if error.is_permanent() {
                        self.log_permanent(&error).await;
                    }
                    return Err(error);
                }
            };
            let refresh_at = refresh_at(fetched_at, response.expires_in, self.ports.refresh_margin);
            let tokens = TenantTokens {
                access_token: response.access_token.clone(),
                access_expires_at: expiry(fetched_at, response.expires_in),
                // Beyond rotates refresh tokens; keep the old one only if it sent none.
                refresh_token: response
                    .refresh_token
                    .clone()
                    .or_else(|| stored.as_ref().and_then(|s| s.refresh_token.clone())),
                version: read_version,
            };
            match self.put(&tokens).await? {
                TokenPutOutcome::Stored { version } => {
                    tracing::info!(tenant = %self.tenant, version, "stored refreshed ePages tokens");
                    state.current = Some(TenantTokens { version, ..tokens });
                    state.own_refresh_at = Some((version, refresh_at));
                    return Ok(response.access_token);
                }
                TokenPutOutcome::Stale { current } => {
                    self.ports
                        .counters
                        .lost_races
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        tenant = %self.tenant,
                        "another process stored tokens first; using the stored ones"
                    );
                    match current {
                        None => {
                            // Deleted meanwhile (uninstall): do not bring them back.
                            state.current = None;
                            return Err(AuthError::NotInstalled {
                                tenant: self.tenant.clone(),
                            });
                        }
                        Some(winner) => {
                            if let Some(token) = self.usable(&state, Some(&winner)) {
                                state.current = Some(winner);
                                return Ok(token);
                            }
                            // The winner's token is not usable; go round again from it.
                        }
                    }
                }
            }
        }
        Err(AuthError::Contended {
            tenant: self.tenant.clone(),
        })
    }

    /// Fetches a new token now (the current one is not used again) and returns the scopes
    /// the shop granted it. For `tenant verify`: proves the credentials work today.
    pub async fn refresh_now(&self) -> Result<Scopes, AuthError> {
        {
            let mut state = self.state.lock().await;
            let known = match state.current.take() {
                Some(current) => Some(current),
                None => self.read_stored().await?,
            };
            if let Some(known) = known {
                state.rejected = Some(known.access_token);
            }
            state.granted = None;
        }
        self.current_token().await?;
        let state = self.state.lock().await;
        Ok(state.granted.clone().unwrap_or_default())
    }

    /// Drops what this process knows (cached token and endpoint), e.g. after the tenant's
    /// secret changed. The next call reads the store again.
    pub async fn reset(&self) {
        let mut state = self.state.lock().await;
        state.current = None;
        state.endpoint = None;
    }

    /// The token of `tokens` if it is fresh and was not rejected.
    fn usable(&self, state: &State, tokens: Option<&TenantTokens>) -> Option<SecretString> {
        let tokens = tokens?;
        // Every token this process holds is redacted wherever it would be printed.
        beyond::redact::register_secret(&tokens.access_token);
        if let Some(refresh) = &tokens.refresh_token {
            beyond::redact::register_secret(refresh);
        }
        let now = self.ports.clock.now();
        let fresh = match state.own_refresh_at {
            Some((version, refresh_at)) if version == tokens.version => {
                now < refresh_at && now < tokens.access_expires_at
            }
            _ => {
                let margin =
                    TimeDelta::from_std(self.ports.refresh_margin).unwrap_or(TimeDelta::zero());
                tokens.is_fresh(now, margin)
            }
        };
        if !fresh {
            return None;
        }
        if state
            .rejected
            .as_ref()
            .is_some_and(|rejected| same_secret(rejected, &tokens.access_token))
        {
            return None;
        }
        Some(tokens.access_token.clone())
    }

    async fn read_stored(&self) -> Result<Option<TenantTokens>, AuthError> {
        self.ports
            .tokens
            .get(&self.tenant)
            .await
            .map_err(|source| AuthError::Store {
                tenant: self.tenant.clone(),
                what: "reading the tokens",
                source: Box::new(source),
            })
    }

    async fn put(&self, tokens: &TenantTokens) -> Result<TokenPutOutcome, AuthError> {
        self.ports
            .tokens
            .put_if_version(&self.tenant, tokens)
            .await
            .map_err(|source| AuthError::Store {
                tenant: self.tenant.clone(),
                what: "storing the tokens",
                source: Box::new(source),
            })
    }

    /// Re-reads the store a few times with growing pauses; `true` once a version newer
    /// than `read_version` appears.
    async fn wait_for_newer(&self, read_version: u64) -> Result<bool, AuthError> {
        for pause in ROTATION_WAITS {
            tokio::time::sleep(*pause).await;
            let stored = self.read_stored().await?;
            if stored.is_some_and(|tokens| tokens.version != read_version) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// One call to the token endpoint for the tenant's auth mode.
    async fn exchange(
        &self,
        state: &mut State,
        stored: Option<&TenantTokens>,
    ) -> Result<TokenResponse, Exchange> {
        let endpoint = self.endpoint(state).await.map_err(Exchange::Failed)?;
        let result = match self.app.auth_mode {
            AuthMode::ClientCredentials => endpoint.client_credentials().await,
            AuthMode::AuthorizationCode => {
                let Some(refresh_token) = stored.and_then(|tokens| tokens.refresh_token.as_ref())
                else {
                    return Err(Exchange::Failed(AuthError::NotInstalled {
                        tenant: self.tenant.clone(),
                    }));
                };
                endpoint.refresh(refresh_token).await
            }
        };
        match result {
            Ok(response) => {
                self.ports
                    .counters
                    .refreshes
                    .fetch_add(1, Ordering::Relaxed);
                state.granted = Some(response.scope.clone());
                Ok(response)
            }
            Err(source) => {
                self.ports
                    .counters
                    .refresh_failures
                    .fetch_add(1, Ordering::Relaxed);
                let status = source.status().map(|status| status.as_u16());
                tracing::warn!(
                    tenant = %self.tenant,
                    error = %source,
                    "ePages token request failed"
                );
                if source.disposition() != Disposition::Reject {
                    return Err(Exchange::Failed(AuthError::TokenEndpoint {
                        tenant: self.tenant.clone(),
                        source: Box::new(source),
                    }));
                }
                // 401 = the client credentials; 400 on a refresh = the grant (invalid_grant).
                match (self.app.auth_mode, status) {
                    (_, Some(401)) => {
                        // The secret may have been rotated: read it again next time.
                        state.endpoint = None;
                        Err(Exchange::Failed(AuthError::CredentialsRejected {
                            tenant: self.tenant.clone(),
                            source: Box::new(source),
                        }))
                    }
                    (AuthMode::AuthorizationCode, Some(400)) => {
                        Err(Exchange::RefreshRefused(source))
                    }
                    _ => Err(Exchange::Failed(AuthError::TokenEndpoint {
                        tenant: self.tenant.clone(),
                        source: Box::new(source),
                    })),
                }
            }
        }
    }

    /// The token endpoint, built on first use (it needs the client secret).
    async fn endpoint(&self, state: &mut State) -> Result<TokenEndpoint, AuthError> {
        if let Some(endpoint) = &state.endpoint {
            return Ok(endpoint.clone());
        }
        let secret = self
            .ports
            .secrets
            .get(&self.app.client_secret)
            .await
            .map_err(|source| AuthError::Store {
                tenant: self.tenant.clone(),
                what: "reading the client secret",
                source: Box::new(source),
            })?
            .ok_or_else(|| AuthError::MissingClientSecret {
                tenant: self.tenant.clone(),
                name: self.app.client_secret.clone(),
            })?;
        let endpoint = TokenEndpoint::new(
            self.http.clone(),
            self.app.token_url.clone(),
            self.app.client_id.clone(),
            secret,
        );
        state.endpoint = Some(endpoint.clone());
        Ok(endpoint)
    }

    /// A permanent failure needs a person: say so in the tenant's activity log.
    async fn log_permanent(&self, error: &AuthError) {
        let entry = ActivityEntry {
            tenant: self.tenant.clone(),
            entry_id: uuid::Uuid::new_v4().to_string(),
            at: self.ports.clock.now(),
            entity: EntityRef {
                kind: EntityKind::Tenant,
                id: self.tenant.to_string(),
                number: None,
            },
            direction: Direction::EpagesToAfosto,
            action: "auth.token".to_owned(),
            outcome: ActivityOutcome::Failed,
            error: Some(error_chain(error)),
            correlation: Correlation::default(),
        };
        tracing::error!(tenant = %self.tenant, error = %error, "ePages authentication needs attention");
        if let Err(log_error) = self.ports.activity.append(&[entry]).await {
            tracing::warn!(tenant = %self.tenant, error = %log_error, "cannot write the activity log");
        }
    }
}

enum Exchange {
    /// The shop refused the refresh token (`invalid_grant`).
    RefreshRefused(BeyondError),
    Failed(AuthError),
}

#[async_trait]
impl TokenSource for StoredTokens {
    async fn access_token(&self) -> Result<SecretString, BeyondError> {
        self.current_token().await.map_err(BeyondError::from)
    }

    async fn invalidate(&self, rejected: &SecretString) {
        let mut state = self.state.lock().await;
        tracing::info!(tenant = %self.tenant, "the shop rejected the access token; refreshing");
        if state
            .current
            .as_ref()
            .is_some_and(|current| same_secret(&current.access_token, rejected))
        {
            state.current = None;
        }
        state.rejected = Some(rejected.clone());
    }
}

fn same_secret(a: &SecretString, b: &SecretString) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(
        a.expose_secret()
            .as_bytes()
            .ct_eq(b.expose_secret().as_bytes()),
    )
}

/// When this process refreshes a token it fetched: `margin` before expiry, but never before
/// half its lifetime has passed, so a short lifetime cannot cause a refresh per call.
fn refresh_at(
    fetched_at: DateTime<Utc>,
    expires_in: Option<u64>,
    margin: Duration,
) -> DateTime<Utc> {
    let lifetime = Duration::from_secs(expires_in.unwrap_or(FALLBACK_LIFETIME_SECS));
    let usable = lifetime.saturating_sub(margin).max(lifetime / 2);
    TimeDelta::from_std(usable)
        .ok()
        .and_then(|usable| fetched_at.checked_add_signed(usable))
        .unwrap_or(fetched_at)
}

/// When a token fetched at `fetched_at` expires.
pub(crate) fn expiry(fetched_at: DateTime<Utc>, expires_in: Option<u64>) -> DateTime<Utc> {
    let seconds = expires_in.unwrap_or(FALLBACK_LIFETIME_SECS);
    i64::try_from(seconds)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|lifetime| fetched_at.checked_add_signed(lifetime))
        .unwrap_or(fetched_at)
}

pub(crate) use crate::error_chain::error_chain;
