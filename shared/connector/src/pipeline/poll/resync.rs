//! `epages-sync resync`: a [`PollRequest`] with a `Resync` trigger on the poll queue. The
//! poller then re-reads the tenant's orders updated since `since`; without `force` it emits
//! only what the ledger has not seen, with `force` it restates every imported order under
//! new ids derived from this request (see [`super::forced_event_id`]). The cursor never
//! moves backwards.

use chrono::{DateTime, NaiveDate, Utc};

use crate::pipeline::poll_request::{PollRequest, PollTrigger};
use crate::ports::queue::OutgoingMessage;
use crate::ports::{MessageQueue, StoreError, TenantStore};
use domain::tenant::TenantId;

#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error("tenant {0} does not exist")]
    UnknownTenant(TenantId),
    #[error("tenant {0} is paused, and the poller skips paused tenants; resume it first")]
    Paused(TenantId),
    #[error("--since {since} lies in the future")]
    SinceInFuture { since: DateTime<Utc> },
    #[error("--since {raw:?} is neither an RFC 3339 time nor a date (YYYY-MM-DD)")]
    BadSince { raw: String },
    #[error("the poll request was not enqueued: {reason}")]
    NotEnqueued { reason: String },
    #[error("state or queue")]
    Store(#[from] StoreError),
}

/// `2024-03-01T12:00:00Z` (any RFC 3339 offset) or `2024-03-01` (midnight UTC).
pub fn parse_since(raw: &str) -> Result<DateTime<Utc>, ResyncError> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| ResyncError::BadSince {
            raw: raw.to_owned(),
        })
}

/// Checks the tenant and enqueues the resync request; returns what was sent.
pub async fn request_resync(
    tenants: &dyn TenantStore,
    poll_queue: &dyn MessageQueue,
    tenant: &TenantId,
    since: DateTime<Utc>,
    force: bool,
    now: DateTime<Utc>,
) -> Result<PollRequest, ResyncError> {
    let config = tenants
        .get(tenant)
        .await?
        .ok_or_else(|| ResyncError::UnknownTenant(tenant.clone()))?;
    if config.paused {
        return Err(ResyncError::Paused(tenant.clone()));
    }
    if since > now {
        return Err(ResyncError::SinceInFuture { since });
    }
    let request = PollRequest {
        tenant: tenant.clone(),
        trigger: PollTrigger::Resync { since, force },
        requested_at: now,
    };
    let report = poll_queue
        .send_batch(vec![OutgoingMessage::new(request.to_json())])
        .await?;
    if let Some((_, failure)) = report.failures().next() {
        return Err(ResyncError::NotEnqueued {
            reason: failure.message.clone(),
        });
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_time_or_a_date() {
        assert_eq!(
            parse_since("2024-03-01").expect("a date"),
            DateTime::parse_from_rfc3339("2024-03-01T00:00:00Z")
                .expect("valid")
                .with_timezone(&Utc)
        );
        assert_eq!(
            parse_since("2024-03-01T12:00:00+01:00").expect("a time"),
            DateTime::parse_from_rfc3339("2024-03-01T11:00:00Z")
                .expect("valid")
                .with_timezone(&Utc)
        );
        assert!(matches!(
            parse_since("yesterday"),
            Err(ResyncError::BadSince { .. })
        ));
    }
}
