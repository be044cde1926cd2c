//! The one error type of the Beyond client.

use std::time::Duration;

use http::StatusCode;

use super::model::{ErrorBody, ValidationError};

use crate::disposition::Disposition;

/// What Beyond said about a failed request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiFailure {
    /// `errorId`, or the OAuth `error` code for the token endpoint.
    pub error_id: Option<String>,
    pub message: Option<String>,
    /// `details.reasonId`, e.g. `order-has-pickup-line-item`.
    pub reason_id: Option<String>,
    pub validation_errors: Vec<ValidationError>,
    pub trace_id: Option<String>,
    /// The server's `Retry-After`, already converted to a delay.
    pub retry_after: Option<Duration>,
    /// The size of the error body, which itself is kept only where it cannot hold a
    /// secret (see [`BeyondError::from_response`]).
    pub body_bytes: usize,
}

/// Why a body did not decode, without any value from it (issue 13): serde's own messages
/// quote the offending value, which for a token answer is a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeFailure {
    /// The JSON path of the offending value, e.g. `productLineItems[0]._id`.
    pub path: String,
    /// What was wrong: the found and the expected type, a syntax problem, trailing data.
    pub problem: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at `{}` (line {} column {})",
            self.problem, self.path, self.line, self.column
        )
    }
}

/// What `Unexpected` of serde prints before the value: the found type, kept.
const FOUND_KINDS: &[&str] = &[
    "boolean",
    "integer",
    "floating point",
    "string",
    "character",
    "byte array",
    "unit value",
    "Option value",
    "newtype struct",
    "sequence",
    "map",
    "enum",
    "unit variant",
    "newtype variant",
    "tuple variant",
    "struct variant",
    "null",
];

impl DecodeFailure {
    /// Keeps the category, the found and the expected type and the position of a serde
    /// error; drops the value it quotes.
    pub fn from_serde(path: &str, error: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let full = error.to_string();
        // serde_json appends the position; we keep it as numbers.
        let message = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(message, _)| message);
        let expected = || {
            message
                .rsplit_once(", expected ")
                .map(|(_, expected)| crate::redact::cap(&crate::redact::redact(expected), 80))
        };
        let problem = match error.classify() {
            // serde_json's syntax messages are fixed texts (`trailing characters`,
            // `expected value`, `EOF while parsing a string`), never input.
            Category::Syntax | Category::Eof | Category::Io => crate::redact::cap(message, 80),
            Category::Data => {
                let with_expected = |head: &str| match expected() {
                    Some(expected) => format!("{head}, expected {expected}"),
                    None => head.to_owned(),
                };
                let found = |rest: &str| {
                    FOUND_KINDS
                        .iter()
                        .find(|kind| rest.starts_with(**kind))
                        .copied()
                        .unwrap_or("a value")
                };
                if let Some(rest) = message.strip_prefix("invalid type: ") {
                    with_expected(&format!("invalid type: found {}", found(rest)))
                } else if let Some(rest) = message.strip_prefix("invalid value: ") {
                    with_expected(&format!("invalid value: found {}", found(rest)))
                } else if message.starts_with("invalid length ") {
                    with_expected("invalid length")
                } else if message.starts_with("unknown variant ") {
                    with_expected("unknown variant")
                } else if message.starts_with("unknown field ") {
                    with_expected("unknown field")
                } else if message.starts_with("missing field `")
                    || message.starts_with("duplicate field `")
                {
                    // Field names come from our own types.
                    crate::redact::cap(&crate::redact::redact(message), 80)
                } else {
                    // A model's own message may quote what it rejected.
                    "rejected value".to_owned()
                }
            }
        };
        Self {
            // Map keys of the body can be part of the path.
            path: crate::redact::cap(&crate::redact::redact(path), 200),
            problem,
            line: error.line(),
            column: error.column(),
        }
    }
}

/// OAuth error codes (RFC 6749 §5.2, RFC 6750 §3.1, and Spring's `unauthorized`): the only
/// `error` values of a token answer that are kept.
const OAUTH_ERROR_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_token",
    "insufficient_scope",
    "access_denied",
    "unauthorized",
    "server_error",
    "temporarily_unavailable",
];

/// An `errorId` looks like `cannot-create-shipping-process` or
/// `product.availability.invalid-availability-state`; anything else is not kept.
fn is_plain_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 80
        && text.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        })
}

/// Answers whose body may echo a secret: the token endpoint (it echoes grants and
/// tokens: "Invalid refresh token: …"), signers (their body is a shared secret), and any 401
/// ("Invalid access token: …").
fn is_confidential(operation: &str, status: StatusCode) -> bool {
    operation.starts_with("oauth-token")
        || operation.contains("signer")
        || status == StatusCode::UNAUTHORIZED
}

