//! Learning the offset of the shop's timestamps from answers the pipelines get anyway
//! (docs/ORDER-EVENTS.md, "Shop time"): the `Date` of an answer that carries an order which
//! changed just before it (the answer to a cancel command, a read triggered by the
//! order's webhook) against that order's `updatedAt` reading. No extra call; a write only
//! when the learned offset (or its verdict on the configured zone) changes, so a steady
//! shop costs nothing.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error_chain::{error_chain, sink_text};
use crate::metrics::{Metric, Metrics};
use crate::ports::StateStores;
use crate::ports::tenants::UpdateOutcome;
use beyond::model::{BeyondTimestamp, Order, observed_offset};
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::tenant::TenantConfig;

/// One observation: an answer's `Date` and the `updatedAt` reading (as the shop wrote
/// it, not yet converted) of the order in it.
#[derive(Debug, Clone, Copy)]
pub struct ClockSample {
    pub date: Option<DateTime<Utc>>,
    pub updated: Option<BeyondTimestamp>,
}

impl ClockSample {
    /// The sample an answer carrying `order` gives (read before the order's times are
    /// converted to instants).
    pub fn of(date: Option<DateTime<Utc>>, order: &Order) -> Self {
        Self {
            date,
            updated: order.updated_at,
        }
    }
}

/// How often a lost race on the tenant record is retried before the sample is dropped
/// (the next one teaches the same).
const UPDATE_ATTEMPTS: usize = 2;

/// Learns from `sample`. Returns the tenant record as stored after learning when it wrote
/// one (its [`TenantConfig::shop_zone`] is the one to read with from now on), `None` when
/// nothing changed. Never fails its caller: learning is best effort, a store error is
/// logged and the next sample tries again.
pub async fn learn(
    stores: &StateStores,
    metrics: &Metrics,
    tenant: &TenantConfig,
    sample: ClockSample,
    now: DateTime<Utc>,
) -> Option<TenantConfig> {
    let (Some(date), Some(updated)) = (sample.date, sample.updated) else {
        return None;
    };
    let Some(offset) = observed_offset(date, updated) else {
        tracing::debug!(tenant = %tenant.id, %date, updated = %updated.to_wire(), "shop clock sample not plausible; nothing learned");
        return None;
    };
    let mut current = tenant.clone();
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(learned) = current.learn_shop_offset(offset, date) else {
            // Nothing new, perhaps because another reader stored it meanwhile.
            return (current.version != tenant.version).then_some(current);
        };
        let mut next = current.clone();
        next.learned_shop_offset = Some(learned.clone());
        match stores.tenants.update(next, now).await {
            Ok(UpdateOutcome::Updated(stored)) => {
                tracing::info!(
                    tenant = %tenant.id,
                    offset_seconds = learned.offset_seconds,
                    "learned the shop's clock offset"
                );
                if let Some(warning) = learned.warning() {
                    warn(stores, metrics, &stored, &warning, now).await;
                }
                return Some(stored);
            }
            Ok(UpdateOutcome::Stale { current: latest }) => current = latest,
            Ok(UpdateOutcome::NotFound) => return None,
            Err(error) => {
                tracing::warn!(tenant = %tenant.id, error = %error_chain(&error), "cannot store the learned shop clock offset");
                return None;
            }
        }
    }
    None
}

/// Once per change of the verdict: a warning log line, a metric and an activity entry.
async fn warn(
    stores: &StateStores,
    metrics: &Metrics,
    tenant: &TenantConfig,
    warning: &str,
    now: DateTime<Utc>,
) {
    let text = sink_text(warning);
    tracing::warn!(tenant = %tenant.id, warning = %text, "shop time zone disagrees with the shop's clock");
    metrics.incr(Metric::ShopTimeMismatches);
    let entry = ActivityEntry {
        tenant: tenant.id.clone(),
        entry_id: Uuid::new_v4().to_string(),
        at: now,
        entity: EntityRef {
            kind: EntityKind::Tenant,
            id: tenant.id.to_string(),
            number: None,
        },
        direction: Direction::EpagesToAfosto,
        action: "shop_time.check".to_owned(),
        outcome: ActivityOutcome::Failed,
        error: Some(text),
        correlation: Correlation::default(),
    };
    if let Err(error) = stores.activity.append(&[entry]).await {
        tracing::warn!(tenant = %tenant.id, error = %error_chain(&error), "cannot write the shop time warning to the activity log");
    }
}
