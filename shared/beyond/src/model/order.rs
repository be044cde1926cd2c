//! Orders: `GET /orders`, `GET /orders/{id}` (beyond-api.md §3.2, §3.3).
//!
//! There is no order `status` field: the state is `canceled` + `shippingStatus` +
//! `paymentStatus`, and the per-line quantity buckets say what is still shippable,
//! cancelable or returnable.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hal::{HalCollection, Links};
use super::lenient_enum::lenient_enum;
use super::money::{Money, Price, Tax, TaxClass, TaxModel};
use super::serde_util::null_as_default;
use super::timestamp::BeyondTimestamp;

lenient_enum! {
    /// `order.shippingStatus`. There is no `NOT_SHIPPED`; a new order is `UNSHIPPED`
    /// (or `NOT_PICKED_UP` for a pickup order).
    pub enum OrderShippingStatus {
        Unshipped => "UNSHIPPED",
        PartiallyShipped => "PARTIALLY_SHIPPED",
        PartiallyReturned => "PARTIALLY_RETURNED",
        Shipped => "SHIPPED",
        Pending => "PENDING",
        Delivered => "DELIVERED",
        Canceled => "CANCELED",
        Returned => "RETURNED",
        NotPickedUp => "NOT_PICKED_UP",
        ReadyForPickup => "READY_FOR_PICKUP",
        PickedUp => "PICKED_UP",
    }
}

lenient_enum! {
    /// `order.paymentStatus`.
    pub enum OrderPaymentStatus {
        Paid => "PAID",
        PartiallyPaid => "PARTIALLY_PAID",
        Pending => "PENDING",
        RefundPending => "REFUND_PENDING",
        Voided => "VOIDED",
    }
}

lenient_enum! {
    /// `paymentMethod.refund`: what the payment method allows to refund.
    /// `FULL_REFUND_ONLY` makes partial cancelations and returns fail with 409.
    pub enum RefundPolicy {
        NoRefund => "NO_REFUND",
        FullRefundOnly => "FULL_REFUND_ONLY",
        PartialRefund => "PARTIAL_REFUND",
    }
}

/// An order as returned by `GET /orders/{id}` and inside `GET /orders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub order_number: Option<String>,
    /// Technical creation time.
    #[serde(default)]
    pub created_at: Option<BeyondTimestamp>,
    #[serde(default)]
    pub updated_at: Option<BeyondTimestamp>,
    /// Set only when `updated_at` was turned into an instant from a reading of the hour
    /// that repeats when daylight saving ends (`ShopTimeZone::to_utc_readings`): the
    /// **later** of the two instants the reading may stand for (`updated_at` holds the
    /// earlier). Never on the wire.
    #[serde(skip)]
    pub updated_at_latest: Option<BeyondTimestamp>,
    /// Business order date; may differ from `createdAt` (e.g. imported orders).
    #[serde(default)]
    pub entry_date: Option<BeyondTimestamp>,
    #[serde(default)]
    pub cart_id: Option<String>,

    #[serde(default)]
    pub canceled: Option<bool>,
    #[serde(default)]
    pub payment_status: Option<OrderPaymentStatus>,
    #[serde(default)]
    pub shipping_status: Option<OrderShippingStatus>,
    #[serde(default)]
    pub viewed: Option<bool>,
    #[serde(default)]
    pub test_order: Option<bool>,
    #[serde(default)]
    pub taxable: Option<bool>,
    #[serde(default)]
    pub terms_and_conditions_explicitly_accepted: Option<bool>,

    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub tax_model: Option<TaxModel>,
    #[serde(default)]
    pub subtotal: Option<Money>,
    #[serde(default)]
    pub grand_total: Option<Money>,
    #[serde(default)]
    pub net_total: Option<Money>,
    #[serde(default)]
    pub tax_total: Option<Money>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub taxes: Vec<Tax>,
    #[serde(default)]
    pub initial_subtotal: Option<Money>,
    #[serde(default)]
    pub initial_grand_total: Option<Money>,
    #[serde(default)]
    pub initial_net_total: Option<Money>,
    #[serde(default)]
    pub initial_tax_total: Option<Money>,
    #[serde(default)]
    pub total_received: Option<Money>,
    #[serde(default)]
    pub total_refunded: Option<Money>,
    #[serde(default)]
    pub open_amount: Option<Money>,

    #[serde(default)]
    pub customer_email: Option<String>,
    /// Only for registered customers.
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_number: Option<String>,
    #[serde(default)]
    pub customer_comment: Option<String>,
    #[serde(default)]
    pub order_note: Option<String>,
    #[serde(default)]
    pub payment_note: Option<String>,
    #[serde(default)]
    pub billing_address: Option<Address>,
    /// `null` for pickup orders.
    #[serde(default)]
    pub shipping_address: Option<Address>,

    /// An order without lines parses as an empty list.
    #[serde(default, deserialize_with = "null_as_default")]
    pub product_line_items: Vec<ProductLineItem>,
    /// `null` for pickup orders.
    #[serde(default)]
    pub shipping_line_item: Option<ShippingLineItem>,
    /// `null` for shipping orders.
    #[serde(default)]
    pub pickup_line_item: Option<PickupLineItem>,
    #[serde(default)]
    pub payment_line_item: Option<PaymentLineItem>,
    #[serde(default)]
    pub coupon_line_item: Option<CouponLineItem>,
    #[serde(default)]
    pub external_payment_id: Option<String>,
    #[serde(default)]
    pub external_payment_uri: Option<String>,

    #[serde(default)]
    pub sales_channel: Option<String>,
    #[serde(default)]
    pub marketing_channel: Option<String>,
    #[serde(default)]
    pub marketing_subchannel: Option<String>,

    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for Order {
    const COLLECTION: &'static str = "orders";
}

