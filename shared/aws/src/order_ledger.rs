//! The order ledger in the state table: `TENANT#{id}` / `ORDER#{order id}`.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use super::attr::{
    Item, attr_to_json, get_millis, get_n, get_s, json_to_attr, millis, n, names, s,
};
use super::batch::{BATCH_ATTEMPTS, backoff};
use super::error::sdk_error;
use super::keys::{order_sk, tenant_pk};
use super::table::{Conditional, Table};
use connector::ports::clock::truncate_to_millis;
use connector::ports::order_ledger::{LedgerPutOutcome, check_order_id};
use connector::ports::{OrderLedger, StoreError};
use domain::order_ledger::OrderLedgerEntry;
use domain::tenant::TenantId;

/// BatchGetItem reads at most 100 keys per call.
const BATCH_GET_KEYS: usize = 100;

pub struct DynamoOrderLedger {
    table: Table,
}

impl DynamoOrderLedger {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table_name),
        }
    }

    /// One chunk of at most 100 keys, retrying unprocessed keys with backoff.
    async fn get_chunk(&self, mut keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for attempt in 0..BATCH_ATTEMPTS {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::invalid("batch get request", e.to_string()))?;
            let output = self
                .table
                .client
                .batch_get_item()
                .request_items(&self.table.name, request)
                .send()
                .await
                .map_err(|e| sdk_error("BatchGetItem", e))?;
            if let Some(mut responses) = output.responses {
                found.extend(responses.remove(&self.table.name).unwrap_or_default());
            }
            keys = output
                .unprocessed_keys
                .and_then(|mut unprocessed| unprocessed.remove(&self.table.name))
                .map(|rest| rest.keys)
                .unwrap_or_default();
            if keys.is_empty() {
                return Ok(found);
            }
            backoff(attempt).await;
        }
        Err(StoreError::Unprocessed {
            operation: "BatchGetItem",
            remaining: keys.len(),
            attempts: BATCH_ATTEMPTS,
        })
    }
}

fn decode(item: &Item) -> Result<OrderLedgerEntry, StoreError> {
    Ok(OrderLedgerEntry {
        order_id: get_s(item, "order_id")?.to_owned(),
        data: attr_to_json(
            item.get("data")
                .ok_or_else(|| StoreError::corrupt("ledger data", "is missing"))?,
        )?,
        version: get_n(item, "version")?,
        updated_at: get_millis(item, "updated_at")?,
    })
}

#[async_trait]
impl OrderLedger for DynamoOrderLedger {
    async fn get(
        &self,
        tenant: &TenantId,
        order_id: &str,
    ) -> Result<Option<OrderLedgerEntry>, StoreError> {
        check_order_id(order_id)?;
        self.table
            .get(Table::key(tenant_pk(tenant), order_sk(order_id)))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn get_many(
        &self,
        tenant: &TenantId,
        order_ids: &[String],
    ) -> Result<HashMap<String, OrderLedgerEntry>, StoreError> {
        // BatchGetItem refuses duplicate keys in one request.
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        for order_id in order_ids {
            check_order_id(order_id)?;
            if seen.insert(order_id.as_str()) {
                keys.push(Table::key(tenant_pk(tenant), order_sk(order_id)));
            }
        }
        let mut entries = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            for item in self.get_chunk(chunk.to_vec()).await? {
                let entry = decode(&item)?;
                entries.insert(entry.order_id.clone(), entry);
            }
        }
        Ok(entries)
    }

    async fn put(
        &self,
        tenant: &TenantId,
        order_id: &str,
        data: serde_json::Value,
        expected_version: u64,
        now: DateTime<Utc>,
    ) -> Result<LedgerPutOutcome, StoreError> {
        check_order_id(order_id)?;
        let entry = OrderLedgerEntry {
            order_id: order_id.to_owned(),
            data,
            version: expected_version + 1,
            updated_at: truncate_to_millis(now),
        };
        let key = Table::key(tenant_pk(tenant), order_sk(order_id));
        let mut item = key.clone();
        item.insert("order_id".into(), s(order_id));
        item.insert("data".into(), json_to_attr(&entry.data));
        item.insert("version".into(), n(entry.version));
        item.insert("updated_at".into(), millis(entry.updated_at));
        let condition = if expected_version == 0 {
            "attribute_not_exists(#pk)"
        } else {
            "#version = :expected"
        };
        let mut request = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if expected_version != 0 {
            request = request.expression_attribute_values(":expected", n(expected_version));
        }
        let result = request.send().await;
        Ok(
            match self.table.conditional("PutItem", &key, result).await? {
                Conditional::Done(_) => LedgerPutOutcome::Stored(entry),
                Conditional::Refused(item) => LedgerPutOutcome::Stale {
                    current: item.as_ref().map(decode).transpose()?,
                },
            },
        )
    }
}
