//! Stock records in the state table: one item per SKU, `TENANT#{id}` / `STOCKSKU#{sku}`.
//! Each location's level is an attribute of its own (`level#{location}`, a map of level,
//! `observed_at` and command id) and so is each emitted order (`order#{orderId}`), so one
//! conditional UpdateItem judges one location or one order without reading the item. A
//! pending intent also sets `gsi1pk = STOCKINTENTS#{id}`, so reconciliation lists exactly
//! the SKUs with an adjustment in flight instead of scanning every SKU.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use futures::StreamExt;

use super::attr::{Item, get_millis, get_n, get_s, millis, n, names, opt_s, s, values};
use super::batch::{BATCH_ATTEMPTS, backoff};
use super::error::sdk_error;
use super::keys::{GSI1, stock_intents_pk, stock_sk, tenant_pk};
use super::table::{Conditional, Table};
use connector::ports::clock::truncate_to_millis;
use connector::ports::stock_marks::{
    ClearOutcome, EmittedOrderLine, IntentOutcome, LevelOutcome, check_intent, check_level,
    check_order_line, check_sku,
};
use connector::ports::{StockMarkStore, StoreError};
use domain::stock_mark::{EmittedOrder, LocationLevel, SkuStock, StockIntent};
use domain::tenant::TenantId;

const LEVEL_PREFIX: &str = "level#";
const ORDER_PREFIX: &str = "order#";
const CLEAR_INTENT: &str = "REMOVE #intent_id, #intent_command, #intent_before, #intent_amount, \
     #intent_target, #intent_recorded_at, #gsi1pk, #gsi1sk";
/// Emitted orders stored or forgotten at once.
const ORDER_WRITE_CONCURRENCY: usize = 8;
const FORGET_CHUNK: usize = 50;
/// BatchGetItem's limit.
const BATCH_GET_KEYS: usize = 100;

pub struct DynamoStockMarkStore {
    table: Table,
}

/// One UpdateItem: expressions, the placeholders they use and what to return.
struct Update<'a> {
    update: &'a str,
    condition: &'a str,
    /// Placeholders whose attribute names are data (a location, an order id).
    dynamic_names: Vec<(String, String)>,
    values: HashMap<String, AttributeValue>,
    return_new: bool,
}

impl DynamoStockMarkStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table_name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table_name),
        }
    }

    /// Runs `update`; `Done` carries the item after the write when `return_new` is set.
    async fn update(
        &self,
        tenant: &TenantId,
        sku: &str,
        update: Update<'_>,
    ) -> Result<Conditional<Option<Item>>, StoreError> {
        let record_key = Table::key(tenant_pk(tenant), stock_sk(sku));
        let mut expression_names = names(&[update.update, update.condition]);
        for (placeholder, name) in update.dynamic_names {
            expression_names.insert(placeholder, name);
        }
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(record_key.clone()))
            .update_expression(update.update)
            .condition_expression(update.condition)
            .set_expression_attribute_names(Some(expression_names))
            .set_expression_attribute_values((!update.values.is_empty()).then_some(update.values))
            .return_values(if update.return_new {
                ReturnValue::AllNew
            } else {
                ReturnValue::None
            })
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        Ok(
            match self
                .table
                .conditional("UpdateItem", &record_key, result)
                .await?
            {
                Conditional::Done(output) => Conditional::Done(output.attributes),
                Conditional::Refused(item) => Conditional::Refused(item),
            },
        )
    }
}

impl DynamoStockMarkStore {
    /// The SKUs among `lines` that have a stock record (BatchGetItem, consistent, only the
    /// `sku` attribute; unprocessed keys retried).
    async fn tracked_skus(
        &self,
        tenant: &TenantId,
        lines: &[EmittedOrderLine],
    ) -> Result<HashSet<String>, StoreError> {
        let skus: BTreeSet<&str> = lines.iter().map(|line| line.sku.as_str()).collect();
        let keys: Vec<Item> = skus
            .into_iter()
            .map(|sku| Table::key(tenant_pk(tenant), stock_sk(sku)))
            .collect();
        let mut tracked = HashSet::new();
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt == BATCH_ATTEMPTS {
                    return Err(StoreError::Unprocessed {
                        operation: "BatchGetItem",
                        remaining: pending.len(),
                        attempts: BATCH_ATTEMPTS,
                    });
                }
                if attempt > 0 {
                    backoff(attempt - 1).await;
                }
                attempt += 1;
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .projection_expression("#sku")
                    .expression_attribute_names("#sku", "sku")
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
                for item in output
                    .responses
                    .and_then(|mut responses| responses.remove(&self.table.name))
                    .unwrap_or_default()
                {
                    tracked.insert(get_s(&item, "sku")?.to_owned());
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table.name))
                    .map(|rest| rest.keys)
                    .unwrap_or_default();
            }
        }
        Ok(tracked)
    }

    /// Stores one emitted order line; `false` when it was stored already or its SKU has
    /// no record.
    async fn store_order(
        &self,
        tenant: &TenantId,
        line: &EmittedOrderLine,
    ) -> Result<bool, StoreError> {
        let outcome = self
            .update(
                tenant,
                &line.sku,
                Update {
                    update: "SET #order = :entry",
                    // Only SKUs whose stock is synced; the first emission stays.
                    condition: "attribute_exists(#sku) AND attribute_not_exists(#order)",
                    dynamic_names: vec![(
                        "#order".to_owned(),
                        format!("{ORDER_PREFIX}{}", line.order_id),
                    )],
                    values: values([(":entry", order_attr(&line.order))]),
                    return_new: false,
                },
            )
            .await?;
        Ok(matches!(outcome, Conditional::Done(_)))
    }
}

