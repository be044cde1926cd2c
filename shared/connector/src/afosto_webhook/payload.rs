//! The webhook envelope and the lenient reading of the (unconfirmed) delivery payload.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::millis;
use contracts::command::{Command, CommandError, CommandId, SCHEMA_VERSION, parse_command};
use domain::tenant::TenantId;

/// Where each value is looked for in `data`, first match wins. Afosto's delivery payload is
/// undocumented past its first fields (afosto.md A.9), and how the Afosto order keeps the
/// ePages order id is open (open question 4); these are the shapes we accept until it is
/// confirmed. The ePages order is needed; the delivery id (`entity_id`) becomes the
/// `shipmentReference` that ties `deliver` to its `ship`.
pub mod paths {
    pub const EPAGES_ORDER_ID: &[&str] = &[
        "order.meta_data.epages_order_id",
        "meta_data.epages_order_id",
        "order.external_id",
    ];
    pub const EPAGES_ORDER_NUMBER: &[&str] = &[
        "order.meta_data.epages_order_number",
        "meta_data.epages_order_number",
    ];
    pub const TRACKING_CODE: &[&str] = &["tracking_code", "track_trace.code", "tracking.code"];
    pub const TRACKING_LINK: &[&str] = &["tracking_url", "track_trace.url", "tracking.url"];
    pub const CARRIER: &[&str] = &["carrier.name", "carrier", "method.name"];
    pub const ITEMS: &[&str] = &["items", "order.items"];
}

/// Why a delivery cannot become a command. Every kind is answered with 422.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not JSON: {source}")]
    NotJson {
        #[source]
        source: serde_json::Error,
    },
    #[error("`{field}` is missing")]
    Missing { field: String },
    #[error("`{field}` has the wrong type: expected {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    #[error("`{field}` is invalid: {reason}")]
    Invalid { field: String, reason: String },
    #[error("the {event} delivery does not make a valid command: {source}")]
    Command {
        event: String,
        #[source]
        source: CommandError,
    },
}

/// The documented envelope: `event`, `message_id`, `entity_id`, `entity_type`,
/// `triggered_at` (Unix ms), `data`.
#[derive(Debug, Clone)]
pub struct WebhookEnvelope {
    pub event: String,
    pub message_id: String,
    pub entity_id: Option<String>,
    pub entity_type: Option<String>,
    pub triggered_at: Option<DateTime<Utc>>,
    pub data: Value,
}

impl WebhookEnvelope {
    pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|source| PayloadError::NotJson { source })?;
        let Value::Object(mut object) = value else {
            return Err(PayloadError::WrongType {
                field: "(body)".into(),
                expected: "an object",
            });
        };
        let event = required_text(&object, "event")?;
        let message_id = required_text(&object, "message_id")?;
        let entity_id = optional_text(&object, "entity_id")?;
        let entity_type = optional_text(&object, "entity_type")?;
        let triggered_at =
            match object.get("triggered_at") {
                None | Some(Value::Null) => None,
                Some(value) => Some(value.as_i64().and_then(millis).ok_or_else(|| {
                    PayloadError::WrongType {
                        field: "triggered_at".into(),
                        expected: "Unix milliseconds",
                    }
                })?),
            };
        let data = object.remove("data").unwrap_or(Value::Null);
        Ok(Self {
            event,
            message_id,
            entity_id,
            entity_type,
            triggered_at,
            data,
        })
    }
}

fn required_text(object: &Map<String, Value>, field: &str) -> Result<String, PayloadError> {
    optional_text(object, field)?.ok_or_else(|| PayloadError::Missing {
        field: field.to_owned(),
    })
}

/// A string, or a number written as text (ids are sometimes numeric).
fn optional_text(object: &Map<String, Value>, field: &str) -> Result<Option<String>, PayloadError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(PayloadError::WrongType {
            field: field.to_owned(),
            expected: "a string",
        }),
    }
}

/// The value at a dotted path below `data`.
fn at<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(data, |value, key| value.get(key))
        .filter(|value| !value.is_null())
}

