//! A tenant: one ePages Beyond shop connected to one Afosto account, and how it is synced.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

pub use beyond::model::{InvalidTimeZone, ShopTimeZone};

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
    /// Whether the current pause came from an `app.uninstalled` webhook (a re-install lifts
    /// it) rather than from the operator (a re-install keeps it). Records written before
    /// this field existed read as `false`: an old pause is kept, the safe reading.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused_by_uninstall: bool,
    /// When the public app was last installed in the shop. An `app.uninstalled` that is
    /// not newer than this belongs to an earlier installation and is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_at: Option<DateTime<Utc>>,
    /// When the app was last uninstalled (cleared by a re-install).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstalled_at: Option<DateTime<Utc>>,
    /// The Afosto tenant (`X-Afosto-Tenant`) whose webhooks belong to this tenant. The
    /// Afosto webhook finds it in its cached tenant directory, so a header no tenant is
    /// mapped to is refused without reading any secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub afosto_tenant: Option<String>,
    /// The zone of the shop's offset-less timestamps (`Europe/Berlin`), set by the
    /// operator when the shop's clock is not UTC. `None` reads them as UTC, the
    /// assumption before this field existed (docs/ORDER-EVENTS.md, "Shop time").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_time_zone: Option<ShopTimeZone>,
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
            paused_by_uninstall: false,
            installed_at: None,
            uninstalled_at: None,
            afosto_tenant: None,
            shop_time_zone: None,
            created_at: sync_start,
            updated_at: sync_start,
            version: 0,
        }
    }

    /// The zone the shop's timestamps are read in: the configured one, or UTC.
    pub fn shop_zone(&self) -> ShopTimeZone {
        self.shop_time_zone.clone().unwrap_or_default()
    }

    /// Whether the scheduler polls this tenant.
    pub fn is_active(&self) -> bool {
        !self.paused
    }

    /// The operator pauses or resumes the tenant: the pause is then the operator's, which
    /// a re-install keeps.
    pub fn set_operator_pause(&mut self, paused: bool) {
        self.paused = paused;
        self.paused_by_uninstall = false;
    }

    /// `app.uninstalled` at `at`: pauses the tenant unless the operator already did (then
    /// the pause stays the operator's).
    pub fn mark_uninstalled(&mut self, at: DateTime<Utc>) {
        if !self.paused {
            self.paused = true;
            self.paused_by_uninstall = true;
        }
        self.uninstalled_at = Some(at);
    }

    /// A successful install at `at`: lifts only a pause that an uninstall caused.
    pub fn mark_installed(&mut self, at: DateTime<Utc>) {
        if self.paused_by_uninstall {
            self.paused = false;
            self.paused_by_uninstall = false;
        }
        self.installed_at = Some(at);
        self.uninstalled_at = None;
    }

    /// Whether an `app.uninstalled` that happened at `at` concerns the current
    /// installation: only when it is newer than the last install.
    pub fn uninstall_applies(&self, at: DateTime<Utc>) -> bool {
        self.installed_at.is_none_or(|installed| at > installed)
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

    fn tenant() -> TenantConfig {
        TenantConfig::new(
            TenantId::parse("t").expect("id"),
            Url::parse("https://s.beyondshop.cloud/api").expect("url"),
            AuthMode::AuthorizationCode,
            "c",
            SecretRef("s".into()),
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_reinstall_lifts_an_uninstall_pause_but_keeps_the_operators() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let later = t0 + chrono::TimeDelta::seconds(60);
        let mut uninstalled = tenant();
        uninstalled.mark_installed(t0);
        assert!(!uninstalled.uninstall_applies(t0));
        assert!(uninstalled.uninstall_applies(later));
        uninstalled.mark_uninstalled(later);
        assert!(uninstalled.paused && uninstalled.paused_by_uninstall);
        uninstalled.mark_installed(later);
        assert!(!uninstalled.paused);

        let mut operator = tenant();
        operator.set_operator_pause(true);
        operator.mark_uninstalled(later);
        assert!(!operator.paused_by_uninstall);
        operator.mark_installed(later);
        assert!(
            operator.paused,
            "the operator's pause survives a re-install"
        );
    }

    #[test]
    fn records_without_the_new_fields_still_read() {
        let mut value = serde_json::to_value(tenant()).expect("serializes");
        let object = value.as_object_mut().expect("object");
        assert!(!object.contains_key("installed_at"));
        object.insert("paused".into(), true.into());
        let old: TenantConfig = serde_json::from_value(value).expect("reads");
        assert!(old.paused && !old.paused_by_uninstall && old.installed_at.is_none());
    }
}
