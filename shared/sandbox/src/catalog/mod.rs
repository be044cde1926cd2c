//! A shop's products, variations and their availability (stock), with the availability rules
//! of Beyond's product management: relative-only stock adjustment, stock management switched
//! on and off explicitly, and `availabilityState` derived from stock, threshold and
//! purchasability.

pub mod create;
pub mod render;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::ApiError;
use axum::http::StatusCode;

/// `availabilityState` as Beyond reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AvailabilityState {
    NotAvailable,
    OutOfStock,
    LowStock,
    InStock,
}

impl AvailabilityState {
    pub fn as_str(self) -> &'static str {
        match self {
            AvailabilityState::InStock => "IN_STOCK",
            AvailabilityState::LowStock => "LOW_STOCK",
            AvailabilityState::OutOfStock => "OUT_OF_STOCK",
            AvailabilityState::NotAvailable => "NOT_AVAILABLE",
        }
    }
}

/// Stock of one product or variation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// Stock management enabled: `available` and `threshold` are meaningful.
    pub managed: bool,
    /// May become negative: an order for more than the stock is still accepted (the sandbox
    /// does not model checkout's refusal), and a relative adjustment is applied as given.
    pub available: i64,
    pub threshold: Option<i64>,
    pub purchasable: bool,
}

impl Default for Availability {
    fn default() -> Self {
        Self {
            managed: false,
            available: 0,
            threshold: None,
            purchasable: true,
        }
    }
}

impl Availability {
    pub fn managed(available: i64, threshold: Option<i64>) -> Self {
        Self {
            managed: true,
            available,
            threshold,
            purchasable: true,
        }
    }

    /// `NOT_AVAILABLE` when not purchasable; `IN_STOCK` when unmanaged; otherwise
    /// `OUT_OF_STOCK` at or below zero, `LOW_STOCK` when `0 < stock <= threshold`, else
    /// `IN_STOCK`.
    pub fn state(&self) -> AvailabilityState {
        if !self.purchasable {
            AvailabilityState::NotAvailable
        } else if !self.managed {
            AvailabilityState::InStock
        } else if self.available <= 0 {
            AvailabilityState::OutOfStock
        } else if self
            .threshold
            .is_some_and(|threshold| self.available <= threshold)
        {
            AvailabilityState::LowStock
        } else {
            AvailabilityState::InStock
        }
    }

    /// `availableStock`: `None` (JSON null) while unmanaged.
    pub fn available_stock(&self) -> Option<i64> {
        self.managed.then_some(self.available)
    }

    pub fn stock_threshold(&self) -> Option<i64> {
        if self.managed { self.threshold } else { None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variation {
    pub id: Uuid,
    pub sku: String,
    /// `(displayName, value)` pairs, e.g. `("size", "M")`.
    pub attribute_values: Vec<(String, String)>,
    /// Falls back to the parent's price when absent.
    pub sales_price: Option<Decimal>,
    pub availability: Availability,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: Uuid,
    /// Variation products (parents) have no SKU of their own in Beyond's examples.
    pub sku: Option<String>,
    pub name: String,
    pub currency: String,
    pub sales_price: Option<Decimal>,
    pub tax_class: String,
    pub last_modified_at: DateTime<Utc>,
    /// Other fields of the create request (description, tags, ...), echoed back as given.
    pub extra: Map<String, Value>,
    /// For plain products; a variation product's own availability is derived from its
    /// variations.
    pub availability: Availability,
    /// `Some` for a variation product (even while it has no variations yet).
    pub variations: Option<Vec<Variation>>,
    /// The variation attribute names and their values, e.g. `size: [S, M, L]`.
    pub variation_attributes: Vec<(String, Vec<String>)>,
}

impl Product {
    pub fn is_variation_product(&self) -> bool {
        self.variations.is_some()
    }

    pub fn variations(&self) -> &[Variation] {
        self.variations.as_deref().unwrap_or(&[])
    }

    pub fn variation(&self, id: Uuid) -> Option<&Variation> {
        self.variations()
            .iter()
            .find(|variation| variation.id == id)
    }

    /// A variation product's availability as Beyond shows it on the parent: no stock numbers
    /// of its own, purchasable when any variation is, and the best state of its variations
    /// (`NOT_AVAILABLE` without variations, as in Beyond's example of a fresh variation
    /// product).
    pub fn effective_availability(&self) -> (AvailabilityState, Availability) {
        match &self.variations {
            None => (self.availability.state(), self.availability.clone()),
            Some(variations) => {
                let state = variations
                    .iter()
                    .map(|variation| variation.availability.state())
                    .max()
                    .unwrap_or(AvailabilityState::NotAvailable);
                let purchasable = variations
                    .iter()
                    .any(|variation| variation.availability.purchasable);
                let parent = Availability {
                    managed: false,
                    available: 0,
                    threshold: None,
                    purchasable,
                };
                (state, parent)
            }
        }
    }
}

/// Where a stock operation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StockTarget {
    Product(Uuid),
    Variation { product: Uuid, variation: Uuid },
}

/// What an SKU or id resolves to when building an order line.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedItem {
    pub target: StockTarget,
    pub product_id: Uuid,
    pub variation_id: Option<Uuid>,
    pub sku: Option<String>,
    pub name: String,
    pub unit_price: Option<Decimal>,
    pub currency: String,
    pub tax_class: String,
    pub attribute_values: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: Vec<Product>,
}

impl Catalog {
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn product(&self, id: Uuid) -> Option<&Product> {
        self.products.iter().find(|product| product.id == id)
    }

