//! Embedded poll cursor, lease and bookkeeping.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::persist::{JsonFile, Mutation};
use connector::ports::clock::{add_std, truncate_to_millis};
use connector::ports::poll_state::{
    LeasedOutcome, LeasedWrite, PollRecord as Bookkeeping, RenewOutcome, UnleasedOutcome,
    UnleasedWrite, VersionedLeaseOutcome, check_lease_request, clip_message,
};
use connector::ports::{PollStateStore, StoreError};
use domain::poll_state::{Lease, PollCursor, PollFailure, PollState};
use domain::tenant::TenantId;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct PollRecord {
    state: PollState,
    /// The epoch of the last lease handed out; survives release so epochs never repeat.
    last_epoch: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct PollFile {
    tenants: BTreeMap<TenantId, PollRecord>,
}

pub struct EmbeddedPollStateStore {
    file: JsonFile<PollFile>,
}

impl EmbeddedPollStateStore {
    pub async fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            file: JsonFile::open(dir.join("poll_state.json")).await?,
        })
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
        Ok(self
            .file
            .read(|file| {
                file.tenants
                    .get(tenant)
                    .map(|record| record.state.clone())
                    .unwrap_or_default()
            })
            .await)
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
        self.file
            .update(|file| {
                let Some(record) = file.tenants.get_mut(&lease.tenant) else {
                    return Ok(Mutation::Unchanged(RenewOutcome::Lost));
                };
                if !record.holds(lease) || record.live_lease(now).is_none() {
                    return Ok(Mutation::Unchanged(RenewOutcome::Lost));
                }
                let renewed = Lease {
                    until,
                    ..lease.clone()
                };
                record.state.lease = Some(renewed.clone());
                record.bump();
                Ok(Mutation::Changed(RenewOutcome::Renewed(renewed)))
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
        self.file
            .update(|file| {
                let record = file.tenants.entry(tenant.clone()).or_default();
                if let Some(held) = record.live_lease(now) {
                    return Ok(Mutation::Unchanged(VersionedLeaseOutcome::Held {
                        owner: held.owner.clone(),
                        until: held.until,
                    }));
                }
                if record.state.version != expected_version {
                    return Ok(Mutation::Unchanged(VersionedLeaseOutcome::Stale {
                        current: record.state.clone(),
                    }));
                }
                let lease = record.take_lease(tenant, owner, until);
                Ok(Mutation::Changed(VersionedLeaseOutcome::Acquired(lease)))
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
        self.file
            .update(|file| {
                let record = file.tenants.entry(tenant.clone()).or_default();
                if record.state.version != expected_version
                    || record.live_lease(now).is_some()
                    || !record.cursor_forward(write.cursor)
                {
                    return Ok(Mutation::Unchanged(UnleasedOutcome::Stale {
                        current: record.state.clone(),
                    }));
                }
                record.apply(write.cursor, Some(&write.record));
                Ok(Mutation::Changed(UnleasedOutcome::Written(
                    record.state.clone(),
                )))
            })
            .await
    }

    async fn write_leased(
        &self,
        lease: &Lease,
        write: &LeasedWrite,
    ) -> Result<LeasedOutcome, StoreError> {
        self.file
            .update(|file| {
                let Some(record) = file.tenants.get_mut(&lease.tenant) else {
                    return Ok(Mutation::Unchanged(LeasedOutcome::NotHeld));
                };
                if !record.holds(lease) {
                    return Ok(Mutation::Unchanged(LeasedOutcome::NotHeld));
                }
                if !record.cursor_forward(write.cursor) {
                    return Ok(Mutation::Unchanged(LeasedOutcome::NotForward {
                        current: record.state.cursor.clone(),
                    }));
                }
                if write.release {
                    record.state.lease = None;
                }
                record.apply(write.cursor, write.record.as_ref());
                Ok(Mutation::Changed(LeasedOutcome::Written(
                    record.state.clone(),
                )))
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
        self.file
            .update(|file| {
                let record = file.tenants.entry(tenant.clone()).or_default();
                record.apply(None, Some(&failure));
                Ok(Mutation::Changed(()))
            })
            .await
    }
}
