//! `cancel`: the whole order (`POST /orders/{id}/cancel`) or pieces of lines (a cancelation
//! process). Line quantities are totals: "this many pieces of the line should be canceled",
//! so pieces canceled earlier (by this command's first attempt, another command or the
//! merchant) count, and only the difference is planned.

use super::lines::{self, Taken};
use super::{CapReason, Plan, PlanError, PlanNote, PlannedCall, check_order};
use beyond::model::{CommentBody, CreateCancelProcess, Order, ProcessLineItem, RefundPolicy};
use contracts::command::{CancelCommand, CancelScope, CommandLine};

pub fn plan_cancel(order: &Order, command: &CancelCommand) -> Result<Plan, PlanError> {
    check_order(order, &command.order)?;
    if lines::fully_canceled(order) {
        return Ok(Plan::already_in_effect(Vec::new()));
    }
    let comment = command.comment.as_ref().map(|c| c.as_str().to_owned());
    match command.scope() {
        CancelScope::WholeOrder => Ok(plan_whole_order(order, comment)),
        CancelScope::Lines(requested) => plan_lines(order, requested, comment),
    }
}

/// Beyond cancels a whole order only while nothing is handed out (its `cancel` link goes
/// away then). A partly fulfilled order gets the next best thing Afosto can mean: every
/// piece still open is canceled through a cancelation process, with a note saying so.
fn plan_whole_order(order: &Order, comment: Option<String>) -> Plan {
    let fulfilled = order
        .product_line_items
        .iter()
        .fold(0u32, |sum, line| sum.saturating_add(lines::fulfilled(line)));
    if fulfilled == 0 {
        return Plan::from_calls(
            vec![PlannedCall::CancelOrder(CommentBody { comment })],
            Vec::new(),
        );
    }
    let open: Vec<_> = order
        .product_line_items
        .iter()
        .map(|line| (line.id, lines::cancelable(line)))
        .collect();
    let line_items = lines::canonical(order, &open);
    let notes = vec![PlanNote::WholeOrderCancelLimitedToOpenPieces { fulfilled }];
    if line_items.is_empty() {
        return Plan::already_in_effect(notes);
    }
    Plan::from_calls(
        vec![PlannedCall::CreateCancelation(CreateCancelProcess {
            comment,
            line_items,
        })],
        notes,
    )
}

fn plan_lines(
    order: &Order,
    requested: &[CommandLine],
    comment: Option<String>,
) -> Result<Plan, PlanError> {
    let mut taken = Taken::default();
    let mut pieces = Vec::new();
    let mut notes = Vec::new();
    for line in requested {
        let addressed = lines::addressed_lines(order, line)?;
        let asked = line.quantity.get();
        let total = lines::sum(&addressed, lines::line_total);
        if asked > total {
            return Err(PlanError::ImpossibleQuantity {
                action: "cancel",
                sku: line.sku.to_string(),
                asked,
                total,
            });
        }
        let needed = asked.saturating_sub(lines::sum(&addressed, |l| l.canceled_quantity()));
        if needed == 0 {
            continue;
        }
        let allocation = taken.allocate(&addressed, needed, lines::cancelable);
        let planned = allocation.iter().map(|(_, q)| q).sum::<u32>();
        if planned < needed {
            notes.push(PlanNote::Capped {
                sku: line.sku.to_string(),
                asked: needed,
                planned,
                reason: CapReason::NotCancelable,
            });
        }
        pieces.extend(allocation);
    }
    let line_items = lines::canonical(order, &pieces);
    if line_items.is_empty() {
        return Ok(Plan::already_in_effect(notes));
    }
    // Beyond answers 409 `cancel-process-partial-refund-not-allowed` unless the
    // cancelation takes every open piece; say so before calling, with the way out.
    if order.refund_policy() == Some(&RefundPolicy::FullRefundOnly)
        && !takes_every_open_piece(order, &line_items)
    {
        return Err(PlanError::FullRefundOnlyCancel);
    }
    Ok(Plan::from_calls(
        vec![PlannedCall::CreateCancelation(CreateCancelProcess {
            comment,
            line_items,
        })],
        notes,
    ))
}

