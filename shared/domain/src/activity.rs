//! The activity log: what the connector did per tenant, for merchants and support.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tenant::TenantId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Order,
    Sku,
    Tenant,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Sku => "sku",
            Self::Tenant => "tenant",
        }
    }
}

/// The thing an entry is about: an ePages order (id, plus its number for humans), a SKU…
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRef {
    pub kind: EntityKind,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

impl EntityRef {
    pub fn order(id: impl Into<String>, number: Option<String>) -> Self {
        Self {
            kind: EntityKind::Order,
            id: id.into(),
            number,
        }
    }

    pub fn sku(sku: impl Into<String>) -> Self {
        Self {
            kind: EntityKind::Sku,
            id: sku.into(),
            number: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    EpagesToAfosto,
    AfostoToEpages,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityOutcome {
    Ok,
    Skipped,
    Failed,
}

/// Ids that tie an entry to messages and events elsewhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// One log entry. `entry_id` makes entries at the same millisecond distinct.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub tenant: TenantId,
    pub entry_id: String,
    pub at: DateTime<Utc>,
    pub entity: EntityRef,
    pub direction: Direction,
    /// What was attempted, e.g. `order.import`, `shipment.create`, `stock.adjust`.
    pub action: String,
    pub outcome: ActivityOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub correlation: Correlation,
}
