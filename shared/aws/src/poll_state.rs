//! Poll cursor, lease and bookkeeping in the state table: `TENANT#{id}` / `POLL`.

use std::time::Duration;

use async_trait::async_trait;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use super::attr::{Item, get_s, millis, n, names, opt_millis, opt_n, opt_s, s, values};
use super::keys::{SK_POLL, tenant_pk};
use super::table::{Conditional, Table};
use connector::ports::clock::{add_std, truncate_to_millis};
use connector::ports::poll_state::{
    LeasedOutcome, LeasedWrite, PollRecord, RenewOutcome, UnleasedOutcome, UnleasedWrite,
    VersionedLeaseOutcome, check_lease_request, clip_message,
};
use connector::ports::{PollStateStore, StoreError};
use domain::poll_state::{Lease, PollCursor, PollFailure, PollState};
use domain::tenant::TenantId;

/// Every write bumps the record's version (`update` adds `:zero` and `:one` to its values).
const BUMP: &str = "#version = if_not_exists(#version, :zero) + :one";
/// The cursor moves forward only (`:at` is the new watermark).
const FORWARD: &str = "(attribute_not_exists(#cursor_at) OR #cursor_at <= :at)";
/// No unexpired lease at `:now`.
const NO_LIVE_LEASE: &str = "(attribute_not_exists(#lease_until) OR #lease_until <= :now)";
/// The caller's lease (`:owner`, `:epoch`) is the one stored, expired or not.
const HOLDS: &str = "#lease_owner = :owner AND #lease_epoch = :epoch";

/// `version = :expected`, where version 0 is a record never written (or written before
/// versions existed): the attribute is then absent.
fn version_is(expected: u64, values: &mut HashMap<String, AttributeValue>) -> &'static str {
    if expected == 0 {
        "attribute_not_exists(#version)"
    } else {
        values.insert(":expected".into(), n(expected));
        "#version = :expected"
    }
}

/// The `SET` clauses and values of a poll's bookkeeping.
fn record_clauses(
    record: &PollRecord,
    set: &mut Vec<&'static str>,
    values: &mut HashMap<String, AttributeValue>,
) {
    match record {
        PollRecord::Success { at } => {
            set.push("#last_success_at = :done");
            values.insert(":done".into(), millis(truncate_to_millis(*at)));
        }
        PollRecord::Failure { at, message } => {
            set.push("#last_failure_at = :failed, #last_failure_message = :message");
            values.insert(":failed".into(), millis(truncate_to_millis(*at)));
            values.insert(":message".into(), s(clip_message(message)));
        }
    }
}

/// The `SET` clauses and values of a forward cursor move to `at`.
fn cursor_clauses(
    at: DateTime<Utc>,
    set: &mut Vec<&'static str>,
    values: &mut HashMap<String, AttributeValue>,
) {
    set.push("#cursor_at = :at, #cursor_version = if_not_exists(#cursor_version, :zero) + :one");
    values.insert(":at".into(), millis(truncate_to_millis(at)));
}

pub struct DynamoPollStateStore {
    table: Table,
}

impl DynamoPollStateStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table_name),
        }
    }

    async fn update(
        &self,
        tenant: &TenantId,
        update: &str,
        condition: Option<&str>,
        mut expression_values: HashMap<String, AttributeValue>,
    ) -> Result<Conditional<Option<Item>>, StoreError> {
        expression_values.extend(values([(":zero", n(0)), (":one", n(1))]));
        let key = Table::key(tenant_pk(tenant), SK_POLL);
        let mut request = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key.clone()))
            .update_expression(update)
            .set_expression_attribute_names(Some(names(&[update, condition.unwrap_or("")])))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .set_expression_attribute_values(Some(expression_values));
        if let Some(condition) = condition {
            request = request.condition_expression(condition);
        }
        let result = request.send().await;
        Ok(
            match self.table.conditional("UpdateItem", &key, result).await? {
                Conditional::Done(output) => Conditional::Done(output.attributes),
                Conditional::Refused(item) => Conditional::Refused(item),
            },
        )
    }
}

fn cursor(item: &Item) -> Result<PollCursor, StoreError> {
    Ok(PollCursor {
        updated_after: opt_millis(item, "cursor_at")?,
        version: opt_n(item, "cursor_version")?.unwrap_or(0),
    })
}

fn lease(tenant: &TenantId, item: &Item) -> Result<Option<Lease>, StoreError> {
    match (
        opt_s(item, "lease_owner")?,
        opt_millis(item, "lease_until")?,
    ) {
        (Some(owner), Some(until)) => Ok(Some(Lease {
            tenant: tenant.clone(),
            owner: owner.to_owned(),
            until,
            epoch: opt_n(item, "lease_epoch")?.unwrap_or(0),
        })),
        _ => Ok(None),
    }
}

fn decode(tenant: &TenantId, item: &Item) -> Result<PollState, StoreError> {
    let last_failure = match opt_millis(item, "last_failure_at")? {
        Some(at) => Some(PollFailure {
            at,
            message: get_s(item, "last_failure_message")?.to_owned(),
        }),
        None => None,
    };
    Ok(PollState {
        version: opt_n(item, "version")?.unwrap_or(0),
        cursor: cursor(item)?,
        lease: lease(tenant, item)?,
        last_success_at: opt_millis(item, "last_success_at")?,
        last_failure,
    })
}

