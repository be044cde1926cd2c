//! Webhook deliveries: for each active subscription of an event type, a `POST` of the
//! entity's JSON (with `_payloadType`) to its `callbackUri`, signed once per signer with
//! `X-EPAGES-SIGNATURE = base64(HMAC-SHA1(sharedSecret, requestUri + ":" + body))`.
//!
//! Deliveries are best effort: sent in the background, at most a few at a time, each with
//! a timeout, and only to loopback addresses (the sandbox must never call out to the
//! network). Every attempt is recorded in the journal.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use secrecy::ExposeSecret;
use serde_json::Value;
use sha1::Sha1;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use url::{Host, Url};

use crate::core::Core;
use crate::journal::{NewEntry, Outcome, WEBHOOK_METHOD};
use crate::shop::Shop;

/// How many deliveries run at once, and how many may wait; beyond that a delivery is
/// dropped (and journaled) rather than queued without bound.
const CONCURRENT_DELIVERIES: usize = 8;
const MAX_WAITING_DELIVERIES: usize = 1_000;
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// `base64(HMAC-SHA1(key = shared_secret, message = request_uri + ":" + body))`, or of the
/// request URI alone when there is no body.
pub fn sign(shared_secret: &str, request_uri: &str, body: &str) -> String {
    let message = if body.is_empty() {
        request_uri.to_owned()
    } else {
        format!("{request_uri}:{body}")
    };
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty MAC
    // rather than panicking if it ever did.
    match Hmac::<Sha1>::new_from_slice(shared_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// One delivery, prepared while the shop state was locked.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub shop: String,
    pub event_type: String,
    pub callback_uri: String,
    pub body: String,
    pub signatures: Vec<String>,
}

/// The deliveries an event causes: one per active subscription that lists the event type.
/// `payload` gets `_payloadType` added.
pub fn plan(
    shop: &Shop,
    event_type: &str,
    payload_type: &str,
    mut payload: Value,
) -> Vec<Delivery> {
    let subscriptions: Vec<_> = shop
        .subscriptions
        .iter()
        .filter(|s| s.active && s.event_types.iter().any(|t| t == event_type))
        .collect();
    if subscriptions.is_empty() {
        return Vec::new();
    }
    if let Some(object) = payload.as_object_mut() {
        object.insert(
            "_payloadType".into(),
            Value::String(payload_type.to_owned()),
        );
    }
    let body = payload.to_string();
    subscriptions
        .into_iter()
        .map(|subscription| Delivery {
            shop: shop.name.clone(),
            event_type: event_type.to_owned(),
            callback_uri: subscription.callback_uri.clone(),
            signatures: shop
                .signers
                .iter()
                .map(|signer| {
                    sign(
                        signer.shared_secret.expose_secret(),
                        &subscription.callback_uri,
                        &body,
                    )
                })
                .collect(),
            body: body.clone(),
        })
        .collect()
}

/// Bounds concurrent and waiting deliveries.
#[derive(Debug)]
pub struct Dispatcher {
    permits: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(CONCURRENT_DELIVERIES)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// Sends deliveries in the background.
pub fn send(core: &Arc<Core>, deliveries: Vec<Delivery>) {
    for delivery in deliveries {
        let in_flight = Arc::clone(&core.dispatcher.in_flight);
        if in_flight.fetch_add(1, Ordering::SeqCst)
            >= CONCURRENT_DELIVERIES + MAX_WAITING_DELIVERIES
        {
            in_flight.fetch_sub(1, Ordering::SeqCst);
            record(
                core,
                &delivery,
                None,
                Some("dropped: too many deliveries waiting".into()),
            );
            continue;
        }
        let core = Arc::clone(core);
        let permits = Arc::clone(&core.dispatcher.permits);
        tokio::spawn(async move {
            if let Ok(_permit) = permits.acquire_owned().await {
                let (status, error) = match deliver(&delivery).await {
                    Ok(status) => (Some(status), None),
                    Err(error) => (None, Some(error)),
                };
                record(&core, &delivery, status, error);
            }
            in_flight.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

fn record(core: &Core, delivery: &Delivery, status: Option<u16>, error: Option<String>) {
    core.journal.record(NewEntry {
        at: core.clock.now(),
        shop: Some(delivery.shop.clone()),
        method: WEBHOOK_METHOD.to_owned(),
        path: delivery.callback_uri.clone(),
        query: None,
        outcome: Outcome::Delivered { status, error },
        request_body: serde_json::from_str(&delivery.body).ok(),
        fault_id: None,
        event_type: Some(delivery.event_type.clone()),
    });
}

/// Posts one delivery; the receiver's status, or why it failed.
async fn deliver(delivery: &Delivery) -> Result<u16, String> {
    let url =
        Url::parse(&delivery.callback_uri).map_err(|e| format!("invalid callbackUri: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "refused: the sandbox only delivers over plain http, not {}",
            url.scheme()
        ));
    }
    let loopback = match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !loopback {
        return Err("refused: the sandbox only delivers webhooks to loopback addresses".into());
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let host = url.host_str().unwrap_or("localhost").to_owned();
    let connect_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };

    let attempt = async {
        let stream = TcpStream::connect((connect_host.as_str(), port))
            .await
            .map_err(|e| format!("connect failed: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake failed: {e}"))?;
        tokio::spawn(connection);
        let mut request = Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header("X-EPAGES-WEBHOOK-EVENT-TYPE", &delivery.event_type);
        for signature in &delivery.signatures {
            request = request.header("X-EPAGES-SIGNATURE", signature);
        }
        let request = request
            .body(Full::new(Bytes::from(delivery.body.clone())))
            .map_err(|e| format!("invalid request: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        // Drain the answer so the receiver sees a clean exchange.
        let _ = response.into_body().collect().await;
        Ok::<u16, String>(status)
    };
    tokio::time::timeout(DELIVERY_TIMEOUT, attempt)
        .await
        .map_err(|_| format!("timed out after {}s", DELIVERY_TIMEOUT.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha1_over_uri_colon_body() {
        // Independent check: HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog")
        // is de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9 (RFC 2202-style test vector).
        let expected = STANDARD.encode([
            0xde, 0x7c, 0x9b, 0x85, 0xb8, 0xb7, 0x8a, 0xa6, 0xbc, 0x8a, 0x7a, 0x36, 0xf7, 0x0a,
            0x90, 0x70, 0x1c, 0x9d, 0xb4, 0xd9,
        ]);
        assert_eq!(
            sign("key", "The quick brown fox jumps over the lazy dog", ""),
            expected
        );
        assert_eq!(sign("key", "uri", "body"), sign("key", "uri:body", ""));
        assert_ne!(sign("key", "uri", ""), sign("key", "uri", "x"));
    }
}
