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
use crate::beyond::model::{
    CreateShippingProcess, MarkShipped, MarkShippedDetails, Order, OrderProcesses, ProcessLineItem,
    ShippingProcess, ShippingProcessStatus,
};
use crate::contracts::command::{CommandType, ShipCommand, ShipScope};

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
