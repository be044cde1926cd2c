//! Test fixtures for the planners: orders in the spec's JSON shape, command builders, and
//! a small model of how Beyond applies each call (the rules of beyond-api.md §4 and the
//! sandbox), which refuses calls Beyond would refuse. Tests run plans through it to check
//! that plans are executable and that re-planning afterwards finds nothing left to do.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{Plan, PlannedCall, ProcessTarget};
use beyond::model::{
    CancelProcess, LineCancelationBuckets, LinePickupBuckets, LineReturnBuckets,
    LineShippingBuckets, Order, OrderProcesses, OrderShippingStatus, PickupProcess,
    PickupProcessStatus, ProcessLineItem, ProcessRef, ProductLineItem, QuantityBucket,
    RefundPolicy, ReturnLineItemStatus, ReturnProcess, ReturnProcessEmbedded, ShippingProcess,
    ShippingProcessStatus,
};
use contracts::command::{
    CancelCommand, CommandLine, Comment, DeliverCommand, OrderRef, PickupCommand, Quantity,
    ReturnCommand, ReturnCommandLine, ReturnDecision, ShipCommand, Text,
};

pub(crate) const ORDER_ID: &str = "13b74621-b279-46b8-bc8d-4b8769769f5a";

pub(crate) fn order_id() -> Uuid {
    Uuid::parse_str(ORDER_ID).expect("a valid uuid")
}

/// The id of the order's `index`-th line.
pub(crate) fn line_id(index: usize) -> Uuid {
    Uuid::from_u128(0x1000 + index as u128)
}

/// Orders in the shape of the spec's `GET /orders/{id}` example.
pub(crate) struct OrderBuilder {
    json: Value,
    pickup: bool,
}

impl OrderBuilder {
    pub(crate) fn shipping() -> Self {
        Self {
            json: json!({
                "_id": ORDER_ID,
                "orderNumber": "10001",
                "canceled": false,
                "shippingStatus": "UNSHIPPED",
                "paymentStatus": "PAID",
                "currency": "EUR",
                "productLineItems": [],
                "shippingLineItem": {
                    "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 4.95 },
                    "shippingMethod": { "id": "ship-1", "name": "Standard" }
                },
                "pickupLineItem": null,
                "paymentLineItem": {
                    "paymentMethod": { "id": "pay-1", "name": "PayPal", "refund": "PARTIAL_REFUND" }
                }
            }),
            pickup: false,
        }
    }

    pub(crate) fn pickup() -> Self {
        let mut builder = Self::shipping();
        builder.json["shippingLineItem"] = Value::Null;
        builder.json["shippingStatus"] = json!("NOT_PICKED_UP");
        builder.json["pickupLineItem"] = json!({
            "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 0 },
            "pickupOption": { "id": "pick-1", "name": "In store" }
        });
        builder.pickup = true;
        builder
    }

    pub(crate) fn refund_policy(mut self, policy: &str) -> Self {
        self.json["paymentLineItem"]["paymentMethod"]["refund"] = json!(policy);
        self
    }

    pub(crate) fn free_shipping(mut self) -> Self {
        if !self.pickup {
            self.json["shippingLineItem"]["lineItemPrice"]["amount"] = json!(0);
        }
        self
    }

    /// Adds a line with nothing done yet: all unshipped (or not picked up).
    pub(crate) fn line(mut self, sku: &str, quantity: u32) -> Self {
        let lines = self.json["productLineItems"]
            .as_array_mut()
            .expect("an array");
        let id = line_id(lines.len());
        let bucket =
            |q: u32| json!({ "quantity": q, "amount": { "currency": "EUR", "amount": 0 } });
        let (unshipped, not_picked_up) = if self.pickup {
            (0, quantity)
        } else {
            (quantity, 0)
        };
        lines.push(json!({
            "_id": id,
            "product": { "_id": Uuid::from_u128(0x2000 + lines.len() as u128), "sku": sku, "name": sku },
            "quantity": quantity,
            "initialQuantity": quantity,
            "shippingStatus": {
                "unshipped": bucket(unshipped), "pending": bucket(0),
                "shipped": bucket(0), "delivered": bucket(0)
            },
            "pickupStatus": {
                "notPickedUp": bucket(not_picked_up), "readyForPickup": bucket(0),
                "pickedUp": bucket(0)
            },
            "returnStatus": { "returned": bucket(0), "broken": bucket(0) },
            "cancelationStatus": { "canceled": bucket(0) }
        }));
        self
    }

    pub(crate) fn build(self) -> Order {
        serde_json::from_value(self.json).unwrap_or_else(|e| panic!("fixture order: {e}"))
    }
}

