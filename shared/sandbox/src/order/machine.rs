//! The order state machine: every operation that changes an order after creation. Each one
//! validates completely before it changes anything (so a rejected request leaves the order
//! untouched), moves pieces between the line items' quantity buckets, records the process,
//! bumps `updatedAt` and appends the order events Beyond shows for it. The HTTP routes, the
//! seed loader and the typed handle API all go through these functions.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    CancelProcess, ChargeLine, Fulfilment, MoneyProcess, Order, OrderEvent, PickupProcess,
    PickupProcessStatus, ProcessLine, ProcessPaymentStatus, RefundPolicy, ReturnLine,
    ReturnProcess, ReturnStatus, ShippingProcess, ShippingProcessStatus, ShippingStatus,
};
use crate::error::ApiError;
use crate::money::money;

/// Who triggered a change, as `triggeredBy` on the event (`"user"` for API calls in Beyond's
/// examples, `null` for follow-up events the system creates).
pub const API_ACTOR: &str = "user";

/// A requested `{productLineItemId, quantity}` before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRequest {
    pub line_item: Uuid,
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShippingRequest {
    pub lines: Vec<LineRequest>,
    pub tracking_code: Option<String>,
    pub tracking_link: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnLineRequest {
    pub line_item: Uuid,
    pub quantity: i64,
    pub status: ReturnStatus,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReturnRequest {
    pub lines: Vec<ReturnLineRequest>,
    pub shipping_process: Option<Uuid>,
    pub pickup_process: Option<Uuid>,
    pub shipping_price_refund: Option<Decimal>,
    pub pickup_price_refund: Option<Decimal>,
    pub comment: Option<String>,
}

impl Order {
    /// `POST /orders/{id}/processes/shippings`: moves pieces from `unshipped` to `pending`.
    pub fn create_shipping(
        &mut self,
        request: &ShippingRequest,
        now: DateTime<Utc>,
    ) -> Result<Uuid, ApiError> {
        if self.fulfilment == Fulfilment::Pickup {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "cannot-create-shipping-process",
                "Cannot create a shipping process for orders with a pickup line item.",
            )
            .detail("reasonId", "order-has-pickup-line-item"));
        }
        let wanted = self.check_lines(&request.lines)?;
        let short: Vec<String> = wanted
            .iter()
            .filter(|(id, quantity)| {
                self.line(**id)
                    .is_none_or(|l| l.buckets.unshipped < **quantity)
            })
            .map(|(id, _)| id.to_string())
            .collect();
        if !short.is_empty() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "cannot-create-shipping-process",
                format!(
                    "The line items [{}] are not available as unshipped items.",
                    short.join(", ")
                ),
            ));
        }
        for (id, quantity) in &wanted {
            if let Some(line) = self.line_mut(*id) {
                line.buckets.unshipped -= quantity;
                line.buckets.pending += quantity;
            }
        }
        let process = ShippingProcess {
            id: Uuid::new_v4(),
            status: ShippingProcessStatus::Pending,
            tracking_code: request.tracking_code.clone(),
            tracking_link: request.tracking_link.clone(),
            lines: to_process_lines(&wanted),
            returned: BTreeMap::new(),
        };
        let id = process.id;
        let details = shipping_details(&process);
        self.shippings.push(process);
        self.event(
            now,
            "shipping-pending",
            request.comment.clone(),
            Some(API_ACTOR),
            details,
            vec![("shipping-process", format!("processes/shippings/{id}"))],
        );
        Ok(id)
    }

    /// `mark-shipped`: only from `PENDING`; moves the shipment's pieces to `shipped` and
    /// stores tracking data when given.
    pub fn mark_shipped(
        &mut self,
        process_id: Uuid,
        tracking_code: Option<String>,
        tracking_link: Option<String>,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let index = self.shipping_index(process_id)?;
        let status = self.shippings[index].status;
        if status != ShippingProcessStatus::Pending {
            return Err(ApiError::illegal_transition(format!(
                "The shipping process {process_id} is {} and cannot be marked as shipped.",
                status.as_str()
            )));
        }
        let before = self.shipping_status();
        let lines = self.shippings[index].lines.clone();
        for line in &lines {
            if let Some(item) = self.line_mut(line.line_item) {
                item.buckets.pending = item.buckets.pending.saturating_sub(line.quantity);
                item.buckets.shipped += line.quantity;
            }
        }
        let process = &mut self.shippings[index];
        process.status = ShippingProcessStatus::Shipped;
        if tracking_code.is_some() {
            process.tracking_code = tracking_code;
        }
        if tracking_link.is_some() {
            process.tracking_link = tracking_link;
        }
        let details = shipping_details(process);
        let link = vec![(
            "shipping-process",
            format!("processes/shippings/{process_id}"),
        )];
        self.event(
            now,
            "shipping-shipped",
            comment,
            Some(API_ACTOR),
            details.clone(),
            link.clone(),
        );
        if before != ShippingStatus::Shipped && self.shipping_status() == ShippingStatus::Shipped {
            self.event(now, "order-shipped", None, None, details, link);
        }
        Ok(())
    }

    /// `mark-delivered`: from `PENDING` (Beyond offers the link there too) or `SHIPPED`.
    pub fn mark_delivered(
        &mut self,
        process_id: Uuid,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let index = self.shipping_index(process_id)?;
        let process = self.shippings[index].clone();
        if process.status == ShippingProcessStatus::Delivered {
            return Err(ApiError::illegal_transition(format!(
                "The shipping process {process_id} is already DELIVERED."
            )));
        }
        for line in &process.lines {
            let remaining = process.remaining(line.line_item);
            if let Some(item) = self.line_mut(line.line_item) {
                match process.status {
                    ShippingProcessStatus::Pending => {
                        item.buckets.pending = item.buckets.pending.saturating_sub(line.quantity);
                    }
                    _ => item.buckets.shipped = item.buckets.shipped.saturating_sub(remaining),
                }
                item.buckets.delivered += match process.status {
                    ShippingProcessStatus::Pending => line.quantity,
                    _ => remaining,
                };
            }
        }
        self.shippings[index].status = ShippingProcessStatus::Delivered;
        let details = shipping_details(&self.shippings[index]);
        self.event(
            now,
            "shipping-delivered",
            comment,
            Some(API_ACTOR),
            details,
            vec![(
                "shipping-process",
                format!("processes/shippings/{process_id}"),
            )],
        );
        Ok(())
    }

    /// `POST /orders/{id}/processes/pickups`: the whole order, once.
    pub fn create_pickup(
        &mut self,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Uuid, ApiError> {
        if !self.pickups.is_empty() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "pickup-process-already-exists",
                "Partial pickups are not supported. So, the creation of multiple pickup processes is not allowed.",
            ));
        }
        if self.fulfilment == Fulfilment::Shipping {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "cannot-create-pickup-process",
                "The order has a shipping line item",
            ));
        }
        if self.canceled() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "cannot-create-pickup-process",
                "The order was canceled",
            ));
        }
        let mut lines = Vec::new();
        for item in &mut self.lines {
            let quantity = item.buckets.not_picked_up;
            if quantity > 0 {
                item.buckets.not_picked_up = 0;
                item.buckets.ready_for_pickup += quantity;
                lines.push(ProcessLine {
                    line_item: item.id,
                    quantity,
                });
            }
        }
        let process = PickupProcess {
            id: Uuid::new_v4(),
            status: PickupProcessStatus::ReadyForPickup,
            lines,
        };
        let id = process.id;
        let details = pickup_details(&process);
        self.pickups.push(process);
        self.event(
            now,
            "pickup-ready-for-pickup",
            comment,
            Some(API_ACTOR),
            details,
            vec![("pickup-process", format!("processes/pickups/{id}"))],
        );
        Ok(id)
    }

    /// `mark-picked-up`: only from `READY_FOR_PICKUP`.
    pub fn mark_picked_up(
        &mut self,
        process_id: Uuid,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let index = self
            .pickups
            .iter()
            .position(|process| process.id == process_id)
            .ok_or_else(|| {
                ApiError::not_found(&format!(
                    "/orders/{}/processes/pickups/{process_id}",
                    self.id
                ))
            })?;
        if self.pickups[index].status != PickupProcessStatus::ReadyForPickup {
            return Err(ApiError::illegal_transition(format!(
                "The pickup process {process_id} is already PICKED_UP."
            )));
        }
        for item in &mut self.lines {
            item.buckets.picked_up += item.buckets.ready_for_pickup;
            item.buckets.ready_for_pickup = 0;
        }
        self.pickups[index].status = PickupProcessStatus::PickedUp;
        let details = pickup_details(&self.pickups[index]);
        self.event(
            now,
            "pickup-picked-up",
            comment,
            Some(API_ACTOR),
            details,
            vec![("pickup-process", format!("processes/pickups/{process_id}"))],
        );
        Ok(())
    }

    /// `POST /orders/{id}/cancel`: cancels every piece. Only while nothing has been handed
    /// to a shipping process, picked up or returned (Beyond removes the `cancel` link then);
    /// the spec documents no error for that case, the sandbox answers 409
    /// `illegal-status-transition`.
    pub fn cancel(&mut self, comment: Option<String>, now: DateTime<Utc>) -> Result<(), ApiError> {
        if self.canceled() {
            return Err(ApiError::illegal_transition(
                "The order is already canceled.",
            ));
        }
        if !self.cancelable() {
            return Err(ApiError::illegal_transition(format!(
                "The order cannot be canceled: its shipping status is {}.",
                self.shipping_status().as_str()
            )));
        }
        let grand_total_before = self.totals().grand_total;
        let mut lines = Vec::new();
        for item in &mut self.lines {
            let quantity = item.buckets.cancelable();
            item.buckets.unshipped = 0;
            item.buckets.not_picked_up = 0;
            item.buckets.ready_for_pickup = 0;
            item.buckets.canceled += quantity;
            lines.push(ProcessLine {
                line_item: item.id,
                quantity,
            });
        }
        let mut details = Map::new();
        details.insert("lineItems".into(), lines_json(&lines));
        self.event(
            now,
            "order-canceled",
            comment.clone(),
            Some(API_ACTOR),
            details,
            Vec::new(),
        );
        self.settle(grand_total_before, comment, now);
        Ok(())
    }

    /// `POST /orders/{id}/processes/cancelations`: cancels pieces that have not been shipped
    /// (or picked up) yet and triggers a refund (paid orders) or a new payment for the lower
    /// total (unpaid orders).
    pub fn cancel_items(
        &mut self,
        requested: &[LineRequest],
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Uuid, ApiError> {
        let wanted = self.check_lines(requested)?;
        if self.refund_policy == RefundPolicy::FullRefundOnly
            && !covers_everything(
                &wanted,
                self.lines.iter().map(|l| (l.id, l.buckets.cancelable())),
            )
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "cancel-process-partial-refund-not-allowed",
                "The order was paid with a payment method that doesn't allow partial refunds. Thus, the request has to include all product line items of the order.",
            ));
        }
        for (id, quantity) in &wanted {
            let cancelable = self.line(*id).map_or(0, |line| line.buckets.cancelable());
            if *quantity > cancelable {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "cannot-create-cancel-process",
                    format!(
                        "Cannot cancel {quantity} items of product line item {id}: only {cancelable} are not yet shipped or picked up."
                    ),
                ));
            }
        }
        let grand_total_before = self.totals().grand_total;
        for (id, quantity) in &wanted {
            if let Some(item) = self.line_mut(*id) {
                let mut left = *quantity;
                for bucket in [
                    &mut item.buckets.unshipped,
                    &mut item.buckets.not_picked_up,
                    &mut item.buckets.ready_for_pickup,
                ] {
                    let take = left.min(*bucket);
                    *bucket -= take;
                    left -= take;
                }
                item.buckets.canceled += quantity;
            }
        }
        let process = CancelProcess {
            id: Uuid::new_v4(),
            lines: to_process_lines(&wanted),
        };
        let id = process.id;
        let mut details = Map::new();
        details.insert("cancelProcessId".into(), json!(id));
        details.insert("lineItems".into(), lines_json(&process.lines));
        self.cancelations.push(process);
        self.event(
            now,
            "items-canceled",
            comment.clone(),
            Some(API_ACTOR),
            details,
            vec![("cancel-process", format!("processes/cancelations/{id}"))],
        );
        self.settle(grand_total_before, comment, now);
        Ok(id)
    }

    /// `POST /orders/{id}/processes/returns`: takes back shipped, delivered or picked-up
    /// pieces as `RETURNED` or `BROKEN`. With `shippingProcessId` the pieces must come from
    /// that shipment; otherwise they are taken from delivered shipments first, then shipped
    /// ones, oldest first.
    pub fn return_items(
        &mut self,
        request: &ReturnRequest,
        now: DateTime<Utc>,
    ) -> Result<Uuid, ApiError> {
        let plain: Vec<LineRequest> = request
            .lines
            .iter()
            .map(|line| LineRequest {
                line_item: line.line_item,
                quantity: line.quantity,
            })
            .collect();
        let wanted = self.check_lines(&plain)?;
        if let Some(shipping) = request.shipping_process
            && !self.shippings.iter().any(|process| process.id == shipping)
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "illegal-argument",
                format!("The shipping process {shipping} does not belong to this order."),
            ));
        }
        if let Some(pickup) = request.pickup_process
            && !self.pickups.iter().any(|process| process.id == pickup)
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "illegal-argument",
                format!("The pickup process {pickup} does not belong to this order."),
            ));
        }
        for (refund, charge, field) in [
            (
                request.shipping_price_refund,
                &self.shipping_line,
                "shippingPriceRefund",
            ),
            (
                request.pickup_price_refund,
                &self.pickup_line,
                "pickupPriceRefund",
            ),
        ] {
            let Some(refund) = refund else { continue };
            let open = charge
                .as_ref()
                .map_or(Decimal::ZERO, ChargeLine::open_price);
            if refund < Decimal::ZERO || refund > open {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "cannot-create-return-process",
                    format!("The {field} of {refund} exceeds the price still charged ({open})."),
                ));
            }
        }
        if self.refund_policy == RefundPolicy::FullRefundOnly {
            let shipping_price = self
                .shipping_line
                .as_ref()
                .map_or(Decimal::ZERO, ChargeLine::open_price);
            let shipping_refunded =
                shipping_price.is_zero() || request.shipping_price_refund == Some(shipping_price);
            if !shipping_refunded
                || !covers_everything(
                    &wanted,
                    self.lines.iter().map(|l| (l.id, l.buckets.returnable())),
                )
            {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "return-process-partial-refund-not-allowed",
                    "The order was paid with a payment method that doesn't allow partial refunds. Thus, the request has to include all product line items of the order.",
                ));
            }
        }
        for (id, quantity) in &wanted {
            let available = match request.shipping_process {
                Some(process) => self
                    .shippings
                    .iter()
                    .filter(|p| p.id == process && p.status != ShippingProcessStatus::Pending)
                    .map(|p| p.remaining(*id))
                    .sum(),
                None => self.line(*id).map_or(0, |line| line.buckets.returnable()),
            };
            if *quantity > available {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "cannot-create-return-process",
                    format!(
                        "Cannot return {quantity} items of product line item {id}: only {available} were shipped or picked up and not returned yet."
                    ),
                ));
            }
        }

        let grand_total_before = self.totals().grand_total;
        for line in &request.lines {
            let quantity = u32::try_from(line.quantity).unwrap_or(0);
            self.take_back(line.line_item, quantity, request.shipping_process);
            if let Some(item) = self.line_mut(line.line_item) {
                match line.status {
                    ReturnStatus::Returned => item.buckets.returned += quantity,
                    ReturnStatus::Broken => item.buckets.broken += quantity,
                }
            }
        }
        let process = ReturnProcess {
            id: Uuid::new_v4(),
            lines: request
                .lines
                .iter()
                .map(|line| ReturnLine {
                    line_item: line.line_item,
                    quantity: u32::try_from(line.quantity).unwrap_or(0),
                    status: line.status,
                })
                .collect(),
            shipping_price_refund: request.shipping_price_refund,
            pickup_price_refund: request.pickup_price_refund,
            shipping_process: request.shipping_process,
            pickup_process: request.pickup_process,
        };
        let id = process.id;
        let mut details = Map::new();
        details.insert(
            "lineItems".into(),
            Value::Array(
                process
                    .lines
                    .iter()
                    .map(|line| {
                        json!({
                            "productLineItemId": line.line_item,
                            "quantity": line.quantity,
                            "status": line.status.as_str(),
                        })
                    })
                    .collect(),
            ),
        );
        // Refunded shipping or pickup costs are no longer charged.
        if let (Some(line), Some(refund)) =
            (self.shipping_line.as_mut(), request.shipping_price_refund)
        {
            line.refunded += refund;
        }
        if let (Some(line), Some(refund)) = (self.pickup_line.as_mut(), request.pickup_price_refund)
        {
            line.refunded += refund;
        }
        self.returns.push(process);
        self.event(
            now,
            "items-returned",
            request.comment.clone(),
            Some(API_ACTOR),
            details,
            vec![("return-process", format!("processes/returns/{id}"))],
        );
        self.settle(grand_total_before, request.comment.clone(), now);
        Ok(id)
    }

    /// `POST …/processes/payments/active/mark-paid`.
    pub fn mark_paid(
        &mut self,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Uuid, ApiError> {
        let Some(index) = self
            .payments
            .iter()
            .rposition(|payment| payment.status == ProcessPaymentStatus::Pending)
        else {
            return Err(ApiError::illegal_transition(format!(
                "The order has no pending payment process; its payment status is {}.",
                self.payment_status().as_str()
            )));
        };
        let payment = &mut self.payments[index];
        payment.status = ProcessPaymentStatus::Paid;
        let (id, amount) = (payment.id, payment.amount);
        self.total_received += amount;
        let mut details = Map::new();
        details.insert("amount".into(), money(&self.currency, amount));
        details.insert("paymentProcessId".into(), json!(id));
        self.event(
            now,
            "payment-paid",
            comment,
            Some(API_ACTOR),
            details,
            vec![("payment-process", format!("processes/payments/{id}"))],
        );
        Ok(id)
    }

    /// `POST …/processes/refunds/active/mark-paid`.
    pub fn mark_refund_paid(
        &mut self,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Uuid, ApiError> {
        let Some(index) = self
            .refunds
            .iter()
            .rposition(|refund| refund.status == ProcessPaymentStatus::Pending)
        else {
            return Err(ApiError::illegal_transition(
                "The order has no pending refund process.",
            ));
        };
        let refund = &mut self.refunds[index];
        refund.status = ProcessPaymentStatus::Paid;
        let (id, amount) = (refund.id, refund.amount);
        self.total_refunded += amount;
        let mut details = Map::new();
        details.insert("amount".into(), money(&self.currency, amount));
        details.insert("refundProcessId".into(), json!(id));
        self.event(
            now,
            "refund-paid",
            comment,
            Some(API_ACTOR),
            details,
            vec![("refund-process", format!("processes/refunds/{id}"))],
        );
        Ok(id)
    }

    /// After pieces were canceled or returned (or shipping costs refunded): a paid order gets
    /// (or extends) a refund over the drop of the grand total; an unpaid order's pending payment is
    /// voided and replaced by one over the new total (as Beyond's processes example shows).
    fn settle(&mut self, grand_total_before: Decimal, comment: Option<String>, now: DateTime<Utc>) {
        let grand_total_after = self.totals().grand_total;
        let reduction = grand_total_before - grand_total_after;
        let paid = self
            .payments
            .iter()
            .any(|payment| payment.status == ProcessPaymentStatus::Paid);
        if paid {
            if reduction <= Decimal::ZERO || self.refund_policy == RefundPolicy::NoRefund {
                return;
            }
            let (id, amount) = match self
                .refunds
                .iter_mut()
                .find(|refund| refund.status == ProcessPaymentStatus::Pending)
            {
                Some(active) => {
                    active.amount += reduction;
                    (active.id, reduction)
                }
                None => {
                    let refund = MoneyProcess {
                        id: Uuid::new_v4(),
                        amount: reduction,
                        status: ProcessPaymentStatus::Pending,
                    };
                    let id = refund.id;
                    self.refunds.push(refund);
                    (id, reduction)
                }
            };
            let mut details = Map::new();
            details.insert("amount".into(), money(&self.currency, amount));
            details.insert("refundProcessId".into(), json!(id));
            self.event(
                now,
                "refund-created",
                None,
                None,
                details,
                vec![("refund-process", format!("processes/refunds/{id}"))],
            );
            return;
        }
        let Some(index) = self
            .payments
            .iter()
            .rposition(|payment| payment.status == ProcessPaymentStatus::Pending)
        else {
            return;
        };
        if self.payments[index].amount == grand_total_after {
            return;
        }
        self.payments[index].status = ProcessPaymentStatus::Voided;
        let voided = self.payments[index].id;
        let mut details = Map::new();
        details.insert("paymentProcessId".into(), json!(voided));
        self.event(
            now,
            "payment-voided",
            comment,
            Some(API_ACTOR),
            details,
            vec![("payment-process", format!("processes/payments/{voided}"))],
        );
        if grand_total_after > Decimal::ZERO {
            self.open_payment(grand_total_after, now);
        }
    }

    /// Starts a pending payment process over `amount` (`payment-created`).
    pub(crate) fn open_payment(&mut self, amount: Decimal, now: DateTime<Utc>) {
        let payment = MoneyProcess {
            id: Uuid::new_v4(),
            amount,
            status: ProcessPaymentStatus::Pending,
        };
        let id = payment.id;
        self.payments.push(payment);
        let mut details = Map::new();
        details.insert("amount".into(), money(&self.currency, amount));
        details.insert("paymentId".into(), Value::Null);
        details.insert("paymentProcessId".into(), json!(id));
        self.event(
            now,
            "payment-created",
            None,
            None,
            details,
            vec![("payment-process", format!("processes/payments/{id}"))],
        );
    }

    /// Moves `quantity` returned pieces of a line out of the shipments (or the picked-up
    /// bucket for pickup orders).
    fn take_back(&mut self, line_item: Uuid, quantity: u32, only: Option<Uuid>) {
        let mut left = quantity;
        if self.fulfilment == Fulfilment::Pickup {
            if let Some(item) = self.line_mut(line_item) {
                item.buckets.picked_up -= left.min(item.buckets.picked_up);
            }
            return;
        }
        let mut order: Vec<usize> = (0..self.shippings.len())
            .filter(|&i| {
                let process = &self.shippings[i];
                process.status != ShippingProcessStatus::Pending
                    && only.is_none_or(|wanted| wanted == process.id)
            })
            .collect();
        // Delivered shipments first: those pieces have certainly reached the customer.
        order.sort_by_key(|&i| self.shippings[i].status != ShippingProcessStatus::Delivered);
        for i in order {
            if left == 0 {
                break;
            }
            let take = left.min(self.shippings[i].remaining(line_item));
            if take == 0 {
                continue;
            }
            *self.shippings[i].returned.entry(line_item).or_default() += take;
            let delivered = self.shippings[i].status == ShippingProcessStatus::Delivered;
            if let Some(item) = self.line_mut(line_item) {
                if delivered {
                    item.buckets.delivered = item.buckets.delivered.saturating_sub(take);
                } else {
                    item.buckets.shipped = item.buckets.shipped.saturating_sub(take);
                }
            }
            left -= take;
        }
    }

    /// Validates process lines: 400 `input-validation-failed` for no lines or a quantity
    /// below 1, 409 `no-such-product-line-item` for an id that is not on the order. Returns
    /// the quantities summed per line item.
    fn check_lines(&self, lines: &[LineRequest]) -> Result<BTreeMap<Uuid, u32>, ApiError> {
        if lines.is_empty() {
            return Err(ApiError::validation(
                "lineItems",
                vec![(
                    "lineItems".into(),
                    Value::Array(Vec::new()),
                    "must not be empty".into(),
                )],
            ));
        }
        let mut problems = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            if line.quantity < 1 || u32::try_from(line.quantity).is_err() {
                problems.push((
                    format!("lineItems[{index}].quantity"),
                    json!(line.quantity),
                    "must be greater than or equal to 1".into(),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::validation("lineItems", problems));
        }
        if lines.iter().any(|line| self.line(line.line_item).is_none()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no-such-product-line-item",
                "The specified product line item is not included in the order.",
            ));
        }
        let mut wanted = BTreeMap::new();
        for line in lines {
            let quantity = u32::try_from(line.quantity).unwrap_or(0);
            *wanted.entry(line.line_item).or_insert(0u32) += quantity;
        }
        Ok(wanted)
    }

    fn shipping_index(&self, process_id: Uuid) -> Result<usize, ApiError> {
        self.shippings
            .iter()
            .position(|process| process.id == process_id)
            .ok_or_else(|| {
                ApiError::not_found(&format!(
                    "/orders/{}/processes/shippings/{process_id}",
                    self.id
                ))
            })
    }

    fn line_mut(&mut self, id: Uuid) -> Option<&mut super::LineItem> {
        self.lines.iter_mut().find(|line| line.id == id)
    }

    /// Appends an event and bumps `updatedAt`.
    pub(crate) fn event(
        &mut self,
        now: DateTime<Utc>,
        event_type: &str,
        comment: Option<String>,
        triggered_by: Option<&str>,
        details: Map<String, Value>,
        links: Vec<(&str, String)>,
    ) {
        self.updated_at = now;
        self.events.push(OrderEvent {
            event_type: event_type.to_owned(),
            triggered_by: triggered_by.map(str::to_owned),
            comment,
            created_at: now,
            details,
            links: links
                .into_iter()
                .map(|(rel, path)| (rel.to_owned(), path))
                .collect(),
        });
    }
}

