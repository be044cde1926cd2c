//! Poll cursor, lease and bookkeeping in the state table: `TENANT#{id}` / `POLL`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use super::attr::{Item, get_s, millis, n, names, opt_millis, opt_n, opt_s, s, values};
use super::keys::{SK_POLL, tenant_pk};
use super::table::{Conditional, Table};
use connector::ports::clock::{add_std, truncate_to_millis};
use connector::ports::poll_state::{
    CursorOutcome, LeaseOutcome, ReleaseOutcome, RenewOutcome, check_lease_request, clip_message,
};
use connector::ports::{PollStateStore, StoreError};
use domain::poll_state::{Lease, PollCursor, PollFailure, PollState};
use domain::tenant::TenantId;

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
        expression_values: std::collections::HashMap<
            String,
            aws_sdk_dynamodb::types::AttributeValue,
        >,
    ) -> Result<Conditional<Option<Item>>, StoreError> {
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
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if !expression_values.is_empty() {
            request = request.set_expression_attribute_values(Some(expression_values));
        }
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

    async fn acquire_lease(
        &self,
        tenant: &TenantId,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<LeaseOutcome, StoreError> {
        check_lease_request(owner, ttl)?;
        let now = truncate_to_millis(now);
        let until = add_std(now, ttl, "lease ttl")?;
        let update = "SET #lease_owner = :owner, #lease_until = :until, \
                      #lease_epoch = if_not_exists(#lease_epoch, :zero) + :one";
        let condition = "attribute_not_exists(#lease_until) OR #lease_until <= :now";
        // A refusal is read back atomically (ALL_OLD); only an emulator falling back to a
        // separate read can see the lease vanish in between, and then trying again is right.
        const ATTEMPTS: u32 = 3;
        for _ in 0..ATTEMPTS {
            let outcome = self
                .update(
                    tenant,
                    update,
                    Some(condition),
                    values([
                        (":owner", s(owner)),
                        (":until", millis(until)),
                        (":zero", n(0)),
                        (":one", n(1)),
                        (":now", millis(now)),
                    ]),
                )
                .await?;
            match outcome {
                Conditional::Done(item) => {
                    return lease(tenant, &item.unwrap_or_default())?
                        .map(LeaseOutcome::Acquired)
                        .ok_or_else(|| {
                            StoreError::corrupt("poll lease", "missing after acquisition")
                        });
                }
                Conditional::Refused(item) => {
                    if let Some(held) = item
                        .as_ref()
                        .map(|i| lease(tenant, i))
                        .transpose()?
                        .flatten()
                    {
                        return Ok(LeaseOutcome::Held {
                            owner: held.owner,
                            until: held.until,
                        });
                    }
                }
            }
        }
        Err(StoreError::Unprocessed {
            operation: "acquire lease",
            remaining: 1,
            attempts: ATTEMPTS,
        })
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
        let update = "SET #lease_until = :until";
        let condition = "#lease_owner = :owner AND #lease_epoch = :epoch AND #lease_until > :now";
        let outcome = self
            .update(
                &held.tenant,
                update,
                Some(condition),
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

    async fn release_lease(&self, held: &Lease) -> Result<ReleaseOutcome, StoreError> {
        let update = "REMOVE #lease_owner, #lease_until";
        let condition = "#lease_owner = :owner AND #lease_epoch = :epoch";
        let outcome = self
            .update(
                &held.tenant,
                update,
                Some(condition),
                values([(":owner", s(&held.owner)), (":epoch", n(held.epoch))]),
            )
            .await?;
        Ok(match outcome {
            Conditional::Done(_) => ReleaseOutcome::Released,
            Conditional::Refused(_) => ReleaseOutcome::NotHeld,
        })
    }

    async fn advance_cursor(
        &self,
        tenant: &TenantId,
        expected_version: u64,
        updated_after: DateTime<Utc>,
    ) -> Result<CursorOutcome, StoreError> {
        let updated_after = truncate_to_millis(updated_after);
        let update = "SET #cursor_at = :at, #cursor_version = :next";
        // Version 0 means "never advanced": the attribute is then absent.
        let condition = if expected_version == 0 {
            "attribute_not_exists(#cursor_version) \
             AND (attribute_not_exists(#cursor_at) OR #cursor_at <= :at)"
        } else {
            "#cursor_version = :expected \
             AND (attribute_not_exists(#cursor_at) OR #cursor_at <= :at)"
        };
        let mut expression_values = values([
            (":at", millis(updated_after)),
            (":next", n(expected_version + 1)),
        ]);
        if expected_version != 0 {
            expression_values.insert(":expected".into(), n(expected_version));
        }
        let outcome = self
            .update(tenant, update, Some(condition), expression_values)
            .await?;
        Ok(match outcome {
            Conditional::Done(item) => CursorOutcome::Advanced(cursor(&item.unwrap_or_default())?),
            Conditional::Refused(item) => {
                let current = cursor(&item.unwrap_or_default())?;
                if current.version != expected_version {
                    CursorOutcome::Stale { current }
                } else {
                    CursorOutcome::NotForward { current }
                }
            }
        })
    }

    async fn record_success(&self, tenant: &TenantId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.update(
            tenant,
            "SET #last_success_at = :at",
            None,
            values([(":at", millis(at))]),
        )
        .await?;
        Ok(())
    }

    async fn record_failure(
        &self,
        tenant: &TenantId,
        at: DateTime<Utc>,
        message: &str,
    ) -> Result<(), StoreError> {
        self.update(
            tenant,
            "SET #last_failure_at = :at, #last_failure_message = :message",
            None,
            values([(":at", millis(at)), (":message", s(clip_message(message)))]),
        )
        .await?;
        Ok(())
    }
}
