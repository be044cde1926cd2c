//! Order events emitted for Afosto from what ePages shows (contract v1).
//!
//! The poller turns each change of an ePages order into one of these events and sends it to
//! an SQS FIFO queue (group `{tenant}:{orderId}`, deduplication id = `eventId`). The JSON is
//! camelCase, money is a decimal *string* (Afosto's `Money` has no float semantics, and a
//! float would silently round), timestamps are RFC 3339 in UTC. The committed schema is
//! `shared/contracts/v1/order-event.schema.json`; `docs/ORDER-EVENTS.md` explains the rules.
//!
//! Quantities in per-line entries are both the *new* pieces (`quantity`) and the running
//! total after the change (`cumulativeQuantity`): after a crash an event may be re-sent
//! with the same id, and a consumer that applies `cumulative − already applied` stays
//! correct even if a later event superseded it.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The contract version every event carries in `schemaVersion`.
pub const SCHEMA_VERSION: u32 = 1;

/// `schemaVersion`: always `1` in this contract. A consumer rejects other values instead of
/// misreading a future, incompatible layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SchemaVersion1;

impl Serialize for SchemaVersion1 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(SCHEMA_VERSION)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion1 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let version = u32::deserialize(deserializer)?;
        if version == SCHEMA_VERSION {
            Ok(Self)
        } else {
            Err(serde::de::Error::custom(format!(
                "schemaVersion {version} is not supported; expected {SCHEMA_VERSION}"
            )))
        }
    }
}

impl JsonSchema for SchemaVersion1 {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "SchemaVersion1".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "const": SCHEMA_VERSION })
    }
}

/// An exact decimal amount, serialized as a string such as `"19.99"` or `"-2.50"`.
/// Strings only: a JSON number would be read as a float by most consumers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub Decimal);

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for Amount {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        rust_decimal::serde::str::deserialize(deserializer).map(Self)
    }
}

impl JsonSchema for Amount {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
            "description": "An exact decimal amount as a string, e.g. \"19.99\"."
        })
    }
}

/// The kind of an event: the value of its `type` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    Created,
    Canceled,
    Shipped,
    Delivered,
    ReadyForPickup,
    PickedUp,
    Returned,
}

impl EventKind {
    /// Every kind, in the causal order in which one poll emits them.
    pub const CAUSAL_ORDER: [EventKind; 7] = [
        EventKind::Created,
        EventKind::Canceled,
        EventKind::Shipped,
        EventKind::Delivered,
        EventKind::ReadyForPickup,
        EventKind::PickedUp,
        EventKind::Returned,
    ];