/// The first text found at one of `candidates`.
fn first_text(data: &Value, candidates: &[&str]) -> Result<Option<String>, PayloadError> {
    for path in candidates {
        match at(data, path) {
            None => continue,
            Some(Value::String(text)) if text.trim().is_empty() => continue,
            Some(Value::String(text)) => return Ok(Some(text.clone())),
            Some(Value::Number(number)) => return Ok(Some(number.to_string())),
            // `carrier` may be an object with `name`, found by the earlier candidate.
            Some(Value::Object(_)) => continue,
            Some(_) => {
                return Err(PayloadError::WrongType {
                    field: format!("data.{path}"),
                    expected: "a string",
                });
            }
        }
    }
    Ok(None)
}

/// The command for a delivery event, `None` for events that apply nothing (order events:
/// the ePages side is their source, not their target).
pub fn command_for(
    envelope: &WebhookEnvelope,
    tenant: &TenantId,
    now: DateTime<Utc>,
) -> Result<Option<Command>, PayloadError> {
    let command_type = match envelope.event.as_str() {
        "IN_TRANSIT" => "ship",
        "DELIVERED" => "deliver",
        _ => return Ok(None),
    };
    let data = &envelope.data;
    if !data.is_object() {
        return Err(PayloadError::Missing {
            field: "data".into(),
        });
    }
    let order = if let Some(id) = first_text(data, paths::EPAGES_ORDER_ID)? {
        json!({ "id": id })
    } else if let Some(number) = first_text(data, paths::EPAGES_ORDER_NUMBER)? {
        json!({ "number": number })
    } else {
        return Err(PayloadError::Missing {
            field: format!("data.{}", paths::EPAGES_ORDER_ID[0]),
        });
    };
    let delivery_id = match &envelope.entity_id {
        Some(id) => id.clone(),
        None => match first_text(data, &["id"])? {
            Some(id) => id,
            None => {
                return Err(PayloadError::Missing {
                    field: "entity_id".into(),
                });
            }
        },
    };
    let tracking_code = first_text(data, paths::TRACKING_CODE)?;

    let mut body = Map::new();
    body.insert("schemaVersion".into(), json!(SCHEMA_VERSION));
    body.insert(
        "id".into(),
        json!(command_id(&envelope.event, &delivery_id)),
    );
    body.insert("tenant".into(), json!(tenant.as_str()));
    body.insert(
        "issuedAt".into(),
        json!(envelope.triggered_at.unwrap_or(now).to_rfc3339()),
    );
    body.insert("type".into(), json!(command_type));
    body.insert("order".into(), order);
    body.insert("shipmentReference".into(), json!(delivery_id));
    if let Some(code) = &tracking_code {
        body.insert("trackingCode".into(), json!(code));
    }
    if command_type == "ship" {
        if let Some(link) = first_text(data, paths::TRACKING_LINK)? {
            body.insert("trackingLink".into(), json!(link));
        }
        if let Some(carrier) = first_text(data, paths::CARRIER)? {
            body.insert("carrier".into(), json!(carrier));
        }
        match ship_lines(data)? {
            Some(lines) => {
                body.insert("lines".into(), Value::Array(lines));
            }
            None => {
                body.insert("allUnshipped".into(), json!(true));
            }
        }
    }
    let bytes = serde_json::to_vec(&Value::Object(body))
        .map_err(|source| PayloadError::NotJson { source })?;
    parse_command(&bytes)
        .map(Some)
        .map_err(|source| PayloadError::Command {
            event: envelope.event.clone(),
            source,
        })
}

/// `items[]{sku, quantity}` when the delivery lists them; `None` ships all unshipped.
fn ship_lines(data: &Value) -> Result<Option<Vec<Value>>, PayloadError> {
    let Some((path, items)) = paths::ITEMS
        .iter()
        .find_map(|path| at(data, path).map(|items| (*path, items)))
    else {
        return Ok(None);
    };
    let Some(items) = items.as_array() else {
        return Err(PayloadError::WrongType {
            field: format!("data.{path}"),
            expected: "an array",
        });
    };
    if items.is_empty() {
        return Ok(None);
    }
    let mut lines = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = |name: &str| format!("data.{path}[{index}].{name}");
        let sku = item
            .get("sku")
            .and_then(Value::as_str)
            .ok_or_else(|| PayloadError::Missing {
                field: field("sku"),
            })?;
        let quantity = match item.get("quantity") {
            None | Some(Value::Null) => 1,
            Some(value) => value.as_u64().ok_or_else(|| PayloadError::WrongType {
                field: field("quantity"),
                expected: "a positive integer",
            })?,
        };
        lines.push(json!({ "sku": sku, "quantity": quantity }));
    }
    Ok(Some(lines))
}

