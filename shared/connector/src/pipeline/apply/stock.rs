//! `stock` commands: bring a SKU's shop availability to the sum of Afosto's levels over the
//! locations that count towards the shop, less the orders Afosto cannot know yet.
//!
//! The command's level is recorded first, per location and only forward in `observedAt`
//! (a redelivery finds its own level and carries on). Then the shop is brought to the
//! target from a fresh read. Beyond only adjusts stock relatively, so every adjustment is
//! guarded by the SKU's intent in the stock store: recorded (level read before, delta)
//! before the POST and cleared after it. A pending intent found later (a crash, or a POST
//! whose outcome is unknown) is settled from a fresh read with the planner's
//! reconciliation rule before anything else happens for that SKU; the target is absolute,
//! so planning again from the fresh read is right whether it landed or not.

use std::collections::HashMap;

use uuid::Uuid;

use super::{ApplyError, CommandApplier, Executed};
use crate::ports::stock_marks::{ClearOutcome, IntentOutcome, LevelOutcome};
use beyond::{BeyondClient, BeyondError, PageRequest};
use contracts::command::{Command, StockCommand};
use contracts::command_result::SkipCode;
use domain::command_plan::{
    AdjustIntent, AdjustReconciliation, Outcome, PlannedCall, SkipReason, StockSettings,
    plan_stock, reconcile_ambiguous_adjustment, shop_target,
};
use domain::stock_mark::{LocationLevel, SkuStock, StockIntent};
use domain::tenant::{StockTarget, TenantConfig, TenantId};

/// Where a SKU's stock lives in the shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StockItem {
    Product(Uuid),
    Variation { product: Uuid, variation: Uuid },
}

/// SKU → stock item per tenant, for the container's life: SKUs do not move between
/// products, and a scan of variation products is the most expensive lookup we make.
#[derive(Default)]
pub(super) struct SkuCache {
    items: HashMap<(TenantId, String), StockItem>,
}

const SCAN_PAGE_SIZE: u64 = 100;