    /// The `type` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "order.created",
            EventKind::Canceled => "order.canceled",
            EventKind::Shipped => "order.shipped",
            EventKind::Delivered => "order.delivered",
            EventKind::ReadyForPickup => "order.ready_for_pickup",
            EventKind::PickedUp => "order.picked_up",
            EventKind::Returned => "order.returned",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fields every event carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventHeader {
    pub schema_version: SchemaVersion1,
    /// Deterministic UUIDv5: the same change always gets the same id, so a re-sent event is
    /// recognisable as a duplicate (see docs/ORDER-EVENTS.md for the derivation).
    pub event_id: Uuid,
    /// The connector's tenant id (one ePages shop connected to one Afosto account).
    pub tenant: String,
    /// The ePages order `_id`.
    pub order_id: Uuid,
    /// The ePages `orderNumber` shown to the merchant and the customer.
    pub order_number: String,
    /// 1 for `order.created`, then +1 per event of this order: consumers order by it and
    /// detect gaps with it.
    pub sequence: u64,
    /// When it happened in ePages, as far as ePages tells: `createdAt` for `order.created`,
    /// otherwise the order's `updatedAt` at the change.
    pub occurred_at: DateTime<Utc>,
    /// When the connector noticed the change.
    pub detected_at: DateTime<Utc>,
}

/// One event about one ePages order. The `type` field selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
pub enum OrderEvent {
    /// A new order to create in Afosto, complete enough that no call to ePages is needed.
    #[serde(rename = "order.created")]
    Created(OrderCreated),
    /// Pieces (or the whole order) were canceled.
    #[serde(rename = "order.canceled")]
    Canceled(OrderCanceled),
    /// Pieces were shipped.
    #[serde(rename = "order.shipped")]
    Shipped(OrderShipped),
    /// Pieces reached the customer.
    #[serde(rename = "order.delivered")]
    Delivered(OrderLinesChanged),
    /// Pieces of a pickup order are ready in the store.
    #[serde(rename = "order.ready_for_pickup")]
    ReadyForPickup(OrderLinesChanged),
    /// Pieces of a pickup order were collected.
    #[serde(rename = "order.picked_up")]
    PickedUp(OrderLinesChanged),
    /// Pieces came back, intact (`returned`) or broken (`broken`, "defect" in Afosto).
    #[serde(rename = "order.returned")]
    Returned(OrderReturned),
}

impl OrderEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            OrderEvent::Created(_) => EventKind::Created,
            OrderEvent::Canceled(_) => EventKind::Canceled,
            OrderEvent::Shipped(_) => EventKind::Shipped,
            OrderEvent::Delivered(_) => EventKind::Delivered,
            OrderEvent::ReadyForPickup(_) => EventKind::ReadyForPickup,
            OrderEvent::PickedUp(_) => EventKind::PickedUp,
            OrderEvent::Returned(_) => EventKind::Returned,
        }
    }

    pub fn header(&self) -> &EventHeader {
        match self {
            OrderEvent::Created(event) => &event.header,
            OrderEvent::Canceled(event) => &event.header,
            OrderEvent::Shipped(event) => &event.header,
            OrderEvent::Delivered(event)
            | OrderEvent::ReadyForPickup(event)
            | OrderEvent::PickedUp(event) => &event.header,
            OrderEvent::Returned(event) => &event.header,
        }
    }

    pub fn event_id(&self) -> Uuid {
        self.header().event_id
    }

    pub fn sequence(&self) -> u64 {
        self.header().sequence
    }

    /// The SQS FIFO message group: all events of one order stay in order.
    pub fn message_group_id(&self) -> String {
        let header = self.header();
        format!("{}:{}", header.tenant, header.order_id)
    }
}

/// `order.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    #[serde(flatten)]
    pub header: EventHeader,
    // Boxed: it is by far the largest payload, and the other events should not pay for it.
    pub order: Box<NormalizedOrder>,
}

/// `order.canceled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderCanceled {
    #[serde(flatten)]
    pub header: EventHeader,
    /// The whole order was canceled in ePages (it may come with no lines when ePages shows
    /// no per-line quantities for it).
    pub whole_order: bool,
    /// Lines with newly canceled pieces.
    pub lines: Vec<LineQuantity>,
}

/// `order.shipped`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderShipped {
    #[serde(flatten)]
    pub header: EventHeader,
    /// Lines with newly shipped pieces.
    pub lines: Vec<LineQuantity>,
    /// ePages shipping processes not reported before, with their tracking data. Empty when
    /// the connector could not read them; each process is reported once.
    #[serde(default)]
    pub shipments: Vec<Shipment>,
}

/// `order.delivered`, `order.ready_for_pickup`, `order.picked_up`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLinesChanged {
    #[serde(flatten)]
    pub header: EventHeader,
    /// Lines with pieces newly in this state.
    pub lines: Vec<LineQuantity>,
}

/// `order.returned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderReturned {
    #[serde(flatten)]
    pub header: EventHeader,
    /// Lines with newly returned or newly broken pieces.
    pub lines: Vec<ReturnLine>,
}

/// Pieces of one line that newly reached a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineQuantity {
    /// The ePages `productLineItems[]._id`.
    pub line_item_id: Uuid,
    pub sku: String,
    /// Pieces newly in this state (always > 0).
    pub quantity: u32,
    /// Pieces in this state in total, after this event.
    pub cumulative_quantity: u32,
}