#[async_trait]
impl PollStateStore for DynamoPollStateStore {
    async fn get(&self, tenant: &TenantId) -> Result<PollState, StoreError> {
        match self
            .table
            .get(Table::key(tenant_pk(tenant), SK_POLL))
            .await?
        {
            Some(item) => decode(tenant, &item),
            None => Ok(PollState::default()),
        }
    }

    async fn renew_lease(
        &self,
        held: &Lease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<RenewOutcome, StoreError> {
        check_lease_request(&held.owner, ttl)?;
        let now = truncate_to_millis(now);
        let until = add_std(now, ttl, "lease ttl")?;
        let update = format!("SET #lease_until = :until, {BUMP}");
        let condition = format!("{HOLDS} AND #lease_until > :now");
        let outcome = self
            .update(
                &held.tenant,
                &update,
                Some(&condition),
                values([
                    (":until", millis(until)),
                    (":owner", s(&held.owner)),
                    (":epoch", n(held.epoch)),
                    (":now", millis(now)),
                ]),
            )
            .await?;
        Ok(match outcome {
            Conditional::Done(_) => RenewOutcome::Renewed(Lease {
                until,
                ..held.clone()
            }),
            Conditional::Refused(_) => RenewOutcome::Lost,
        })
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
        let update = format!(
            "SET #lease_owner = :owner, #lease_until = :until, \
             #lease_epoch = if_not_exists(#lease_epoch, :zero) + :one, {BUMP}"
        );
        let mut expression_values = values([
            (":owner", s(owner)),
            (":until", millis(until)),
            (":now", millis(now)),
        ]);
        let condition = format!(
            "{} AND {NO_LIVE_LEASE}",
            version_is(expected_version, &mut expression_values)
        );
        match self
            .update(tenant, &update, Some(&condition), expression_values)
            .await?
        {
            Conditional::Done(item) => lease(tenant, &item.unwrap_or_default())?
                .map(VersionedLeaseOutcome::Acquired)
                .ok_or_else(|| StoreError::corrupt("poll lease", "missing after acquisition")),
            Conditional::Refused(item) => {
                let current = decode(tenant, &item.unwrap_or_default())?;
                Ok(match &current.lease {
                    Some(held) if held.until > now => VersionedLeaseOutcome::Held {
                        owner: held.owner.clone(),
                        until: held.until,
                    },
                    _ => VersionedLeaseOutcome::Stale { current },
                })
            }
        }
    }

    async fn write_unleased(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        write: &UnleasedWrite,
        now: DateTime<Utc>,
    ) -> Result<UnleasedOutcome, StoreError> {
        let mut set = vec![BUMP];
        let mut expression_values = values([(":now", millis(truncate_to_millis(now)))]);
        record_clauses(&write.record, &mut set, &mut expression_values);
        let mut condition = format!(
            "{} AND {NO_LIVE_LEASE}",
            version_is(expected_version, &mut expression_values)
        );
        if let Some(at) = write.cursor {
            cursor_clauses(at, &mut set, &mut expression_values);
            condition = format!("{condition} AND {FORWARD}");
        }
        let update = format!("SET {}", set.join(", "));
        Ok(
            match self
                .update(tenant, &update, Some(&condition), expression_values)
                .await?
            {
                Conditional::Done(item) => {
                    UnleasedOutcome::Written(decode(tenant, &item.unwrap_or_default())?)
                }
                Conditional::Refused(item) => UnleasedOutcome::Stale {
                    current: decode(tenant, &item.unwrap_or_default())?,
                },
            },
        )
    }

    async fn write_leased(
        &self,
        held: &Lease,
        write: &LeasedWrite,
    ) -> Result<LeasedOutcome, StoreError> {
        let mut set = vec![BUMP];
        let mut expression_values = values([(":owner", s(&held.owner)), (":epoch", n(held.epoch))]);
        if let Some(record) = &write.record {
            record_clauses(record, &mut set, &mut expression_values);
        }
        let mut condition = HOLDS.to_owned();
        if let Some(at) = write.cursor {
            cursor_clauses(at, &mut set, &mut expression_values);
            condition = format!("{condition} AND {FORWARD}");
        }
        let mut update = format!("SET {}", set.join(", "));
        if write.release {
            update.push_str(" REMOVE #lease_owner, #lease_until");
        }
        Ok(
            match self
                .update(&held.tenant, &update, Some(&condition), expression_values)
                .await?
            {
                Conditional::Done(item) => {
                    LeasedOutcome::Written(decode(&held.tenant, &item.unwrap_or_default())?)
                }
                Conditional::Refused(item) => {
                    let item = item.unwrap_or_default();
                    match lease(&held.tenant, &item)? {
                        Some(current)
                            if current.owner == held.owner && current.epoch == held.epoch =>
                        {
                            LeasedOutcome::NotForward {
                                current: cursor(&item)?,
                            }
                        }
                        _ => LeasedOutcome::NotHeld,
                    }
                }
            },
        )
    }

    async fn record_failure(
        &self,
        tenant: &TenantId,
        at: DateTime<Utc>,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut set = vec![BUMP];
        let mut expression_values = HashMap::new();
        let failure = PollRecord::Failure {
            at,
            message: message.to_owned(),
        };
        record_clauses(&failure, &mut set, &mut expression_values);
        self.update(
            tenant,
            &format!("SET {}", set.join(", ")),
            None,
            expression_values,
        )
        .await?;
        Ok(())
    }
}
