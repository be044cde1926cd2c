//! Order events: `GET /orders/{id}/events` (beyond-api.md §3.5), newest first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hal::{HalCollection, Links};
use super::lenient_enum::lenient_enum;
use super::money::Money;
use super::process::ProcessLineItem;
use super::serde_util::null_as_default;
use super::timestamp::BeyondTimestamp;

lenient_enum! {
    /// `orderEvent.type`.
    pub enum OrderEventType {
        OrderCreated => "order-created",
        OrderShipped => "order-shipped",
        ItemsReturned => "items-returned",
        ItemsCanceled => "items-canceled",
        OrderCanceled => "order-canceled",
        PaymentCreated => "payment-created",
        PaymentVoided => "payment-voided",
        PaymentCapturePending => "payment-capture-pending",
        PaymentPaid => "payment-paid",
        PaymentExecuted => "payment-executed",
        PaymentFailed => "payment-failed",
        PaymentExecutionTemporarilyFailed => "payment-execution-temporarily-failed",
        PaymentStatusUpdated => "payment-status-updated",
        InvoiceCreated => "invoice-created",
        InvoiceSent => "invoice-sent",
        InvoiceCorrectionCreated => "invoice-correction-created",
        InvoiceCorrectionSent => "invoice-correction-sent",
        InvoiceCancelationCreated => "invoice-cancelation-created",
        InvoiceCancelationSent => "invoice-cancelation-sent",
        PackingSlipCreated => "packing-slip-created",
        DeliveryNoteCreated => "delivery-note-created",
        OrderShippingAddressChanged => "order-shipping-address-changed",
        OrderBillingAddressChanged => "order-billing-address-changed",
        ShippingShipped => "shipping-shipped",
        ShippingDelivered => "shipping-delivered",
        ShippingPending => "shipping-pending",
        PickupReadyForPickup => "pickup-ready-for-pickup",
        PickupPickedUp => "pickup-picked-up",
        RefundCreated => "refund-created",
        RefundVoided => "refund-voided",
        RefundPaid => "refund-paid",
        RefundFailed => "refund-failed",
        RefundNotSupported => "refund-not-supported",
    }
}

/// One order event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderEvent {
    #[serde(rename = "type")]
    pub kind: OrderEventType,
    /// The user or client that triggered the event, or `null` for the system.
    #[serde(default)]
    pub triggered_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub created_at: Option<BeyondTimestamp>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub details: OrderEventDetails,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for OrderEvent {
    const COLLECTION: &'static str = "order-events";
}

/// `details` varies by event type. The fields we reconcile on are typed; everything else
/// is kept verbatim in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderEventDetails {
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub line_items: Vec<ProcessLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_process_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_process_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_process_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_process_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_process_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_process_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_invoice_number: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}