/// Pieces of one line that newly came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLine {
    pub line_item_id: Uuid,
    pub sku: String,
    /// Newly returned intact.
    pub returned: u32,
    /// Newly returned broken (ePages `BROKEN`, "defect" for the merchant).
    pub broken: u32,
    pub cumulative_returned: u32,
    pub cumulative_broken: u32,
}

/// One ePages shipping process with its tracking data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub shipping_process_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_link: Option<String>,
    /// The pieces in this shipment.
    #[serde(default)]
    pub lines: Vec<ShipmentLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentLine {
    pub line_item_id: Uuid,
    pub quantity: u32,
}

/// Whether prices include tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaxModel {
    Gross,
    Net,
}

/// Everything Afosto needs to create the order without calling ePages. It describes the
/// order *as placed*: ordered quantities and the initial prices and totals. Changes after
/// that (even ones that happened before the connector first saw the order) follow as
/// events with higher sequence numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NormalizedOrder {
    pub order_id: Uuid,
    pub order_number: String,
    /// Technical creation time in ePages.
    pub created_at: DateTime<Utc>,
    /// Business order date; may differ from `createdAt` (e.g. imported orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_date: Option<DateTime<Utc>>,
    /// ISO 4217; every amount of the order is in it.
    pub currency: String,
    pub tax_model: TaxModel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    pub test_order: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_channel: Option<String>,
    pub customer: Customer,
    pub billing_address: PostalAddress,
    /// Absent for pickup orders. For a shipping order without its own shipping address
    /// it is the billing address (ePages' own default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<PostalAddress>,
    pub delivery: Delivery,
    pub lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<Coupon>,
    pub totals: Totals,
    #[serde(default)]
    pub notes: Notes,
}

/// Private or business customer: business when the billing address names a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerKind {
    Private,
    Business,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub kind: CustomerKind,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salutation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Only for registered ePages customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    /// Only for registered ePages customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
}

/// A postal address. ePages keeps the house number apart when the shop asks for it;
/// otherwise it may be part of `street`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostalAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salutation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    /// ePages `addressExtension` (house number addition, building, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependent_locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door_code: Option<String>,
}

/// How the goods reach the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Delivery {
    /// Sent to the shipping address.
    Shipping(ShippingCharge),
    /// Click & collect in a store.
    Pickup(PickupCharge),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingCharge {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_name: Option<String>,
    /// The shipping charge in the order's tax model; `"0"` when ePages lists none.
    pub price: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<String>,
    #[serde(default)]
    pub taxes: Vec<TaxAmount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickupCharge {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option_name: Option<String>,
    /// The pickup charge in the order's tax model; `"0"` when ePages lists none.
    pub price: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<String>,
    #[serde(default)]
    pub taxes: Vec<TaxAmount>,
    /// The store where the customer collects the order.
    // Boxed: large and optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<PickupLocation>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickupLocation {
    /// The ePages shop location `_id`; tenants map it to an Afosto location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
}

/// One ordered product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    /// The ePages `productLineItems[]._id`; every later event names lines by it.
    pub line_item_id: Uuid,
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ePages product (for a variation: the variation) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<Uuid>,
    /// For a variation: the parent product id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_product_id: Option<Uuid>,
    #[serde(default)]
    pub variation_attributes: Vec<VariationAttribute>,
    /// Ordered pieces (ePages `initialQuantity`).
    pub quantity: u32,
    /// In the order's tax model.
    pub unit_price: Amount,
    /// `quantity × unitPrice` after line discounts, in the order's tax model.
    pub line_price: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_discount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_discount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<TaxAmount>,
    /// Text the customer entered for this product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_text: Option<CustomText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariationAttribute {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A tax amount: the ePages tax class (`REGULAR`, `REDUCED`, `EXEMPT` or a newer value),
/// the rate as a fraction (`"0.19"`), and the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxAmount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Amount>,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_name: Option<String>,
    /// ePages `paymentStatus` at import: `PAID`, `PARTIALLY_PAID`, `PENDING`,
    /// `REFUND_PENDING`, `VOIDED` or a newer value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `NO_REFUND`, `FULL_REFUND_ONLY` or `PARTIAL_REFUND`: with `FULL_REFUND_ONLY`
    /// ePages refuses partial cancelations and returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_payment: Option<bool>,
    /// The payment method's fee (positive) or discount (negative), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_payment_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Coupon {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_name: Option<String>,
    /// The coupon's line price (negative: a discount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
}

