//! `POST /orders`: create an order (scope `ordr:c`). Used by tests and the demo to seed
//! shops; the body mirrors the spec's `orders-create` example.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::money::{Money, Price, Tax, TaxModel};
use super::order::{
    Address, CouponLineItem, PaymentLineItem, PickupLineItem, ShippingLineItem,
    VariationAttributeValue,
};
use super::serde_util::null_as_default;
use super::timestamp::BeyondTimestamp;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_date: Option<BeyondTimestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_model: Option<TaxModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_total: Option<Money>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub taxes: Vec<Tax>,
    /// Spelled `subTotal` here, unlike the order's `subtotal`.
    #[serde(rename = "subTotal", default, skip_serializing_if = "Option::is_none")]
    pub sub_total: Option<Money>,
    #[serde(
        rename = "discountedSubTotal",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub discounted_sub_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grand_total: Option<Money>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub product_line_items: Vec<CreateOrderLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_line_item: Option<CouponLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_line_item: Option<ShippingLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_line_item: Option<PickupLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_line_item: Option<PaymentLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_channel: Option<String>,
    /// Whether Beyond should decrement stock for the ordered items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjust_stock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_order: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_and_conditions_explicitly_accepted: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrderLineItem {
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_discount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_price: Option<Price>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub product: CreateOrderProduct,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_tax: Option<Tax>,
}

/// The product snapshot of a new line. For a variation, `_id` is the variation and
/// `variationProductId` its parent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrderProduct {
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub essential_features: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::float_option"
    )]
    pub shipping_weight: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_image_data_uri: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub variation_attribute_values: Vec<VariationAttributeValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variation_product_id: Option<uuid::Uuid>,
}
