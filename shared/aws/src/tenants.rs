//! Tenant configurations in the state table: `TENANT#{id}` / `CONFIG`, listed through the
//! sparse `gsi1` entry `TENANTS#ACTIVE` that only unpaused tenants carry.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use super::attr::{Item, from_doc, get_millis, get_n, millis, n, names, s, to_doc, values};
use super::error::sdk_error;
use super::keys::{ACTIVE_TENANTS, GSI1, GSI1_PK, GSI1_SK, SK_CONFIG, tenant_pk};
use super::table::{Conditional, Table};
use connector::ports::clock::truncate_to_millis;
use connector::ports::paging::check_page;
use connector::ports::store_keys::{decode_page_token, encode_page_token};
use connector::ports::tenants::{CreateOutcome, DeleteOutcome, UpdateOutcome};
use connector::ports::{Page, PageRequest, StoreError, TenantStore};
use domain::tenant::{TenantConfig, TenantId};

pub struct DynamoTenantStore {
    table: Table,
}

impl DynamoTenantStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table_name),
        }
    }
}

/// `created_at` and `version` live beside the document: the store owns them, and an
/// update must not be able to rewrite them.
fn decode(item: &Item) -> Result<TenantConfig, StoreError> {
    let mut config: TenantConfig = from_doc(item, "doc")?;
    config.version = get_n(item, "version")?;
    config.created_at = get_millis(item, "created_at")?;
    Ok(config)
}

/// Page positions are the query's `LastEvaluatedKey`, all string attributes here.
pub(super) fn encode_position(key: &Item) -> Result<connector::ports::PageToken, StoreError> {
    let position: BTreeMap<&str, &str> = key
        .iter()
        .map(|(name, value)| match value {
            AttributeValue::S(text) => Ok((name.as_str(), text.as_str())),
            _ => Err(StoreError::corrupt("page position", "has a non-string key")),
        })
        .collect::<Result<_, _>>()?;
    encode_page_token(&position)
}

pub(super) fn decode_position(token: &connector::ports::PageToken) -> Result<Item, StoreError> {
    let position: BTreeMap<String, String> = decode_page_token(token)?;
    Ok(position.into_iter().map(|(k, v)| (k, s(v))).collect())
}

/// One page of a Query or Scan answer: its items decoded, and the position after them.
pub(super) fn page_of<T>(
    items: Option<Vec<Item>>,
    last_evaluated_key: Option<&Item>,
    decode: impl Fn(&Item) -> Result<T, StoreError>,
) -> Result<Page<T>, StoreError> {
    let items = items
        .unwrap_or_default()
        .iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    let next = last_evaluated_key.map(encode_position).transpose()?;
    Ok(Page { items, next })
}

#[async_trait]
impl TenantStore for DynamoTenantStore {
    async fn create(
        &self,
        mut config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<CreateOutcome, StoreError> {
        let now = truncate_to_millis(now);
        config.version = 1;
        config.created_at = now;
        config.updated_at = now;
        let key = Table::key(tenant_pk(&config.id), SK_CONFIG);
        let mut item = key.clone();
        item.insert("doc".into(), to_doc(&config, "tenant config")?);
        item.insert("version".into(), n(1));
        item.insert("created_at".into(), millis(now));
        if config.is_active() {
            item.insert(GSI1_PK.into(), s(ACTIVE_TENANTS));
            item.insert(GSI1_SK.into(), s(config.id.as_str()));
        }
        let condition = "attribute_not_exists(#pk)";
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(
            match self.table.conditional("PutItem", &key, result).await? {
                Conditional::Done(_) => CreateOutcome::Created(config),
                Conditional::Refused(_) => CreateOutcome::AlreadyExists,
            },
        )
    }

    async fn update(
        &self,
        mut config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<UpdateOutcome, StoreError> {
        let expected = config.version;
        config.version = expected + 1;
        config.updated_at = truncate_to_millis(now);
        let key = Table::key(tenant_pk(&config.id), SK_CONFIG);
        let update = if config.is_active() {
            "SET #doc = :doc, #version = :next, #gsi1pk = :active, #gsi1sk = :id"
        } else {
            "SET #doc = :doc, #version = :next REMOVE #gsi1pk, #gsi1sk"
        };
        let condition = "#version = :expected";
        let mut expression_values = values([
            (":doc", to_doc(&config, "tenant config")?),
            (":next", n(config.version)),
            (":expected", n(expected)),
        ]);
        if config.is_active() {
            expression_values.insert(":active".into(), s(ACTIVE_TENANTS));
            expression_values.insert(":id".into(), s(config.id.as_str()));
        }
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key.clone()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[update, condition])))
            .set_expression_attribute_values(Some(expression_values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(
            match self.table.conditional("UpdateItem", &key, result).await? {
                Conditional::Done(output) => {
                    let item = output
                        .attributes
                        .ok_or_else(|| StoreError::corrupt("tenant update", "returned no item"))?;
                    UpdateOutcome::Updated(decode(&item)?)
                }
                Conditional::Refused(Some(item)) => UpdateOutcome::Stale {
                    current: decode(&item)?,
                },
                Conditional::Refused(None) => UpdateOutcome::NotFound,
            },
        )
    }

    async fn get(&self, id: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        self.table
            .get(Table::key(tenant_pk(id), SK_CONFIG))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn list_active(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        let limit = check_page(&page)?;
        let key_condition = "#gsi1pk = :active";
        let output = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(GSI1)
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(Some(names(&[key_condition])))
            .expression_attribute_values(":active", s(ACTIVE_TENANTS))
            .limit(limit as i32)
            .set_exclusive_start_key(page.token.as_ref().map(decode_position).transpose()?)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        page_of(output.items, output.last_evaluated_key.as_ref(), decode)
    }

    /// A scan for the `CONFIG` items: the operator's `tenant list --all`; no function's
    /// role may scan the table (infra/ template), and none calls this.
    async fn list_all(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        let limit = check_page(&page)?;
        let filter = "#sk = :config";
        let output = self
            .table
            .client
            .scan()
            .table_name(&self.table.name)
            .filter_expression(filter)
            .set_expression_attribute_names(Some(names(&[filter])))
            .expression_attribute_values(":config", s(SK_CONFIG))
            .limit(limit as i32)
            .set_exclusive_start_key(page.token.as_ref().map(decode_position).transpose()?)
            .send()
            .await
            .map_err(|e| sdk_error("Scan", e))?;
        page_of(output.items, output.last_evaluated_key.as_ref(), decode)
    }

    async fn delete(&self, id: &TenantId) -> Result<DeleteOutcome, StoreError> {
        let key = Table::key(tenant_pk(id), SK_CONFIG);
        let condition = "attribute_exists(#pk)";
        let result = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .set_key(Some(key.clone()))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .send()
            .await;
        Ok(
            match self.table.conditional("DeleteItem", &key, result).await? {
                Conditional::Done(_) => DeleteOutcome::Deleted,
                Conditional::Refused(_) => DeleteOutcome::NotFound,
            },
        )
    }
}
