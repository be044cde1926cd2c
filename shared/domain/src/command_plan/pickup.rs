//! `ready_for_pickup` and `picked_up`: a click & collect order has at most one pickup
//! process, always for the whole order (Beyond answers 409 to a second one), so the
//! process's existence and status say everything.

use super::{Plan, PlanError, PlannedCall, ProcessTarget, check_order, lines};
use beyond::model::{
    CreatePickupProcess, MarkPickedUp, Order, OrderProcesses, PickupProcess, PickupProcessStatus,
};
use contracts::command::{CommandType, PickupCommand};

pub fn plan_ready_for_pickup(
    order: &Order,
    processes: &OrderProcesses,
    command: &PickupCommand,
) -> Result<Plan, PlanError> {
    let existing = pickup_process(order, processes, command, CommandType::ReadyForPickup)?;
    if existing.is_some() || handed_over(order) {
        return Ok(Plan::already_in_effect(Vec::new()));
    }
    if lines::fully_canceled(order) {
        return Err(PlanError::OrderCanceled {
            command_type: CommandType::ReadyForPickup,
        });
    }
    Ok(Plan::from_calls(
        vec![PlannedCall::CreatePickupProcess(CreatePickupProcess {
            comment: comment(command),
            send_mail: command.notify_customer,
            create_packing_slip: None,
        })],
        Vec::new(),
    ))
}

pub fn plan_picked_up(
    order: &Order,
    processes: &OrderProcesses,
    command: &PickupCommand,
) -> Result<Plan, PlanError> {
    let existing = pickup_process(order, processes, command, CommandType::PickedUp)?;
    let mark = |process| PlannedCall::MarkPickedUp {
        process,
        body: MarkPickedUp {
            comment: comment(command),
            send_mail: command.notify_customer,
        },
    };
    match existing.map(|p| (p, &p.status)) {
        Some((_, PickupProcessStatus::PickedUp)) => Ok(Plan::already_in_effect(Vec::new())),
        Some((process, PickupProcessStatus::ReadyForPickup)) => {
            if lines::fully_canceled(order) {
                return Err(PlanError::OrderCanceled {
                    command_type: CommandType::PickedUp,
                });
            }
            Ok(Plan::from_calls(
                vec![mark(ProcessTarget::Existing(process.id))],
                Vec::new(),
            ))
        }
        Some((process, PickupProcessStatus::Other(status))) => {
            Err(PlanError::UnknownProcessStatus {
                process_id: process.id,
                status: status.clone(),
            })
        }
        None if picked_up_everything(order) => Ok(Plan::already_in_effect(Vec::new())),
        None => {
            if lines::fully_canceled(order) {
                return Err(PlanError::OrderCanceled {
                    command_type: CommandType::PickedUp,
                });
            }
            // Collected without a "ready" step: no ready-for-pickup mail for a parcel the
            // customer already has.
            Ok(Plan::from_calls(
                vec![
                    PlannedCall::CreatePickupProcess(CreatePickupProcess {
                        comment: None,
                        send_mail: Some(false),
                        create_packing_slip: None,
                    }),
                    mark(ProcessTarget::CreatedByPreviousCall),
                ],
                Vec::new(),
            ))
        }
    }
}

/// The order's pickup process, after checking the command fits the order.
fn pickup_process<'p>(
    order: &Order,
    processes: &'p OrderProcesses,
    command: &PickupCommand,
    command_type: CommandType,
) -> Result<Option<&'p PickupProcess>, PlanError> {
    check_order(order, &command.order)?;
    if !order.is_pickup() {
        return Err(PlanError::NotPickupOrder { command_type });
    }
    Ok(processes.embedded.pickup.first())
}

/// Some pieces are ready or picked up: a pickup process exists even if the processes
/// list read missed it.
fn handed_over(order: &Order) -> bool {
    order
        .product_line_items
        .iter()
        .any(|line| line.ready_for_pickup_quantity() > 0 || line.picked_up_quantity() > 0)
}

/// Every piece is picked up (or gone), by the buckets alone.
fn picked_up_everything(order: &Order) -> bool {
    let picked: u32 = order
        .product_line_items
        .iter()
        .map(|line| line.picked_up_quantity())
        .sum();
    picked > 0
        && order
            .product_line_items
            .iter()
            .all(|line| line.not_picked_up_quantity() == 0 && line.ready_for_pickup_quantity() == 0)
}

