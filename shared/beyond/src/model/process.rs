//! Order processes (beyond-api.md §3.4, §4): the overview, each process type, and the
//! request bodies that create or advance them. Processes carry no `createdAt`; reconcile
//! with the order's quantity buckets and its events.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hal::{HalCollection, Links};
use super::lenient_enum::lenient_enum;
use super::money::Money;
use super::serde_util::null_as_default;

lenient_enum! {
    /// A shipping process starts `PENDING`, then `SHIPPED`, then `DELIVERED`.
    pub enum ShippingProcessStatus {
        Pending => "PENDING",
        Shipped => "SHIPPED",
        Delivered => "DELIVERED",
    }
}

lenient_enum! {
    pub enum PickupProcessStatus {
        ReadyForPickup => "READY_FOR_PICKUP",
        PickedUp => "PICKED_UP",
    }
}

lenient_enum! {
    /// Status of one returned line: there is no `DEFECT`, it is `BROKEN`.
    pub enum ReturnLineItemStatus {
        Returned => "RETURNED",
        Broken => "BROKEN",
    }
}

lenient_enum! {
    pub enum RefundProcessStatus {
        Pending => "PENDING",
        Paid => "PAID",
        Voided => "VOIDED",
    }
}

lenient_enum! {
    pub enum PaymentProcessStatus {
        PartiallyPaid => "PARTIALLY_PAID",
        Refunded => "REFUNDED",
        Pending => "PENDING",
        Approved => "APPROVED",
        CapturePending => "CAPTURE_PENDING",
        Paid => "PAID",
        Voided => "VOIDED",
        Failed => "FAILED",
        Executed => "EXECUTED",
    }
}

/// `{productLineItemId, quantity}`: the line shape of shipping, pickup and cancel processes
/// and their request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessLineItem {
    pub product_line_item_id: Uuid,
    pub quantity: u32,
}

impl ProcessLineItem {
    pub fn new(product_line_item_id: Uuid, quantity: u32) -> Self {
        Self {
            product_line_item_id,
            quantity,
        }
    }
}

/// `{productLineItemId, quantity, status}` of a return.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLineItem {
    pub product_line_item_id: Uuid,
    pub quantity: u32,
    pub status: ReturnLineItemStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingProcess {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub status: ShippingProcessStatus,
    #[serde(default)]
    pub tracking_code: Option<String>,
    #[serde(default)]
    pub tracking_link: Option<String>,
    #[serde(default)]
    pub packing_slip_pdf_uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<ProcessLineItem>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for ShippingProcess {
    const COLLECTION: &'static str = "shipping-processes";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupProcess {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub status: PickupProcessStatus,
    #[serde(default)]
    pub packing_slip_pdf_uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<ProcessLineItem>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for PickupProcess {
    const COLLECTION: &'static str = "pickup-processes";
}

/// A (partial) cancelation. It triggers a refund process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelProcess {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<ProcessLineItem>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for CancelProcess {
    const COLLECTION: &'static str = "cancel-processes";
}

/// A return. It triggers a refund process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnProcess {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub shipping_price_refund: Option<Money>,
    #[serde(default)]
    pub pickup_price_refund: Option<Money>,
    #[serde(rename = "_embedded", default, deserialize_with = "null_as_default")]
    pub embedded: ReturnProcessEmbedded,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<ReturnLineItem>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for ReturnProcess {
    const COLLECTION: &'static str = "return-processes";
}

/// The shipping or pickup process a return refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnProcessEmbedded {
    #[serde(default)]
    pub shipping_process: Option<ProcessRef<ShippingProcessStatus>>,
    #[serde(default)]
    pub pickup_process: Option<ProcessRef<PickupProcessStatus>>,
}

/// `{_id, status}` of a related process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de>"))]
pub struct ProcessRef<S> {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub status: Option<S>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundProcess {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub amount: Option<Money>,
    pub status: RefundProcessStatus,
    #[serde(default)]
    pub completed: Option<bool>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for RefundProcess {
    const COLLECTION: &'static str = "refund-processes";
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentProcess {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub amount: Option<Money>,
    pub status: PaymentProcessStatus,
    #[serde(default)]
    pub payment_id: Option<String>,
    /// Shape undocumented; kept verbatim.
    #[serde(default)]
    pub capture_workflow: Option<serde_json::Value>,
    #[serde(default)]
    pub completed: Option<bool>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for PaymentProcess {
    const COLLECTION: &'static str = "payment-processes";
}

/// `GET /orders/{id}/processes`: every process of the order, by type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderProcesses {
    #[serde(rename = "_embedded", default, deserialize_with = "null_as_default")]
    pub embedded: OrderProcessesEmbedded,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderProcessesEmbedded {
    #[serde(
        rename = "payment-processes",
        default,
        deserialize_with = "null_as_default"
    )]
    pub payment: Vec<PaymentProcess>,
    #[serde(
        rename = "shipping-processes",
        default,
        deserialize_with = "null_as_default"
    )]
    pub shipping: Vec<ShippingProcess>,
    #[serde(
        rename = "pickup-processes",
        default,
        deserialize_with = "null_as_default"
    )]
    pub pickup: Vec<PickupProcess>,
    #[serde(
        rename = "return-processes",
        default,
        deserialize_with = "null_as_default"
    )]
    pub returns: Vec<ReturnProcess>,
    #[serde(
        rename = "cancel-processes",
        default,
        deserialize_with = "null_as_default"
    )]
    pub cancel: Vec<CancelProcess>,
    #[serde(
        rename = "refund-processes",
        default,
        deserialize_with = "null_as_default"
    )]
    pub refund: Vec<RefundProcess>,
}

// ---- request bodies -------------------------------------------------------------------

/// `POST /orders/{id}/processes/shippings`. The process starts `PENDING`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateShippingProcess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Notify the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_mail: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_packing_slip: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_link: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<ProcessLineItem>,
}

/// `POST …/shippings/{id}/mark-shipped`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkShipped {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<MarkShippedDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkShippedDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_mail: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_link: Option<String>,
}

/// A body holding only a `comment`: mark-delivered and whole-order cancel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl CommentBody {
    pub fn new(comment: impl Into<String>) -> Self {
        Self {
            comment: Some(comment.into()),
        }
    }
}

/// `POST …/shippings/{id}/mark-delivered`.
pub type MarkDelivered = CommentBody;
/// `POST /orders/{id}/cancel`: cancels the whole order, answers with the order.
pub type CancelOrder = CommentBody;

/// `POST /orders/{id}/processes/pickups`: always the whole order (no line items).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePickupProcess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_mail: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_packing_slip: Option<bool>,
}

/// `POST …/pickups/{id}/mark-picked-up`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkPickedUp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_mail: Option<bool>,
}

/// `POST /orders/{id}/processes/cancelations`: a partial cancelation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCancelProcess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<ProcessLineItem>,
}

/// `POST /orders/{id}/processes/returns`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateReturnProcess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_mail: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<ReturnLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_price_refund: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_price_refund: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_process_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_process_id: Option<Uuid>,
}

/// `POST /orders/{id}/processes/payments/active/mark-paid` and the refund equivalent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkPaid {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<MarkPaidDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkPaidDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}