/// Everything that can go wrong talking to Beyond.
#[derive(Debug, thiserror::Error)]
pub enum BeyondError {
    /// Beyond answered with a non-success status.
    #[error("{operation}: HTTP {status}{}{}", details.error_id.as_ref().map(|id| format!(" {id}")).unwrap_or_default(), details.message.as_ref().map(|m| format!(": {}", crate::redact::cap(&crate::redact::redact(m), 300))).unwrap_or_default())]
    Api {
        operation: &'static str,
        status: StatusCode,
        details: Box<ApiFailure>,
    },

    /// The request failed below HTTP: connect, timeout, reset, unreadable body.
    #[error("{operation}: transport failure ({})", if *.sent { "request may have been sent" } else { "request not sent" })]
    Transport {
        operation: &'static str,
        /// `false` only when the failure proves nothing reached the server.
        sent: bool,
        #[source]
        source: reqwest::Error,
    },

    /// A success answer whose body does not match our model (trailing data included).
    /// No serde error is kept as the source: its message quotes the offending value.
    #[error("{operation}: cannot decode the response: {failure}")]
    Decode {
        operation: &'static str,
        failure: DecodeFailure,
    },

    /// The answer's body was larger than the client reads.
    #[error("{operation}: the response body exceeds {limit} bytes")]
    ResponseTooLarge {
        operation: &'static str,
        limit: usize,
    },

