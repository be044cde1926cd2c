//! `ship`: one shipment. In Beyond that is two calls, create a shipping process (it starts
//! `PENDING`) then mark it shipped with the tracking data, so a crash between the two must
//! not create a second process on the retry. Unlike cancel and return, ship quantities are
//! the pieces in this one shipment, not totals; the shipment itself is recognised, in this
//! order, by:
//!
//! 1. the process the consumer recorded for the command's `shipmentReference` after an
//!    earlier attempt created it;
//! 2. a process with the command's tracking code (we always store it on create): one
//!    tracking code is one shipment;
//! 3. a `PENDING` process holding exactly the pieces asked, without another tracking code
//!    (an attempt that died between create and record, or a merchant-prepared parcel).
//!
//! A recognised shipment that is `PENDING` gets only `mark-shipped`; one already shipped or
//! delivered means the command is in effect. Otherwise the still-unshipped pieces asked for
//! get a new process, then `mark-shipped`.

use uuid::Uuid;

use super::lines::{self, Taken};
use super::{CapReason, Plan, PlanError, PlanNote, PlannedCall, ProcessTarget, check_order};
use beyond::model::{
    CreateShippingProcess, MarkShipped, MarkShippedDetails, Order, OrderProcesses, ProcessLineItem,
    ShippingProcess, ShippingProcessStatus,
};
use contracts::command::{CommandType, ShipCommand, ShipScope};

/// `recorded_process`: the shipping process the consumer stored for this command's
/// `shipmentReference` right after an earlier attempt's create call answered.
pub fn plan_ship(
    order: &Order,
    processes: &OrderProcesses,
    command: &ShipCommand,
    recorded_process: Option<Uuid>,
) -> Result<Plan, PlanError> {
    check_order(order, &command.order)?;
    if order.is_pickup() {
        return Err(PlanError::PickupOrder {
            command_type: CommandType::Ship,
        });
    }
    let shipping = &processes.embedded.shipping;
    let tracking_code = command.tracking_code.as_ref().map(|c| c.as_str());

    let recorded = recorded_process.and_then(|id| shipping.iter().find(|p| p.id == id));
    if let Some(process) = recorded {
        return finish(process, command);
    }
    if let Some(code) = tracking_code {
        let same_code: Vec<_> = shipping
            .iter()
            .filter(|p| p.tracking_code.as_deref() == Some(code))
            .collect();
        if let Some(pending) = same_code
            .iter()
            .find(|p| p.status == ShippingProcessStatus::Pending)
        {
            return finish(pending, command);
        }
        if let Some(process) = same_code.first() {
            return finish(process, command);
        }
    }
    if lines::fully_canceled(order) {
        return Err(PlanError::OrderCanceled {
            command_type: CommandType::Ship,
        });
    }

    // The pieces of this shipment wherever they are now: not shipped yet, or pending in a
    // process (ours, if an earlier attempt created it).
    let mut notes = Vec::new();
    let in_shipment = match command.scope() {
        ShipScope::AllUnshipped => order
            .product_line_items
            .iter()
            .map(|line| {
                let open = line
                    .unshipped_quantity()
                    .saturating_add(line.pending_quantity());
                (line.id, open)
            })
            .collect(),
        ShipScope::Lines(requested) => {
            let mut taken = Taken::default();
            let mut pieces = Vec::new();
            for line in requested {
                let addressed = lines::addressed_lines(order, line)?;
                let asked = line.quantity.get();
                let total = lines::sum(&addressed, lines::line_total);
                if asked > total {
                    return Err(PlanError::ImpossibleQuantity {
                        action: "ship",
                        sku: line.sku.to_string(),
                        asked,
                        total,
                    });
                }
                let allocation = taken.allocate(&addressed, asked, |l| {
                    l.unshipped_quantity().saturating_add(l.pending_quantity())
                });
                let planned = allocation.iter().map(|(_, q)| q).sum::<u32>();
                if planned < asked {
                    notes.push(PlanNote::Capped {
                        sku: line.sku.to_string(),
                        asked,
                        planned,
                        reason: CapReason::NotShippable,
                    });
                }
                pieces.extend(allocation);
            }
            pieces
        }
    };
    let in_shipment = lines::canonical(order, &in_shipment);

    if !in_shipment.is_empty()
        && let Some(pending) = shipping.iter().find(|p| {
            p.status == ShippingProcessStatus::Pending
                && p.tracking_code
                    .as_deref()
                    .is_none_or(|code| Some(code) == tracking_code)
                && lines::canonical(order, &pairs(&p.line_items)) == in_shipment
        })
    {
        return finish_with(pending, command, notes);
    }

    // What can still get a new process: the unshipped part of the shipment.
    let mut to_create = Vec::new();
    let mut in_other_shipments = 0u32;
    let mut taken = Taken::default();
    for item in &in_shipment {
        let Some(line) = order.line_item(item.product_line_item_id) else {
            continue;
        };
        let allocation = taken.allocate(&[line], item.quantity, |l| l.unshipped_quantity());
        let planned = allocation.iter().map(|(_, q)| q).sum::<u32>();
        in_other_shipments = in_other_shipments.saturating_add(item.quantity - planned);
        if planned < item.quantity {
            notes.push(PlanNote::Capped {
                sku: line.sku().unwrap_or_default().to_owned(),
                asked: item.quantity,
                planned,
                reason: CapReason::InOtherPendingShipment,
            });
        }
        to_create.extend(allocation);
    }
    let to_create = lines::canonical(order, &to_create);
    if to_create.is_empty() {
        if in_other_shipments > 0 {
            let line_ids: Vec<Uuid> = in_shipment.iter().map(|i| i.product_line_item_id).collect();
            let process_ids = shipping
                .iter()
                .filter(|p| {
                    p.status == ShippingProcessStatus::Pending
                        && p.line_items
                            .iter()
                            .any(|i| line_ids.contains(&i.product_line_item_id))
                })
                .map(|p| p.id)
                .collect();
            return Err(PlanError::PendingShipmentConflict { process_ids });
        }
        // Everything asked is shipped already (by the merchant, or another command).
        return Ok(Plan::already_in_effect(notes));
    }

    let create = CreateShippingProcess {
        comment: shipment_comment(command),
        // The customer hears about the shipment once, from mark-shipped.
        send_mail: Some(false),
        create_packing_slip: None,
        tracking_code: tracking_code.map(str::to_owned),
        tracking_link: command
            .tracking_link
            .as_ref()
            .map(|l| l.as_str().to_owned()),
        line_items: to_create,
    };
    Ok(Plan::from_calls(
        vec![
            PlannedCall::CreateShippingProcess(create),
            PlannedCall::MarkShipped {
                process: ProcessTarget::CreatedByPreviousCall,
                body: mark_shipped(command),
            },
        ],
        notes,
    ))
}