/// Every bucket of a line at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Buckets {
    pub unshipped: u32,
    pub pending: u32,
    pub shipped: u32,
    pub delivered: u32,
    pub not_picked_up: u32,
    pub ready_for_pickup: u32,
    pub picked_up: u32,
    pub canceled: u32,
    pub returned: u32,
    pub broken: u32,
}

pub(crate) fn buckets(line: &ProductLineItem) -> Buckets {
    Buckets {
        unshipped: line.unshipped_quantity(),
        pending: line.pending_quantity(),
        shipped: line.shipped_quantity(),
        delivered: line.delivered_quantity(),
        not_picked_up: line.not_picked_up_quantity(),
        ready_for_pickup: line.ready_for_pickup_quantity(),
        picked_up: line.picked_up_quantity(),
        canceled: line.canceled_quantity(),
        returned: line.returned_quantity(),
        broken: line.broken_quantity(),
    }
}

/// Writes the buckets back (nested form; the flat duplicates are dropped) and Beyond's
/// derived `quantity`.
pub(crate) fn set_buckets(line: &mut ProductLineItem, b: Buckets) {
    let q = |quantity| QuantityBucket::new(quantity, None);
    line.shipping_status = Some(LineShippingBuckets {
        unshipped: q(b.unshipped),
        pending: q(b.pending),
        shipped: q(b.shipped),
        delivered: q(b.delivered),
    });
    line.pickup_status = Some(LinePickupBuckets {
        not_picked_up: q(b.not_picked_up),
        ready_for_pickup: q(b.ready_for_pickup),
        picked_up: q(b.picked_up),
    });
    line.return_status = Some(LineReturnBuckets {
        returned: q(b.returned),
        broken: q(b.broken),
    });
    line.cancelation_status = Some(LineCancelationBuckets {
        canceled: q(b.canceled),
    });
    (line.unshipped, line.pending, line.shipped, line.delivered) = (None, None, None, None);
    (line.returned, line.broken, line.canceled) = (None, None, None);
    let initial = line.initial_quantity.unwrap_or(line.quantity);
    line.quantity = initial.saturating_sub(b.returned + b.broken + b.canceled);
}

// ---- command builders -----------------------------------------------------------------

pub(crate) fn order_ref() -> OrderRef {
    OrderRef::Id(order_id())
}

pub(crate) fn text<const MAX: usize>(raw: &str) -> Text<MAX> {
    Text::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"))
}

pub(crate) fn quantity(pieces: u32) -> Quantity {
    Quantity::new(pieces).expect("at least 1")
}

pub(crate) fn command_lines(lines: &[(&str, u32)]) -> Vec<CommandLine> {
    lines
        .iter()
        .map(|(sku, q)| CommandLine {
            sku: text(sku),
            line_item_id: None,
            quantity: quantity(*q),
        })
        .collect()
}

pub(crate) fn cancel_whole() -> CancelCommand {
    CancelCommand {
        order: order_ref(),
        whole_order: true,
        lines: Vec::new(),
        comment: Some(Comment::parse("customer asked").expect("valid")),
    }
}

pub(crate) fn cancel_lines(lines: &[(&str, u32)]) -> CancelCommand {
    CancelCommand {
        order: order_ref(),
        whole_order: false,
        lines: command_lines(lines),
        comment: None,
    }
}

pub(crate) fn return_command(
    lines: &[(&str, u32, ReturnDecision)],
    refund_shipping: bool,
) -> ReturnCommand {
    ReturnCommand {
        order: order_ref(),
        lines: lines
            .iter()
            .map(|(sku, q, decision)| ReturnCommandLine {
                sku: text(sku),
                line_item_id: None,
                quantity: quantity(*q),
                decision: *decision,
            })
            .collect(),
        refund_shipping,
        comment: None,
        notify_customer: None,
    }
}

pub(crate) fn ship_lines(lines: &[(&str, u32)], tracking_code: Option<&str>) -> ShipCommand {
    ShipCommand {
        order: order_ref(),
        all_unshipped: false,
        lines: command_lines(lines),
        tracking_code: tracking_code.map(text),
        tracking_link: None,
        carrier: Some(text("DHL")),
        shipment_reference: Some(text("parcel-1")),
        comment: None,
        notify_customer: Some(true),
    }
}

pub(crate) fn ship_all(tracking_code: Option<&str>) -> ShipCommand {
    ShipCommand {
        all_unshipped: true,
        lines: Vec::new(),
        ..ship_lines(&[], tracking_code)
    }
}

