//! Idempotency records in the state table: `IDEMPOTENCY#{key}` / `IDEMPOTENCY`, with the
//! Powertools lock condition and `expires_at` (epoch seconds) as the TTL attribute.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};

use super::attr::{Item, get_n, get_s, millis, n, names, opt_s, s, values};
use super::error::sdk_error;
use super::keys::{EXPIRES_AT, SK_IDEMPOTENCY, idempotency_pk};
use super::table::{Conditional, Table};
use connector::ports::clock::from_millis;
use connector::ports::idempotency::{
    ClaimOutcome, CompleteOutcome, IdempotencyKey, check_claim, encode_result,
};
use connector::ports::{IdempotencyStore, StoreError};

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";

pub struct DynamoIdempotencyStore {
    table: Table,
}

impl DynamoIdempotencyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table_name),
        }
    }
}

/// What a refused claim found. The condition already ruled out absent and expired
/// records, but a record read back separately may have changed since, so this re-checks.
fn refusal(item: &Item, now: DateTime<Utc>) -> Result<Option<ClaimOutcome>, StoreError> {
    let expires_at: i64 = get_n(item, EXPIRES_AT)?;
    if expires_at < now.timestamp() {
        return Ok(None);
    }
    match get_s(item, "status")? {
        COMPLETED => {
            let text = opt_s(item, "data")?.ok_or_else(|| {
                StoreError::corrupt("idempotency record", "completed without data")
            })?;
            let value = serde_json::from_str(text)
                .map_err(|e| StoreError::corrupt_from("idempotency result", e))?;
            Ok(Some(ClaimOutcome::AlreadyCompleted(value)))
        }
        IN_PROGRESS => {
            let until = from_millis(get_n(item, "in_progress_until")?, "in_progress_until")?;
            Ok((until >= now).then_some(ClaimOutcome::InProgress { until }))
        }
        other => Err(StoreError::corrupt(
            "idempotency status",
            format!("unknown status {other:?}"),
        )),
    }
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    async fn claim(
        &self,
        key: &IdempotencyKey,
        in_progress_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<ClaimOutcome, StoreError> {
        check_claim(in_progress_until, expires_at, now)?;
        let record_key = Table::key(idempotency_pk(key), SK_IDEMPOTENCY);
        let mut item = record_key.clone();
        item.insert("status".into(), s(IN_PROGRESS));
        item.insert("in_progress_until".into(), millis(in_progress_until));
        item.insert(EXPIRES_AT.into(), n(expires_at.timestamp()));
        let condition = "attribute_not_exists(#pk) OR #expires_at < :now \
             OR (#status = :in_progress AND attribute_exists(#in_progress_until) \
                 AND #in_progress_until < :now_ms)";
        // A refusal read back separately (emulators without ALL_OLD) can find the record
        // gone or expired; the claim is then simply tried again.
        const ATTEMPTS: u32 = 3;
        for _ in 0..ATTEMPTS {
            let result = self
                .table
                .client
                .put_item()
                .table_name(&self.table.name)
                .set_item(Some(item.clone()))
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names(&[condition])))
                .set_expression_attribute_values(Some(values([
                    (":now", n(now.timestamp())),
                    (":in_progress", s(IN_PROGRESS)),
                    (":now_ms", millis(now)),
                ])))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match self
                .table
                .conditional("PutItem", &record_key, result)
                .await?
            {
                Conditional::Done(_) => return Ok(ClaimOutcome::Claimed),
                Conditional::Refused(Some(old)) => {
                    if let Some(outcome) = refusal(&old, now)? {
                        return Ok(outcome);
                    }
                }
                Conditional::Refused(None) => {}
            }
        }
        Err(StoreError::Unprocessed {
            operation: "idempotency claim",
            remaining: 1,
            attempts: ATTEMPTS,
        })
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        result: &serde_json::Value,
    ) -> Result<CompleteOutcome, StoreError> {
        let data = encode_result(result)?;
        let record_key = Table::key(idempotency_pk(key), SK_IDEMPOTENCY);
        let update = "SET #status = :completed, #data = :data";
        let condition = "#status = :in_progress";
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(record_key.clone()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[update, condition])))
            .set_expression_attribute_values(Some(values([
                (":completed", s(COMPLETED)),
                (":data", s(data)),
                (":in_progress", s(IN_PROGRESS)),
            ])))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(
            match self
                .table
                .conditional("UpdateItem", &record_key, result)
                .await?
            {
                Conditional::Done(_) => CompleteOutcome::Completed,
                Conditional::Refused(_) => CompleteOutcome::NotInProgress,
            },
        )
    }

    async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError> {
        let condition = "#status = :in_progress";
        let result = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .set_key(Some(Table::key(idempotency_pk(key), SK_IDEMPOTENCY)))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // A completed (or absent) record stays as it is: that is the point of release.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_error("DeleteItem", e)),
        }
    }
}
