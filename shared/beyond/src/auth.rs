//! OAuth: the token endpoint and the sources of access tokens for API calls.
//!
//! The token endpoint takes HTTP Basic client credentials and the grant parameters in the
//! QUERY STRING (beyond-api.md §1.1); that is the documented and proven form.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::Method;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::client::http::{Auth, BeyondHttp, Call, decode};
use super::error::BeyondError;
use super::model::TokenResponse;
use super::retry::RequestSafety;

/// Where API calls get their bearer token. Implementations cache and refresh; a
/// DynamoDB-backed store can implement this for public apps.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A currently valid access token.
    async fn access_token(&self) -> Result<SecretString, BeyondError>;

    /// Beyond rejected `rejected` with a 401: forget it (if it is still the current one)
    /// so the next [`TokenSource::access_token`] fetches a fresh one.
    async fn invalidate(&self, rejected: &SecretString);
}

/// A fixed token, for tests and one-off tools. `invalidate` does nothing.
pub struct StaticToken(pub SecretString);

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken([REDACTED])")
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn access_token(&self) -> Result<SecretString, BeyondError> {
        crate::redact::register_secret(&self.0);
        Ok(self.0.clone())
    }

    async fn invalidate(&self, _rejected: &SecretString) {}
}

/// A grant to exchange at the token endpoint.
pub enum Grant<'a> {
    ClientCredentials,
    /// The temporary `code` of a public-app install callback.
    AuthorizationCode(&'a SecretString),
    RefreshToken(&'a SecretString),
}

impl Grant<'_> {
    fn operation(&self) -> &'static str {
        match self {
            Grant::ClientCredentials => "oauth-token-client-credentials",
            Grant::AuthorizationCode(_) => "oauth-token-authorization-code",
            Grant::RefreshToken(_) => "oauth-token-refresh",
        }
    }

    /// A code and a refresh token can be used once: when the answer is lost after sending,
    /// the server may have consumed the grant, and a blind repeat would be refused, or
    /// worse, race the rotation. Client credentials can be exchanged any number of times.
    fn safety(&self) -> RequestSafety {
        match self {
            Grant::ClientCredentials => RequestSafety::Safe,
            Grant::AuthorizationCode(_) | Grant::RefreshToken(_) => RequestSafety::Unsafe,
        }
    }
}

/// `POST {api_url}/oauth/token` for one app (client id + secret).
#[derive(Clone)]
pub struct TokenEndpoint {
    http: BeyondHttp,
    url: Url,
    client_id: String,
    client_secret: SecretString,
}

impl std::fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("url", &self.url.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenEndpoint {
    /// The endpoint of the shop at `api_url` (`…/api` → `…/api/oauth/token`).
    pub fn for_api_url(
        http: BeyondHttp,
        api_url: &Url,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, BeyondError> {
        let url = super::client::join_path(api_url, &["oauth", "token"])?;
        Ok(Self::new(http, url, client_id, client_secret))
    }

    /// An explicit token URL, e.g. the `access_token_url` of an install callback.
    pub fn new(
        http: BeyondHttp,
        token_url: Url,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        crate::redact::register_secret(&client_secret);
        Self {
            http,
            url: token_url,
            client_id: client_id.into(),
            client_secret,
        }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Exchanges a grant for tokens. Client credentials are retried like a read; a code or
    /// a refresh token whose answer was lost is not sent again
    /// ([`BeyondError::GrantOutcomeUnknown`]).
    pub async fn exchange(&self, grant: Grant<'_>) -> Result<TokenResponse, BeyondError> {
        let mut url = self.url.clone();
        {
            let mut query = url.query_pairs_mut();
            match &grant {
                Grant::ClientCredentials => {
                    query.append_pair("grant_type", "client_credentials");
                }
                Grant::AuthorizationCode(code) => {
                    crate::redact::register_secret(code);
                    query.append_pair("grant_type", "authorization_code");
                    query.append_pair("code", code.expose_secret());
                }
                Grant::RefreshToken(token) => {
                    crate::redact::register_secret(token);
                    query.append_pair("grant_type", "refresh_token");
                    query.append_pair("refresh_token", token.expose_secret());
                }
            }
        }
        let operation = grant.operation();
        let answer = self
            .http
            .execute(Call {
                operation,
                method: Method::POST,
                url,
                body: None::<Bytes>,
                safety: grant.safety(),
                auth: Auth::Basic {
                    username: &self.client_id,
                    password: &self.client_secret,
                },
                secret_url: true,
            })
            .await
            .map_err(|error| match error {
                BeyondError::AmbiguousUnsafeRequest { operation, source } => {
                    tracing::warn!(operation, "single-use grant answer lost; not repeated");
                    BeyondError::GrantOutcomeUnknown { operation, source }
                }
                other => other,
            })?;
        let tokens: TokenResponse = decode(operation, &answer.body)?;
        crate::redact::register_secret(&tokens.access_token);
        if let Some(refresh) = &tokens.refresh_token {
            crate::redact::register_secret(refresh);
        }
        // An install's code exchange is counted as the install, not as a refresh.
        if !matches!(grant, Grant::AuthorizationCode(_)) {
            self.http
                .observer()
                .observe(crate::observe::ClientEvent::TokenRefresh);
        }
        Ok(tokens)
    }

    pub async fn client_credentials(&self) -> Result<TokenResponse, BeyondError> {
        self.exchange(Grant::ClientCredentials).await
    }

    pub async fn authorization_code(
        &self,
        code: &SecretString,
    ) -> Result<TokenResponse, BeyondError> {
        self.exchange(Grant::AuthorizationCode(code)).await
    }

    /// Beyond answers with a NEW refresh token; store it.
    pub async fn refresh(
        &self,
        refresh_token: &SecretString,
    ) -> Result<TokenResponse, BeyondError> {
        self.exchange(Grant::RefreshToken(refresh_token)).await
    }
}

/// Client-credentials tokens (custom apps), cached in memory until shortly before expiry.
/// Concurrent callers share one fetch.
pub struct ClientCredentialsTokens {
    endpoint: TokenEndpoint,
    /// Refresh this long before `expires_in` runs out, so a token never expires in flight.
    refresh_margin: Duration,
    cached: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    token: SecretString,
    refresh_at: Instant,
}

impl std::fmt::Debug for ClientCredentialsTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentialsTokens")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Used when a token response carries no `expires_in`: short enough to be harmless.
const FALLBACK_LIFETIME: Duration = Duration::from_secs(300);

impl ClientCredentialsTokens {
    pub fn new(endpoint: TokenEndpoint) -> Self {
        Self {
            endpoint,
            refresh_margin: Duration::from_secs(120),
            cached: Mutex::new(None),
        }
    }

    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }
}

#[async_trait]
impl TokenSource for ClientCredentialsTokens {
    async fn access_token(&self) -> Result<SecretString, BeyondError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref()
            && Instant::now() < current.refresh_at
        {
            return Ok(current.token.clone());
        }
        let fetched_at = Instant::now();
        let response = self.endpoint.client_credentials().await?;
        let lifetime = response
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(FALLBACK_LIFETIME);
        // Never cache for less than half the lifetime, even with a large margin.
        let usable = lifetime
            .saturating_sub(self.refresh_margin)
            .max(lifetime / 2);
        *cached = Some(CachedToken {
            token: response.access_token.clone(),
            refresh_at: fetched_at + usable,
        });
        Ok(response.access_token)
    }

    async fn invalidate(&self, rejected: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|current| current.token.expose_secret() == rejected.expose_secret())
        {
            *cached = None;
        }
    }
}
