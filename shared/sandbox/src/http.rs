//! Request and response plumbing shared by the routes: query parameters and JSON bodies
//! that never reject with a non-Beyond error, path ids, and HAL+JSON responses.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::core::Core;
use crate::error::ApiError;

pub const HAL_JSON: &str = "application/hal+json";

/// A JSON (HAL) response with Beyond's media type.
pub fn hal(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => {
            let mut response = (status, text).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(HAL_JSON));
            response
        }
        Err(error) => {
            ApiError::internal(format!("cannot serialize the response: {error}")).into_response()
        }
    }
}

pub fn ok(body: &impl Serialize) -> Response {
    hal(StatusCode::OK, body)
}

/// 201 with a `Location` header.
pub fn created(location: &str, body: &impl Serialize) -> Response {
    let mut response = hal(StatusCode::CREATED, body);
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Query parameters in order; repeated names are kept. Never rejects (like Spring, which
/// ignores unknown parameters and falls back to defaults for unparsable paging values).
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn to_map(&self) -> HashMap<String, String> {
        self.0.iter().cloned().collect()
    }

    /// The parameters except the named ones, re-encoded (for paging links).
    pub fn without(&self, names: &[&str]) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(key, _)| !names.contains(&key.as_str()))
            .cloned()
            .collect()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Query::parse(parts.uri.query()))
    }
}

/// Path parameters by name.
#[derive(Debug, Clone)]
pub struct Ids(HashMap<String, String>);

impl Ids {
    /// A text path parameter (empty when absent).
    pub fn text(&self, name: &str) -> String {
        self.0.get(name).cloned().unwrap_or_default()
    }

    /// A UUID path parameter. A malformed id cannot name an existing resource, so it is
    /// answered like an unknown one: 404 `resource-not-found`.
    pub fn uuid(&self, name: &str, path: &str) -> Result<Uuid, ApiError> {
        self.0
            .get(name)
            .and_then(|raw| Uuid::parse_str(raw).ok())
            .ok_or_else(|| ApiError::not_found(path))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Path(ids)| Ids(ids))
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "conversion-failed",
                    rejection.body_text(),
                )
            })
    }
}

/// The request path below the shop's API root (`/orders/…`), for error details.
pub fn api_path(parts_path: &str) -> String {
    parts_path
        .strip_prefix("/shops/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, rest)| rest.strip_prefix("api").unwrap_or(rest).to_owned())
        .unwrap_or_else(|| parts_path.to_owned())
}

/// An optional JSON body: `None` when empty. Invalid JSON is 400
/// `http-message-not-readable`; a non-JSON `Content-Type` is 415, as Spring answers.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Option<Value>);

impl JsonBody {
    /// The body, or `{}` when there was none (for endpoints whose fields are all optional).
    pub fn or_empty(self) -> Value {
        self.0.unwrap_or_else(|| Value::Object(Default::default()))
    }

    /// The body, required.
    pub fn required(self) -> Result<Value, ApiError> {
        self.0
            .ok_or_else(|| ApiError::not_readable("Required request body is missing"))
    }
}

impl FromRequest<Arc<Core>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<Core>) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_ascii_lowercase);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::not_readable(rejection.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        if let Some(content_type) = content_type
            && !content_type.contains("json")
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!("Content type '{content_type}' not supported"),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(|value| JsonBody(Some(value)))
            .map_err(|error| ApiError::not_readable(format!("JSON parse error: {error}")))
    }
}

/// Reads an optional string field of a JSON object.
pub fn text(body: &Value, field: &str) -> Option<String> {
    body.get(field).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_order_and_decodes() {
        let query = Query::parse(Some("sku=A%20B&page=1&sku=C"));
        assert_eq!(query.get("sku"), Some("A B"));
        assert_eq!(query.without(&["page"]).len(), 2);
        assert!(Query::parse(None).0.is_empty());
    }

    #[test]
    fn api_path_strips_the_shop_prefix() {
        assert_eq!(api_path("/shops/demo/api/orders/1"), "/orders/1");
        assert_eq!(api_path("/other"), "/other");
    }
}