fn comment(command: &PickupCommand) -> Option<String> {
    command.comment.as_ref().map(|c| c.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_plan::test_support::*;
    use crate::command_plan::{Outcome, plan_cancel};

    fn apply(shop: &mut Shop, plan: &Plan) {
        shop.run(plan)
            .unwrap_or_else(|e| panic!("Beyond refuses {plan:?}: {e}"));
    }

    #[test]
    fn ready_then_picked_up_then_nothing_left() {
        let mut shop = Shop::new(OrderBuilder::pickup().line("A", 2).build());
        let ready = plan_ready_for_pickup(&shop.order, &shop.processes, &pickup_command()).unwrap();
        assert!(matches!(
            ready.calls.as_slice(),
            [PlannedCall::CreatePickupProcess(body)] if body.send_mail == Some(true)
        ));
        apply(&mut shop, &ready);
        let again = plan_ready_for_pickup(&shop.order, &shop.processes, &pickup_command()).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);

        let picked = plan_picked_up(&shop.order, &shop.processes, &pickup_command()).unwrap();
        let id = shop.processes.embedded.pickup[0].id;
        assert!(matches!(
            picked.calls.as_slice(),
            [PlannedCall::MarkPickedUp { process: ProcessTarget::Existing(p), .. }] if *p == id
        ));
        apply(&mut shop, &picked);
        for plan in [
            plan_picked_up(&shop.order, &shop.processes, &pickup_command()).unwrap(),
            plan_ready_for_pickup(&shop.order, &shop.processes, &pickup_command()).unwrap(),
        ] {
            assert_eq!(plan.outcome, Outcome::AlreadyInEffect);
        }
    }

    #[test]
    fn picked_up_without_ready_creates_the_process_quietly_first() {
        let mut shop = Shop::new(OrderBuilder::pickup().line("A", 2).build());
        let plan = plan_picked_up(&shop.order, &shop.processes, &pickup_command()).unwrap();
        assert!(matches!(
            plan.calls.as_slice(),
            [
                PlannedCall::CreatePickupProcess(create),
                PlannedCall::MarkPickedUp { process: ProcessTarget::CreatedByPreviousCall, .. }
            ] if create.send_mail == Some(false)
        ));
        apply(&mut shop, &plan);
        assert_eq!(shop.order.product_line_items[0].picked_up_quantity(), 2);
        // Picked up per the buckets even when the processes list read missed the process.
        let empty = OrderProcesses::default();
        assert_eq!(
            plan_picked_up(&shop.order, &empty, &pickup_command())
                .unwrap()
                .outcome,
            Outcome::AlreadyInEffect
        );
        assert_eq!(
            plan_ready_for_pickup(&shop.order, &empty, &pickup_command())
                .unwrap()
                .outcome,
            Outcome::AlreadyInEffect
        );
    }

    #[test]
    fn shipping_orders_and_canceled_orders_are_refused() {
        let shipping = OrderBuilder::shipping().line("A", 1).build();
        let none = OrderProcesses::default();
        let error = plan_ready_for_pickup(&shipping, &none, &pickup_command()).unwrap_err();
        assert_eq!(
            error,
            PlanError::NotPickupOrder {
                command_type: CommandType::ReadyForPickup
            }
        );
        let mut shop = Shop::new(OrderBuilder::pickup().line("A", 1).build());
        let cancel = plan_cancel(&shop.order, &cancel_whole()).unwrap();
        apply(&mut shop, &cancel);
        assert!(matches!(
            plan_ready_for_pickup(&shop.order, &shop.processes, &pickup_command()),
            Err(PlanError::OrderCanceled { .. })
        ));
        assert!(matches!(
            plan_picked_up(&shop.order, &shop.processes, &pickup_command()),
            Err(PlanError::OrderCanceled { .. })
        ));
    }

    #[test]
    fn an_unknown_process_status_is_not_guessed() {
        let order = OrderBuilder::pickup().line("A", 1).build();
        let mut processes = OrderProcesses::default();
        processes.embedded.pickup.push(PickupProcess {
            id: line_id(99),
            status: PickupProcessStatus::Other("ON_HOLD".into()),
            packing_slip_pdf_uri: None,
            line_items: Vec::new(),
            links: Default::default(),
        });
        assert!(matches!(
            plan_picked_up(&order, &processes, &pickup_command()),
            Err(PlanError::UnknownProcessStatus { .. })
        ));
    }
}
