//! What a verified delivery says, read from the signed body only.
//!
//! `X-EPAGES-WEBHOOK-EVENT-TYPE` is not covered by the signature, so it cannot choose the
//! action: a genuine `order.created` replayed with the header set to `app.uninstalled`
//! must stay an order event. The body's `_payloadType` (beyond-api.md §7.3; the 2023 app
//! example spells it `payloadType`) is signed; the header must agree with it, and the
//! action is taken from the pair.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a delivery asks us to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedEvent {
    /// `order.created` / `order.updated` with an order payload: request a poll.
    Order { id: Option<String> },
    /// `app.uninstalled` with an app payload. `at` is the time the body states, if any.
    AppUninstalled { at: Option<DateTime<Utc>> },
    /// A consistent event we do not act on (`product.*`, `shop.*`, …).
    Other,
}

/// Why a verified delivery is still refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("the body has no `_payloadType`")]
    NoPayloadType,
    #[error("the event type header does not match the signed `_payloadType`")]
    Mismatch,
}

/// Reads the signed body and checks the (unsigned) event type header against it.
pub fn signed_event(event_type_header: &str, body: &str) -> Result<SignedEvent, PayloadError> {
    let value: Value = serde_json::from_str(body).map_err(|_| PayloadError::NotAnObject)?;
    let object = value.as_object().ok_or(PayloadError::NotAnObject)?;
    let payload_type = object
        .get("_payloadType")
        .or_else(|| object.get("payloadType"))
        .and_then(Value::as_str)
        .ok_or(PayloadError::NoPayloadType)?
        .to_ascii_lowercase();
    // `order.created` → `order`: the header's entity must be the signed one.
    let header = event_type_header.trim().to_ascii_lowercase();
    let (entity, _) = header.split_once('.').ok_or(PayloadError::Mismatch)?;
    if entity != payload_type {
        return Err(PayloadError::Mismatch);
    }
    Ok(match header.as_str() {
        "order.created" | "order.updated" => SignedEvent::Order {
            id: object.get("_id").and_then(Value::as_str).map(str::to_owned),
        },
        "app.uninstalled" => SignedEvent::AppUninstalled {
            at: signed_time(object),
        },
        _ => SignedEvent::Other,
    })
}

/// The event time the body states: the 2020–2021 envelope's `timestamp`, or the entity's
/// `_context.lastModifiedAt` / `lastModifiedAt` / `updatedAt` / `createdAt`. ISO 8601
/// with or without an offset (Beyond writes none: UTC), or Unix milliseconds.
fn signed_time(object: &serde_json::Map<String, Value>) -> Option<DateTime<Utc>> {
    let context = object.get("_context").and_then(Value::as_object);
    [
        object.get("timestamp"),
        context.and_then(|c| c.get("lastModifiedAt")),
        object.get("lastModifiedAt"),
        object.get("updatedAt"),
        context.and_then(|c| c.get("createdAt")),
        object.get("createdAt"),
    ]
    .into_iter()
    .flatten()
    .find_map(parse_time)
}

fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => DateTime::from_timestamp_millis(n.as_i64()?),
        Value::String(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc())
            }),
        _ => None,
    }
}

/// The fingerprint of a delivery: SHA-256 over exactly what the sender signed (our
/// callback URI and the body). A replay, whatever its headers, has the same fingerprint.
pub fn fingerprint(uri: &str, body: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(uri.as_bytes());
    hash.update(b":");
    hash.update(body.as_bytes());
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_must_agree_with_the_signed_payload_type() {
        let order = r#"{"_id":"o1","_payloadType":"Order"}"#;
        assert_eq!(
            signed_event("order.created", order),
            Ok(SignedEvent::Order {
                id: Some("o1".into())
            })
        );
        assert_eq!(
            signed_event("app.uninstalled", order),
            Err(PayloadError::Mismatch)
        );
        assert_eq!(signed_event("", order), Err(PayloadError::Mismatch));
        assert_eq!(
            signed_event("order.created", "[1]"),
            Err(PayloadError::NotAnObject)
        );
        assert_eq!(
            signed_event("order.created", "{}"),
            Err(PayloadError::NoPayloadType)
        );
        assert_eq!(
            signed_event("order.created", "not json"),
            Err(PayloadError::NotAnObject)
        );
        assert_eq!(
            signed_event("product.updated", r#"{"_payloadType":"product"}"#),
            Ok(SignedEvent::Other)
        );
    }

    #[test]
    fn an_uninstall_carries_the_time_its_body_states() {
        let at = |body: &str| match signed_event("app.uninstalled", body) {
            Ok(SignedEvent::AppUninstalled { at }) => at,
            other => panic!("{other:?}"),
        };
        assert_eq!(at(r#"{"payloadType":"app","_id":"x"}"#), None);
        assert_eq!(
            at(r#"{"_payloadType":"app","timestamp":"2026-01-02T03:04:05.5"}"#),
            DateTime::parse_from_rfc3339("2026-01-02T03:04:05.5Z")
                .ok()
                .map(|t| t.with_timezone(&Utc))
        );
        assert_eq!(
            at(r#"{"_payloadType":"app","timestamp":1000}"#),
            DateTime::from_timestamp_millis(1000)
        );
        assert_eq!(at(r#"{"_payloadType":"app","createdAt":"garbage"}"#), None);
    }
}