/// Order totals as placed, in the order's currency and tax model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Sum of the product lines.
    pub subtotal: Amount,
    /// The shipping or pickup charge.
    pub shipping: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_total: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_total: Option<Amount>,
    pub grand_total: Amount,
    /// Tax per class and rate, as ePages lists it.
    #[serde(default)]
    pub taxes: Vec<TaxAmount>,
}

/// Free texts on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notes {
    /// Written by the customer at checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_comment: Option<String>,
    /// The merchant's internal note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{check_committed, generate};

    const DOC: &str = include_str!("../../../docs/ORDER-EVENTS.md");

    /// The ```json blocks of docs/ORDER-EVENTS.md, so the examples integrators read are the
    /// ones tested.
    fn documented_examples() -> Vec<serde_json::Value> {
        let mut examples = Vec::new();
        let mut block: Option<String> = None;
        for line in DOC.lines() {
            match (&mut block, line.trim_end()) {
                (None, "```json") => block = Some(String::new()),
                (Some(text), "```") => {
                    let value = serde_json::from_str(text)
                        .unwrap_or_else(|error| panic!("example is not JSON: {error}\n{text}"));
                    examples.push(value);
                    block = None;
                }
                (Some(text), other) => {
                    text.push_str(other);
                    text.push('\n');
                }
                (None, _) => {}
            }
        }
        examples
    }

    #[test]
    fn committed_schema_matches_the_types() {
        check_committed::<OrderEvent>("v1/order-event.schema.json")
            .unwrap_or_else(|error| panic!("{error}"));
    }

    #[test]
    fn documented_examples_deserialize_validate_and_cover_every_type() {
        let schema: serde_json::Value =
            serde_json::from_str(&generate::<OrderEvent>()).expect("generated schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        let mut seen = std::collections::BTreeSet::new();
        for example in documented_examples() {
            let errors: Vec<String> = validator
                .iter_errors(&example)
                .map(|error| format!("{} at {}", error, error.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{errors:#?}\n{example:#}");
            let event: OrderEvent = serde_json::from_value(example.clone())
                .unwrap_or_else(|error| panic!("{error}\n{example:#}"));
            // What we read is what we write: no field is silently dropped or renamed.
            assert_eq!(
                serde_json::to_value(&event).expect("serializes"),
                example,
                "round trip of {}",
                event.kind()
            );
            seen.insert(event.kind());
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            EventKind::CAUSAL_ORDER.to_vec(),
            "docs/ORDER-EVENTS.md must show one example of every event type"
        );
    }

    #[test]
    fn amounts_are_strings_and_numbers_are_refused() {
        let amount: Amount = serde_json::from_str("\"19.90\"").expect("string amount");
        assert_eq!(
            serde_json::to_string(&amount).expect("serializes"),
            "\"19.90\""
        );
        assert!(serde_json::from_str::<Amount>("19.9").is_err());
    }

    #[test]
    fn other_schema_versions_are_refused() {
        assert!(serde_json::from_str::<SchemaVersion1>("1").is_ok());
        let error = serde_json::from_str::<SchemaVersion1>("2").expect_err("version 2");
        assert!(error.to_string().contains("schemaVersion 2"));
    }

    #[test]
    fn kinds_match_the_serde_tags() {
        for example in documented_examples() {
            let event: OrderEvent = serde_json::from_value(example.clone()).expect("valid");
            assert_eq!(example["type"], event.kind().as_str());
        }
    }
}
