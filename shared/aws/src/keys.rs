//! The DynamoDB key design (docs/STATE.md): attribute names, key formats and index names,
//! shared by the adapters and by table provisioning so they cannot drift apart.

use chrono::{DateTime, Utc};

use connector::ports::idempotency::IdempotencyKey;
use connector::ports::store_keys::key_part;
use domain::activity::EntityKind;
use domain::tenant::TenantId;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// The one global secondary index of each table (sparse on the state table).
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// The TTL attribute of both tables (epoch seconds). Reads never rely on it.
pub const EXPIRES_AT: &str = "expires_at";

pub(crate) const SK_CONFIG: &str = "CONFIG";
pub(crate) const SK_POLL: &str = "POLL";
pub(crate) const SK_TOKENS: &str = "TOKENS";
pub(crate) const SK_IDEMPOTENCY: &str = "IDEMPOTENCY";
pub(crate) const ACTIVE_TENANTS: &str = "TENANTS#ACTIVE";

pub(crate) fn tenant_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}")
}

pub(crate) fn order_sk(order_id: &str) -> String {
    format!("ORDER#{}", key_part(order_id))
}

pub(crate) fn stock_sk(sku: &str) -> String {
    format!("STOCKSKU#{}", key_part(sku))
}

pub(crate) fn stock_intents_pk(tenant: &TenantId) -> String {
    format!("STOCKINTENTS#{tenant}")
}

pub(crate) fn idempotency_pk(key: &IdempotencyKey) -> String {
    format!("IDEMPOTENCY#{key}")
}

/// Activity sort key: zero-padded epoch milliseconds, so string order is time order.
pub(crate) fn activity_sk(at: DateTime<Utc>, entry_id: &str) -> String {
    format!(
        "{:015}#{}",
        at.timestamp_millis().max(0),
        key_part(entry_id)
    )
}

/// A bound for activity range queries: sorts before every entry of that millisecond.
pub(crate) fn activity_sk_bound(at: DateTime<Utc>) -> String {
    format!("{:015}", at.timestamp_millis().max(0))
}

pub(crate) fn activity_entity_pk(tenant: &TenantId, kind: EntityKind, entity_id: &str) -> String {
    format!("TENANT#{tenant}#{}#{}", kind.as_str(), key_part(entity_id))
}
