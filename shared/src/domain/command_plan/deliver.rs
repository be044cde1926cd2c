//! `deliver`: mark the shipment's process(es) delivered. The shipment is found by the
//! process the consumer recorded for the `shipmentReference`, and by tracking code.
//!
//! When nothing matches, the answer depends on the order: if it still has unshipped or
//! pending pieces, the matching `ship` may simply not have been applied yet (it failed and
//! is retrying, or the merchant ships by hand), so the error is retryable and the message
//! comes back until the DLQ's receive limit. If every piece is shipped and none matches,
//! the reference is wrong for good: permanent.

use uuid::Uuid;

use super::{Plan, PlanError, PlannedCall, check_order};
use crate::beyond::model::{
    CommentBody, Order, OrderProcesses, ShippingProcess, ShippingProcessStatus,
};
use crate::contracts::command::{CommandType, DeliverCommand};

/// `recorded_process`: the shipping process the consumer stored for the command's
/// `shipmentReference` when the `ship` command created it.
pub fn plan_deliver(
    order: &Order,
    processes: &OrderProcesses,
    command: &DeliverCommand,
    recorded_process: Option<Uuid>,
) -> Result<Plan, PlanError> {
    check_order(order, &command.order)?;
    if order.is_pickup() {
        return Err(PlanError::PickupOrder {
            command_type: CommandType::Deliver,
        });
    }
    let tracking_code = command.tracking_code.as_ref().map(|c| c.as_str());
    let mut targets: Vec<&ShippingProcess> = Vec::new();
    for process in &processes.embedded.shipping {
        let recorded = recorded_process == Some(process.id);
        let tracked = tracking_code.is_some() && process.tracking_code.as_deref() == tracking_code;
        if recorded || tracked {
            targets.push(process);
        }
    }
    if targets.is_empty() {
        let reference = describe(command);
        let still_open = order
            .product_line_items
            .iter()
            .any(|line| line.unshipped_quantity() > 0 || line.pending_quantity() > 0);
        return Err(if still_open {
            PlanError::ShipmentNotYetVisible { reference }
        } else {
            PlanError::ShipmentNotFound { reference }
        });
    }
    let mut calls = Vec::new();
    for process in targets {
        match &process.status {
            ShippingProcessStatus::Delivered => {}
            ShippingProcessStatus::Pending | ShippingProcessStatus::Shipped => {
                calls.push(PlannedCall::MarkDelivered {
                    process_id: process.id,
                    body: CommentBody {
                        comment: command.comment.as_ref().map(|c| c.as_str().to_owned()),
                    },
                });
            }
            ShippingProcessStatus::Other(status) => {
                return Err(PlanError::UnknownProcessStatus {
                    process_id: process.id,
                    status: status.clone(),
                });
            }
        }
    }
    Ok(Plan::from_calls(calls, Vec::new()))
}

fn describe(command: &DeliverCommand) -> String {
    match (&command.tracking_code, &command.shipment_reference) {
        (Some(code), Some(reference)) => {
            format!("tracking code {code:?} or shipment reference {reference:?}")
        }
        (Some(code), None) => format!("tracking code {code:?}"),
        (None, Some(reference)) => format!("shipment reference {reference:?}"),
        (None, None) => "the shipment (no reference given)".to_owned(),
    }
}