fn finish(process: &ShippingProcess, command: &ShipCommand) -> Result<Plan, PlanError> {
    finish_with(process, command, Vec::new())
}

/// The shipment exists: mark it shipped if it is still pending.
fn finish_with(
    process: &ShippingProcess,
    command: &ShipCommand,
    mut notes: Vec<PlanNote>,
) -> Result<Plan, PlanError> {
    match &process.status {
        ShippingProcessStatus::Pending => {
            notes.push(PlanNote::ResumedPendingShipment {
                process_id: process.id,
            });
            Ok(Plan::from_calls(
                vec![PlannedCall::MarkShipped {
                    process: ProcessTarget::Existing(process.id),
                    body: mark_shipped(command),
                }],
                notes,
            ))
        }
        ShippingProcessStatus::Shipped | ShippingProcessStatus::Delivered => {
            Ok(Plan::already_in_effect(notes))
        }
        ShippingProcessStatus::Other(status) => Err(PlanError::UnknownProcessStatus {
            process_id: process.id,
            status: status.clone(),
        }),
    }
}

fn mark_shipped(command: &ShipCommand) -> MarkShipped {
    MarkShipped {
        comment: None,
        details: Some(MarkShippedDetails {
            send_mail: command.notify_customer,
            tracking_code: command
                .tracking_code
                .as_ref()
                .map(|c| c.as_str().to_owned()),
            tracking_link: command
                .tracking_link
                .as_ref()
                .map(|l| l.as_str().to_owned()),
        }),
    }
}