impl CommandApplier {
    pub(super) async fn execute_stock(
        &self,
        tenant: &TenantConfig,
        client: &BeyondClient,
        command: &Command,
        stock: &StockCommand,
    ) -> Result<Executed, ApplyError> {
        let counts = |location: &str| {
            tenant.locations.iter().any(|mapping| {
                mapping.afosto_location_id == location
                    && mapping.target == StockTarget::ShopAvailability
            })
        };
        if !counts(stock.location.as_str()) {
            // Acknowledged, and nothing changes: the location does not count.
            let reason = SkipReason::LocationNotSynced {
                location: stock.location.to_string(),
            };
            return Ok(Executed::skipped(
                SkipCode::LocationNotSynced,
                reason.to_string(),
                Vec::new(),
                None,
            ));
        }
        let item = self
            .resolve_sku(&tenant.id, client, stock.sku.as_str())
            .await?;
        let sku = stock.sku.as_str();
        let marks = &self.stores.stock_marks;
        let level = LocationLevel {
            level: stock.quantity.get(),
            observed_at: stock.observed_at,
            command_id: command.id.to_string(),
        };
        match marks
            .record_level(&tenant.id, sku, stock.location.as_str(), &level)
            .await?
        {
            LevelOutcome::Recorded(_) => {}
            LevelOutcome::NotNewer { current } => {
                let reason = SkipReason::StaleObservation {
                    observed_at: stock.observed_at,
                    last_applied: current.observed_at,
                };
                return Ok(Executed::skipped(
                    SkipCode::StaleObservation,
                    reason.to_string(),
                    Vec::new(),
                    None,
                ));
            }
        }
        self.check_crash(command, "record-level")?;
        let settings = StockSettings {
            enable_stock_management_if_unmanaged: self
                .settings
                .enable_stock_management_if_unmanaged,
        };
        let mut calls_made: Vec<String> = Vec::new();
        let mut notes: Vec<String> = Vec::new();

        for _round in 0..=self.settings.max_replans {
            let current = read_stock(client, item).await?;
            let record = marks
                .get(&tenant.id, sku)
                .await?
                .unwrap_or_else(|| SkuStock::new(sku));
            if let Some(pending) = record.pending.clone() {
                let reconciliation = reconcile_ambiguous_adjustment(
                    &AdjustIntent {
                        before: pending.level_before,
                        delta: pending.relative_amount,
                    },
                    current,
                );
                // Landed, not landed, or changed elsewhere too: the absolute target
                // planned from the fresh read below is right either way.
                marks
                    .clear_intent(&tenant.id, sku, &pending.intent_id)
                    .await?;
                if reconciliation == AdjustReconciliation::Applied
                    && pending.command_id == command.id.as_str()
                {
                    // This command's own adjustment landed before the crash.
                    calls_made.push("adjust-available-stock".to_owned());
                    notes.push("an earlier attempt's adjustment had landed".to_owned());
                }
                continue;
            }

            let target = shop_target(&record, counts);
            let plan = plan_stock(sku, target.target, current, &settings, target.notes())?;
            let plan_notes = || {
                notes
                    .iter()
                    .cloned()
                    .chain(plan.notes.iter().map(ToString::to_string))
                    .collect::<Vec<String>>()
            };
            match &plan.outcome {
                Outcome::Skip(reason) => {
                    return Ok(Executed::skipped(
                        reason.into(),
                        reason.to_string(),
                        plan_notes(),
                        None,
                    ));
                }
                Outcome::AlreadyInEffect => {
                    self.forget_known(&tenant.id, sku, &target.known_orders)
                        .await;
                    return Ok(if calls_made.is_empty() {
                        Executed::skipped(
                            SkipCode::AlreadyInEffect,
                            format!("the shop's stock is already {}", target.target),
                            plan_notes(),
                            None,
                        )
                    } else {
                        Executed::applied(calls_made, plan_notes(), None)
                    });
                }
                Outcome::Apply => {}
            }
            let Some(call) = plan.calls.first() else {
                continue;
            };
            match call {
                PlannedCall::EnableStockManagement { .. } => {
                    let (StockItem::Product(product), Some(body)) = (item, call.enable_body())
                    else {
                        return Err(ApplyError::VariationUnmanaged {
                            sku: sku.to_owned(),
                        });
                    };
                    match client.enable_stock_management(product, &body).await {
                        Ok(_) => {}
                        // 409: already enabled (an earlier attempt did it): re-read.
                        Err(error) if error.status().map(|s| s.as_u16()) == Some(409) => {
                            continue;
                        }
                        Err(error) => return Err(error.into()),
                    }
                    calls_made.push(call.name().to_owned());
                    self.check_crash(command, call.name())?;
                    self.forget_known(&tenant.id, sku, &target.known_orders)
                        .await;
                    return Ok(Executed::applied(calls_made, plan_notes(), None));
                }
                PlannedCall::AdjustStock { delta, target: to } => {
                    let Some(before) = current else {
                        continue;
                    };
                    let intent = StockIntent {
                        intent_id: Uuid::new_v4().to_string(),
                        command_id: command.id.to_string(),
                        level_before: before,
                        relative_amount: *delta,
                        target: *to,
                        recorded_at: self.clock.now(),
                    };
                    match marks.record_intent(&tenant.id, sku, &intent).await? {
                        IntentOutcome::Recorded => {}
                        // Settled in the next round.
                        IntentOutcome::Busy { .. } => continue,
                    }
                    self.check_crash(command, "record-intent")?;
                    match adjust(client, item, *delta).await {
                        Ok(()) => {}
                        // Settled from a fresh read in the next round, never re-posted blindly.
                        Err(error) if error.is_ambiguous() => {
                            tracing::warn!(%error, "stock adjustment outcome unknown; reconciling");
                            continue;
                        }
                        Err(error) => {
                            // Refused for sure (or not sent): nothing to reconcile.
                            marks
                                .clear_intent(&tenant.id, sku, &intent.intent_id)
                                .await?;
                            return Err(error.into());
                        }
                    }
                    calls_made.push(call.name().to_owned());
                    self.check_crash(command, call.name())?;
                    if let ClearOutcome::IntentMismatch { pending } = marks
                        .clear_intent(&tenant.id, sku, &intent.intent_id)
                        .await?
                    {
                        tracing::warn!(?pending, "the stock intent was replaced meanwhile");
                    }
                    self.forget_known(&tenant.id, sku, &target.known_orders)
                        .await;
                    return Ok(Executed::applied(calls_made, plan_notes(), None));
                }
                other => {
                    return Err(ApplyError::Beyond(BeyondError::Config {
                        reason: format!("{} is not a stock call", other.name()),
                        source: None,
                    }));
                }
            }
        }
        Err(ApplyError::StillAmbiguous {
            rounds: self.settings.max_replans + 1,
        })
    }

