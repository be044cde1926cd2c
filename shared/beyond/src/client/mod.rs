//! [`BeyondClient`]: a typed client for ONE Beyond shop.
//!
//! Operations live in `orders.rs`, `products.rs` and `webhooks.rs`; each one states its
//! [`RequestSafety`], which decides how failures are retried (see `retry.rs`).

pub(crate) mod http;
mod orders;
mod paging;
mod products;
mod query;
mod webhooks;

use std::sync::Arc;

use ::http::Method;
use bytes::Bytes;
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

pub use self::http::{BeyondHttp, HttpSettings};
pub use self::paging::{Listing, MAX_PAGES};
pub use self::query::{OrderQuery, PageRequest, Sort, SortDirection};

use self::http::{Answer, Auth, Call, decode};
use super::auth::{ClientCredentialsTokens, TokenEndpoint, TokenSource};
use super::error::BeyondError;
use super::model::Dated;
use super::retry::RequestSafety;

/// Typed configuration of one shop's client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The shop's API root, e.g. `https://x.beyondshop.cloud/api` or
    /// `http://127.0.0.1:PORT/shops/s1/api`.
    pub api_url: Url,
    pub http: HttpSettings,
}

impl ClientConfig {
    /// Default settings for the shop at `api_url`.
    pub fn new(api_url: &str) -> Result<Self, BeyondError> {
        let api_url = Url::parse(api_url).map_err(|source| BeyondError::Config {
            reason: format!("invalid API URL {api_url:?}"),
            source: Some(Box::new(source)),
        })?;
        Ok(Self {
            api_url,
            http: HttpSettings::default(),
        })
    }
}

/// A client for one shop. Cheap to clone: clones share the connection pool, the
/// concurrency limit, the request counter and the token source.
#[derive(Clone)]
pub struct BeyondClient {
    http: BeyondHttp,
    api_url: Url,
    tokens: Arc<dyn TokenSource>,
}

impl std::fmt::Debug for BeyondClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeyondClient")
            .field("api_url", &self.api_url.as_str())
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl BeyondClient {
    /// A client whose bearer tokens come from `tokens`.
    pub fn new(config: &ClientConfig, tokens: Arc<dyn TokenSource>) -> Result<Self, BeyondError> {
        let http = BeyondHttp::new(&config.http)?;
        Self::with_http(http, config.api_url.clone(), tokens)
    }

    /// A client on an existing engine (share it with a [`TokenEndpoint`]).
    pub fn with_http(
        http: BeyondHttp,
        api_url: Url,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<Self, BeyondError> {
        if api_url.cannot_be_a_base() {
            return Err(BeyondError::Config {
                reason: format!("API URL {api_url} cannot hold a path"),
                source: None,
            });
        }
        Ok(Self {
            http,
            api_url,
            tokens,
        })
    }

    /// A custom-app client: client-credentials tokens from `{api_url}/oauth/token`,
    /// through the same engine (so token calls count and obey the same limits).
    pub fn with_client_credentials(
        config: &ClientConfig,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, BeyondError> {
        let http = BeyondHttp::new(&config.http)?;
        let endpoint =
            TokenEndpoint::for_api_url(http.clone(), &config.api_url, client_id, client_secret)?;
        let tokens = Arc::new(ClientCredentialsTokens::new(endpoint));
        Self::with_http(http, config.api_url.clone(), tokens)
    }

    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// The engine, e.g. to build a [`TokenEndpoint`] that shares it.
    pub fn http(&self) -> &BeyondHttp {
        &self.http
    }

    /// HTTP requests this client (and its clones) sent so far, every attempt counted.
    pub fn http_requests(&self) -> u64 {
        self.http.http_requests()
    }

    /// `{api_url}/seg/seg…`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url, BeyondError> {
        join_path(&self.api_url, segments)
    }

    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        body: Option<Bytes>,
        safety: RequestSafety,
    ) -> Result<Answer, BeyondError> {
        self.http
            .execute(Call {
                operation,
                method,
                url,
                body,
                safety,
                auth: Auth::Bearer(self.tokens.as_ref()),
                secret_url: false,
            })
            .await
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
    ) -> Result<T, BeyondError> {
        Ok(self.get_json_dated(operation, url).await?.value)
    }

    /// Like [`Self::get_json`], with the answer's `Date`.
    async fn get_json_dated<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
    ) -> Result<Dated<T>, BeyondError> {
        let answer = self
            .call(operation, Method::GET, url, None, RequestSafety::Safe)
            .await?;
        Ok(Dated {
            value: decode(operation, &answer.body)?,
            date: answer.date,
        })
    }

    /// Like [`Self::send_json`], with the answer's `Date`.
    async fn send_json_dated<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        body: Option<&B>,
        safety: RequestSafety,
    ) -> Result<Dated<T>, BeyondError> {
        let body = body.map(|b| encode(operation, b)).transpose()?;
        let answer = self.call(operation, method, url, body, safety).await?;
        Ok(Dated {
            value: decode(operation, &answer.body)?,
            date: answer.date,
        })
    }

    /// Sends `body` (or no body) and decodes the answer.
    async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        body: Option<&B>,
        safety: RequestSafety,
    ) -> Result<T, BeyondError> {
        Ok(self
            .send_json_dated(operation, method, url, body, safety)
            .await?
            .value)
    }

    /// Sends a request whose answer body is not needed (204 or ignored).
    async fn send_no_content(
        &self,
        operation: &'static str,
        method: Method,
        url: Url,
        safety: RequestSafety,
    ) -> Result<(), BeyondError> {
        self.call(operation, method, url, None, safety)
            .await
            .map(drop)
    }
}

fn encode<B: Serialize + ?Sized>(operation: &'static str, body: &B) -> Result<Bytes, BeyondError> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|source| BeyondError::Encode { operation, source })
}

/// Appends percent-encoded path segments to a base URL.
pub fn join_path(base: &Url, segments: &[&str]) -> Result<Url, BeyondError> {
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| BeyondError::Config {
            reason: format!("API URL {base} cannot hold a path"),
            source: None,
        })?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_below_the_api_root_and_are_encoded() {
        let base = Url::parse("http://127.0.0.1:8080/shops/s1/api").unwrap();
        let url = join_path(&base, &["products", "search", "find-by-sku"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/shops/s1/api/products/search/find-by-sku"
        );
        let slash = Url::parse("https://x.beyondshop.cloud/api/").unwrap();
        let url = join_path(&slash, &["orders", "a/b c"]).unwrap();
        assert_eq!(
            url.as_str(),
            "https://x.beyondshop.cloud/api/orders/a%2Fb%20c"
        );
    }

    #[test]
    fn config_rejects_bad_urls() {
        assert!(ClientConfig::new("not a url").is_err());
        let config = ClientConfig::new("mailto:shop@example.com").unwrap();
        let tokens: Arc<dyn TokenSource> =
            Arc::new(crate::auth::StaticToken(SecretString::from("t")));
        assert!(BeyondClient::new(&config, tokens).is_err());
    }
}
