//! Stock marks in the state table: `TENANT#{id}` / `STOCK#{location}#{sku}`. A pending
//! intent also sets `gsi1pk = STOCKINTENTS#{id}`, so reconciliation lists exactly the keys
//! with an adjustment in flight instead of scanning every SKU.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use super::attr::{Item, get_millis, get_n, get_s, millis, n, names, opt_millis, opt_s, s, values};
use super::error::sdk_error;
use super::keys::{GSI1, stock_intents_pk, stock_sk, tenant_pk};
use super::table::{Conditional, Table};
use connector::ports::clock::truncate_to_millis;
use connector::ports::stock_marks::{
    AdvanceOutcome, ClearOutcome, CommitOutcome, IntentOutcome, check_intent, check_key,
};
use connector::ports::{StockMarkStore, StoreError};
use domain::stock_mark::{StockIntent, StockKey, StockMark};
use domain::tenant::TenantId;

const CLEAR_INTENT: &str = "REMOVE #intent_id, #intent_command, #intent_before, #intent_amount, #intent_observed_at, \
     #intent_recorded_at, #gsi1pk, #gsi1sk";

pub struct DynamoStockMarkStore {
    table: Table,
}

impl DynamoStockMarkStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table_name),
        }
    }

    async fn update(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        update: &str,
        condition: &str,
        expression_values: HashMap<String, AttributeValue>,
    ) -> Result<Conditional<()>, StoreError> {
        let record_key = Table::key(tenant_pk(tenant), stock_sk(key));
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(record_key.clone()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[update, condition])))
            .set_expression_attribute_values(Some(expression_values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(
            match self
                .table
                .conditional("UpdateItem", &record_key, result)
                .await?
            {
                Conditional::Done(_) => Conditional::Done(()),
                Conditional::Refused(item) => Conditional::Refused(item),
            },
        )
    }
}

fn pending(item: &Item) -> Result<Option<StockIntent>, StoreError> {
    let Some(intent_id) = opt_s(item, "intent_id")? else {
        return Ok(None);
    };
    Ok(Some(StockIntent {
        intent_id: intent_id.to_owned(),
        command_id: get_s(item, "intent_command")?.to_owned(),
        level_before: get_n(item, "intent_before")?,
        relative_amount: get_n(item, "intent_amount")?,
        observed_at: get_millis(item, "intent_observed_at")?,
        recorded_at: get_millis(item, "intent_recorded_at")?,
    }))
}

fn decode(item: &Item) -> Result<StockMark, StoreError> {
    Ok(StockMark {
        key: StockKey::new(get_s(item, "sku")?, get_s(item, "location")?),
        observed_at: opt_millis(item, "observed_at")?,
        pending: pending(item)?,
    })
}

fn observed_at(item: &Option<Item>) -> Result<Option<DateTime<Utc>>, StoreError> {
    match item {
        Some(item) => opt_millis(item, "observed_at"),
        None => Ok(None),
    }
}

fn intent_of(item: &Option<Item>) -> Result<Option<StockIntent>, StoreError> {
    item.as_ref().map(pending).transpose().map(Option::flatten)
}