impl Order {
    /// Canceled as a whole: the flag, or the shipping status `CANCELED`.
    pub fn is_canceled(&self) -> bool {
        self.canceled == Some(true) || self.shipping_status == Some(OrderShippingStatus::Canceled)
    }

    /// A click & collect order.
    pub fn is_pickup(&self) -> bool {
        self.pickup_line_item.is_some()
    }

    /// The line item with this `_id`.
    pub fn line_item(&self, id: Uuid) -> Option<&ProductLineItem> {
        self.product_line_items.iter().find(|line| line.id == id)
    }

    /// The refund policy of the payment method, if known.
    pub fn refund_policy(&self) -> Option<&RefundPolicy> {
        self.payment_line_item
            .as_ref()?
            .payment_method
            .as_ref()?
            .refund
            .as_ref()
    }
}

/// A billing or shipping address. Billing adds `vatId`, `taxNumber`, `birthDate`;
/// shipping adds `doorCode`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub salutation: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub house_number: Option<String>,
    #[serde(default)]
    pub street2: Option<String>,
    #[serde(default)]
    pub address_extension: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub dependent_locality: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    /// ISO 3166 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    /// `YYYY-MM-DD`, kept as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door_code: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub display_address_lines: Vec<String>,
}

/// A quantity bucket of a line item: `{quantity, amount}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityBucket {
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantity: u32,
    #[serde(default)]
    pub amount: Option<Money>,
}

impl QuantityBucket {
    pub fn new(quantity: u32, amount: Option<Money>) -> Self {
        Self { quantity, amount }
    }
}

/// `productLineItems[].shippingStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineShippingBuckets {
    #[serde(default, deserialize_with = "null_as_default")]
    pub unshipped: QuantityBucket,
    #[serde(default, deserialize_with = "null_as_default")]
    pub pending: QuantityBucket,
    #[serde(default, deserialize_with = "null_as_default")]
    pub shipped: QuantityBucket,
    #[serde(default, deserialize_with = "null_as_default")]
    pub delivered: QuantityBucket,
}

/// `productLineItems[].pickupStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinePickupBuckets {
    #[serde(default, deserialize_with = "null_as_default")]
    pub not_picked_up: QuantityBucket,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ready_for_pickup: QuantityBucket,
    #[serde(default, deserialize_with = "null_as_default")]
    pub picked_up: QuantityBucket,
}

/// `productLineItems[].returnStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineReturnBuckets {
    #[serde(default, deserialize_with = "null_as_default")]
    pub returned: QuantityBucket,
    #[serde(default, deserialize_with = "null_as_default")]
    pub broken: QuantityBucket,
}

/// `productLineItems[].cancelationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineCancelationBuckets {
    #[serde(default, deserialize_with = "null_as_default")]
    pub canceled: QuantityBucket,
}

