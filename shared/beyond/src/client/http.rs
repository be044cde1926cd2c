//! The request engine shared by API calls and token calls: one `reqwest::Client`, the
//! per-shop concurrency limit, the request counter, tracing, and the retry loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, DATE, RETRY_AFTER};
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
    /// The largest response body read; a larger one fails the call
    /// ([`BeyondError::ResponseTooLarge`]) instead of filling the function's memory.
    pub max_response_bytes: usize,
}

/// 8 MiB: the largest Beyond page (100 orders with every line item) is far below it.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            max_concurrent_requests: 4,
            user_agent: concat!("epages-sync/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
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
    max_response_bytes: usize,
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
    /// The `Date` header, if present and an HTTP date (see [`parse_http_date`]).
    pub date: Option<chrono::DateTime<chrono::Utc>>,
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
            // A redirect would carry the bearer token or the client credentials to
            // wherever the answer points; Beyond's API does not redirect, so a 3xx is an
            // error (it is not followed).
            .redirect(reqwest::redirect::Policy::none())
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
                max_response_bytes: settings.max_response_bytes,
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
        let date = response
            .headers()
            .get(DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_http_date);
        let body = read_capped(response, self.inner.max_response_bytes, call.operation)
            .await
            .map_err(|error| match error {
                CappedRead::Transport(source) => transport_error(source, true),
                CappedRead::TooLarge => BeyondError::ResponseTooLarge {
                    operation: call.operation,
                    limit: self.inner.max_response_bytes,
                },
            })?;
        Ok(Answer {
            status,
            retry_after,
            date,
            body,
        })
    }
}

/// An HTTP date (`Wed, 02 Dec 2026 17:14:15 GMT`, RFC 9110 IMF-fixdate): `None` for
/// anything else (another format, another zone than GMT, a value too long to be one), so a
/// broken header teaches nothing and fails nothing.
pub(crate) fn parse_http_date(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let value = value.trim();
    if value.len() > 40 || !value.ends_with(" GMT") {
        return None;
    }
    chrono::DateTime::parse_from_rfc2822(value)
        .ok()
        .map(|at| at.with_timezone(&chrono::Utc))
}

enum CappedRead {
    Transport(reqwest::Error),
    TooLarge,
}

/// The body, read chunk by chunk and given up as soon as it exceeds `limit` (a declared
/// `Content-Length` above it fails before reading anything).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    operation: &'static str,
) -> Result<Bytes, CappedRead> {
    let too_large = |declared: Option<u64>| {
        tracing::warn!(operation, limit, declared, "Beyond response body too large");
        CappedRead::TooLarge
    };
    if let Some(declared) = response.content_length()
        && declared > u64::try_from(limit).unwrap_or(u64::MAX)
    {
        return Err(too_large(Some(declared)));
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(CappedRead::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large(None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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

/// Decodes a JSON body strictly (nothing but whitespace may follow the value), naming the
/// operation, the JSON path, the types and the position on failure, never a value.
pub(crate) fn decode<T: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
) -> Result<T, BeyondError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        BeyondError::Decode {
            operation,
            failure: crate::error::DecodeFailure::from_serde(
                &error.path().to_string(),
                error.inner(),
            ),
        }
    })?;
    // `{…valid…}x` is not a valid answer: a body with trailing data is not what the server
    // meant to send (or not from the server at all).
    deserializer.end().map_err(|error| BeyondError::Decode {
        operation,
        failure: crate::error::DecodeFailure::from_serde(".", &error),
    })?;
    Ok(value)
}

#[cfg(test)]
mod date_tests {
    use super::parse_http_date;

    #[test]
    fn only_http_dates_are_read() {
        let at = parse_http_date("Wed, 02 Dec 2026 17:14:15 GMT").expect("an HTTP date");
        assert_eq!(at.to_rfc3339(), "2026-12-02T17:14:15+00:00");
        for bad in [
            "",
            "GMT",
            "yesterday",
            "2026-12-02T17:14:15Z",
            "Wed, 02 Dec 2026 17:14:15 +0200",
            "Wed, 32 Dec 2026 17:14:15 GMT",
            "Wed, 02 Dec 2026 25:14:15 GMT",
            "Wed, 02 Dec 99999999999 17:14:15 GMT",
            "\u{0}\u{ff} GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
        assert_eq!(parse_http_date(&"x".repeat(10_000)), None);
    }
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

#[cfg(test)]
mod decode_tests {
    use super::*;
    use crate::model::TokenResponse;

    const AT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJ0b2tlbiI6ImFjY2VzcyJ9.c2lnbmF0dXJlLWF0";
    const RT: &str = "refresh-7f1c2a9e-opaque-0042";

    fn valid() -> String {
        format!(
            r#"{{"access_token":"{AT}","token_type":"bearer","refresh_token":"{RT}","expires_in":43199,"scope":"ordr:r","tenantId":135,"jti":"abc"}}"#
        )
    }

    fn decode_error(body: &str) -> String {
        let error = decode::<TokenResponse>("oauth-token-refresh", body.as_bytes()).unwrap_err();
        assert_eq!(error.disposition(), crate::Disposition::Reject);
        // The whole chain, as every sink prints it.
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(!text.contains(AT) && !text.contains(RT), "leaks: {text}");
        assert!(
            !text.contains("eyJ") && !text.contains("refresh-7f1c"),
            "leaks: {text}"
        );
        text
    }

    #[test]
    fn a_double_encoded_token_answer_fails_without_either_token() {
        let double = serde_json::to_string(&valid()).unwrap();
        let text = decode_error(&double);
        assert!(text.contains("invalid type: found string"), "{text}");
        assert!(text.contains("expected struct TokenResponse"), "{text}");
    }

    #[test]
    fn wrong_typed_fields_name_the_path_and_type_only() {
        let tenant = valid().replace(r#""tenantId":135"#, &format!(r#""tenantId":"{AT}""#));
        let text = decode_error(&tenant);
        assert!(
            text.contains("`tenantId`") && text.contains("found string"),
            "{text}"
        );
        assert!(text.contains("expected i64"), "{text}");
        let jti = valid().replace(r#""jti":"abc""#, &format!(r#""jti":{{"t":"{RT}"}}"#));
        let text = decode_error(&jti);
        assert!(
            text.contains("`jti`") && text.contains("found map"),
            "{text}"
        );
        let expires = valid().replace("43199", r#""43199""#);
        let text = decode_error(&expires);
        assert!(
            text.contains("`expires_in`") && text.contains("found string"),
            "{text}"
        );
        assert!(text.contains("line 1 column"), "{text}");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let text = decode_error(&format!("{}x", valid()));
        assert!(text.contains("trailing characters"), "{text}");
        decode_error(&format!("{} {{}}", valid()));
        // Whitespace after the value is not garbage.
        decode::<TokenResponse>("t", format!("{} \n", valid()).as_bytes()).expect("valid");
    }

    #[test]
    fn custom_model_messages_are_not_repeated() {
        // A map key is part of the path: redacted when it looks like a token.
        let failure = crate::error::DecodeFailure::from_serde(
            &format!("details.{AT}"),
            &serde_json::from_str::<u8>("\"x\"").unwrap_err(),
        );
        assert!(!failure.to_string().contains(AT), "{failure}");
        let custom = <serde_json::Error as serde::de::Error>::custom(format!("bad value {RT}"));
        let failure = crate::error::DecodeFailure::from_serde("a", &custom);
        assert_eq!(failure.problem, "rejected value");
    }
}
