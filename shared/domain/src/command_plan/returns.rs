//! `return`: pieces back from the customer, `accepted` → `RETURNED`, `rejected` → `BROKEN`.
//! Quantities are totals per line and decision, like cancel: pieces already returned
//! with that status count, only the difference is planned, and only from pieces the
//! customer has (shipped, delivered or picked up).
//!
//! Each return names the shipping process its pieces came from (`shippingProcessId`), so
//! the merchant sees which parcel came back. Pieces are attributed to shipped or delivered
//! shipping processes in the processes list order, minus what earlier returns took from
//! each; pieces spanning several processes make one return per process. A pickup order's
//! return names its (single) pickup process.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::lines::{self, Taken};
use super::{CapReason, Plan, PlanError, PlanNote, PlannedCall, check_order};
use beyond::model::{
    CreateReturnProcess, Money, Order, OrderProcesses, PickupProcessStatus, RefundPolicy,
    ReturnLineItem, ReturnLineItemStatus, ShippingProcess, ShippingProcessStatus,
};
use contracts::command::{ReturnCommand, ReturnDecision};

pub fn plan_return(
    order: &Order,
    processes: &OrderProcesses,
    command: &ReturnCommand,
) -> Result<Plan, PlanError> {
    check_order(order, &command.order)?;
    let mut taken = Taken::default();
    let mut pieces: Vec<(Uuid, u32, ReturnLineItemStatus)> = Vec::new();
    let mut notes = Vec::new();
    for line in &command.lines {
        let addressed = lines::addressed_lines(order, line)?;
        let asked = line.quantity.get();
        let total = lines::sum(&addressed, lines::line_total);
        if asked > total {
            return Err(PlanError::ImpossibleQuantity {
                action: "return",
                sku: line.sku.to_string(),
                asked,
                total,
            });
        }
        let (status, done) = match line.decision {
            ReturnDecision::Accepted => (
                ReturnLineItemStatus::Returned,
                lines::sum(&addressed, |l| l.returned_quantity()),
            ),
            ReturnDecision::Rejected => (
                ReturnLineItemStatus::Broken,
                lines::sum(&addressed, |l| l.broken_quantity()),
            ),
        };
        let needed = asked.saturating_sub(done);
        if needed == 0 {
            continue;
        }
        let allocation = taken.allocate(&addressed, needed, lines::returnable);
        let planned = allocation.iter().map(|(_, q)| q).sum::<u32>();
        if planned < needed {
            notes.push(PlanNote::Capped {
                sku: line.sku.to_string(),
                asked: needed,
                planned,
                reason: CapReason::NotReturnable,
            });
        }
        pieces.extend(
            allocation
                .into_iter()
                .map(|(id, quantity)| (id, quantity, status.clone())),
        );
    }
    if pieces.is_empty() {
        return Ok(Plan::already_in_effect(notes));
    }

    let full_refund_only = order.refund_policy() == Some(&RefundPolicy::FullRefundOnly);
    let charge = shipping_charge(order);
    if full_refund_only {
        // Beyond answers 409 `return-process-partial-refund-not-allowed` unless one return
        // takes every piece of the order and refunds shipping.
        if !returns_every_piece(order, &pieces) {
            return Err(PlanError::FullRefundOnlyReturn);
        }
        if charge.is_some() && !command.refund_shipping {
            return Err(PlanError::FullRefundOnlyShipping);
        }
    }

    let mut refund = None;
    if command.refund_shipping {
        if already_refunded(processes) {
            notes.push(PlanNote::ShippingAlreadyRefunded);
        } else {
            refund = charge;
        }
    }

    let groups = if order.is_pickup() || full_refund_only {
        vec![(single_source(order, processes), pieces)]
    } else {
        by_shipping_process(processes, pieces)
    };
    let comment = command.comment.as_ref().map(|c| c.as_str().to_owned());
    let calls = groups
        .into_iter()
        .map(|(source, group)| {
            // The charge is refunded once, with the first return.
            let refund = refund.take();
            let (shipping_price_refund, pickup_price_refund) = match (&refund, order.is_pickup()) {
                (Some(money), false) => (Some(money.clone()), None),
                (Some(money), true) => (None, Some(money.clone())),
                (None, _) => (None, None),
            };
            PlannedCall::CreateReturn(CreateReturnProcess {
                comment: comment.clone(),
                send_mail: command.notify_customer,
                line_items: return_lines(order, &group),
                shipping_price_refund,
                pickup_price_refund,
                shipping_process_id: source.shipping,
                pickup_process_id: source.pickup,
            })
        })
        .collect();
    Ok(Plan::from_calls(calls, notes))
}