    fn product_mut(&mut self, id: Uuid) -> Option<&mut Product> {
        self.products.iter_mut().find(|product| product.id == id)
    }

    /// Products only (not variations): Beyond's `find-by-sku` is documented for products,
    /// and whether it resolves variation SKUs is unconfirmed, so the sandbox answers 404 for
    /// them to keep clients from relying on it.
    pub fn product_by_sku(&self, sku: &str) -> Option<&Product> {
        self.products
            .iter()
            .find(|product| product.sku.as_deref() == Some(sku))
    }

    /// Whether any product or variation already uses the SKU (SKUs are unique per shop).
    pub fn sku_taken(&self, sku: &str) -> bool {
        self.resolve_sku(sku).is_some()
    }

    /// The product or variation with this SKU.
    pub fn resolve_sku(&self, sku: &str) -> Option<ResolvedItem> {
        self.products.iter().find_map(|product| {
            if product.sku.as_deref() == Some(sku) && !product.is_variation_product() {
                return Some(resolved_product(product));
            }
            product
                .variations()
                .iter()
                .find(|variation| variation.sku == sku)
                .map(|variation| resolved_variation(product, variation))
        })
    }

    /// The product or variation with this id (a variation by its own id).
    pub fn resolve_id(&self, id: Uuid) -> Option<ResolvedItem> {
        self.products.iter().find_map(|product| {
            if product.id == id && !product.is_variation_product() {
                return Some(resolved_product(product));
            }
            product
                .variation(id)
                .map(|variation| resolved_variation(product, variation))
        })
    }

    pub fn insert(&mut self, product: Product) {
        self.products.push(product);
    }

    pub fn add_variation(&mut self, product: Uuid, variation: Variation) -> Result<(), ApiError> {
        let parent = self
            .product_mut(product)
            .ok_or_else(|| ApiError::not_found(&format!("/products/{product}")))?;
        parent
            .variations
            .get_or_insert_with(Vec::new)
            .push(variation);
        Ok(())
    }

    pub fn availability(&self, target: StockTarget) -> Option<&Availability> {
        match target {
            StockTarget::Product(id) => self.product(id).map(|product| &product.availability),
            StockTarget::Variation { product, variation } => self
                .product(product)
                .and_then(|product| product.variation(variation))
                .map(|variation| &variation.availability),
        }
    }

    fn availability_mut(
        &mut self,
        target: StockTarget,
        now: DateTime<Utc>,
    ) -> Result<&mut Availability, ApiError> {
        let (product_id, variation_id) = match target {
            StockTarget::Product(id) => (id, None),
            StockTarget::Variation { product, variation } => (product, Some(variation)),
        };
        let product = self
            .product_mut(product_id)
            .ok_or_else(|| ApiError::not_found(&format!("/products/{product_id}")))?;
        product.last_modified_at = now;
        match variation_id {
            None => Ok(&mut product.availability),
            Some(variation_id) => product
                .variations
                .as_mut()
                .and_then(|variations| variations.iter_mut().find(|v| v.id == variation_id))
                .map(|variation| &mut variation.availability)
                .ok_or_else(|| {
                    ApiError::not_found(&format!(
                        "/products/{product_id}/variations/{variation_id}"
                    ))
                }),
        }
    }

