//! Error responses in the two shapes Beyond uses: `{errorId, message, details, traceId}` for
//! the REST API, and the OAuth shape `{error, error_description}` for the token endpoint and
//! for authentication/authorization failures of the Spring resource server.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use beyond::model as m;
use serde_json::{Map, Value, json};

/// A Beyond API error response. Handlers return it; it renders itself.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

#[derive(Debug, Clone)]
pub enum ErrorBody {
    Beyond {
        error_id: String,
        message: String,
        details: Map<String, Value>,
    },
    OAuth {
        error: String,
        description: String,
    },
}

impl ApiError {
    pub fn new(status: StatusCode, error_id: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::Beyond {
                error_id: error_id.to_owned(),
                message: message.into(),
                details: Map::new(),
            },
            headers: Vec::new(),
        }
    }

    pub fn oauth(status: StatusCode, error: &str, description: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::OAuth {
                error: error.to_owned(),
                description: description.into(),
            },
            headers: Vec::new(),
        }
    }

    /// Adds one entry to `details` (no effect on OAuth-shaped errors).
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let ErrorBody::Beyond { details, .. } = &mut self.body {
            details.insert(key.to_owned(), value.into());
        }
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "resource-not-found",
            "Resource not found!",
        )
        .detail("path", path)
    }

    pub fn not_readable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "http-message-not-readable",
            message,
        )
    }

    /// 400 `input-validation-failed` with one `validationErrors` entry per problem.
    pub fn validation(entity: &str, problems: Vec<(String, Value, String)>) -> Self {
        let errors: Vec<Value> = problems
            .into_iter()
            .map(|(property, invalid_value, message)| {
                json!({
                    "entity": entity,
                    "property": property,
                    "invalidValue": invalid_value,
                    "message": message,
                })
            })
            .collect();
        Self::new(
            StatusCode::BAD_REQUEST,
            "input-validation-failed",
            "Input validation failed",
        )
        .detail("validationErrors", Value::Array(errors))
    }

    /// A state that does not allow the requested transition. The spec documents no error for
    /// these cases (marking a shipped process shipped again, canceling a shipped order, ...);
    /// the sandbox answers 409 `illegal-status-transition`, the errorId Beyond uses for
    /// forbidden status transitions elsewhere (coupon campaigns).
    pub fn illegal_transition(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "illegal-status-transition", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal-error", message)
    }

    pub fn error_id(&self) -> &str {
        match &self.body {
            ErrorBody::Beyond { error_id, .. } => error_id,
            ErrorBody::OAuth { error, .. } => error,
        }
    }

    /// The body, serialized through the shared Beyond error models.
    pub fn to_json(&self) -> Value {
        let body = match &self.body {
            ErrorBody::Beyond {
                error_id,
                message,
                details,
            } => serde_json::to_value(m::ApiErrorBody {
                error_id: Some(error_id.clone()),
                details: serde_json::from_value(Value::Object(details.clone())).unwrap_or_default(),
                message: Some(message.clone()),
                trace_id: Some(trace_id()),
            }),
            ErrorBody::OAuth { error, description } => serde_json::to_value(m::OAuthErrorBody {
                error: error.clone(),
                error_description: Some(description.clone()),
            }),
        };
        body.unwrap_or(Value::Null)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_json().to_string();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

/// The failing request's identifier. Beyond fills it from its tracing (B3) and often sends
/// `null` in the documented examples; the sandbox sends a fresh random id.
fn trace_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = match &self.body {
            ErrorBody::Beyond { message, .. } => message,
            ErrorBody::OAuth { description, .. } => description,
        };
        write!(f, "{} {}: {message}", self.status.as_u16(), self.error_id())
    }
}

impl std::error::Error for ApiError {}
