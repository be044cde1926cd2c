//! The request engine shared by API calls and token calls: one `reqwest::Client`, the
//! per-shop concurrency limit, the request counter, tracing, and the retry loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use http::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tracing::Instrument;
use url::Url;

use crate::auth::TokenSource;
use crate::error::BeyondError;
use crate::observe::{ClientEvent, ClientObserver, IgnoreEvents};
use crate::retry::{
    AttemptFailure, Decision, RequestSafety, RetryPolicy, decide, parse_retry_after,
};
use crate::tls::install_crypto_provider;

/// Transport settings of one shop's client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Whole request, connect to last body byte.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Requests in flight at once towards this shop, so one tenant cannot flood it.
    pub max_concurrent_requests: usize,
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            max_concurrent_requests: 4,
            user_agent: concat!("epages-sync/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// The HTTP engine. Cheap to clone; clones share the connection pool, the concurrency
/// limit, the request counters and the observer.
#[derive(Clone)]
pub struct BeyondHttp {
    inner: Arc<HttpInner>,
}

struct HttpInner {
    http: reqwest::Client,
    retry: RetryPolicy,
    permits: Semaphore,
    requests: AtomicU64,
    /// 429 answers seen by the retry loop.
    throttled: AtomicU64,
    observer: Arc<dyn ClientObserver>,
}

impl std::fmt::Debug for BeyondHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeyondHttp")
            .field("retry", &self.inner.retry)
            .field("requests", &self.http_requests())
            .finish_non_exhaustive()
    }
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// API calls: a bearer token; a 401 invalidates it and retries once.
    Bearer(&'a dyn TokenSource),
    /// The token endpoint: HTTP Basic with the app's client id and secret.
    Basic {
        username: &'a str,
        password: &'a SecretString,
    },
}

/// One logical call (possibly several HTTP attempts).
pub(crate) struct Call<'a> {
    pub operation: &'static str,
    pub method: Method,
    pub url: Url,
    pub body: Option<Bytes>,
    pub safety: RequestSafety,
    pub auth: Auth<'a>,
    /// Strip the URL from transport errors: token URLs carry codes and refresh tokens.
    pub secret_url: bool,
}

/// A complete HTTP answer.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: Bytes,
}

impl BeyondHttp {
    pub fn new(settings: &HttpSettings) -> Result<Self, BeyondError> {
        Self::metered(settings, Arc::new(IgnoreEvents))
    }

