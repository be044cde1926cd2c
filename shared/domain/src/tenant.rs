//! A tenant: one ePages Beyond shop connected to one Afosto account, and how it is synced.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
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

/// The offset of a shop's offset-less timestamps as the connector last learned it from
/// the shop's own answers (`beyond::model::shop_offset`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedShopOffset {
    /// Seconds east of UTC.
    pub offset_seconds: i32,
    /// When this value was first observed (a new value is written, the same is not).
    pub learned_at: DateTime<Utc>,
    /// The configured zone it disagreed with when observed, warned about once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagrees_with: Option<String>,
}

impl LearnedShopOffset {
    /// The learned offset as a zone without daylight saving (`UTC+02:00`).
    pub fn zone(&self) -> Option<ShopTimeZone> {
        ShopTimeZone::fixed(TimeDelta::seconds(i64::from(self.offset_seconds)))
    }

    /// The warning for an operator when the offset disagrees with the configured zone.
    pub fn warning(&self) -> Option<String> {
        let configured = self.disagrees_with.as_deref()?;
        let learned = self.zone().map_or_else(
            || format!("{} s", self.offset_seconds),
            |zone| zone.name().to_owned(),
        );
        Some(format!(
            "shop timestamps look like {learned} but the tenant's zone says {configured}: \
             set --shop-time-zone to the shop's zone"
        ))
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
    /// The offset the connector learned of the shop's timestamps by itself; used when no
    /// `shop_time_zone` is set, and checked against it when one is (docs/ORDER-EVENTS.md,
    /// "Shop time"). Written only when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned_shop_offset: Option<LearnedShopOffset>,
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
            learned_shop_offset: None,
            created_at: sync_start,
            updated_at: sync_start,
            version: 0,
        }
    }

    /// The zone the shop's timestamps are read in: the configured one, else the offset
    /// learned from the shop's answers, else UTC.
    pub fn shop_zone(&self) -> ShopTimeZone {
        if let Some(zone) = &self.shop_time_zone {
            return zone.clone();
        }
        self.learned_shop_offset
            .as_ref()
            .and_then(LearnedShopOffset::zone)
            .unwrap_or_default()
    }

    /// What to store after observing that the shop's readings were `offset` ahead of UTC
    /// at `at`: `None` when it says nothing new (the same offset, and the same verdict on
    /// the configured zone), so a shop whose clock does not change costs no write. A
    /// tenant with nothing stored counts as learned UTC: a UTC shop never writes.
    pub fn learn_shop_offset(
        &self,
        offset: TimeDelta,
        at: DateTime<Utc>,
    ) -> Option<LearnedShopOffset> {
        let seconds = i32::try_from(offset.num_seconds()).ok()?;
        let disagrees_with = self
            .shop_time_zone
            .as_ref()
            .filter(|zone| zone.offset_at(at) != offset)
            .map(|zone| zone.name().to_owned());
        let stored = self.learned_shop_offset.as_ref();
        let unchanged = stored.map_or(0, |learned| learned.offset_seconds) == seconds
            && stored.and_then(|learned| learned.disagrees_with.as_deref())
                == disagrees_with.as_deref();
        (!unchanged).then_some(LearnedShopOffset {
            offset_seconds: seconds,
            learned_at: at,
            disagrees_with,
        })
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
    fn learned_offsets_are_written_on_change_only_and_checked_against_the_zone() {
        let at: DateTime<Utc> = "2026-07-01T10:00:00Z".parse().expect("an instant");
        let mut tenant = tenant();
        // A UTC shop with nothing stored: nothing to write.
        assert_eq!(tenant.learn_shop_offset(TimeDelta::zero(), at), None);
        assert!(tenant.shop_zone().is_utc());
        let learned = tenant
            .learn_shop_offset(TimeDelta::hours(2), at)
            .expect("a new offset");
        assert_eq!((learned.offset_seconds, learned.warning()), (7200, None));
        tenant.learned_shop_offset = Some(learned);
        assert_eq!(tenant.shop_zone().name(), "UTC+02:00");
        assert_eq!(tenant.learn_shop_offset(TimeDelta::hours(2), at), None);
        // A configured zone wins, and one that disagrees is warned about once.
        tenant.shop_time_zone = Some(ShopTimeZone::utc());
        assert!(tenant.shop_zone().is_utc());
        let disagreement = tenant
            .learn_shop_offset(TimeDelta::hours(2), at)
            .expect("a new verdict");
        let warning = disagreement.warning().expect("a warning");
        assert!(
            warning.contains("UTC+02:00") && warning.contains("says UTC"),
            "{warning}"
        );
        tenant.learned_shop_offset = Some(disagreement);
        assert_eq!(tenant.learn_shop_offset(TimeDelta::hours(2), at), None);
        // Berlin in summer agrees.
        tenant.shop_time_zone = Some(ShopTimeZone::parse("Europe/Berlin").expect("a zone"));
        let agreed = tenant
            .learn_shop_offset(TimeDelta::hours(2), at)
            .expect("the verdict changed");
        assert_eq!(agreed.warning(), None);
        let json = serde_json::to_value(&agreed).expect("serializes");
        assert_eq!(
            serde_json::from_value::<LearnedShopOffset>(json).expect("round trip"),
            agreed
        );
    }

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