pub(crate) fn pickup_command() -> PickupCommand {
    PickupCommand {
        order: order_ref(),
        comment: None,
        notify_customer: Some(true),
    }
}

pub(crate) fn deliver_by_code(tracking_code: &str) -> DeliverCommand {
    DeliverCommand {
        order: order_ref(),
        tracking_code: Some(text(tracking_code)),
        shipment_reference: None,
        comment: None,
    }
}

// ---- a model of Beyond applying calls -------------------------------------------------

/// An order and its processes, changed call by call the way Beyond changes them.
#[derive(Debug, Clone)]
pub(crate) struct Shop {
    pub order: Order,
    pub processes: OrderProcesses,
    /// Pieces each shipping process gave back through returns, per line item.
    returned_from: BTreeMap<(Uuid, Uuid), u32>,
    next_id: u128,
}

impl Shop {
    pub(crate) fn new(order: Order) -> Self {
        Self {
            order,
            processes: OrderProcesses::default(),
            returned_from: BTreeMap::new(),
            next_id: 0,
        }
    }

    fn new_id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(0xABCD_0000 + self.next_id)
    }

    /// Runs every call of a plan; returns the ids of the processes it created.
    pub(crate) fn run(&mut self, plan: &Plan) -> Result<Vec<Uuid>, String> {
        let mut created = Vec::new();
        for call in &plan.calls {
            if let Some(id) = self.apply(call, created.last().copied())? {
                created.push(id);
            }
        }
        Ok(created)
    }

    /// Applies one call, or says why Beyond would refuse it.
    pub(crate) fn apply(
        &mut self,
        call: &PlannedCall,
        previous: Option<Uuid>,
    ) -> Result<Option<Uuid>, String> {
        let target = |process: &ProcessTarget| match process {
            ProcessTarget::Existing(id) => Ok(*id),
            ProcessTarget::CreatedByPreviousCall => {
                previous.ok_or_else(|| "no process was created before".to_owned())
            }
        };
        match call {
            PlannedCall::CancelOrder(_) => {
                if self.order.is_canceled() {
                    return Err("already canceled".into());
                }
                for line in &mut self.order.product_line_items {
                    let mut b = buckets(line);
                    if b.pending + b.shipped + b.delivered + b.picked_up + b.returned + b.broken > 0
                    {
                        return Err("order-not-cancelable: pieces handed out".into());
                    }
                    b.canceled += b.unshipped + b.not_picked_up + b.ready_for_pickup;
                    (b.unshipped, b.not_picked_up, b.ready_for_pickup) = (0, 0, 0);
                    set_buckets(line, b);
                }
                self.mark_canceled_if_everything_is();
                Ok(None)
            }
            PlannedCall::CreateCancelation(body) => {
                if self.order.refund_policy() == Some(&RefundPolicy::FullRefundOnly) {
                    let covers = self.order.product_line_items.iter().all(|line| {
                        let b = buckets(line);
                        sum_for(&body.line_items, line.id)
                            == b.unshipped + b.not_picked_up + b.ready_for_pickup
                    });
                    if !covers {
                        return Err("409 cancel-process-partial-refund-not-allowed".into());
                    }
                }
                for item in &body.line_items {
                    let line = self.line_mut(item.product_line_item_id)?;
                    let mut b = buckets(line);
                    let mut left = item.quantity;
                    for bucket in [
                        &mut b.unshipped,
                        &mut b.not_picked_up,
                        &mut b.ready_for_pickup,
                    ] {
                        let take = left.min(*bucket);
                        *bucket -= take;
                        left -= take;
                    }
                    if left > 0 || item.quantity == 0 {
                        return Err(format!("cannot cancel {} of {}", item.quantity, line.id));
                    }
                    b.canceled += item.quantity;
                    set_buckets(line, b);
                }
                let id = self.new_id();
                self.processes.embedded.cancel.push(CancelProcess {
                    id,
                    line_items: body.line_items.clone(),
                    links: Default::default(),
                });
                self.mark_canceled_if_everything_is();
                Ok(Some(id))
            }
            PlannedCall::CreateReturn(body) => self.create_return(body).map(Some),
            PlannedCall::CreateShippingProcess(body) => {
                if self.order.is_pickup() {
                    return Err("400 order-has-pickup-line-item".into());
                }
                for item in &body.line_items {
                    let line = self.line_mut(item.product_line_item_id)?;
                    let mut b = buckets(line);
                    if item.quantity == 0 || item.quantity > b.unshipped {
                        return Err("400 cannot-create-shipping-process".into());
                    }
                    b.unshipped -= item.quantity;
                    b.pending += item.quantity;
                    set_buckets(line, b);
                }
                let id = self.new_id();
                self.processes.embedded.shipping.push(ShippingProcess {
                    id,
                    status: ShippingProcessStatus::Pending,
                    tracking_code: body.tracking_code.clone(),
                    tracking_link: body.tracking_link.clone(),
                    packing_slip_pdf_uri: None,
                    line_items: body.line_items.clone(),
                    links: Default::default(),
                });
                Ok(Some(id))
            }
            PlannedCall::MarkShipped { process, body } => {
                let id = target(process)?;
                let index = self.shipping_index(id)?;
                if self.processes.embedded.shipping[index].status != ShippingProcessStatus::Pending
                {
                    return Err("mark-shipped: not pending".into());
                }
                for item in self.processes.embedded.shipping[index].line_items.clone() {
                    let line = self.line_mut(item.product_line_item_id)?;
                    let mut b = buckets(line);
                    b.pending -= item.quantity;
                    b.shipped += item.quantity;
                    set_buckets(line, b);
                }
                let process = &mut self.processes.embedded.shipping[index];
                process.status = ShippingProcessStatus::Shipped;
                if let Some(details) = &body.details {
                    if details.tracking_code.is_some() {
                        process.tracking_code = details.tracking_code.clone();
                    }
                    if details.tracking_link.is_some() {
                        process.tracking_link = details.tracking_link.clone();
                    }
                }
                Ok(None)
            }
            PlannedCall::MarkDelivered { process_id, .. } => {
                let index = self.shipping_index(*process_id)?;
                let process = self.processes.embedded.shipping[index].clone();
                for item in &process.line_items {
                    let given_back = self
                        .returned_from
                        .get(&(process.id, item.product_line_item_id))
                        .copied()
                        .unwrap_or(0);
                    let line = self.line_mut(item.product_line_item_id)?;
                    let mut b = buckets(line);
                    match process.status {
                        ShippingProcessStatus::Pending => {
                            b.pending -= item.quantity;
                            b.delivered += item.quantity;
                        }
                        ShippingProcessStatus::Shipped => {
                            let remaining = item.quantity - given_back;
                            b.shipped -= remaining;
                            b.delivered += remaining;
                        }
                        _ => return Err("mark-delivered: already delivered".into()),
                    }
                    set_buckets(line, b);
                }
                self.processes.embedded.shipping[index].status = ShippingProcessStatus::Delivered;
                Ok(None)
            }
            PlannedCall::CreatePickupProcess(_) => {
                if !self.order.is_pickup() {
                    return Err("400 cannot-create-pickup-process".into());
                }
                if !self.processes.embedded.pickup.is_empty() {
                    return Err("409 pickup-process-already-exists".into());
                }
                if self.order.is_canceled() {
                    return Err("400 The order was canceled".into());
                }
                let mut lines = Vec::new();
                for line in &mut self.order.product_line_items {
                    let mut b = buckets(line);
                    if b.not_picked_up > 0 {
                        lines.push(ProcessLineItem::new(line.id, b.not_picked_up));
                        b.ready_for_pickup += b.not_picked_up;
                        b.not_picked_up = 0;
                        set_buckets(line, b);
                    }
                }
                let id = self.new_id();
                self.processes.embedded.pickup.push(PickupProcess {
                    id,
                    status: PickupProcessStatus::ReadyForPickup,
                    packing_slip_pdf_uri: None,
                    line_items: lines,
                    links: Default::default(),
                });
                Ok(Some(id))
            }
            PlannedCall::MarkPickedUp { process, .. } => {
                let id = target(process)?;
                let pickup = self
                    .processes
                    .embedded
                    .pickup
                    .iter_mut()
                    .find(|p| p.id == id)
                    .ok_or("404 pickup process")?;
                if pickup.status != PickupProcessStatus::ReadyForPickup {
                    return Err("mark-picked-up: not ready".into());
                }
                pickup.status = PickupProcessStatus::PickedUp;
                for line in &mut self.order.product_line_items {
                    let mut b = buckets(line);
                    b.picked_up += b.ready_for_pickup;
                    b.ready_for_pickup = 0;
                    set_buckets(line, b);
                }
                Ok(None)
            }
            PlannedCall::AdjustStock { .. } | PlannedCall::EnableStockManagement { .. } => {
                Err("not an order call".into())
            }
        }
    }

    fn create_return(&mut self, body: &beyond::model::CreateReturnProcess) -> Result<Uuid, String> {
        if self.order.refund_policy() == Some(&RefundPolicy::FullRefundOnly) {
            let covers = self.order.product_line_items.iter().all(|line| {
                let planned: u32 = body
                    .line_items
                    .iter()
                    .filter(|i| i.product_line_item_id == line.id)
                    .map(|i| i.quantity)
                    .sum();
                planned == line.quantity
            });
            let charge = self
                .order
                .shipping_line_item
                .as_ref()
                .and_then(|s| s.line_item_price.as_ref())
                .map(|p| p.amount)
                .unwrap_or_default();
            let refunded = charge.is_zero()
                || body.shipping_price_refund.as_ref().map(|m| m.amount) == Some(charge);
            if !covers || !refunded {
                return Err("409 return-process-partial-refund-not-allowed".into());
            }
        }
        let named = body.shipping_process_id;
        let named_status = match named {
            Some(id) => {
                let index = self.shipping_index(id)?;
                Some(self.processes.embedded.shipping[index].status.clone())
            }
            None => None,
        };
        if let Some(id) = body.pickup_process_id
            && !self.processes.embedded.pickup.iter().any(|p| p.id == id)
        {
            return Err("400 unknown pickup process".into());
        }
        for item in &body.line_items {
            let line_id = item.product_line_item_id;
            let mut left = item.quantity;
            // Which shipments the pieces come from: the named one, or any, in list order.
            let sources: Vec<(Uuid, ShippingProcessStatus, u32)> = self
                .processes
                .embedded
                .shipping
                .iter()
                .filter(|p| named.is_none_or(|id| id == p.id))
                .filter(|p| p.status != ShippingProcessStatus::Pending)
                .map(|p| {
                    let shipped: u32 = p
                        .line_items
                        .iter()
                        .filter(|i| i.product_line_item_id == line_id)
                        .map(|i| i.quantity)
                        .sum();
                    let back = self
                        .returned_from
                        .get(&(p.id, line_id))
                        .copied()
                        .unwrap_or(0);
                    (p.id, p.status.clone(), shipped - back)
                })
                .collect();
            let line = self.line_mut(line_id)?;
            let mut b = buckets(line);
            for (process_id, status, remaining) in sources {
                let take = left.min(remaining);
                if take == 0 {
                    continue;
                }
                let bucket = match status {
                    ShippingProcessStatus::Delivered => &mut b.delivered,
                    _ => &mut b.shipped,
                };
                if *bucket < take {
                    return Err("bucket underflow".into());
                }
                *bucket -= take;
                left -= take;
                *self.returned_from.entry((process_id, line_id)).or_default() += take;
            }
            if left > 0 && named.is_none() {
                let take = left.min(b.picked_up);
                b.picked_up -= take;
                left -= take;
            }
            if left > 0 || item.quantity == 0 {
                return Err(format!(
                    "400 cannot return {} of {line_id} (from {named:?}, {named_status:?})",
                    item.quantity
                ));
            }
            match item.status {
                ReturnLineItemStatus::Broken => b.broken += item.quantity,
                _ => b.returned += item.quantity,
            }
            let line = self.line_mut(line_id)?;
            set_buckets(line, b);
        }
        let id = self.new_id();
        self.processes.embedded.returns.push(ReturnProcess {
            id,
            shipping_price_refund: body.shipping_price_refund.clone(),
            pickup_price_refund: body.pickup_price_refund.clone(),
            embedded: ReturnProcessEmbedded {
                shipping_process: named.map(|id| ProcessRef {
                    id,
                    status: named_status,
                }),
                pickup_process: None,
            },
            line_items: body.line_items.clone(),
            links: Default::default(),
        });
        Ok(id)
    }

    fn line_mut(&mut self, id: Uuid) -> Result<&mut ProductLineItem, String> {
        self.order
            .product_line_items
            .iter_mut()
            .find(|line| line.id == id)
            .ok_or_else(|| format!("409 no-such-product-line-item {id}"))
    }

    fn shipping_index(&self, id: Uuid) -> Result<usize, String> {
        self.processes
            .embedded
            .shipping
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| format!("404 shipping process {id}"))
    }

    fn mark_canceled_if_everything_is(&mut self) {
        let all = self
            .order
            .product_line_items
            .iter()
            .all(|line| line.quantity == 0 && line.canceled_quantity() > 0);
        let any_returned = self
            .order
            .product_line_items
            .iter()
            .any(|line| line.returned_quantity() + line.broken_quantity() > 0);
        if all && !any_returned {
            self.order.canceled = Some(true);
            self.order.shipping_status = Some(OrderShippingStatus::Canceled);
        }
    }
}

fn sum_for(items: &[ProcessLineItem], line: Uuid) -> u32 {
    items
        .iter()
        .filter(|i| i.product_line_item_id == line)
        .map(|i| i.quantity)
        .sum()
}
