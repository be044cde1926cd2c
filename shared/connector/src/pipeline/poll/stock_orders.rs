//! Orders the shop took, remembered per SKU when their `order.created` is emitted: a stock
//! level Afosto observed before it received the event cannot include their pieces, so the
//! stock apply takes them off its target (docs/COMMANDS.md, "Orders Afosto cannot know
//! yet"). Forced re-emissions of a resync are left out: Afosto knew those orders already.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::ports::StoreError;
use crate::ports::stock_marks::{EmittedOrderLine, StockMarkStore};
use contracts::order_event::OrderEvent;
use domain::stock_mark::EmittedOrder;
use domain::tenant::TenantId;

/// The pieces per SKU of every `order.created` among `events`, emitted at `emitted_at`.
pub fn emitted_order_lines<'a>(
    events: impl IntoIterator<Item = &'a OrderEvent>,
    emitted_at: DateTime<Utc>,
) -> Vec<EmittedOrderLine> {
    let mut lines = Vec::new();
    for event in events {
        let OrderEvent::Created(created) = event else {
            continue;
        };
        let mut pieces: BTreeMap<&str, i64> = BTreeMap::new();
        for line in &created.order.lines {
            *pieces.entry(line.sku.as_str()).or_default() += i64::from(line.quantity);
        }
        let order_id = created.header.order_id.to_string();
        lines.extend(pieces.into_iter().map(|(sku, quantity)| EmittedOrderLine {
            sku: sku.to_owned(),
            order_id: order_id.clone(),
            order: EmittedOrder {
                quantity,
                emitted_at,
            },
        }));
    }
    lines
}

/// Records the emitted orders after the queue accepted their events. A failure fails the
/// poll like any state write: the re-run re-sends the same event ids (deduplicated) and
/// records again (idempotent per order).
pub(super) async fn record<'a>(
    store: &dyn StockMarkStore,
    tenant: &TenantId,
    events: impl IntoIterator<Item = &'a OrderEvent>,
    emitted_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let lines: Vec<EmittedOrderLine> = emitted_order_lines(events, emitted_at)
        .into_iter()
        // A SKU the stores cannot key (empty, or absurdly long) has no stock record.
        .filter(|line| crate::ports::stock_marks::check_order_line(line).is_ok())
        .collect();
    if !lines.is_empty() {
        store.record_orders(tenant, &lines).await?;
    }
    Ok(())
}