/// A product line item. Its `_id` is the `productLineItemId` of every process body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductLineItem {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default, deserialize_with = "null_as_default")]
    pub product: LineItemProduct,
    /// Current quantity = initial − returned − broken − canceled.
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantity: u32,
    #[serde(default)]
    pub initial_quantity: Option<u32>,
    #[serde(default)]
    pub unit_price: Option<Price>,
    #[serde(default)]
    pub unit_discount: Option<Money>,
    #[serde(default)]
    pub line_item_discount: Option<Money>,
    #[serde(default)]
    pub line_item_price: Option<Price>,
    #[serde(default)]
    pub initial_line_item_price: Option<Price>,
    #[serde(default)]
    pub line_item_tax: Option<Tax>,
    #[serde(default)]
    pub custom_text: Option<CustomText>,

    #[serde(default)]
    pub shipping_status: Option<LineShippingBuckets>,
    #[serde(default)]
    pub pickup_status: Option<LinePickupBuckets>,
    #[serde(default)]
    pub return_status: Option<LineReturnBuckets>,
    #[serde(default)]
    pub cancelation_status: Option<LineCancelationBuckets>,

    /// Flat duplicates of the nested buckets, as Beyond sends both.
    #[serde(default)]
    pub unshipped: Option<QuantityBucket>,
    #[serde(default)]
    pub pending: Option<QuantityBucket>,
    #[serde(default)]
    pub shipped: Option<QuantityBucket>,
    #[serde(default)]
    pub delivered: Option<QuantityBucket>,
    #[serde(default)]
    pub returned: Option<QuantityBucket>,
    #[serde(default)]
    pub broken: Option<QuantityBucket>,
    #[serde(default)]
    pub canceled: Option<QuantityBucket>,
}

/// Picks a bucket quantity from the nested object, falling back to the flat duplicate,
/// so either form alone is enough.
fn bucket_quantity(nested: Option<&QuantityBucket>, flat: Option<&QuantityBucket>) -> u32 {
    nested.or(flat).map_or(0, |bucket| bucket.quantity)
}

impl ProductLineItem {
    pub fn unshipped_quantity(&self) -> u32 {
        bucket_quantity(
            self.shipping_status.as_ref().map(|b| &b.unshipped),
            self.unshipped.as_ref(),
        )
    }

    pub fn pending_quantity(&self) -> u32 {
        bucket_quantity(
            self.shipping_status.as_ref().map(|b| &b.pending),
            self.pending.as_ref(),
        )
    }

    pub fn shipped_quantity(&self) -> u32 {
        bucket_quantity(
            self.shipping_status.as_ref().map(|b| &b.shipped),
            self.shipped.as_ref(),
        )
    }

    pub fn delivered_quantity(&self) -> u32 {
        bucket_quantity(
            self.shipping_status.as_ref().map(|b| &b.delivered),
            self.delivered.as_ref(),
        )
    }

    pub fn returned_quantity(&self) -> u32 {
        bucket_quantity(
            self.return_status.as_ref().map(|b| &b.returned),
            self.returned.as_ref(),
        )
    }

    pub fn broken_quantity(&self) -> u32 {
        bucket_quantity(
            self.return_status.as_ref().map(|b| &b.broken),
            self.broken.as_ref(),
        )
    }

    pub fn canceled_quantity(&self) -> u32 {
        bucket_quantity(
            self.cancelation_status.as_ref().map(|b| &b.canceled),
            self.canceled.as_ref(),
        )
    }

    pub fn not_picked_up_quantity(&self) -> u32 {
        self.pickup_status
            .as_ref()
            .map_or(0, |b| b.not_picked_up.quantity)
    }

    pub fn ready_for_pickup_quantity(&self) -> u32 {
        self.pickup_status
            .as_ref()
            .map_or(0, |b| b.ready_for_pickup.quantity)
    }

    pub fn picked_up_quantity(&self) -> u32 {
        self.pickup_status
            .as_ref()
            .map_or(0, |b| b.picked_up.quantity)
    }

    pub fn sku(&self) -> Option<&str> {
        self.product.sku.as_deref()
    }
}

/// The snapshot of the ordered product inside a line item. For a variation, `_id` is the
/// variation's ID and `_links.variation-product` points at the parent product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItemProduct {
    #[serde(rename = "_id", default)]
    pub id: Option<Uuid>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub essential_features: Option<String>,
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub shipping_weight: Option<Decimal>,
    #[serde(default)]
    pub default_image_data_uri: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub variation_attribute_values: Vec<VariationAttributeValue>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl LineItemProduct {
    /// The parent product's ID for a variation, from `_links.variation-product`.
    pub fn variation_parent_id(&self) -> Option<Uuid> {
        let href = self.links.href("variation-product")?;
        let last = href.trim_end_matches('/').rsplit('/').next()?;
        Uuid::parse_str(last).ok()
    }
}