    /// `adjust-available-stock`: relative only. 400 `operation-not-available` on a variation
    /// product (the parent); 409 `product.availability.invalid-availability-state` while
    /// stock management is disabled.
    pub fn adjust_stock(
        &mut self,
        target: StockTarget,
        relative: i64,
        now: DateTime<Utc>,
    ) -> Result<Availability, ApiError> {
        if let StockTarget::Product(id) = target
            && self.product(id).is_some_and(Product::is_variation_product)
        {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "operation-not-available",
                format!(
                    "The request (adjust-available-stock) cannot be performed for variation products (affected ID: {id})."
                ),
            ));
        }
        let (entity, id) = describe(target);
        let availability = self.availability_mut(target, now)?;
        if !availability.managed {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "product.availability.invalid-availability-state",
                format!(
                    "The stock management for this {entity} is disabled. Thus, the available stock cannot be adjusted."
                ),
            )
            .detail("productId", id.to_string()));
        }
        availability.available = availability.available.saturating_add(relative);
        Ok(availability.clone())
    }

    /// Stock taken by an order: only managed stock changes; unmanaged items are ignored.
    pub fn take_stock(&mut self, target: StockTarget, quantity: i64, now: DateTime<Utc>) {
        if let Ok(availability) = self.availability_mut(target, now)
            && availability.managed
        {
            availability.available = availability.available.saturating_sub(quantity);
        }
    }

    /// `enable-stock-management` on a product, or on a variation product for all its
    /// variations. 409 when already enabled (for a variation product: on all variations).
    pub fn enable_stock_management(
        &mut self,
        product_id: Uuid,
        initial: i64,
        threshold: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        self.switch_stock_management(product_id, now, true, |availability| {
            availability.managed = true;
            availability.available = initial;
            availability.threshold = threshold;
        })
    }

    /// `disable-stock-management`; 409 when already disabled.
    pub fn disable_stock_management(
        &mut self,
        product_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        self.switch_stock_management(product_id, now, false, |availability| {
            availability.managed = false;
            availability.available = 0;
            availability.threshold = None;
        })
    }

    fn switch_stock_management(
        &mut self,
        product_id: Uuid,
        now: DateTime<Utc>,
        enable: bool,
        apply: impl Fn(&mut Availability),
    ) -> Result<(), ApiError> {
        let product = self
            .product_mut(product_id)
            .ok_or_else(|| ApiError::not_found(&format!("/products/{product_id}")))?;
        let already = match &product.variations {
            None => product.availability.managed == enable,
            Some(variations) => variations
                .iter()
                .all(|variation| variation.availability.managed == enable),
        };
        if already {
            let sku = product.sku.clone().unwrap_or_default();
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "product.availability.invalid-availability-state",
                format!(
                    "The stock management for Product{{id={product_id}, sku={sku}, name={}}} is already {}.",
                    product.name,
                    if enable { "enabled" } else { "disabled" }
                ),
            )
            .detail("productId", product_id.to_string()));
        }
        product.last_modified_at = now;
        match product.variations.as_mut() {
            None => apply(&mut product.availability),
            Some(variations) => variations
                .iter_mut()
                .filter(|variation| variation.availability.managed != enable)
                .for_each(|variation| apply(&mut variation.availability)),
        }
        Ok(())
    }

    /// `update-stock-threshold`; for a variation product it applies to all variations.
    pub fn set_threshold(
        &mut self,
        product_id: Uuid,
        threshold: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let product = self
            .product_mut(product_id)
            .ok_or_else(|| ApiError::not_found(&format!("/products/{product_id}")))?;
        product.last_modified_at = now;
        match product.variations.as_mut() {
            None => product.availability.threshold = threshold,
            Some(variations) => variations
                .iter_mut()
                .for_each(|variation| variation.availability.threshold = threshold),
        }
        Ok(())
    }

    pub fn set_purchasable(
        &mut self,
        target: StockTarget,
        purchasable: bool,
        now: DateTime<Utc>,
    ) -> Result<Availability, ApiError> {
        if let StockTarget::Product(id) = target
            && let Some(product) = self.product_mut(id)
            && let Some(variations) = product.variations.as_mut()
        {
            variations
                .iter_mut()
                .for_each(|variation| variation.availability.purchasable = purchasable);
            product.last_modified_at = now;
            return Ok(product.effective_availability().1);
        }
        let availability = self.availability_mut(target, now)?;
        availability.purchasable = purchasable;
        Ok(availability.clone())
    }
}

fn describe(target: StockTarget) -> (&'static str, Uuid) {
    match target {
        StockTarget::Product(id) => ("product", id),
        StockTarget::Variation { variation, .. } => ("variation", variation),
    }
}

fn resolved_product(product: &Product) -> ResolvedItem {
    ResolvedItem {
        target: StockTarget::Product(product.id),
        product_id: product.id,
        variation_id: None,
        sku: product.sku.clone(),
        name: product.name.clone(),
        unit_price: product.sales_price,
        currency: product.currency.clone(),
        tax_class: product.tax_class.clone(),
        attribute_values: Vec::new(),
    }
}