    /// An engine that also reports every API call, throttled answer and (through the token
    /// endpoints built on it) token refresh to `observer` (the app counts them as metrics).
    pub fn metered(
        settings: &HttpSettings,
        observer: Arc<dyn ClientObserver>,
    ) -> Result<Self, BeyondError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(settings.user_agent.clone())
            .build()
            .map_err(|source| BeyondError::Config {
                reason: "cannot build the HTTP client".to_owned(),
                source: Some(Box::new(source)),
            })?;
        Ok(Self {
            inner: Arc::new(HttpInner {
                http,
                retry: settings.retry.clone(),
                permits: Semaphore::new(settings.max_concurrent_requests.max(1)),
                requests: AtomicU64::new(0),
                throttled: AtomicU64::new(0),
                observer,
            }),
        })
    }

    /// HTTP requests sent so far (every attempt counts, token calls included).
    pub fn http_requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// 429 answers received so far (each throttled attempt counts).
    pub fn http_throttled(&self) -> u64 {
        self.inner.throttled.load(Ordering::Relaxed)
    }

    /// The observer this engine reports to (one that ignores everything unless built with
    /// [`Self::metered`]).
    pub fn observer(&self) -> &Arc<dyn ClientObserver> {
        &self.inner.observer
    }

    /// Runs a call with retries, re-authentication and the concurrency limit.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Answer, BeyondError> {
        let policy = &self.inner.retry;
        let mut attempt: u32 = 0;
        let mut reauthenticated = false;
        loop {
            attempt += 1;
            let bearer = match call.auth {
                Auth::Bearer(tokens) => Some(tokens.access_token().await?),
                Auth::Basic { .. } => None,
            };
            let span = tracing::info_span!(
                "beyond.request",
                operation = call.operation,
                method = %call.method,
                path = %path_template(&call.url),
                attempt,
                status = tracing::field::Empty,
            );
            let error = match self.attempt(&call, bearer.as_ref()).instrument(span).await {
                Ok(answer) if answer.status.is_success() => return Ok(answer),
                Ok(answer) => {
                    if answer.status == StatusCode::TOO_MANY_REQUESTS {
                        self.inner.throttled.fetch_add(1, Ordering::Relaxed);
                        self.inner.observer.observe(ClientEvent::Throttled);
                    }
                    if answer.status == StatusCode::UNAUTHORIZED
                        && !reauthenticated
                        && let (Auth::Bearer(tokens), Some(rejected)) = (call.auth, &bearer)
                    {
                        // A 401 proves nothing was done; a fresh token gets one more try.
                        reauthenticated = true;
                        tokens.invalidate(rejected).await;
                        attempt -= 1;
                        continue;
                    }
                    BeyondError::from_response(
                        call.operation,
                        answer.status,
                        &answer.body,
                        answer.retry_after,
                    )
                }
                Err(error) => error,
            };
            let failure = match &error {
                BeyondError::Api {
                    status, details, ..
                } => AttemptFailure::Status {
                    status: *status,
                    error_id: details.error_id.as_deref(),
                },
                BeyondError::Transport { sent: false, .. } => AttemptFailure::NotSent,
                _ => AttemptFailure::LostAfterSend,
            };
            match decide(policy, call.safety, failure, attempt) {
                Decision::Retry => {
                    let delay = policy.delay(attempt, error.retry_after(), &mut rand::rng());
                    tracing::warn!(
                        operation = call.operation,
                        attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %error,
                        "retrying Beyond request"
                    );
                    tokio::time::sleep(delay).await;
                }
                Decision::Fail => return Err(error),
                Decision::Ambiguous => {
                    tracing::warn!(
                        operation = call.operation,
                        attempt,
                        error = %error,
                        "unsafe Beyond request failed ambiguously; not retried"
                    );
                    return Err(BeyondError::AmbiguousUnsafeRequest {
                        operation: call.operation,
                        source: Box::new(error),
                    });
                }
            }
        }
    }

    /// One HTTP exchange under a concurrency permit.
    async fn attempt(
        &self,
        call: &Call<'_>,
        bearer: Option<&SecretString>,
    ) -> Result<Answer, BeyondError> {
        // The semaphore is never closed, so acquiring cannot fail; map it anyway rather
        // than panic.
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|source| BeyondError::Config {
                reason: "the concurrency limiter was closed".to_owned(),
                source: Some(Box::new(source)),
            })?;
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.observer.observe(ClientEvent::ApiCall);

        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/hal+json, application/json");
        request = match (call.auth, bearer) {
            (Auth::Basic { username, password }, _) => {
                request.basic_auth(username, Some(password.expose_secret()))
            }
            (Auth::Bearer(_), Some(token)) => request.bearer_auth(token.expose_secret()),
            (Auth::Bearer(_), None) => request,
        };
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }

        let transport_error = |source: reqwest::Error, sent: bool| BeyondError::Transport {
            operation: call.operation,
            sent,
            source: if call.secret_url {
                source.without_url()
            } else {
                source
            },
        };
        let response = request.send().await.map_err(|source| {
            // Only a failure to connect proves the request never left.
            let sent = !source.is_connect();
            transport_error(source, sent)
        })?;
        let status = response.status();
        tracing::Span::current().record("status", status.as_u16());
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, chrono::Utc::now()));
        let body = response
            .bytes()
            .await
            .map_err(|source| transport_error(source, true))?;
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}

/// The URL's path with every id replaced by `{id}`: what a trace may show of a request (the
/// host, query and ids stay out). Our paths are API words (`orders`, `processes`,
/// `find-by-sku`: lowercase letters and `-`) and ids (UUIDs, which always hold a digit);
/// any segment that is not such a word is taken for an id.
pub(crate) fn path_template(url: &Url) -> String {
    let mut template = String::new();
    for segment in url.path().split('/').filter(|s| !s.is_empty()) {
        template.push('/');
        if segment.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            template.push_str(segment);
        } else {
            template.push_str("{id}");
        }
    }
    if template.is_empty() {
        template.push('/');
    }
    template
}

/// Decodes a JSON body, naming the operation and the JSON path on failure.
pub(crate) fn decode<T: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
) -> Result<T, BeyondError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| BeyondError::Decode {
        operation,
        path: error.path().to_string(),
        source: error.into_inner(),
    })
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn path_templates_keep_api_words_only() {
        let url = Url::parse(
            "https://shop.example/api/orders/0b7e6a52-35c7-4a51-bb1a-3c2f5e1d9a10/processes/shippings?page=2&sku=SECRET",
        )
        .unwrap();
        assert_eq!(path_template(&url), "/api/orders/{id}/processes/shippings");
        let sandbox = Url::parse("http://127.0.0.1:1/shops/s1/api/oauth/token?code=abc").unwrap();
        assert_eq!(path_template(&sandbox), "/shops/{id}/api/oauth/token");
        let odd = Url::parse("http://h/Orders/a%2Fb/%E2%9C%93").unwrap();
        assert_eq!(path_template(&odd), "/{id}/{id}/{id}");
        assert_eq!(path_template(&Url::parse("http://h").unwrap()), "/");
    }
}
