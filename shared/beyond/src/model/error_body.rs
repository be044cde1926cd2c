//! Error bodies: Beyond's `{errorId, message, details, traceId}` and the OAuth
//! `{error, error_description}` of the token endpoint (beyond-api.md §2.1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::serde_util::null_as_default;

/// The Beyond error format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorBody {
    /// E.g. `cannot-create-shipping-process`, `resource-not-found`.
    #[serde(default)]
    pub error_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub details: ErrorDetails,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
}

/// `details`: validation errors, a `reasonId`, and any other key kept verbatim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetails {
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub validation_errors: Vec<ValidationError>,
    /// E.g. `order-has-pickup-line-item`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_id: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// One failed constraint of a 400 `input-validation-failed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationError {
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(default)]
    pub property: Option<String>,
    #[serde(default)]
    pub invalid_value: serde_json::Value,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_name: Option<String>,
}

/// The OAuth error format, e.g. `{"error":"unauthorized","error_description":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Either error format.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorBody {
    Api(ApiErrorBody),
    OAuth(OAuthErrorBody),
}

impl ErrorBody {
    /// Parses whichever format the bytes hold; `None` when they hold neither (an HTML
    /// error page from a proxy, an empty body).
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let object = value.as_object()?;
        if object.contains_key("errorId") {
            serde_json::from_value(value).ok().map(ErrorBody::Api)
        } else if object.contains_key("error") {
            serde_json::from_value(value).ok().map(ErrorBody::OAuth)
        } else {
            None
        }
    }

    /// `errorId`, or the OAuth `error` code.
    pub fn error_id(&self) -> Option<&str> {
        match self {
            ErrorBody::Api(body) => body.error_id.as_deref(),
            ErrorBody::OAuth(body) => Some(body.error.as_str()),
        }
    }

    /// `message`, or the OAuth `error_description`.
    pub fn message(&self) -> Option<&str> {
        match self {
            ErrorBody::Api(body) => body.message.as_deref(),
            ErrorBody::OAuth(body) => body.error_description.as_deref(),
        }
    }

    pub fn trace_id(&self) -> Option<&str> {
        match self {
            ErrorBody::Api(body) => body.trace_id.as_deref(),
            ErrorBody::OAuth(_) => None,
        }
    }

    pub fn validation_errors(&self) -> &[ValidationError] {
        match self {
            ErrorBody::Api(body) => &body.details.validation_errors,
            ErrorBody::OAuth(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_beyond_format_with_validation_errors() {
        let body = ErrorBody::parse(
            br#"{"errorId":"input-validation-failed","details":{"validationErrors":[
                {"entity":"Product","property":"salesPrice","invalidValue":null,
                 "message":"Sales price is required"}]},"message":"Input validation failed",
                 "traceId":"abc"}"#,
        )
        .unwrap();
        assert_eq!(body.error_id(), Some("input-validation-failed"));
        assert_eq!(body.trace_id(), Some("abc"));
        assert_eq!(
            body.validation_errors()[0].property.as_deref(),
            Some("salesPrice")
        );
    }

    #[test]
    fn parses_the_oauth_format_and_rejects_other_bodies() {
        let body = ErrorBody::parse(
            br#"{"error":"unauthorized","error_description":"The client was revoked."}"#,
        )
        .unwrap();
        assert_eq!(body.error_id(), Some("unauthorized"));
        assert_eq!(body.message(), Some("The client was revoked."));
        assert!(ErrorBody::parse(b"<html>Bad gateway</html>").is_none());
        assert!(ErrorBody::parse(b"").is_none());
        assert!(ErrorBody::parse(br#"{"status":500}"#).is_none());
    }

    #[test]
    fn details_keep_unknown_keys() {
        let body = ErrorBody::parse(
            br#"{"errorId":"product.availability.invalid-availability-state",
                 "details":{"productId":"bccb9b4e-3ef9-4218-b8b8-487d382b4c22"},"message":"x"}"#,
        )
        .unwrap();
        let ErrorBody::Api(api) = body else {
            panic!("expected the Beyond format")
        };
        assert!(api.details.other.contains_key("productId"));
    }
}