fn map_of<'a>(
    value: &'a AttributeValue,
    name: &str,
) -> Result<&'a HashMap<String, AttributeValue>, StoreError> {
    value
        .as_m()
        .map_err(|_| StoreError::corrupt(name.to_owned(), "is not a map"))
}

fn level_attr(level: &LocationLevel) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("level".to_owned(), n(level.level)),
        ("at".to_owned(), millis(level.observed_at)),
        ("command".to_owned(), s(&level.command_id)),
    ]))
}

fn decode_level(value: &AttributeValue, name: &str) -> Result<LocationLevel, StoreError> {
    let map = map_of(value, name)?;
    Ok(LocationLevel {
        level: get_n(map, "level")?,
        observed_at: get_millis(map, "at")?,
        command_id: get_s(map, "command")?.to_owned(),
    })
}

fn order_attr(order: &EmittedOrder) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("quantity".to_owned(), n(order.quantity)),
        (
            "emitted_at".to_owned(),
            millis(truncate_to_millis(order.emitted_at)),
        ),
    ]))
}

fn decode_order(value: &AttributeValue, name: &str) -> Result<EmittedOrder, StoreError> {
    let map = map_of(value, name)?;
    Ok(EmittedOrder {
        quantity: get_n(map, "quantity")?,
        emitted_at: get_millis(map, "emitted_at")?,
    })
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
        target: get_n(item, "intent_target")?,
        recorded_at: get_millis(item, "intent_recorded_at")?,
    }))
}

fn decode(item: &Item) -> Result<SkuStock, StoreError> {
    let mut stock = SkuStock::new(get_s(item, "sku")?);
    for (name, value) in item {
        if let Some(location) = name.strip_prefix(LEVEL_PREFIX) {
            stock
                .levels
                .insert(location.to_owned(), decode_level(value, name)?);
        } else if let Some(order_id) = name.strip_prefix(ORDER_PREFIX) {
            stock
                .orders
                .insert(order_id.to_owned(), decode_order(value, name)?);
        }
    }
    stock.pending = pending(item)?;
    Ok(stock)
}

fn intent_of(item: &Option<Item>) -> Result<Option<StockIntent>, StoreError> {
    item.as_ref().map(pending).transpose().map(Option::flatten)
}

