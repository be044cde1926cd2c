//! Embedded poll cursor, lease and bookkeeping: table `poll_state`, one row per tenant.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Database, KvTable};
use connector::ports::clock::{add_std, truncate_to_millis};
use connector::ports::poll_state::{
    LeasedOutcome, LeasedWrite, PollRecord as Bookkeeping, RenewOutcome, UnleasedOutcome,
    UnleasedWrite, VersionedLeaseOutcome, check_lease_request, clip_message,
};
use connector::ports::{PollStateStore, StoreError};
use domain::poll_state::{Lease, PollCursor, PollFailure, PollState};
use domain::tenant::TenantId;

pub(crate) const TABLE: KvTable = KvTable {
    name: "poll_state",
    what: "poll state",
};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct PollRecord {
    state: PollState,
    /// The epoch of the last lease handed out; survives release so epochs never repeat.
    last_epoch: u64,
}

/// The JSON-file format this store had before SQLite (`poll_state.json`), for the
/// migration.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    tenants: std::collections::BTreeMap<TenantId, PollRecord>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        for (tenant, record) in &self.tenants {
            TABLE.put(tx, tenant.as_str(), record)?;
        }
        Ok(self.tenants.len())
    }
}

pub struct EmbeddedPollStateStore {
    db: Arc<Database>,
}

impl EmbeddedPollStateStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
        })
    }

    /// Reads the tenant's record (default when absent), lets `change` decide, and writes
    /// the record back when `change` says it changed; one transaction.
    async fn change<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        change: impl FnOnce(&mut PollRecord) -> (bool, R) + Send + 'static,
    ) -> Result<R, StoreError> {
        let tenant = tenant.clone();
        self.db
            .write(move |tx| {
                let mut record: PollRecord = TABLE.get(tx, tenant.as_str())?.unwrap_or_default();
                let (changed, result) = change(&mut record);
                if changed {
                    TABLE.put(tx, tenant.as_str(), &record)?;
                }
                Ok(result)
            })
            .await
    }

    /// Like [`Self::change`] for writes that need a stored record (never creating one).
    async fn change_existing<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        absent: R,
        change: impl FnOnce(&mut PollRecord) -> (bool, R) + Send + 'static,
    ) -> Result<R, StoreError> {
        let tenant = tenant.clone();
        self.db
            .write(move |tx| {
                let Some(mut record) = TABLE.get::<PollRecord>(tx, tenant.as_str())? else {
                    return Ok(absent);
                };
                let (changed, result) = change(&mut record);
                if changed {
                    TABLE.put(tx, tenant.as_str(), &record)?;
                }
                Ok(result)
            })
            .await
    }
}

impl PollRecord {
    /// Every accepted write goes through here: the version counts writes, as in DynamoDB.
    fn bump(&mut self) {
        self.state.version += 1;
    }

    /// `lease` is the one stored (same owner and epoch), expired or not.
    fn holds(&self, lease: &Lease) -> bool {
        self.state
            .lease
            .as_ref()
            .is_some_and(|held| held.owner == lease.owner && held.epoch == lease.epoch)
    }

    /// The lease held at `now`, if it has not expired.
    fn live_lease(&self, now: DateTime<Utc>) -> Option<&Lease> {
        self.state.lease.as_ref().filter(|held| held.until > now)
    }

    /// Hands out a new lease with the next epoch; the caller checked none is live.
    fn take_lease(&mut self, tenant: &TenantId, owner: &str, until: DateTime<Utc>) -> Lease {
        self.last_epoch += 1;
        let lease = Lease {
            tenant: tenant.clone(),
            owner: owner.to_owned(),
            until,
            epoch: self.last_epoch,
        };
        self.state.lease = Some(lease.clone());
        self.bump();
        lease
    }

    fn cursor_forward(&self, to: Option<DateTime<Utc>>) -> bool {
        match (to, self.state.cursor.updated_after) {
            (Some(to), Some(current)) => current <= to,
            _ => true,
        }
    }