/// The process a return names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Source {
    shipping: Option<Uuid>,
    pickup: Option<Uuid>,
}

type Pieces = Vec<(Uuid, u32, ReturnLineItemStatus)>;

/// For a return that cannot be split: the picked-up pickup process, or the only shipped
/// shipping process when there is exactly one.
fn single_source(order: &Order, processes: &OrderProcesses) -> Source {
    if order.is_pickup() {
        return Source {
            shipping: None,
            pickup: processes
                .embedded
                .pickup
                .iter()
                .find(|p| p.status == PickupProcessStatus::PickedUp)
                .map(|p| p.id),
        };
    }
    let shipped: Vec<_> = shipped_processes(processes).collect();
    Source {
        shipping: match shipped.as_slice() {
            [only] => Some(only.id),
            _ => None,
        },
        pickup: None,
    }
}

fn shipped_processes(processes: &OrderProcesses) -> impl Iterator<Item = &ShippingProcess> {
    processes.embedded.shipping.iter().filter(|p| {
        matches!(
            p.status,
            ShippingProcessStatus::Shipped | ShippingProcessStatus::Delivered
        )
    })
}

/// Splits pieces over the shipping processes they can have come from; what no process can
/// account for (processes list behind the buckets) goes into a return without a process.
fn by_shipping_process(processes: &OrderProcesses, pieces: Pieces) -> Vec<(Source, Pieces)> {
    let shipped: Vec<&ShippingProcess> = shipped_processes(processes).collect();
    let mut left: BTreeMap<(Uuid, Uuid), u32> = BTreeMap::new();
    for process in &shipped {
        for item in &process.line_items {
            let entry = left
                .entry((process.id, item.product_line_item_id))
                .or_default();
            *entry = entry.saturating_add(item.quantity);
        }
    }
    // What earlier returns took: from their named process, or, without one, from the
    // processes in list order (which pieces Beyond takes then is undocumented; any choice
    // keeps the totals right).
    for earlier in &processes.embedded.returns {
        let named = earlier.embedded.shipping_process.as_ref().map(|p| p.id);
        for item in &earlier.line_items {
            let mut quantity = item.quantity;
            for process in &shipped {
                if named.is_some_and(|id| id != process.id) {
                    continue;
                }
                if let Some(remaining) = left.get_mut(&(process.id, item.product_line_item_id)) {
                    let take = quantity.min(*remaining);
                    *remaining -= take;
                    quantity -= take;
                }
            }
        }
    }

    let mut groups: Vec<(Source, Pieces)> = Vec::new();
    let mut unattributed: Pieces = Vec::new();
    for (line_id, quantity, status) in pieces {
        let mut quantity = quantity;
        for process in &shipped {
            let Some(remaining) = left.get_mut(&(process.id, line_id)) else {
                continue;
            };
            let take = quantity.min(*remaining);
            if take == 0 {
                continue;
            }
            *remaining -= take;
            quantity -= take;
            let source = Source {
                shipping: Some(process.id),
                pickup: None,
            };
            match groups.iter_mut().find(|(s, _)| *s == source) {
                Some((_, group)) => group.push((line_id, take, status.clone())),
                None => groups.push((source, vec![(line_id, take, status.clone())])),
            }
            if quantity == 0 {
                break;
            }
        }
        if quantity > 0 {
            unattributed.push((line_id, quantity, status));
        }
    }
    if !unattributed.is_empty() {
        groups.push((Source::default(), unattributed));
    }
    groups
}

/// Return lines in the order's line order, one per line item and status.
fn return_lines(order: &Order, group: &Pieces) -> Vec<ReturnLineItem> {
    let position = |id: &Uuid| {
        order
            .product_line_items
            .iter()
            .position(|line| line.id == *id)
            .unwrap_or(usize::MAX)
    };
    let mut merged: BTreeMap<(usize, Uuid, bool), (ReturnLineItemStatus, u32)> = BTreeMap::new();
    for (id, quantity, status) in group {
        let broken = *status == ReturnLineItemStatus::Broken;
        let entry = merged
            .entry((position(id), *id, broken))
            .or_insert((status.clone(), 0));
        entry.1 = entry.1.saturating_add(*quantity);
    }
    merged
        .into_iter()
        .map(|((_, id, _), (status, quantity))| ReturnLineItem {
            product_line_item_id: id,
            quantity,
            status,
        })
        .collect()
}

fn returns_every_piece(order: &Order, pieces: &Pieces) -> bool {
    order.product_line_items.iter().all(|line| {
        let planned = pieces
            .iter()
            .filter(|(id, _, _)| *id == line.id)
            .map(|(_, quantity, _)| quantity)
            .sum::<u32>();
        // Every piece not canceled or back already.
        planned == line.quantity
    })
}