#[async_trait]
impl StockMarkStore for DynamoStockMarkStore {
    async fn get(
        &self,
        tenant: &TenantId,
        key: &StockKey,
    ) -> Result<Option<StockMark>, StoreError> {
        check_key(key)?;
        self.table
            .get(Table::key(tenant_pk(tenant), stock_sk(key)))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn advance(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        observed: DateTime<Utc>,
    ) -> Result<AdvanceOutcome, StoreError> {
        check_key(key)?;
        let observed = truncate_to_millis(observed);
        let update = "SET #observed_at = :at, #sku = :sku, #location = :location";
        let condition = "attribute_not_exists(#observed_at) OR #observed_at < :at";
        let outcome = self
            .update(
                tenant,
                key,
                update,
                condition,
                values([
                    (":at", millis(observed)),
                    (":sku", s(&key.sku)),
                    (":location", s(&key.location)),
                ]),
            )
            .await?;
        Ok(match outcome {
            Conditional::Done(()) => AdvanceOutcome::Advanced,
            Conditional::Refused(item) => AdvanceOutcome::NotNewer {
                current: observed_at(&item)?.unwrap_or(observed),
            },
        })
    }

    async fn record_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent: &StockIntent,
    ) -> Result<IntentOutcome, StoreError> {
        check_key(key)?;
        check_intent(intent)?;
        let intent_observed = truncate_to_millis(intent.observed_at);
        let update = "SET #sku = :sku, #location = :location, #intent_id = :id, \
                      #intent_command = :command, #intent_before = :before, \
                      #intent_amount = :amount, #intent_observed_at = :observed, \
                      #intent_recorded_at = :recorded, #gsi1pk = :gsi1pk, #gsi1sk = :gsi1sk";
        let condition = "attribute_not_exists(#intent_id) \
                         AND (attribute_not_exists(#observed_at) OR #observed_at < :observed)";
        let outcome = self
            .update(
                tenant,
                key,
                update,
                condition,
                values([
                    (":sku", s(&key.sku)),
                    (":location", s(&key.location)),
                    (":id", s(&intent.intent_id)),
                    (":command", s(&intent.command_id)),
                    (":before", n(intent.level_before)),
                    (":amount", n(intent.relative_amount)),
                    (":observed", millis(intent_observed)),
                    (":recorded", millis(intent.recorded_at)),
                    (":gsi1pk", s(stock_intents_pk(tenant))),
                    (":gsi1sk", s(stock_sk(key))),
                ]),
            )
            .await?;
        Ok(match outcome {
            Conditional::Done(()) => IntentOutcome::Recorded,
            Conditional::Refused(item) => match intent_of(&item)? {
                Some(pending) => IntentOutcome::Busy { pending },
                None => IntentOutcome::NotNewer {
                    current: observed_at(&item)?.unwrap_or(intent_observed),
                },
            },
        })
    }

    async fn commit_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent_id: &str,
    ) -> Result<CommitOutcome, StoreError> {
        check_key(key)?;
        let update = format!("SET #observed_at = #intent_observed_at {CLEAR_INTENT}");
        let condition = "#intent_id = :id \
             AND (attribute_not_exists(#observed_at) OR #observed_at < #intent_observed_at)";
        let outcome = self
            .update(
                tenant,
                key,
                &update,
                condition,
                values([(":id", s(intent_id))]),
            )
            .await?;
        let item = match outcome {
            Conditional::Done(()) => return Ok(CommitOutcome::Committed),
            Conditional::Refused(item) => item,
        };
        let pending = intent_of(&item)?;
        if pending.as_ref().is_none_or(|p| p.intent_id != intent_id) {
            return Ok(CommitOutcome::IntentMismatch { pending });
        }
        // The mark moved past the intent meanwhile: drop the intent, keep the newer mark.
        match self.clear_intent(tenant, key, intent_id).await? {
            ClearOutcome::Cleared => Ok(CommitOutcome::NotNewer {
                current: observed_at(&item)?.unwrap_or_default(),
            }),
            ClearOutcome::IntentMismatch { pending } => {
                Ok(CommitOutcome::IntentMismatch { pending })
            }
        }
    }

    async fn clear_intent(
        &self,
        tenant: &TenantId,
        key: &StockKey,
        intent_id: &str,
    ) -> Result<ClearOutcome, StoreError> {
        check_key(key)?;
        let condition = "#intent_id = :id";
        let outcome = self
            .update(
                tenant,
                key,
                CLEAR_INTENT,
                condition,
                values([(":id", s(intent_id))]),
            )
            .await?;
        Ok(match outcome {
            Conditional::Done(()) => ClearOutcome::Cleared,
            Conditional::Refused(item) => ClearOutcome::IntentMismatch {
                pending: intent_of(&item)?,
            },
        })
    }

    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<StockMark>, StoreError> {
        let key_condition = "#gsi1pk = :pk";
        let mut marks = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .index_name(GSI1)
                .key_condition_expression(key_condition)
                .set_expression_attribute_names(Some(names(&[key_condition])))
                .expression_attribute_values(":pk", s(stock_intents_pk(tenant)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            for item in output.items.unwrap_or_default() {
                marks.push(decode(&item)?);
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(marks),
            }
        }
    }
}