/// One command per (event, delivery): a re-sent event with a new `message_id` still maps
/// to the same command, which the queue and the consumer deduplicate.
fn command_id(event: &str, delivery_id: &str) -> String {
    let natural = format!("afosto-{}-{delivery_id}", event.to_ascii_lowercase());
    if CommandId::parse(&natural).is_ok() {
        return natural;
    }
    let digest = hex::encode(Sha256::digest(natural.as_bytes()));
    format!("afosto-{}-{digest}", event.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::command::{Action, OrderRef, ShipScope};

    fn tenant() -> TenantId {
        TenantId::parse("shop-1").expect("valid")
    }

    fn envelope(event: &str, data: Value) -> WebhookEnvelope {
        let body = json!({
            "event": event, "message_id": "m-1", "entity_id": "d-1",
            "entity_type": "delivery", "triggered_at": 1_700_000_000_000_i64, "data": data
        });
        WebhookEnvelope::parse(body.to_string().as_bytes()).expect("parses")
    }

    #[test]
    fn in_transit_becomes_a_ship_command_with_the_delivery_as_reference() {
        let order_id = "6f1c3a52-35c7-4a51-bb1a-3c2f5e1d9a10";
        let data = json!({
            "order": { "meta_data": { "epages_order_id": order_id } },
            "track_trace": { "code": "3SABC", "url": "https://track.example/3SABC" },
            "carrier": { "name": "PostNL" },
            "items": [ { "sku": "MUG-001", "quantity": 2 } ]
        });
        let command = command_for(&envelope("IN_TRANSIT", data), &tenant(), Utc::now())
            .expect("maps")
            .expect("a command");
        let Action::Ship(ship) = &command.action else {
            panic!("{command:?}")
        };
        assert_eq!(ship.order, OrderRef::Id(order_id.parse().expect("uuid")));
        assert_eq!(
            ship.tracking_code.as_ref().map(|c| c.as_str()),
            Some("3SABC")
        );
        assert_eq!(ship.carrier.as_ref().map(|c| c.as_str()), Some("PostNL"));
        assert_eq!(
            ship.shipment_reference.as_ref().map(|r| r.as_str()),
            Some("d-1")
        );
        assert!(matches!(ship.scope(), ShipScope::Lines(lines) if lines.len() == 1));
        assert_eq!(command.id.as_str(), "afosto-in_transit-d-1");
    }

    #[test]
    fn missing_order_reference_names_the_field_and_other_events_map_to_nothing() {
        let error = command_for(
            &envelope("DELIVERED", json!({ "tracking_code": "X" })),
            &tenant(),
            Utc::now(),
        )
        .expect_err("no order");
        assert!(
            matches!(&error, PayloadError::Missing { field } if field == "data.order.meta_data.epages_order_id"),
            "{error}"
        );
        assert!(
            command_for(&envelope("ORDER_UPDATED", json!({})), &tenant(), Utc::now())
                .expect("fine")
                .is_none()
        );
        let error = WebhookEnvelope::parse(br#"{"event":"DELIVERED"}"#).expect_err("no id");
        assert!(matches!(error, PayloadError::Missing { field } if field == "message_id"));
        let error = command_for(
            &envelope(
                "IN_TRANSIT",
                json!({ "meta_data": { "epages_order_number": "10042" }, "items": [ { "quantity": 1 } ] }),
            ),
            &tenant(),
            Utc::now(),
        )
        .expect_err("no sku");
        assert!(matches!(error, PayloadError::Missing { field } if field == "data.items[0].sku"));
    }
}
