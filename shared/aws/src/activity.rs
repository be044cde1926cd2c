//! The activity log table: `TENANT#{id}` / `{epoch ms:015}#{entry id}`, newest first by
//! querying backwards; `gsi1` = `TENANT#{id}#{kind}#{entity id}` for one order or SKU.
//! `expires_at` (epoch seconds) is the TTL attribute and also filtered on when reading.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::{DateTime, Utc};

use super::attr::{Item, from_doc, n, names, s, to_doc, values};
use super::batch::{BATCH_ATTEMPTS, backoff};
use super::error::sdk_error;
use super::keys::{
    EXPIRES_AT, GSI1, GSI1_PK, GSI1_SK, PK, SK, activity_entity_pk, activity_sk, activity_sk_bound,
    tenant_pk,
};
use super::table::Table;
use super::tenants::{decode_position, page_of};
use connector::ports::activity::{Retention, TimeRange, prepare_entry};
use connector::ports::paging::check_page;
use connector::ports::{ActivityLog, Page, PageRequest, StoreError};
use domain::activity::{ActivityEntry, EntityKind};
use domain::tenant::TenantId;

/// BatchWriteItem takes at most 25 requests per call.
const BATCH_WRITE_ITEMS: usize = 25;

pub struct DynamoActivityLog {
    table: Table,
    retention: Retention,
}

impl DynamoActivityLog {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table_name: impl Into<String>,
        retention: Retention,
    ) -> Self {
        Self {
            table: Table::new(client, table_name),
            retention,
        }
    }

    fn item(&self, entry: &ActivityEntry) -> Result<Item, StoreError> {
        if entry.at.timestamp_millis() < 0 {
            return Err(StoreError::invalid("activity time", "is before 1970"));
        }
        let sk = activity_sk(entry.at, &entry.entry_id);
        Ok(Item::from([
            (PK.to_owned(), s(tenant_pk(&entry.tenant))),
            (SK.to_owned(), s(sk.clone())),
            (
                GSI1_PK.to_owned(),
                s(activity_entity_pk(
                    &entry.tenant,
                    entry.entity.kind,
                    &entry.entity.id,
                )),
            ),
            (GSI1_SK.to_owned(), s(sk)),
            ("doc".to_owned(), to_doc(entry, "activity entry")?),
            (
                EXPIRES_AT.to_owned(),
                n(self.retention.expiry_of(entry.at).timestamp()),
            ),
        ]))
    }

    async fn write_chunk(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for attempt in 0..BATCH_ATTEMPTS {
            let output = self
                .table
                .client
                .batch_write_item()
                .request_items(&self.table.name, requests)
                .send()
                .await
                .map_err(|e| sdk_error("BatchWriteItem", e))?;
            requests = output
                .unprocessed_items
                .and_then(|mut rest| rest.remove(&self.table.name))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(StoreError::Unprocessed {
            operation: "BatchWriteItem",
            remaining: requests.len(),
            attempts: BATCH_ATTEMPTS,
        })
    }

    async fn query(
        &self,
        index: Option<&str>,
        key_condition: &str,
        mut expression_values: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        let limit = check_page(&page)?;
        let filter = "#expires_at > :now";
        expression_values.insert(":now".into(), n(now.timestamp()));
        let output = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(key_condition)
            .filter_expression(filter)
            .set_expression_attribute_names(Some(names(&[key_condition, filter])))
            .set_expression_attribute_values(Some(expression_values))
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(page.token.as_ref().map(decode_position).transpose()?)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        page_of(output.items, output.last_evaluated_key.as_ref(), |item| {
            from_doc::<ActivityEntry>(item, "doc")
        })
    }
}

#[async_trait]
impl ActivityLog for DynamoActivityLog {
    async fn append(&self, entries: &[ActivityEntry]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(entries.len());
        // BatchWriteItem refuses a request that names one key twice.
        let mut seen = HashSet::new();
        for entry in entries {
            let entry = prepare_entry(entry)?;
            let item = self.item(&entry)?;
            if !seen.insert((entry.tenant.clone(), activity_sk(entry.at, &entry.entry_id))) {
                continue;
            }
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| StoreError::invalid("activity entry", e.to_string()))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        for chunk in requests.chunks(BATCH_WRITE_ITEMS) {
            self.write_chunk(chunk.to_vec()).await?;
        }
        Ok(())
    }

    async fn by_tenant(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        if range.is_empty() {
            // DynamoDB refuses BETWEEN with the bounds reversed; nothing can match anyway.
            check_page(&page)?;
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        // Sort keys are `{ms:015}#{id}`: the bare `{ms:015}` sorts before every entry of
        // that millisecond, which makes `from` inclusive and `to` exclusive.
        let low = range
            .from
            .map(activity_sk_bound)
            .unwrap_or_else(|| "0".to_owned());
        let high = range
            .to
            .map(activity_sk_bound)
            .unwrap_or_else(|| "9".repeat(16));
        let key_condition = "#pk = :pk AND #sk BETWEEN :low AND :high";
        self.query(
            None,
            key_condition,
            values([
                (":pk", s(tenant_pk(tenant))),
                (":low", s(low)),
                (":high", s(high)),
            ]),
            page,
            now,
        )
        .await
    }

    async fn by_entity(
        &self,
        tenant: &TenantId,
        kind: EntityKind,
        entity_id: &str,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        let key_condition = "#gsi1pk = :pk";
        self.query(
            Some(GSI1),
            key_condition,
            values([(":pk", s(activity_entity_pk(tenant, kind, entity_id)))]),
            page,
            now,
        )
        .await
    }
}