/// Whether the request takes, for every line that has any, all of `available`.
fn covers_everything(
    wanted: &BTreeMap<Uuid, u32>,
    available: impl Iterator<Item = (Uuid, u32)>,
) -> bool {
    available
        .filter(|(_, quantity)| *quantity > 0)
        .all(|(id, quantity)| wanted.get(&id).copied() == Some(quantity))
}

fn to_process_lines(wanted: &BTreeMap<Uuid, u32>) -> Vec<ProcessLine> {
    wanted
        .iter()
        .map(|(id, quantity)| ProcessLine {
            line_item: *id,
            quantity: *quantity,
        })
        .collect()
}

pub(crate) fn lines_json(lines: &[ProcessLine]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|line| json!({ "productLineItemId": line.line_item, "quantity": line.quantity }))
            .collect(),
    )
}

/// Event details carry only the keys Beyond documents; the process itself is named by the
/// event's link (`shipping-process`, `pickup-process`, ...), as in Beyond's examples.
fn shipping_details(process: &ShippingProcess) -> Map<String, Value> {
    let mut details = Map::new();
    details.insert("lineItems".into(), lines_json(&process.lines));
    details
}

fn pickup_details(process: &PickupProcess) -> Map<String, Value> {
    let mut details = Map::new();
    details.insert("lineItems".into(), lines_json(&process.lines));
    details
}