    /// A single-use grant (an authorization code or a refresh token) was sent, and its
    /// answer was lost. The server may have consumed the grant, so it is not sent again
    /// blindly: a refresh is retried by the next run (it either works or is refused, and
    /// then the app must be re-installed); an install must be started again in the shop.
    #[error(
        "{operation}: the token answer was lost after the single-use grant was sent; \
         it may have been consumed, so it was not repeated"
    )]
    GrantOutcomeUnknown {
        operation: &'static str,
        #[source]
        source: Box<BeyondError>,
    },

    /// Our request body could not be encoded (a bug, not an input problem).
    #[error("{operation}: cannot encode the request body")]
    Encode {
        operation: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// An UNSAFE request (one that creates something or adjusts stock) failed in a way that
    /// does not tell whether Beyond applied it. It was not retried. The caller must
    /// reconcile (re-read the order, its processes, or the stock) before repeating it.
    #[error("{operation}: outcome unknown, reconcile before repeating")]
    AmbiguousUnsafeRequest {
        operation: &'static str,
        #[source]
        source: Box<BeyondError>,
    },

    /// The token source could not provide an access token. A token source outside this
    /// crate (the app's tenant tokens) knows whether a person is needed and says so in
    /// `disposition`; a [`BeyondError`] source is classified by its own rules.
    #[error("cannot obtain an access token")]
    Token {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
        disposition: Disposition,
    },

    /// Paging did not converge (the server kept announcing more pages).
    #[error("{operation}: paging stopped after {pages} pages without reaching the end")]
    PagingRunaway { operation: &'static str, pages: u64 },

    /// The configuration is unusable (e.g. the API URL cannot be a base URL).
    #[error("invalid Beyond client configuration: {reason}")]
    Config {
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

impl BeyondError {
    /// Builds an [`BeyondError::Api`] from a non-success answer.
    pub(crate) fn from_response(
        operation: &'static str,
        status: StatusCode,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        if is_confidential(operation, status) {
            // Status, a known error code and the length only.
            let error_id = ErrorBody::parse(body)
                .as_ref()
                .and_then(ErrorBody::error_id)
                .filter(|id| OAUTH_ERROR_CODES.contains(id) || (*id).starts_with("no-signer"))
                .map(str::to_owned);
            return BeyondError::Api {
                operation,
                status,
                details: Box::new(ApiFailure {
                    error_id,
                    retry_after,
                    body_bytes: body.len(),
                    ..ApiFailure::default()
                }),
            };
        }
        let parsed = ErrorBody::parse(body);
        let (reason_id, validation_errors) = match &parsed {
            Some(ErrorBody::Api(api)) => (
                api.details.reason_id.clone(),
                api.details.validation_errors.clone(),
            ),
            _ => (None, Vec::new()),
        };
        let text =
            |get: fn(&ErrorBody) -> Option<&str>| parsed.as_ref().and_then(get).map(str::to_owned);
        BeyondError::Api {
            operation,
            status,
            details: Box::new(ApiFailure {
                error_id: text(ErrorBody::error_id).filter(|id| is_plain_id(id)),
                message: text(ErrorBody::message),
                reason_id: reason_id.filter(|id| is_plain_id(id)),
                validation_errors,
                trace_id: text(ErrorBody::trace_id).filter(|id| id.len() <= 80),
                retry_after,
                body_bytes: body.len(),
            }),
        }
    }

    /// The innermost error, looking through [`BeyondError::AmbiguousUnsafeRequest`].
    fn root(&self) -> &BeyondError {
        match self {
            BeyondError::AmbiguousUnsafeRequest { source, .. }
            | BeyondError::GrantOutcomeUnknown { source, .. } => source.root(),
            other => other,
        }
    }

    /// What Beyond said, if it answered.
    pub fn api_failure(&self) -> Option<&ApiFailure> {
        match self.root() {
            BeyondError::Api { details, .. } => Some(details),
            _ => None,
        }
    }

    /// The HTTP status, if Beyond answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self.root() {
            BeyondError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// `errorId` of the answer, e.g. `cannot-create-shipping-process`,
    /// `pickup-process-already-exists`, `no-such-product-line-item`,
    /// `cancel-process-partial-refund-not-allowed`,
    /// `product.availability.invalid-availability-state`.
    pub fn error_id(&self) -> Option<&str> {
        self.api_failure()?.error_id.as_deref()
    }

    /// `details.reasonId`, if any.
    pub fn reason_id(&self) -> Option<&str> {
        self.api_failure()?.reason_id.as_deref()
    }

    pub fn message(&self) -> Option<&str> {
        self.api_failure()?.message.as_deref()
    }

    pub fn trace_id(&self) -> Option<&str> {
        self.api_failure()?.trace_id.as_deref()
    }

    pub fn validation_errors(&self) -> &[ValidationError] {
        self.api_failure()
            .map_or(&[], |failure| failure.validation_errors.as_slice())
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.api_failure()?.retry_after
    }

    /// The operation that failed, when known.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            BeyondError::Api { operation, .. }
            | BeyondError::Transport { operation, .. }
            | BeyondError::Decode { operation, .. }
            | BeyondError::Encode { operation, .. }
            | BeyondError::AmbiguousUnsafeRequest { operation, .. }
            | BeyondError::ResponseTooLarge { operation, .. }
            | BeyondError::GrantOutcomeUnknown { operation, .. }
            | BeyondError::PagingRunaway { operation, .. } => Some(operation),
            BeyondError::Token { .. } | BeyondError::Config { .. } => None,
        }
    }

    /// Whether this is a 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    pub fn is_ambiguous(&self) -> bool {
        matches!(self, BeyondError::AmbiguousUnsafeRequest { .. })
    }

    /// Retry, reject or ambiguous; see [`Disposition`].
    pub fn disposition(&self) -> Disposition {
        match self {
            BeyondError::AmbiguousUnsafeRequest { .. }
            | BeyondError::GrantOutcomeUnknown { .. } => Disposition::Ambiguous,
            BeyondError::Api {
                status, details, ..
            } => classify_status(*status, details.error_id.as_deref()),
            BeyondError::Transport { source, .. } => {
                if source.is_builder() {
                    Disposition::Reject
                } else {
                    Disposition::Retry
                }
            }
            BeyondError::Token {
                source,
                disposition,
            } => match source.downcast_ref::<BeyondError>() {
                Some(inner) => match inner.disposition() {
                    // The next run may ask again: a lost client-credentials call cost a
                    // token at most, and a lost refresh is either still valid or refused
                    // (then the tenant needs a re-install). Within one call it is not
                    // repeated (`GrantOutcomeUnknown`).
                    Disposition::Ambiguous => Disposition::Retry,
                    class => class,
                },
                // A tenant token source (`connector::auth`) knows whether it needs a person.
                None => *disposition,
            },
            BeyondError::Decode { .. }
            | BeyondError::ResponseTooLarge { .. }
            | BeyondError::Encode { .. }
            | BeyondError::Config { .. }
            | BeyondError::PagingRunaway { .. } => Disposition::Reject,
        }
    }

    /// 429, 5xx, 408, optimistic-locking conflicts, timeouts and connection failures.
    /// `false` for [`BeyondError::AmbiguousUnsafeRequest`]: that one needs reconciling, not
    /// a blind retry (see [`BeyondError::disposition`]).
    pub fn is_transient(&self) -> bool {
        self.disposition() == Disposition::Retry
    }
}

/// Status-based classification shared by the error and the retry loop.
pub(crate) fn classify_status(status: StatusCode, error_id: Option<&str>) -> Disposition {
    if status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
        || (status == StatusCode::CONFLICT && error_id == Some(OPTIMISTIC_LOCKING_FAILURE))
    {
        Disposition::Retry
    } else {
        Disposition::Reject
    }
}