#[async_trait]
impl StockMarkStore for DynamoStockMarkStore {
    async fn get(&self, tenant: &TenantId, sku: &str) -> Result<Option<SkuStock>, StoreError> {
        check_sku(sku)?;
        self.table
            .get(Table::key(tenant_pk(tenant), stock_sk(sku)))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn record_level(
        &self,
        tenant: &TenantId,
        sku: &str,
        location: &str,
        level: &LocationLevel,
    ) -> Result<LevelOutcome, StoreError> {
        check_sku(sku)?;
        check_level(location, level)?;
        let mut level = level.clone();
        level.observed_at = truncate_to_millis(level.observed_at);
        let attribute = format!("{LEVEL_PREFIX}{location}");
        // Newer, or this command's own level again (a redelivery after a crash).
        let condition = "attribute_not_exists(#lvl) OR #lvl.#at < :at \
                         OR (#lvl.#at = :at AND #lvl.#command = :command)";
        let outcome = self
            .update(
                tenant,
                sku,
                Update {
                    update: "SET #sku = :sku, #lvl = :entry",
                    condition,
                    dynamic_names: vec![("#lvl".to_owned(), attribute.clone())],
                    values: values([
                        (":sku", s(sku)),
                        (":entry", level_attr(&level)),
                        (":at", millis(level.observed_at)),
                        (":command", s(&level.command_id)),
                    ]),
                    return_new: true,
                },
            )
            .await?;
        match outcome {
            Conditional::Done(Some(item)) => Ok(LevelOutcome::Recorded(decode(&item)?)),
            Conditional::Done(None) => Err(StoreError::corrupt(
                "stock record",
                "the update returned no attributes",
            )),
            Conditional::Refused(item) => {
                let current = item
                    .as_ref()
                    .and_then(|item| item.get(&attribute))
                    .map(|value| decode_level(value, &attribute))
                    .transpose()?
                    .ok_or_else(|| {
                        StoreError::corrupt(attribute.clone(), "refused but not stored")
                    })?;
                Ok(LevelOutcome::NotNewer { current })
            }
        }
    }

    async fn record_orders(
        &self,
        tenant: &TenantId,
        lines: &[EmittedOrderLine],
    ) -> Result<usize, StoreError> {
        for line in lines {
            check_order_line(line)?;
        }
        // One read for the page's SKUs: most SKUs of a shop have no synced stock, and a
        // refused conditional write per order line would cost a call each.
        let tracked = self.tracked_skus(tenant, lines).await?;
        let writes: Vec<_> = lines
            .iter()
            .filter(|line| tracked.contains(line.sku.as_str()))
            .map(|line| self.store_order(tenant, line))
            .collect();
        let results: Vec<Result<bool, StoreError>> = futures::stream::iter(writes)
            .buffer_unordered(ORDER_WRITE_CONCURRENCY)
            .collect()
            .await;
        let mut stored = 0;
        for result in results {
            stored += usize::from(result?);
        }
        Ok(stored)
    }

    async fn forget_orders(
        &self,
        tenant: &TenantId,
        sku: &str,
        order_ids: &[String],
    ) -> Result<(), StoreError> {
        check_sku(sku)?;
        for chunk in order_ids.chunks(FORGET_CHUNK) {
            let dynamic_names: Vec<(String, String)> = chunk
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("#o{i}"), format!("{ORDER_PREFIX}{id}")))
                .collect();
            let update = format!(
                "REMOVE {}",
                dynamic_names
                    .iter()
                    .map(|(placeholder, _)| placeholder.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // Refused only when the SKU has no record: nothing to forget.
            self.update(
                tenant,
                sku,
                Update {
                    update: &update,
                    condition: "attribute_exists(#sku)",
                    dynamic_names,
                    values: HashMap::new(),
                    return_new: false,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn record_intent(
        &self,
        tenant: &TenantId,
        sku: &str,
        intent: &StockIntent,
    ) -> Result<IntentOutcome, StoreError> {
        check_sku(sku)?;
        check_intent(intent)?;
        let update = "SET #sku = :sku, #intent_id = :id, #intent_command = :command, \
                      #intent_before = :before, #intent_amount = :amount, \
                      #intent_target = :target, #intent_recorded_at = :recorded, \
                      #gsi1pk = :gsi1pk, #gsi1sk = :gsi1sk";
        let outcome = self
            .update(
                tenant,
                sku,
                Update {
                    update,
                    condition: "attribute_not_exists(#intent_id)",
                    dynamic_names: Vec::new(),
                    values: values([
                        (":sku", s(sku)),
                        (":id", s(&intent.intent_id)),
                        (":command", s(&intent.command_id)),
                        (":before", n(intent.level_before)),
                        (":amount", n(intent.relative_amount)),
                        (":target", n(intent.target)),
                        (":recorded", millis(truncate_to_millis(intent.recorded_at))),
                        (":gsi1pk", s(stock_intents_pk(tenant))),
                        (":gsi1sk", s(stock_sk(sku))),
                    ]),
                    return_new: false,
                },
            )
            .await?;
        Ok(match outcome {
            Conditional::Done(_) => IntentOutcome::Recorded,
            Conditional::Refused(item) => match intent_of(&item)? {
                Some(pending) => IntentOutcome::Busy { pending },
                None => {
                    return Err(StoreError::corrupt(
                        "stock intent",
                        "refused while none is pending",
                    ));
                }
            },
        })
    }

    async fn clear_intent(
        &self,
        tenant: &TenantId,
        sku: &str,
        intent_id: &str,
    ) -> Result<ClearOutcome, StoreError> {
        check_sku(sku)?;
        let outcome = self
            .update(
                tenant,
                sku,
                Update {
                    update: CLEAR_INTENT,
                    condition: "#intent_id = :id",
                    dynamic_names: Vec::new(),
                    values: values([(":id", s(intent_id))]),
                    return_new: false,
                },
            )
            .await?;
        Ok(match outcome {
            Conditional::Done(_) => ClearOutcome::Cleared,
            Conditional::Refused(item) => ClearOutcome::IntentMismatch {
                pending: intent_of(&item)?,
            },
        })
    }

    async fn pending_intents(&self, tenant: &TenantId) -> Result<Vec<SkuStock>, StoreError> {
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
