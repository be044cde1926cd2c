//! A tenant: one ePages Beyond shop connected to one Afosto account, and how it is synced.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

pub use contracts::tenant_id::{InvalidTenantId, TenantId};

/// How the connector obtains ePages access tokens for this shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// A custom (single-shop) app: `grant_type=client_credentials`, no refresh token.
    ClientCredentials,
    /// A public app installed through the callback: `authorization_code`, then refresh tokens.
    AuthorizationCode,
}

/// Where the client secret lives (a Secrets Manager name, or a key in the embedded store).
/// Public-app tenants share the app's secret, so this is a reference, not a per-tenant rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretRef(pub String);

impl SecretRef {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which flows run for a tenant; each can be switched off on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowSwitches {
    /// ePages orders → Afosto.
    pub orders: bool,
    /// Afosto cancellations → ePages.
    pub cancellations: bool,
    /// Afosto shipments (and pickups) → ePages.
    pub shipments: bool,
    /// Afosto returns → ePages.
    pub returns: bool,
    /// Afosto stock → ePages availability.
    pub stock: bool,
}

impl Default for FlowSwitches {
    fn default() -> Self {
        Self {
            orders: true,
            cancellations: true,
            shipments: true,
            returns: true,
            stock: true,
        }
    }
}

/// What an Afosto location's stock does in the shop. Beyond keeps one stock number per
/// product, so locations either feed that number or are left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StockTarget {
    /// This location's stock counts towards the product's shop availability.
    ShopAvailability,
    /// This location's stock is not synced.
    Ignored,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationMapping {
    pub afosto_location_id: String,
    pub target: StockTarget,
    /// The ePages shop location (pickup point) matching this Afosto location, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epages_location_id: Option<String>,
}

/// Which ePages orders are imported, by payment status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
pub enum PaymentStatusFilter {
    /// Every order, whatever its payment status.
    #[default]
    Any,
    /// Only orders whose `paymentStatus` is `PAID`.
    PaidOnly,
    /// Only orders whose `paymentStatus` is one of these Beyond values.
    OneOf(Vec<String>),
}

impl PaymentStatusFilter {
    pub fn admits(&self, payment_status: &str) -> bool {
        match self {
            Self::Any => true,
            Self::PaidOnly => payment_status == "PAID",
            Self::OneOf(values) => values.iter().any(|v| v == payment_status),
        }
    }
}

/// A tenant's configuration as stored. `version` is owned by the store: it is 1 after
/// create and goes up by one on every successful update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantConfig {
    pub id: TenantId,
    /// The shop's API base, e.g. `https://myshop.beyondshop.cloud/api`.
    pub api_url: Url,
    pub auth_mode: AuthMode,
    pub client_id: String,
    pub client_secret: SecretRef,
    /// Orders created before this instant are never imported.
    pub sync_start: DateTime<Utc>,
    #[serde(default)]
    pub flows: FlowSwitches,
    #[serde(default)]
    pub locations: Vec<LocationMapping>,
    #[serde(default)]
    pub payment_filter: PaymentStatusFilter,
    #[serde(default)]
    pub include_test_orders: bool,
    /// A paused tenant keeps its state but is left out of scheduled polls.
    #[serde(default)]
    pub paused: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub version: u64,
}

impl TenantConfig {
    /// A new tenant with every flow on and no filters; stores stamp times and version.
    pub fn new(
        id: TenantId,
        api_url: Url,
        auth_mode: AuthMode,
        client_id: impl Into<String>,
        client_secret: SecretRef,
        sync_start: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            api_url,
            auth_mode,
            client_id: client_id.into(),
            client_secret,
            sync_start,
            flows: FlowSwitches::default(),
            locations: Vec::new(),
            payment_filter: PaymentStatusFilter::default(),
            include_test_orders: false,
            paused: false,
            created_at: sync_start,
            updated_at: sync_start,
            version: 0,
        }
    }

    /// Whether the scheduler polls this tenant.
    pub fn is_active(&self) -> bool {
        !self.paused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_filter_admits() {
        assert!(PaymentStatusFilter::Any.admits("PENDING"));
        assert!(PaymentStatusFilter::PaidOnly.admits("PAID"));
        assert!(!PaymentStatusFilter::PaidOnly.admits("PARTIALLY_PAID"));
        let one_of = PaymentStatusFilter::OneOf(vec!["PAID".into(), "PARTIALLY_PAID".into()]);
        assert!(one_of.admits("PARTIALLY_PAID"));
        assert!(!one_of.admits("VOIDED"));
    }
}