/// Beyond's 409 for a concurrent modification: the write was rejected, try again.
pub(crate) const OPTIMISTIC_LOCKING_FAILURE: &str = "optimistic-locking-failure";

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> BeyondError {
        BeyondError::from_response(
            "test-op",
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
            None,
        )
    }

    #[test]
    fn api_errors_expose_the_body() {
        let err = api(
            400,
            r#"{"errorId":"cannot-create-shipping-process","details":{"reasonId":"order-has-pickup-line-item"},"message":"no","traceId":"t-1"}"#,
        );
        assert_eq!(err.error_id(), Some("cannot-create-shipping-process"));
        assert_eq!(err.reason_id(), Some("order-has-pickup-line-item"));
        assert_eq!(err.trace_id(), Some("t-1"));
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(err.disposition(), Disposition::Reject);
        let text = err.to_string();
        assert!(
            text.contains("test-op")
                && text.contains("400")
                && text.contains("cannot-create-shipping-process")
        );
    }

    #[test]
    fn validation_details_are_kept() {
        let err = api(
            400,
            r#"{"errorId":"input-validation-failed","details":{"validationErrors":[{"entity":"Product","property":"sku","invalidValue":"","message":"must not be blank"}]},"message":"Input validation failed"}"#,
        );
        assert_eq!(err.validation_errors().len(), 1);
        assert_eq!(err.validation_errors()[0].property.as_deref(), Some("sku"));
    }

    #[test]
    fn classification() {
        assert!(api(429, "").is_transient());
        assert!(api(500, "<html>").is_transient());
        assert!(api(503, "").is_transient());
        assert!(api(409, r#"{"errorId":"optimistic-locking-failure"}"#).is_transient());
        assert!(!api(409, r#"{"errorId":"pickup-process-already-exists"}"#).is_transient());
        assert!(!api(404, r#"{"errorId":"resource-not-found"}"#).is_transient());
        assert!(api(404, "").is_not_found());
        assert!(!api(403, "").is_transient());
        assert!(
            !api(
                401,
                r#"{"error":"unauthorized","error_description":"revoked"}"#
            )
            .is_transient()
        );
        assert_eq!(
            api(401, r#"{"error":"unauthorized"}"#).error_id(),
            Some("unauthorized")
        );
    }

    #[test]
    fn ambiguity_wraps_and_delegates_accessors() {
        let err = BeyondError::AmbiguousUnsafeRequest {
            operation: "create-shipping-process",
            source: Box::new(api(502, r#"{"errorId":"bad-gateway"}"#)),
        };
        assert_eq!(err.disposition(), Disposition::Ambiguous);
        assert!(!err.is_transient());
        assert!(err.is_ambiguous());
        assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
        assert_eq!(err.error_id(), Some("bad-gateway"));
        assert!(std::error::Error::source(&err).is_some());
    }
}

#[cfg(test)]
mod confidential_tests {
    use super::*;

    const AT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJ0b2tlbiI6ImFjY2VzcyJ9.c2lnbmF0dXJlLWF0";
    const RT: &str = "refresh-7f1c2a9e-opaque-0042";

    #[test]
    fn token_endpoint_errors_keep_status_code_and_length_only() {
        let body = format!(
            r#"{{"error":"invalid_grant","error_description":"Invalid refresh token: {RT}"}}"#
        );
        let error = BeyondError::from_response(
            "oauth-token-refresh",
            StatusCode::BAD_REQUEST,
            body.as_bytes(),
            None,
        );
        assert_eq!(error.error_id(), Some("invalid_grant"));
        assert_eq!(error.message(), None);
        assert_eq!(error.api_failure().unwrap().body_bytes, body.len());
        assert!(!format!("{error} {error:?}").contains(RT));
        // An error code that is not a known OAuth code is not kept either.
        let odd = BeyondError::from_response(
            "oauth-token-refresh",
            StatusCode::BAD_REQUEST,
            format!(r#"{{"error":"{RT}"}}"#).as_bytes(),
            None,
        );
        assert_eq!(odd.error_id(), None);
    }

    #[test]
    fn api_401_descriptions_are_dropped() {
        let body = format!(
            r#"{{"error":"invalid_token","error_description":"Invalid access token: {AT}"}}"#
        );
        let error = BeyondError::from_response(
            "get-order",
            StatusCode::UNAUTHORIZED,
            body.as_bytes(),
            None,
        );
        assert_eq!(error.error_id(), Some("invalid_token"));
        assert!(!format!("{error} {error:?}").contains(AT));
    }

    #[test]
    fn other_messages_are_redacted_when_shown_and_ids_must_be_plain() {
        let body = format!(r#"{{"errorId":"{AT}","message":"echo {AT}"}}"#);
        let error =
            BeyondError::from_response("get-order", StatusCode::BAD_REQUEST, body.as_bytes(), None);
        assert_eq!(error.error_id(), None);
        assert!(!error.to_string().contains(AT), "{error}");
        assert!(error.to_string().contains("echo [REDACTED]"), "{error}");
    }
}
