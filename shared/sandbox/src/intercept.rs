//! The middleware in front of every shop API request: reads the whole request, applies the
//! injected faults (latency, 429/5xx, dropped connection), runs the handler, and writes the
//! journal entry. Admin requests (`/_sandbox/…`) pass through untouched.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::shop_of_path;
use crate::core::Core;
use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::http::api_path;
use crate::journal::{NewEntry, Outcome};
use crate::server::ConnectionKiller;

/// Token grant parameters that act as credentials.
const GRANT_SECRETS: [&str; 3] = ["code", "refresh_token", "client_secret"];

/// The journal keeps which grant a token request used but not the codes and refresh tokens
/// themselves: they are credentials, even if only the sandbox's own.
fn redact_grant(parameters: &str) -> String {
    let mut redacted = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(parameters.as_bytes()) {
        if GRANT_SECRETS.contains(&key.as_ref()) {
            redacted.append_pair(&key, "[redacted]");
        } else {
            redacted.append_pair(&key, &value);
        }
    }
    redacted.finish()
}

/// Larger bodies are refused; no Beyond request comes near it.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub async fn intercept(State(core): State<Arc<Core>>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/_sandbox") {
        return next.run(request).await;
    }
    let mut response = shop_request(&core, request, next).await;
    // The shop's `Date` comes from the clock its data is written with, as a real shop's
    // would (hyper's own header would be the host's clock): the connector learns the
    // shop's offset from it (beyond::model::shop_offset).
    let date = core
        .clock
        .now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = header::HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

async fn shop_request(core: &Arc<Core>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let (parts, body) = request.into_parts();
    let shop = shop_of_path(&path).map(str::to_owned);
    let relative = if shop.is_some() {
        api_path(&path)
    } else {
        path.clone()
    };
    let method = parts.method.clone();
    let is_write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            return ApiError::not_readable(format!("cannot read the request body: {error}"))
                .into_response();
        }
    };
    let is_token_request = relative == "/oauth/token";
    let request_body = (is_write && !bytes.is_empty()).then(|| {
        serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|_| {
            let text = String::from_utf8_lossy(&bytes);
            Value::String(if is_token_request {
                redact_grant(&text)
            } else {
                text.into_owned()
            })
        })
    });
    let killer = parts.extensions.get::<ConnectionKiller>().cloned();
    let query = parts.uri.query().map(|query| {
        if is_token_request {
            redact_grant(query)
        } else {
            query.to_owned()
        }
    });
    let request = Request::from_parts(parts, Body::from(bytes));

    let decision = core
        .faults
        .decide(shop.as_deref(), method.as_str(), &relative);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let journal = |outcome: Outcome| {
        core.journal.record(NewEntry {
            at: core.clock.now(),
            shop: shop.clone(),
            method: method.to_string(),
            path: relative.clone(),
            query: query.clone(),
            outcome,
            request_body: request_body.clone(),
            fault_id: decision.fault_id,
            event_type: None,
        });
    };

    match decision.terminal {
        Some((_, FaultKind::Drop { applied })) => {
            let applied = applied.unwrap_or(is_write);
            if applied {
                // The operation takes effect; only the answer is lost.
                let _ = next.run(request).await;
            }
            journal(Outcome::Dropped { applied });
            match killer {
                Some(killer) => {
                    killer.kill();
                    // The serve loop drops the connection; this future is dropped with it.
                    std::future::pending::<Response>().await
                }
                None => ApiError::internal(
                    "a dropped-connection fault needs the sandbox's own serve loop",
                )
                .into_response(),
            }
        }
        Some((
            _,
            FaultKind::TooManyRequests {
                retry_after_seconds,
            },
        )) => {
            journal(Outcome::Responded { status: 429 });
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests. Retry later.",
            )
            .header(header::RETRY_AFTER, &retry_after_seconds.to_string())
            .into_response()
        }
        Some((
            _,
            FaultKind::Status {
                status,
                retry_after_seconds,
            },
        )) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            journal(Outcome::Responded {
                status: status.as_u16(),
            });
            let error_id = match status.as_u16() {
                500 => "internal-error",
                502 => "bad-gateway",
                503 => "service-unavailable",
                504 => "gateway-timeout",
                _ => "injected-fault",
            };
            let mut error = ApiError::new(status, error_id, "Injected fault");
            if let Some(seconds) = retry_after_seconds {
                error = error.header(header::RETRY_AFTER, &seconds.to_string());
            }
            error.into_response()
        }
        Some((_, FaultKind::Latency { .. })) | None => {
            let response = next.run(request).await;
            journal(Outcome::Responded {
                status: response.status().as_u16(),
            });
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_credentials_are_redacted_but_the_grant_type_kept() {
        assert_eq!(
            redact_grant("grant_type=refresh_token&refresh_token=abc%2Bdef"),
            "grant_type=refresh_token&refresh_token=%5Bredacted%5D"
        );
        assert_eq!(
            redact_grant("grant_type=client_credentials"),
            "grant_type=client_credentials"
        );
    }
}