fn resolved_variation(product: &Product, variation: &Variation) -> ResolvedItem {
    ResolvedItem {
        target: StockTarget::Variation {
            product: product.id,
            variation: variation.id,
        },
        product_id: product.id,
        variation_id: Some(variation.id),
        sku: Some(variation.sku.clone()),
        name: product.name.clone(),
        unit_price: variation.sales_price.or(product.sales_price),
        currency: product.currency.clone(),
        tax_class: product.tax_class.clone(),
        attribute_values: variation.attribute_values.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, availability: Availability) -> Product {
        Product {
            id: Uuid::new_v4(),
            sku: Some(sku.to_owned()),
            name: sku.to_owned(),
            currency: "EUR".into(),
            sales_price: Some(Decimal::new(999, 2)),
            tax_class: "REGULAR".into(),
            last_modified_at: Utc::now(),
            extra: Map::new(),
            availability,
            variations: None,
            variation_attributes: Vec::new(),
        }
    }

    #[test]
    fn availability_state_follows_stock_threshold_and_purchasability() {
        assert_eq!(Availability::default().state(), AvailabilityState::InStock);
        assert_eq!(
            Availability::managed(10, Some(2)).state(),
            AvailabilityState::InStock
        );
        assert_eq!(
            Availability::managed(2, Some(2)).state(),
            AvailabilityState::LowStock
        );
        assert_eq!(
            Availability::managed(0, Some(2)).state(),
            AvailabilityState::OutOfStock
        );
        assert_eq!(
            Availability::managed(-3, None).state(),
            AvailabilityState::OutOfStock
        );
        let blocked = Availability {
            purchasable: false,
            ..Availability::managed(10, None)
        };
        assert_eq!(blocked.state(), AvailabilityState::NotAvailable);
        assert_eq!(Availability::default().available_stock(), None);
    }

    #[test]
    fn adjusting_unmanaged_stock_is_a_conflict() {
        let mut catalog = Catalog::default();
        let item = product("A", Availability::default());
        let id = item.id;
        catalog.insert(item);
        let error = catalog
            .adjust_stock(StockTarget::Product(id), 5, Utc::now())
            .err();
        assert_eq!(
            error.map(|e| (e.status, e.error_id().to_owned())),
            Some((
                StatusCode::CONFLICT,
                "product.availability.invalid-availability-state".to_owned()
            ))
        );
    }

    #[test]
    fn stock_management_switches_once_each_way() {
        let mut catalog = Catalog::default();
        let item = product("A", Availability::default());
        let id = item.id;
        catalog.insert(item);
        assert!(
            catalog
                .enable_stock_management(id, 5, Some(1), Utc::now())
                .is_ok()
        );
        assert!(
            catalog
                .enable_stock_management(id, 5, Some(1), Utc::now())
                .is_err()
        );
        let adjusted = catalog.adjust_stock(StockTarget::Product(id), -2, Utc::now());
        assert_eq!(adjusted.map(|a| a.available).ok(), Some(3));
        assert!(catalog.disable_stock_management(id, Utc::now()).is_ok());
        assert!(catalog.disable_stock_management(id, Utc::now()).is_err());
    }

    #[test]
    fn variation_parent_rejects_adjustment_and_resolves_children_by_sku() {
        let mut catalog = Catalog::default();
        let mut parent = product("P", Availability::default());
        parent.sku = None;
        parent.variations = Some(Vec::new());
        let parent_id = parent.id;
        catalog.insert(parent);
        let variation = Variation {
            id: Uuid::new_v4(),
            sku: "P-M".into(),
            attribute_values: vec![("size".into(), "M".into())],
            sales_price: None,
            availability: Availability::managed(4, None),
        };
        let variation_id = variation.id;
        assert!(catalog.add_variation(parent_id, variation).is_ok());

        let error = catalog
            .adjust_stock(StockTarget::Product(parent_id), 1, Utc::now())
            .err();
        assert_eq!(
            error.map(|e| e.error_id().to_owned()).as_deref(),
            Some("operation-not-available")
        );
        let resolved = catalog.resolve_sku("P-M");
        assert_eq!(
            resolved.map(|item| item.variation_id),
            Some(Some(variation_id))
        );
        assert!(catalog.product_by_sku("P-M").is_none());
        let target = StockTarget::Variation {
            product: parent_id,
            variation: variation_id,
        };
        catalog.take_stock(target, 3, Utc::now());
        assert_eq!(catalog.availability(target).map(|a| a.available), Some(1));
    }
}
