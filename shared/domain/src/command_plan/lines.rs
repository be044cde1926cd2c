//! Resolving command lines (SKU, optional line item id) to the order's product line items,
//! and the per-line quantities every planner reads from Beyond's buckets.
//!
//! A SKU without a line id may match several lines (the same product bought twice, e.g.
//! with different custom texts). Its pieces are then split over those lines in the order's
//! `productLineItems` order, filling each line up to what it can take before moving on.
//! The split only depends on the snapshot, so re-planning after a partial failure splits
//! the rest the same way.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::PlanError;
use beyond::model::{Order, ProcessLineItem, ProductLineItem};
use contracts::command::LineSelector;

/// Pieces the line was ordered with. Beyond's `initialQuantity`; when absent, what the
/// buckets account for (current quantity + canceled + returned + broken).
pub(crate) fn line_total(line: &ProductLineItem) -> u32 {
    line.initial_quantity.unwrap_or_else(|| {
        line.quantity
            .saturating_add(line.canceled_quantity())
            .saturating_add(line.returned_quantity())
            .saturating_add(line.broken_quantity())
    })
}

/// Pieces a cancelation can still take: not handed to a shipping process, or waiting for
/// pickup (a pickup order can be canceled until it is picked up).
pub(crate) fn cancelable(line: &ProductLineItem) -> u32 {
    line.unshipped_quantity()
        .saturating_add(line.not_picked_up_quantity())
        .saturating_add(line.ready_for_pickup_quantity())
}

/// Pieces the customer has received and can send back.
pub(crate) fn returnable(line: &ProductLineItem) -> u32 {
    line.shipped_quantity()
        .saturating_add(line.delivered_quantity())
        .saturating_add(line.picked_up_quantity())
}

/// Pieces handed out in any way: in a shipping process, picked up, or back again.
pub(crate) fn fulfilled(line: &ProductLineItem) -> u32 {
    line.pending_quantity()
        .saturating_add(line.shipped_quantity())
        .saturating_add(line.delivered_quantity())
        .saturating_add(line.picked_up_quantity())
        .saturating_add(line.returned_quantity())
        .saturating_add(line.broken_quantity())
}

/// Canceled as a whole: the order says so, or every piece of every line is canceled.
pub(crate) fn fully_canceled(order: &Order) -> bool {
    let total: u64 = order
        .product_line_items
        .iter()
        .map(|line| u64::from(line_total(line)))
        .sum();
    let canceled: u64 = order
        .product_line_items
        .iter()
        .map(|line| u64::from(line.canceled_quantity()))
        .sum();
    order.is_canceled() || (total > 0 && canceled >= total)
}

/// The order lines a command line addresses: the one with its line id (which must carry
/// its SKU), or every line with its SKU, in the order's line order.
pub(crate) fn addressed_lines<'o>(
    order: &'o Order,
    selector: &impl LineSelector,
) -> Result<Vec<&'o ProductLineItem>, PlanError> {
    let sku = selector.sku().as_str();
    if let Some(line_item_id) = selector.line_item_id() {
        let line = order
            .line_item(line_item_id)
            .ok_or_else(|| PlanError::UnknownLineItem {
                line_item_id,
                sku: sku.to_owned(),
            })?;
        if line.sku() != Some(sku) {
            return Err(PlanError::LineItemSkuMismatch {
                line_item_id,
                sku: sku.to_owned(),
                found: line.sku().map(str::to_owned),
            });
        }
        return Ok(vec![line]);
    }
    let lines: Vec<_> = order
        .product_line_items
        .iter()
        .filter(|line| line.sku() == Some(sku))
        .collect();
    if lines.is_empty() {
        return Err(PlanError::UnknownSku {
            sku: sku.to_owned(),
        });
    }
    Ok(lines)
}

/// The sum of `quantity` over lines, without overflow.
pub(crate) fn sum(lines: &[&ProductLineItem], quantity: impl Fn(&ProductLineItem) -> u32) -> u32 {
    lines
        .iter()
        .fold(0u32, |total, line| total.saturating_add(quantity(line)))
}

/// Pieces already promised to earlier command lines of the same plan, per line item, so
/// two command lines never plan the same pieces twice.
#[derive(Debug, Default)]
pub(crate) struct Taken(BTreeMap<Uuid, u32>);

impl Taken {
    /// Splits `amount` over `lines` in order, each up to `capacity` minus what is taken
    /// already, and records what it took. Returns `(line id, pieces)` for lines that got
    /// some; the sum may be less than `amount` when the lines cannot take it all.
    pub(crate) fn allocate(
        &mut self,
        lines: &[&ProductLineItem],
        amount: u32,
        capacity: impl Fn(&ProductLineItem) -> u32,
    ) -> Vec<(Uuid, u32)> {
        let mut left = amount;
        let mut allocation = Vec::new();
        for line in lines {
            if left == 0 {
                break;
            }
            let taken = self.0.entry(line.id).or_default();
            let free = capacity(line).saturating_sub(*taken);
            let take = free.min(left);
            if take > 0 {
                *taken += take;
                left -= take;
                allocation.push((line.id, take));
            }
        }
        allocation
    }
}

/// Process lines in the order's line order, one entry per line item, zeros dropped: the
/// canonical form, so two descriptions of the same pieces compare equal.
pub(crate) fn canonical(order: &Order, pieces: &[(Uuid, u32)]) -> Vec<ProcessLineItem> {
    let position = |id: &Uuid| {
        order
            .product_line_items
            .iter()
            .position(|line| line.id == *id)
            .unwrap_or(usize::MAX)
    };
    let mut merged: BTreeMap<(usize, Uuid), u32> = BTreeMap::new();
    for (id, quantity) in pieces {
        let entry = merged.entry((position(id), *id)).or_default();
        *entry = entry.saturating_add(*quantity);
    }
    merged
        .into_iter()
        .filter(|(_, quantity)| *quantity > 0)
        .map(|((_, id), quantity)| ProcessLineItem::new(id, quantity))
        .collect()
}