/// Beyond has no carrier or reference field on a process; the comment keeps them visible
/// to the merchant.
fn shipment_comment(command: &ShipCommand) -> Option<String> {
    let parts: Vec<String> = [
        command.comment.as_ref().map(|c| c.as_str().to_owned()),
        command.carrier.as_ref().map(|c| format!("Carrier: {c}")),
        command
            .shipment_reference
            .as_ref()
            .map(|r| format!("Afosto shipment: {r}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn pairs(items: &[ProcessLineItem]) -> Vec<(Uuid, u32)> {
    items
        .iter()
        .map(|i| (i.product_line_item_id, i.quantity))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_plan::test_support::*;
    use crate::command_plan::{Outcome, plan_cancel};

    fn apply(shop: &mut Shop, plan: &Plan) -> Vec<Uuid> {
        shop.run(plan)
            .unwrap_or_else(|e| panic!("Beyond refuses {plan:?}: {e}"))
    }

    fn plan(shop: &Shop, command: &ShipCommand, recorded: Option<Uuid>) -> Plan {
        plan_ship(&shop.order, &shop.processes, command, recorded).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_shipment_is_created_then_marked_shipped_with_tracking() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 3).line("B", 1).build());
        let mut command = ship_lines(&[("A", 2), ("B", 1)], Some("T1"));
        command.tracking_link =
            Some(contracts::command::TrackingLink::parse("https://track.example/T1").unwrap());
        let plan = plan(&shop, &command, None);
        assert_eq!(plan.outcome, Outcome::Apply);
        let [
            PlannedCall::CreateShippingProcess(create),
            PlannedCall::MarkShipped { process, body },
        ] = plan.calls.as_slice()
        else {
            panic!("{plan:?}")
        };
        assert_eq!(
            create.line_items,
            vec![
                ProcessLineItem::new(line_id(0), 2),
                ProcessLineItem::new(line_id(1), 1)
            ]
        );
        assert_eq!(create.tracking_code.as_deref(), Some("T1"));
        assert_eq!(create.send_mail, Some(false));
        assert_eq!(
            create.comment.as_deref(),
            Some("Carrier: DHL\nAfosto shipment: parcel-1")
        );
        assert_eq!(*process, ProcessTarget::CreatedByPreviousCall);
        let details = body.details.as_ref().unwrap();
        assert_eq!(
            details.tracking_link.as_deref(),
            Some("https://track.example/T1")
        );
        assert_eq!(details.send_mail, Some(true));
        apply(&mut shop, &plan);
        assert_eq!(shop.order.product_line_items[0].shipped_quantity(), 2);
        assert_eq!(
            plan_ship(&shop.order, &shop.processes, &command, None)
                .unwrap()
                .outcome,
            Outcome::AlreadyInEffect
        );
    }

    #[test]
    fn a_pending_process_left_by_a_crash_is_resumed_not_duplicated() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 3).build());
        let command = ship_lines(&[("A", 2)], Some("T1"));
        let first = plan(&shop, &command, None);
        // The consumer dies after the create call.
        let created = shop.apply(&first.calls[0], None).unwrap().unwrap();

        // Found by tracking code…
        let resumed = plan(&shop, &command, None);
        assert_eq!(
            resumed.calls,
            vec![PlannedCall::MarkShipped {
                process: ProcessTarget::Existing(created),
                body: mark_shipped(&command),
            }]
        );
        assert_eq!(
            resumed.notes,
            vec![PlanNote::ResumedPendingShipment {
                process_id: created
            }]
        );
        // …or by the consumer's record.
        let no_code = ship_lines(&[("A", 2)], None);
        let by_record = plan(&shop, &no_code, Some(created));
        assert_eq!(by_record.calls.len(), 1);
        apply(&mut shop, &resumed);
        assert_eq!(
            plan(&shop, &command, None).outcome,
            Outcome::AlreadyInEffect
        );
        assert_eq!(
            plan(&shop, &no_code, Some(created)).outcome,
            Outcome::AlreadyInEffect
        );
    }

    #[test]
    fn without_tracking_code_or_record_a_pending_process_is_found_by_its_pieces() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 3).line("B", 1).build());
        let command = ship_lines(&[("A", 2), ("B", 1)], None);
        let first = plan(&shop, &command, None);
        let created = shop.apply(&first.calls[0], None).unwrap().unwrap();
        let resumed = plan(&shop, &command, None);
        assert!(matches!(
            resumed.calls.as_slice(),
            [PlannedCall::MarkShipped { process: ProcessTarget::Existing(id), .. }] if *id == created
        ));
        // Other pieces are another shipment.
        let other = plan(&shop, &ship_lines(&[("A", 1)], None), None);
        assert!(matches!(
            other.calls.as_slice(),
            [
                PlannedCall::CreateShippingProcess(_),
                PlannedCall::MarkShipped { .. }
            ]
        ));
        apply(&mut shop, &resumed);
        assert_eq!(shop.order.product_line_items[0].shipped_quantity(), 2);
    }

    #[test]
    fn a_second_parcel_of_the_same_sku_gets_its_own_process() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 2).build());
        let first = ship_lines(&[("A", 1)], Some("T1"));
        let plan1 = plan(&shop, &first, None);
        apply(&mut shop, &plan1);
        let second = ship_lines(&[("A", 1)], Some("T2"));
        let plan2 = plan(&shop, &second, None);
        assert_eq!(plan2.calls.len(), 2);
        apply(&mut shop, &plan2);
        assert_eq!(shop.processes.embedded.shipping.len(), 2);
        assert_eq!(plan(&shop, &first, None).outcome, Outcome::AlreadyInEffect);
        assert_eq!(plan(&shop, &second, None).outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn all_unshipped_ships_every_open_piece() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 2).line("B", 1).build());
        let cancel = plan_cancel(&shop.order, &cancel_lines(&[("A", 1)])).unwrap();
        apply(&mut shop, &cancel);
        let command = ship_all(Some("T9"));
        let plan = plan(&shop, &command, None);
        let PlannedCall::CreateShippingProcess(create) = &plan.calls[0] else {
            panic!("{plan:?}")
        };
        assert_eq!(
            create.line_items,
            vec![
                ProcessLineItem::new(line_id(0), 1),
                ProcessLineItem::new(line_id(1), 1)
            ]
        );
        apply(&mut shop, &plan);
        assert_eq!(
            plan_ship(&shop.order, &shop.processes, &command, None)
                .unwrap()
                .outcome,
            Outcome::AlreadyInEffect
        );
    }

    #[test]
    fn shipped_pieces_are_not_shipped_again() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 2).build());
        let merchant = plan(&shop, &ship_lines(&[("A", 2)], Some("M1")), None);
        apply(&mut shop, &merchant);
        let afosto = plan(&shop, &ship_lines(&[("A", 2)], Some("T1")), None);
        assert_eq!(afosto.outcome, Outcome::AlreadyInEffect);
        assert!(matches!(
            afosto.notes.as_slice(),
            [PlanNote::Capped {
                asked: 2,
                planned: 0,
                reason: CapReason::NotShippable,
                ..
            }]
        ));
    }

    #[test]
    fn pieces_held_by_someone_elses_pending_process_are_a_conflict() {
        let mut shop = Shop::new(OrderBuilder::shipping().line("A", 2).build());
        let merchant = plan(&shop, &ship_lines(&[("A", 1)], Some("M1")), None);
        let foreign = shop.apply(&merchant.calls[0], None).unwrap().unwrap();
        let error = plan_ship(
            &shop.order,
            &shop.processes,
            &ship_lines(&[("A", 2)], Some("T1")),
            None,
        );
        // One piece is unshipped: it is shipped, the other is noted.
        let plan = error.unwrap();
        assert_eq!(plan.calls.len(), 2);
        assert!(matches!(
            plan.notes.as_slice(),
            [PlanNote::Capped {
                reason: CapReason::InOtherPendingShipment,
                ..
            }]
        ));
        apply(&mut shop, &plan);
        let error = plan_ship(
            &shop.order,
            &shop.processes,
            &ship_lines(&[("A", 1)], Some("T2")),
            None,
        )
        .unwrap_err();
        assert_eq!(
            error,
            PlanError::PendingShipmentConflict {
                process_ids: vec![foreign]
            }
        );
        assert!(error.is_permanent());
    }

    #[test]
    fn pickup_and_canceled_orders_are_refused() {
        let pickup = OrderBuilder::pickup().line("A", 1).build();
        let error = plan_ship(
            &pickup,
            &OrderProcesses::default(),
            &ship_lines(&[("A", 1)], Some("T1")),
            None,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "pickup order: use ready_for_pickup/picked_up instead of ship"
        );
        let mut canceled = OrderBuilder::shipping().line("A", 1).build();
        canceled.canceled = Some(true);
        assert!(matches!(
            plan_ship(
                &canceled,
                &OrderProcesses::default(),
                &ship_all(Some("T1")),
                None
            ),
            Err(PlanError::OrderCanceled { .. })
        ));
    }

    #[test]
    fn impossible_and_unknown_lines_are_refused() {
        let order = OrderBuilder::shipping().line("A", 1).build();
        let none = OrderProcesses::default();
        assert!(matches!(
            plan_ship(&order, &none, &ship_lines(&[("A", 2)], Some("T1")), None),
            Err(PlanError::ImpossibleQuantity { action: "ship", .. })
        ));
        assert!(matches!(
            plan_ship(&order, &none, &ship_lines(&[("Q", 1)], Some("T1")), None),
            Err(PlanError::UnknownSku { .. })
        ));
    }
}
