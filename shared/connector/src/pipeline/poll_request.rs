//! A request to poll one tenant's shop, as carried by the poll queue. The scheduler, the
//! ePages webhook and `epages-sync resync` all produce it; the poller consumes it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use domain::tenant::TenantId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollRequest {
    pub tenant: TenantId,
    pub trigger: PollTrigger,
    pub requested_at: DateTime<Utc>,
}

/// Why a poll was requested; it decides the window the poller reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PollTrigger {
    /// The 5-minute schedule: read incrementally from the cursor.
    Schedule,
    /// An ePages webhook whose order is not known (or a burst over the tenant's budget of
    /// targeted reads): read incrementally, like the schedule.
    Webhook,
    /// An ePages `order.created` / `order.updated` webhook naming its order: read that one
    /// order (`GET /orders/{id}`) and emit its changes, whatever the window; the cursor
    /// does not move (the schedule stays the backstop).
    #[serde(rename_all = "camelCase")]
    Order { order_id: uuid::Uuid },
    /// `epages-sync resync`: re-read orders updated since `since`; with `force`, emit
    /// again what was already emitted.
    #[serde(rename_all = "camelCase")]
    Resync { since: DateTime<Utc>, force: bool },
}

/// Why a poll queue message is not a [`PollRequest`].
#[derive(Debug, thiserror::Error)]
#[error("invalid poll request at `{path}`")]
pub struct InvalidPollRequest {
    /// The JSON path of the offending field (`.` for the document itself).
    pub path: String,
    #[source]
    pub source: serde_json::Error,
}

impl PollRequest {
    pub fn parse(body: &str) -> Result<Self, InvalidPollRequest> {
        let mut deserializer = serde_json::Deserializer::from_str(body);
        let request = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            InvalidPollRequest {
                path: error.path().to_string(),
                source: error.into_inner(),
            }
        })?;
        // Strict: a valid request followed by anything else is not a valid request.
        deserializer.end().map_err(|source| InvalidPollRequest {
            path: ".".to_owned(),
            source,
        })?;
        Ok(request)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|error| unreachable!("a PollRequest always serializes: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_the_bad_field() {
        let request = PollRequest {
            tenant: TenantId::parse("shop-1").expect("valid id"),
            trigger: PollTrigger::Resync {
                since: DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"),
                force: true,
            },
            requested_at: DateTime::from_timestamp(1_700_000_100, 0).expect("valid time"),
        };
        assert_eq!(
            PollRequest::parse(&request.to_json()).expect("parses"),
            request
        );

        let error = PollRequest::parse(
            r#"{"tenant":"Bad Id!","trigger":{"kind":"schedule"},"requestedAt":"2026-01-01T00:00:00Z"}"#,
        )
        .expect_err("an invalid tenant id is rejected");
        assert_eq!(error.path, "tenant");
        let targeted = PollRequest {
            trigger: PollTrigger::Order {
                order_id: uuid::Uuid::from_u128(7),
            },
            ..request.clone()
        };
        assert!(targeted.to_json().contains(r#""kind":"order","orderId":"#));
        assert_eq!(
            PollRequest::parse(&targeted.to_json()).expect("parses"),
            targeted
        );
        let error = PollRequest::parse(
            r#"{"tenant":"shop-1","trigger":{"kind":"order","orderId":"nope"},"requestedAt":"2026-01-01T00:00:00Z"}"#,
        )
        .expect_err("an order id that is no UUID is rejected");
        assert!(error.path.starts_with("trigger"), "{}", error.path);
        let trailing = PollRequest::parse(&format!("{}x", request.to_json()))
            .expect_err("trailing garbage is rejected");
        assert_eq!(trailing.path, ".");
    }
}
