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
use beyond::model::{CommentBody, Order, OrderProcesses, ShippingProcess, ShippingProcessStatus};
use contracts::command::{CommandType, DeliverCommand};

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
        (Some(code), Some(reference)) => format!(
            "tracking code {:?} or shipment reference {:?}",
            code.as_str(),
            reference.as_str()
        ),
        (Some(code), None) => format!("tracking code {:?}", code.as_str()),
        (None, Some(reference)) => format!("shipment reference {:?}", reference.as_str()),
        (None, None) => "the shipment (no reference given)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_plan::test_support::*;
    use crate::command_plan::{Outcome, plan_ship};

    fn shipped(parcels: &[(&str, u32, &str)], lines: &[(&str, u32)]) -> (Shop, Vec<Uuid>) {
        let mut builder = OrderBuilder::shipping();
        for (sku, quantity) in lines {
            builder = builder.line(sku, *quantity);
        }
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
            ids.extend(shop.run(&plan).unwrap());
        }
        (shop, ids)
    }

    #[test]
    fn the_shipment_with_the_tracking_code_is_marked_delivered_once() {
        let (mut shop, ids) = shipped(&[("A", 1, "T1"), ("A", 1, "T2")], &[("A", 2)]);
        let plan =
            plan_deliver(&shop.order, &shop.processes, &deliver_by_code("T2"), None).unwrap();
        assert_eq!(
            plan.calls,
            vec![PlannedCall::MarkDelivered {
                process_id: ids[1],
                body: CommentBody::default()
            }]
        );
        shop.run(&plan).unwrap();
        assert_eq!(shop.order.product_line_items[0].delivered_quantity(), 1);
        let again =
            plan_deliver(&shop.order, &shop.processes, &deliver_by_code("T2"), None).unwrap();
        assert_eq!(again.outcome, Outcome::AlreadyInEffect);
    }

    #[test]
    fn a_shipment_reference_finds_the_recorded_process() {
        let (shop, ids) = shipped(&[("A", 1, "T1")], &[("A", 1)]);
        let command = DeliverCommand {
            tracking_code: None,
            shipment_reference: Some(text("parcel-1")),
            ..deliver_by_code("unused")
        };
        let plan = plan_deliver(&shop.order, &shop.processes, &command, Some(ids[0])).unwrap();
        assert_eq!(plan.calls.len(), 1);
        let error = plan_deliver(&shop.order, &shop.processes, &command, None).unwrap_err();
        assert_eq!(
            error,
            PlanError::ShipmentNotFound {
                reference: "shipment reference \"parcel-1\"".into()
            }
        );
    }

    #[test]
    fn no_match_is_retryable_while_pieces_are_unshipped_and_permanent_after() {
        let (shop, _) = shipped(&[("A", 1, "T1")], &[("A", 2)]);
        let error =
            plan_deliver(&shop.order, &shop.processes, &deliver_by_code("T9"), None).unwrap_err();
        assert!(matches!(error, PlanError::ShipmentNotYetVisible { .. }));
        assert!(!error.is_permanent());
        let (shop, _) = shipped(&[("A", 2, "T1")], &[("A", 2)]);
        let error =
            plan_deliver(&shop.order, &shop.processes, &deliver_by_code("T9"), None).unwrap_err();
        assert!(matches!(error, PlanError::ShipmentNotFound { .. }));
        assert!(error.is_permanent());
    }

    #[test]
    fn pickup_orders_are_refused() {
        let order = OrderBuilder::pickup().line("A", 1).build();
        assert!(matches!(
            plan_deliver(
                &order,
                &OrderProcesses::default(),
                &deliver_by_code("T1"),
                None
            ),
            Err(PlanError::PickupOrder { .. })
        ));
    }
}