    fn apply(&mut self, cursor: Option<DateTime<Utc>>, record: Option<&Bookkeeping>) {
        if let Some(at) = cursor {
            self.state.cursor = PollCursor {
                updated_after: Some(truncate_to_millis(at)),
                version: self.state.cursor.version + 1,
            };
        }
        match record {
            Some(Bookkeeping::Success { at }) => {
                self.state.last_success_at = Some(truncate_to_millis(*at));
            }
            Some(Bookkeeping::Failure { at, message }) => {
                self.state.last_failure = Some(PollFailure {
                    at: truncate_to_millis(*at),
                    message: clip_message(message),
                });
            }
            None => {}
        }
        self.bump();
    }
}

#[async_trait]
impl PollStateStore for EmbeddedPollStateStore {
    async fn get(&self, tenant: &TenantId) -> Result<PollState, StoreError> {
        let tenant = tenant.clone();
        let record: Option<PollRecord> = self
            .db
            .read(move |connection| TABLE.get(connection, tenant.as_str()))
            .await?;
        Ok(record.map(|record| record.state).unwrap_or_default())
    }

    async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<RenewOutcome, StoreError> {
        check_lease_request(&lease.owner, ttl)?;
        let now = truncate_to_millis(now);
        let until = add_std(now, ttl, "lease ttl")?;
        let lease = lease.clone();
        self.change_existing(&lease.tenant.clone(), RenewOutcome::Lost, move |record| {
            if !record.holds(&lease) || record.live_lease(now).is_none() {
                return (false, RenewOutcome::Lost);
            }
            let renewed = Lease { until, ..lease };
            record.state.lease = Some(renewed.clone());
            record.bump();
            (true, RenewOutcome::Renewed(renewed))
        })
        .await
    }

    async fn acquire_lease_at(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<VersionedLeaseOutcome, StoreError> {
        check_lease_request(owner, ttl)?;
        let now = truncate_to_millis(now);
        let until = add_std(now, ttl, "lease ttl")?;
        let (id, owner) = (tenant.clone(), owner.to_owned());
        self.change(tenant, move |record| {
            if let Some(held) = record.live_lease(now) {
                let outcome = VersionedLeaseOutcome::Held {
                    owner: held.owner.clone(),
                    until: held.until,
                };
                return (false, outcome);
            }
            if record.state.version != expected_version {
                let current = record.state.clone();
                return (false, VersionedLeaseOutcome::Stale { current });
            }
            let lease = record.take_lease(&id, &owner, until);
            (true, VersionedLeaseOutcome::Acquired(lease))
        })
        .await
    }

    async fn write_unleased(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        write: &UnleasedWrite,
        now: DateTime<Utc>,
    ) -> Result<UnleasedOutcome, StoreError> {
        let now = truncate_to_millis(now);
        let write = write.clone();
        self.change(tenant, move |record| {
            if record.state.version != expected_version
                || record.live_lease(now).is_some()
                || !record.cursor_forward(write.cursor)
            {
                let current = record.state.clone();
                return (false, UnleasedOutcome::Stale { current });
            }
            record.apply(write.cursor, Some(&write.record));
            (true, UnleasedOutcome::Written(record.state.clone()))
        })
        .await
    }

    async fn write_leased(
        &self,
        lease: &Lease,
        write: &LeasedWrite,
    ) -> Result<LeasedOutcome, StoreError> {
        let (held, write) = (lease.clone(), write.clone());
        self.change_existing(&lease.tenant, LeasedOutcome::NotHeld, move |record| {
            if !record.holds(&held) {
                return (false, LeasedOutcome::NotHeld);
            }
            if !record.cursor_forward(write.cursor) {
                let current = record.state.cursor.clone();
                return (false, LeasedOutcome::NotForward { current });
            }
            if write.release {
                record.state.lease = None;
            }
            record.apply(write.cursor, write.record.as_ref());
            (true, LeasedOutcome::Written(record.state.clone()))
        })
        .await
    }

    async fn record_failure(
        &self,
        tenant: &TenantId,
        at: DateTime<Utc>,
        message: &str,
    ) -> Result<(), StoreError> {
        let failure = Bookkeeping::Failure {
            at,
            message: message.to_owned(),
        };
        self.change(tenant, move |record| {
            record.apply(None, Some(&failure));
            (true, ())
        })
        .await
    }
}