/// `{displayName, value}` of a variation attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariationAttributeValue {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// Customer text on a line item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomText {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// The shipping charge and method of a shipping order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingLineItem {
    #[serde(default)]
    pub line_item_price: Option<Price>,
    #[serde(default)]
    pub initial_line_item_price: Option<Price>,
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_item_taxes: Vec<Tax>,
    #[serde(default)]
    pub shipping_method: Option<ShippingMethod>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethod {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub free_shipping_value: Option<Money>,
    #[serde(default)]
    pub fixed_price: Option<Price>,
    /// Weight-based price table; its shape is not needed here and kept verbatim.
    #[serde(default)]
    pub weight_based_price: Option<serde_json::Value>,
}

/// The pickup charge and option of a click & collect order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupLineItem {
    #[serde(default)]
    pub pickup_option: Option<PickupOption>,
    #[serde(default)]
    pub line_item_price: Option<Price>,
    #[serde(default)]
    pub initial_line_item_price: Option<Price>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_item_taxes: Vec<Tax>,
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupOption {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
    #[serde(default)]
    pub free_pickup_value: Option<Money>,
    #[serde(default)]
    pub fixed_price: Option<Price>,
    #[serde(default)]
    pub phone_number_required: Option<bool>,
    #[serde(rename = "_embedded", default, deserialize_with = "null_as_default")]
    pub embedded: PickupOptionEmbedded,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupOptionEmbedded {
    #[serde(default)]
    pub location: Option<Location>,
}

/// A shop location (a store backing a pickup option). Locations hold no stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(rename = "_id", default)]
    pub id: Option<String>,
    #[serde(default)]
    pub store_code: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub primary_phone: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub regular_hours: Option<RegularHours>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegularHours {
    #[serde(default, deserialize_with = "null_as_default")]
    pub periods: Vec<OpeningPeriod>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpeningPeriod {
    #[serde(default)]
    pub open_day: Option<String>,
    #[serde(default)]
    pub open_time: Option<String>,
    #[serde(default)]
    pub close_day: Option<String>,
    #[serde(default)]
    pub close_time: Option<String>,
}

/// The payment charge and method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentLineItem {
    #[serde(default)]
    pub line_item_price: Option<Price>,
    #[serde(default)]
    pub initial_line_item_price: Option<Price>,
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_item_taxes: Vec<Tax>,
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub online_payment: Option<bool>,
    #[serde(default)]
    pub discount_or_fee: Option<DiscountOrFee>,
    #[serde(default)]
    pub refund: Option<RefundPolicy>,
}

/// A payment method's discount or fee: absolute or a percentage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountOrFee {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub absolute_value: Option<Price>,
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub percentage_value: Option<Decimal>,
}

/// A redeemed coupon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponLineItem {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub line_item_price: Option<Price>,
    #[serde(default)]
    pub coupon_campaign: Option<CouponCampaign>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponCampaign {
    #[serde(rename = "_id", default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub percentage_discount_subtotal: Option<PercentageDiscount>,
    /// Shape undocumented; kept verbatim.
    #[serde(default)]
    pub absolute_discount: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PercentageDiscount {
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub discount_value: Option<Decimal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_order_without_lines_parses() {
        let order: Order =
            serde_json::from_str(r#"{"_id":"0da86a9c-8633-4c26-9647-e85dda934669"}"#).unwrap();
        assert!(order.product_line_items.is_empty());
        assert!(!order.is_canceled());
        assert!(order.links.0.is_empty());
    }

    #[test]
    fn unknown_fields_and_enum_values_are_tolerated() {
        let order: Order = serde_json::from_str(
            r#"{"_id":"0da86a9c-8633-4c26-9647-e85dda934669","shippingStatus":"TELEPORTED",
                "brandNewField":{"x":1},"productLineItems":null}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            order.shipping_status,
            Some(OrderShippingStatus::Other("TELEPORTED".into()))
        );
    }

    #[test]
    fn flat_buckets_are_a_fallback_for_nested_ones() {
        let line: ProductLineItem = serde_json::from_str(
            r#"{"_id":"ad2eff4a-fa90-4ec7-84c5-f9d74989c45b","quantity":5,
                "unshipped":{"quantity":2},"shipped":{"quantity":3}}"#,
        )
        .unwrap();
        assert_eq!(line.unshipped_quantity(), 2);
        assert_eq!(line.shipped_quantity(), 3);
        assert_eq!(line.canceled_quantity(), 0);
    }
}
