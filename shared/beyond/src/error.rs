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
}

/// Everything that can go wrong talking to Beyond.
#[derive(Debug, thiserror::Error)]
pub enum BeyondError {
    /// Beyond answered with a non-success status.
    #[error("{operation}: HTTP {status}{}{}", details.error_id.as_ref().map(|id| format!(" {id}")).unwrap_or_default(), details.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
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

    /// A success answer whose body does not match our model.
    #[error("{operation}: cannot decode the response at `{path}`")]
    Decode {
        operation: &'static str,
        /// The JSON path of the offending value, e.g. `productLineItems[0]._id`.
        path: String,
        #[source]
        source: serde_json::Error,
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
                error_id: text(ErrorBody::error_id),
                message: text(ErrorBody::message),
                reason_id,
                validation_errors,
                trace_id: text(ErrorBody::trace_id),
                retry_after,
            }),
        }
    }

    /// The innermost error, looking through [`BeyondError::AmbiguousUnsafeRequest`].
    fn root(&self) -> &BeyondError {
        match self {
            BeyondError::AmbiguousUnsafeRequest { source, .. } => source.root(),
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
            BeyondError::AmbiguousUnsafeRequest { .. } => Disposition::Ambiguous,
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
                    // A token call is safe to repeat, so its ambiguity does not matter.
                    Disposition::Ambiguous => Disposition::Retry,
                    class => class,
                },
                // A tenant token source (`connector::auth`) knows whether it needs a person.
                None => *disposition,
            },
            BeyondError::Decode { .. }
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