fn takes_every_open_piece(order: &Order, line_items: &[ProcessLineItem]) -> bool {
    order.product_line_items.iter().all(|line| {
        let planned = line_items
            .iter()
            .filter(|item| item.product_line_item_id == line.id)
            .map(|item| item.quantity)
            .sum::<u32>();
        planned == lines::cancelable(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_plan::test_support::*;
    use crate::command_plan::{CapReason, Outcome};
    use contracts::command::OrderRef;

    fn apply(shop: &mut Shop, plan: &Plan) {
        shop.run(plan)
            .unwrap_or_else(|e| panic!("Beyond refuses {plan:?}: {e}"));
    }

    #[test]
    fn whole_order_cancel_is_one_call_then_already_in_effect() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 2).line("B", 1).build());
        let plan = plan_cancel(&shop.order, &cancel_whole()).unwrap();
        assert_eq!(plan.outcome, Outcome::Apply);
        assert_eq!(
            plan.calls,
            vec![PlannedCall::CancelOrder(CommentBody::new("customer asked"))]
        );
        apply(&mut shop, &plan);
        let again = plan_cancel(&shop.order, &cancel_whole()).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn a_canceled_order_is_already_in_effect_for_any_cancel() {
        let mut order = OrderBuilder::shipping().line("A", 2).build();
        order.canceled = Some(true);
        for command in [cancel_whole(), cancel_lines(&[("A", 1)])] {
            assert_eq!(
                plan_cancel(&order, &command).unwrap().outcome,
                Outcome::AlreadyInEffect
            );
        }
    }

    #[test]
    fn whole_order_cancel_of_a_partly_shipped_order_cancels_the_open_pieces() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 3).line("B", 1).build());
        let ship = crate::command_plan::plan_ship(
            &shop.order,
            &shop.processes,
            &ship_lines(&[("A", 1)], Some("T1")),
            None,
        )
        .unwrap();
        apply(&mut shop, &ship);
        let plan = plan_cancel(&shop.order, &cancel_whole()).unwrap();
        assert_eq!(
            plan.calls,
            vec![PlannedCall::CreateCancelation(CreateCancelProcess {
                comment: Some("customer asked".into()),
                line_items: vec![
                    ProcessLineItem::new(line_id(0), 2),
                    ProcessLineItem::new(line_id(1), 1)
                ],
            })]
        );
        assert_eq!(
            plan.notes,
            vec![PlanNote::WholeOrderCancelLimitedToOpenPieces { fulfilled: 1 }]
        );
        apply(&mut shop, &plan);
        let again = plan_cancel(&shop.order, &cancel_whole()).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn line_quantities_are_totals_so_earlier_cancelations_count() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 5).build());
        let first = plan_cancel(&shop.order, &cancel_lines(&[("A", 2)])).unwrap();
        assert_eq!(
            first.calls,
            vec![PlannedCall::CreateCancelation(CreateCancelProcess {
                comment: None,
                line_items: vec![ProcessLineItem::new(line_id(0), 2)],
            })]
        );
        apply(&mut shop, &first);
        // The same command again: nothing left to do.
        let again = plan_cancel(&shop.order, &cancel_lines(&[("A", 2)])).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);
        // A later total of 3 cancels one more.
        let more = plan_cancel(&shop.order, &cancel_lines(&[("A", 3)])).unwrap();
        let PlannedCall::CreateCancelation(body) = &more.calls[0] else {
            panic!("{more:?}")
        };
        assert_eq!(body.line_items, vec![ProcessLineItem::new(line_id(0), 1)]);
    }

    #[test]
    fn quantities_are_capped_by_the_unshipped_pieces_with_a_note() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 3).build());
        let ship = crate::command_plan::plan_ship(
            &shop.order,
            &shop.processes,
            &ship_lines(&[("A", 2)], Some("T1")),
            None,
        )
        .unwrap();
        apply(&mut shop, &ship);
        let plan = plan_cancel(&shop.order, &cancel_lines(&[("A", 3)])).unwrap();
        let PlannedCall::CreateCancelation(body) = &plan.calls[0] else {
            panic!("{plan:?}")
        };
        assert_eq!(body.line_items, vec![ProcessLineItem::new(line_id(0), 1)]);
        assert_eq!(
            plan.notes,
            vec![PlanNote::Capped {
                sku: "A".into(),
                asked: 3,
                planned: 1,
                reason: CapReason::NotCancelable
            }]
        );
        apply(&mut shop, &plan);
        let again = plan_cancel(&shop.order, &cancel_lines(&[("A", 3)])).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);
        assert_eq!(again.notes.len(), 1, "the cap is reported again");
    }

    #[test]
    fn asking_more_than_the_order_has_is_impossible() {
        let order = OrderBuilder::shipping().line("A", 2).build();
        let error = plan_cancel(&order, &cancel_lines(&[("A", 3)])).unwrap_err();
        assert_eq!(
            error,
            PlanError::ImpossibleQuantity {
                action: "cancel",
                sku: "A".into(),
                asked: 3,
                total: 2
            }
        );
        assert!(error.is_permanent());
        assert!(error.to_string().contains("impossible quantity"), "{error}");
    }

    #[test]
    fn unknown_skus_and_line_items_are_permanent_errors() {
        let order = OrderBuilder::shipping().line("A", 2).line("B", 1).build();
        let error = plan_cancel(&order, &cancel_lines(&[("Z", 1)])).unwrap_err();
        assert_eq!(error, PlanError::UnknownSku { sku: "Z".into() });
        assert!(error.to_string().contains("\"Z\""), "{error}");

        let mut command = cancel_lines(&[("A", 1)]);
        command.lines[0].line_item_id = Some(line_id(7));
        assert!(matches!(
            plan_cancel(&order, &command),
            Err(PlanError::UnknownLineItem { .. })
        ));
        command.lines[0].line_item_id = Some(line_id(1));
        assert!(matches!(
            plan_cancel(&order, &command),
            Err(PlanError::LineItemSkuMismatch { found: Some(found), .. }) if found == "B"
        ));
    }

    #[test]
    fn a_sku_on_several_lines_is_split_in_line_order() {
        let order = OrderBuilder::shipping()
            .line("A", 2)
            .line("B", 1)
            .line("A", 3)
            .build();
        let plan = plan_cancel(&order, &cancel_lines(&[("A", 4)])).unwrap();
        let PlannedCall::CreateCancelation(body) = &plan.calls[0] else {
            panic!("{plan:?}")
        };
        assert_eq!(
            body.line_items,
            vec![
                ProcessLineItem::new(line_id(0), 2),
                ProcessLineItem::new(line_id(2), 2)
            ]
        );
        // With a line id only that line is addressed.
        let mut command = cancel_lines(&[("A", 1)]);
        command.lines[0].line_item_id = Some(line_id(2));
        let plan = plan_cancel(&order, &command).unwrap();
        let PlannedCall::CreateCancelation(body) = &plan.calls[0] else {
            panic!("{plan:?}")
        };
        assert_eq!(body.line_items, vec![ProcessLineItem::new(line_id(2), 1)]);
    }

    #[test]
    fn full_refund_only_refuses_partial_cancelations_up_front() {
        let order = OrderBuilder::shipping()
            .refund_policy("FULL_REFUND_ONLY")
            .line("A", 2)
            .line("B", 1)
            .build();
        let error = plan_cancel(&order, &cancel_lines(&[("A", 1)])).unwrap_err();
        assert_eq!(error, PlanError::FullRefundOnlyCancel);
        assert_eq!(
            error.to_string(),
            "this payment method only allows full refunds: cancel the whole order"
        );
        // Taking every open piece is allowed, and so is the whole-order cancel.
        assert!(plan_cancel(&order, &cancel_lines(&[("A", 2), ("B", 1)])).is_ok());
        assert!(plan_cancel(&order, &cancel_whole()).is_ok());
    }

    #[test]
    fn pickup_orders_cancel_pieces_waiting_for_pickup() {
        let mut shop = Shop::new(OrderBuilder::pickup().line("A", 2).build());
        let ready = crate::command_plan::plan_ready_for_pickup(
            &shop.order,
            &shop.processes,
            &pickup_command(),
        )
        .unwrap();
        apply(&mut shop, &ready);
        let plan = plan_cancel(&shop.order, &cancel_lines(&[("A", 1)])).unwrap();
        assert_eq!(plan.outcome, Outcome::Apply);
        apply(&mut shop, &plan);
    }

    #[test]
    fn the_snapshot_must_be_the_commands_order() {
        let order = OrderBuilder::shipping().line("A", 2).build();
        let mut command = cancel_whole();
        command.order = OrderRef::Number(text("99999"));
        assert!(matches!(
            plan_cancel(&order, &command),
            Err(PlanError::WrongOrder { .. })
        ));
        command.order = OrderRef::Number(text("10001"));
        assert!(plan_cancel(&order, &command).is_ok());
    }
}