    /// Drops emitted orders the levels include by now; a failure only leaves them for
    /// the next command of the SKU (they no longer change the target).
    async fn forget_known(&self, tenant: &TenantId, sku: &str, known: &[String]) {
        if known.is_empty() {
            return;
        }
        if let Err(error) = self
            .stores
            .stock_marks
            .forget_orders(tenant, sku, known)
            .await
        {
            tracing::warn!(%error, "forgetting known orders failed");
        }
    }

    /// Finds the product or variation of a SKU: `find-by-sku` first (products), then a
    /// scan of variation products (whether `find-by-sku` resolves variation SKUs is
    /// unconfirmed). Every variation SKU seen on the way is cached.
    async fn resolve_sku(
        &self,
        tenant: &TenantId,
        client: &BeyondClient,
        sku: &str,
    ) -> Result<StockItem, ApplyError> {
        let cache_key = (tenant.clone(), sku.to_owned());
        if let Some(item) = self.skus.lock().await.items.get(&cache_key) {
            return Ok(*item);
        }
        if let Some(product) = client.find_product_by_sku(sku).await?
            && product.sku.as_deref() == Some(sku)
            && product.is_variation_product != Some(true)
        {
            let item = StockItem::Product(product.id);
            self.skus.lock().await.items.insert(cache_key, item);
            return Ok(item);
        }
        let mut found = None;
        let mut page = 0;
        loop {
            let listing = client
                .list_products(&PageRequest::new(page, SCAN_PAGE_SIZE))
                .await?;
            let total_pages = listing.page.map(|meta| meta.total_pages);
            let products = listing.into_items();
            let count = products.len() as u64;
            for product in products
                .into_iter()
                .filter(|p| p.is_variation_product == Some(true))
            {
                let variations = client.all_variations(product.id).await?;
                let mut cache = self.skus.lock().await;
                for variation in variations.items {
                    let Some(variation_sku) = variation.sku else {
                        continue;
                    };
                    let item = StockItem::Variation {
                        product: product.id,
                        variation: variation.id,
                    };
                    if variation_sku == sku {
                        found = Some(item);
                    }
                    cache.items.insert((tenant.clone(), variation_sku), item);
                }
            }
            page += 1;
            let last = count < SCAN_PAGE_SIZE || total_pages.is_some_and(|total| page >= total);
            if found.is_some() || last {
                break;
            }
        }
        found.ok_or_else(|| ApplyError::SkuNotFound {
            sku: sku.to_owned(),
        })
    }
}

/// `availableStock`, `None` when the shop does not manage the item's stock.
async fn read_stock(client: &BeyondClient, item: StockItem) -> Result<Option<i64>, BeyondError> {
    let availability = match item {
        StockItem::Product(product) => client.product_availability(product).await?,
        StockItem::Variation { product, variation } => {
            client.variation_availability(product, variation).await?
        }
    };
    Ok(availability.available_stock)
}

async fn adjust(client: &BeyondClient, item: StockItem, delta: i64) -> Result<(), BeyondError> {
    match item {
        StockItem::Product(product) => client.adjust_product_stock(product, delta).await.map(drop),
        StockItem::Variation { product, variation } => client
            .adjust_variation_stock(product, variation, delta)
            .await
            .map(drop),
    }
}
