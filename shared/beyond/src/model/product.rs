//! Products, variations and availability (beyond-api.md §5). Stock is one number per
//! product or variation, adjusted only relatively.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hal::{HalCollection, Links};
use super::lenient_enum::lenient_enum;
use super::money::{Price, TaxClass};
use super::order::VariationAttributeValue;
use super::serde_util::null_as_default;
use super::timestamp::BeyondTimestamp;

lenient_enum! {
    /// `LOW_STOCK` means `0 < availableStock ≤ stockThreshold`; `NOT_AVAILABLE` means
    /// not purchasable.
    pub enum AvailabilityState {
        InStock => "IN_STOCK",
        LowStock => "LOW_STOCK",
        OutOfStock => "OUT_OF_STOCK",
        NotAvailable => "NOT_AVAILABLE",
    }
}

/// `GET /products/{id}/availability` and the variation equivalent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    #[serde(default)]
    pub availability_state: Option<AvailabilityState>,
    /// `None` (JSON `null`) when stock management is disabled.
    #[serde(default)]
    pub available_stock: Option<i64>,
    #[serde(default)]
    pub stock_threshold: Option<i64>,
    #[serde(default)]
    pub purchasable: Option<bool>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl Availability {
    /// Whether Beyond tracks a stock number for this item.
    pub fn is_stock_managed(&self) -> bool {
        self.available_stock.is_some()
    }
}

/// The `_embedded` of a product or variation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityEmbedded {
    #[serde(default)]
    pub availability: Option<Availability>,
}

/// A product (`GET /products/{id}`, `find-by-sku`, `GET /products`). Fields this
/// integration does not use are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_variation_product: Option<bool>,
    #[serde(default)]
    pub sales_price: Option<Price>,
    #[serde(default)]
    pub list_price: Option<Price>,
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
    #[serde(default)]
    pub visible: Option<bool>,
    #[serde(default)]
    pub last_modified_at: Option<BeyondTimestamp>,
    #[serde(rename = "_embedded", default, deserialize_with = "null_as_default")]
    pub embedded: AvailabilityEmbedded,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for Product {
    const COLLECTION: &'static str = "products";
}

impl Product {
    pub fn availability(&self) -> Option<&Availability> {
        self.embedded.availability.as_ref()
    }
}

/// A variation of a variation product (`GET /products/{id}/variations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variation {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub variation_attribute_values: Vec<VariationAttributeValue>,
    #[serde(default)]
    pub sales_price: Option<Price>,
    #[serde(default)]
    pub list_price: Option<Price>,
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
    #[serde(rename = "_embedded", default, deserialize_with = "null_as_default")]
    pub embedded: AvailabilityEmbedded,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

impl HalCollection for Variation {
    const COLLECTION: &'static str = "variations";
}

impl Variation {
    pub fn availability(&self) -> Option<&Availability> {
        self.embedded.availability.as_ref()
    }
}

/// `POST …/availability/adjust-available-stock`: a relative change; a repeat applies twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdjustAvailableStock {
    pub relative_amount: i64,
}

/// `POST …/availability/enable-stock-management`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnableStockManagement {
    pub initial_available_stock: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock_threshold: Option<i64>,
}

/// `{displayName, values[]}` of a variation product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariationAttribute {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Vec<String>,
}

/// `POST /products`. The fields used by tests and the demo are typed; any other product
/// field (dimensions, periods, reference price…) passes through `other` unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProduct {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_price: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<TaxClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub tags: Vec<String>,
    /// Non-empty makes a variation product.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub variation_attributes: Vec<VariationAttribute>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}