/// The shipping (or pickup) charge, when there is one to refund.
fn shipping_charge(order: &Order) -> Option<Money> {
    let price = if order.is_pickup() {
        order.pickup_line_item.as_ref()?.line_item_price.as_ref()?
    } else {
        order
            .shipping_line_item
            .as_ref()?
            .line_item_price
            .as_ref()?
    };
    (price.amount > rust_decimal::Decimal::ZERO).then(|| price.money())
}

fn already_refunded(processes: &OrderProcesses) -> bool {
    let positive = |money: &Option<Money>| {
        money
            .as_ref()
            .is_some_and(|m| m.amount > rust_decimal::Decimal::ZERO)
    };
    processes
        .embedded
        .returns
        .iter()
        .any(|r| positive(&r.shipping_price_refund) || positive(&r.pickup_price_refund))
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::command_plan::test_support::*;
    use crate::command_plan::{CapReason, Outcome, plan_deliver, plan_ship};
    use contracts::command::ReturnDecision::{Accepted, Rejected};

    fn apply(shop: &mut Shop, plan: &Plan) -> Vec<Uuid> {
        shop.run(plan)
            .unwrap_or_else(|e| panic!("Beyond refuses {plan:?}: {e}"))
    }

    /// An order with `lines`, shipped in the parcels given (SKU, pieces, tracking code).
    fn shipped(builder: OrderBuilder, parcels: &[(&str, u32, &str)]) -> (Shop, Vec<Uuid>) {
        let mut shop = Shop::new(builder.build());
        let mut ids = Vec::new();
        for (sku, pieces, code) in parcels {
            let plan = plan_ship(
                &shop.order,
                &shop.processes,
                &ship_lines(&[(sku, *pieces)], Some(code)),
                None,
            )
            .unwrap();
            ids.extend(apply(&mut shop, &plan));
        }
        (shop, ids)
    }

    fn only_return(plan: &Plan) -> &CreateReturnProcess {
        match plan.calls.as_slice() {
            [PlannedCall::CreateReturn(body)] => body,
            other => panic!("expected one return, got {other:?}"),
        }
    }

    #[test]
    fn accepted_is_returned_and_rejected_is_broken_from_the_shipment() {
        let (mut shop, shipments) =
            shipped(OrderBuilder::shipping().line("A", 3), &[("A", 3, "T1")]);
        let command = return_command(&[("A", 2, Accepted), ("A", 1, Rejected)], false);
        let plan = plan_return(&shop.order, &shop.processes, &command).unwrap();
        let body = only_return(&plan);
        assert_eq!(body.shipping_process_id, Some(shipments[0]));
        assert_eq!(
            body.line_items,
            vec![
                ReturnLineItem {
                    product_line_item_id: line_id(0),
                    quantity: 2,
                    status: ReturnLineItemStatus::Returned
                },
                ReturnLineItem {
                    product_line_item_id: line_id(0),
                    quantity: 1,
                    status: ReturnLineItemStatus::Broken
                },
            ]
        );
        assert_eq!(body.shipping_price_refund, None);
        apply(&mut shop, &plan);
        let again = plan_return(&shop.order, &shop.processes, &command).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn delivered_pieces_are_returnable_too() {
        let (mut shop, _) = shipped(OrderBuilder::shipping().line("A", 1), &[("A", 1, "T1")]);
        let deliver =
            plan_deliver(&shop.order, &shop.processes, &deliver_by_code("T1"), None).unwrap();
        apply(&mut shop, &deliver);
        let command = return_command(&[("A", 1, Accepted)], false);
        let plan = plan_return(&shop.order, &shop.processes, &command).unwrap();
        assert_eq!(plan.outcome, Outcome::Apply);
        apply(&mut shop, &plan);
    }

    #[test]
    fn pieces_from_two_shipments_make_one_return_per_shipment() {
        let (mut shop, shipments) = shipped(
            OrderBuilder::shipping().line("A", 3),
            &[("A", 1, "T1"), ("A", 2, "T2")],
        );
        let command = return_command(&[("A", 2, Accepted)], true);
        let plan = plan_return(&shop.order, &shop.processes, &command).unwrap();
        assert_eq!(plan.calls.len(), 2, "{plan:?}");
        let bodies: Vec<_> = plan
            .calls
            .iter()
            .map(|call| match call {
                PlannedCall::CreateReturn(body) => body,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(bodies[0].shipping_process_id, Some(shipments[0]));
        assert_eq!(bodies[0].line_items[0].quantity, 1);
        assert_eq!(bodies[1].shipping_process_id, Some(shipments[1]));
        assert_eq!(bodies[1].line_items[0].quantity, 1);
        // The charge is refunded once, with the first return.
        let charge = Money::new("EUR", Decimal::new(495, 2));
        assert_eq!(bodies[0].shipping_price_refund, Some(charge));
        assert_eq!(bodies[1].shipping_price_refund, None);
        apply(&mut shop, &plan);

        // One more piece later goes to the shipment that still has one.
        let more = return_command(&[("A", 3, Accepted)], true);
        let plan = plan_return(&shop.order, &shop.processes, &more).unwrap();
        let body = only_return(&plan);
        assert_eq!(body.shipping_process_id, Some(shipments[1]));
        assert_eq!(body.shipping_price_refund, None);
        assert_eq!(plan.notes, vec![PlanNote::ShippingAlreadyRefunded]);
        apply(&mut shop, &plan);
        let again = plan_return(&shop.order, &shop.processes, &more).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn unshipped_pieces_cannot_be_returned_and_are_noted() {
        let (shop, _) = shipped(OrderBuilder::shipping().line("A", 3), &[("A", 1, "T1")]);
        let command = return_command(&[("A", 2, Accepted)], false);
        let plan = plan_return(&shop.order, &shop.processes, &command).unwrap();
        assert_eq!(only_return(&plan).line_items[0].quantity, 1);
        assert_eq!(
            plan.notes,
            vec![PlanNote::Capped {
                sku: "A".into(),
                asked: 2,
                planned: 1,
                reason: CapReason::NotReturnable
            }]
        );
        let nothing_shipped = Shop::new(OrderBuilder::shipping().line("A", 3).build());
        let plan =
            plan_return(&nothing_shipped.order, &nothing_shipped.processes, &command).unwrap();
        assert_eq!(plan.outcome, Outcome::AlreadyInEffect);
        assert_eq!(plan.notes.len(), 1);
    }

    #[test]
    fn impossible_quantities_are_refused() {
        let (shop, _) = shipped(OrderBuilder::shipping().line("A", 2), &[("A", 2, "T1")]);
        let command = return_command(&[("A", 3, Rejected)], false);
        assert!(matches!(
            plan_return(&shop.order, &shop.processes, &command),
            Err(PlanError::ImpossibleQuantity {
                action: "return",
                asked: 3,
                total: 2,
                ..
            })
        ));
    }

    #[test]
    fn full_refund_only_needs_every_piece_and_the_shipping_charge() {
        let builder = || {
            OrderBuilder::shipping()
                .refund_policy("FULL_REFUND_ONLY")
                .line("A", 2)
                .line("B", 1)
        };
        let (mut shop, shipments) = shipped(builder(), &[("A", 2, "T1"), ("B", 1, "T2")]);
        let partial = return_command(&[("A", 2, Accepted)], true);
        assert_eq!(
            plan_return(&shop.order, &shop.processes, &partial),
            Err(PlanError::FullRefundOnlyReturn)
        );
        let no_charge = return_command(&[("A", 2, Accepted), ("B", 1, Rejected)], false);
        assert_eq!(
            plan_return(&shop.order, &shop.processes, &no_charge),
            Err(PlanError::FullRefundOnlyShipping)
        );
        let full = return_command(&[("A", 2, Accepted), ("B", 1, Rejected)], true);
        let plan = plan_return(&shop.order, &shop.processes, &full).unwrap();
        // One return for everything: two processes, so none can be named.
        let body = only_return(&plan);
        assert_eq!(body.shipping_process_id, None);
        assert!(body.shipping_price_refund.is_some());
        assert_eq!(shipments.len(), 2);
        apply(&mut shop, &plan);

        // Free shipping needs no flag.
        let (shop, _) = shipped(builder().free_shipping(), &[("A", 2, "T1"), ("B", 1, "T2")]);
        assert!(plan_return(&shop.order, &shop.processes, &no_charge).is_ok());
    }

    #[test]
    fn a_pickup_order_names_its_pickup_process() {
        let mut shop = Shop::new(OrderBuilder::pickup().line("A", 2).build());
        let picked =
            crate::command_plan::plan_picked_up(&shop.order, &shop.processes, &pickup_command())
                .unwrap();
        let created = apply(&mut shop, &picked);
        let plan = plan_return(
            &shop.order,
            &shop.processes,
            &return_command(&[("A", 1, Accepted)], false),
        )
        .unwrap();
        let body = only_return(&plan);
        assert_eq!(body.pickup_process_id, Some(created[0]));
        assert_eq!(body.shipping_process_id, None);
        apply(&mut shop, &plan);
    }
}
