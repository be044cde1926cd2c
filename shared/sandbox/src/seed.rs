//! Seed files: shops with their app credentials, products (with or without variations,
//! stock managed or not) and orders brought into a given state by the same state-machine
//! operations the API uses (never by writing quantity buckets directly). The format is
//! documented in `shared/sandbox/README.md`; `demo` is the built-in seed `epages-sync sandbox`
//! loads without `--seed`.

use std::collections::BTreeMap;
use std::sync::Arc;

use beyond::model as m;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::catalog::create::build_product;
use crate::catalog::render as catalog_render;
use crate::catalog::{Availability, StockTarget, Variation};
use crate::clock::format_timestamp;
use crate::core::{Core, ShopInfo, duplicate_sku};
use crate::error::ApiError;
use crate::order::machine::{LineRequest, ReturnLineRequest, ReturnRequest, ShippingRequest};
use crate::order::{Order, ReturnStatus, ShippingProcessStatus};
use crate::shop::ShopConfig;

/// The built-in demo seed.
pub const DEMO_SEED: &str = include_str!("../seeds/demo.json");

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    pub shops: Vec<SeedShop>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedShop {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub token_lifetime_seconds: Option<u64>,
    #[serde(default)]
    pub products: Vec<SeedProduct>,
    #[serde(default)]
    pub orders: Vec<SeedOrder>,
}

impl SeedShop {
    pub fn config(&self) -> ShopConfig {
        ShopConfig {
            name: self.name.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone().into(),
            scopes: self.scopes.clone(),
            token_lifetime_seconds: self.token_lifetime_seconds,
        }
    }
}

/// A product. `stock` set means stock management is enabled with that many pieces.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedProduct {
    /// Absent for variation products (their variations carry the SKUs).
    #[serde(default)]
    pub sku: Option<String>,
    pub name: String,
    #[serde(default)]
    pub price: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub tax_class: Option<String>,
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub stock_threshold: Option<i64>,
    #[serde(default)]
    pub purchasable: Option<bool>,
    /// Non-empty for a variation product.
    #[serde(default)]
    pub variations: Vec<SeedVariation>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVariation {
    pub sku: String,
    /// Attribute name → value, e.g. `{"size": "M"}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub price: Option<Decimal>,
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default)]
    pub stock_threshold: Option<i64>,
    #[serde(default)]
    pub purchasable: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedLine {
    pub sku: String,
    pub quantity: u32,
    /// Returns only: `RETURNED` (default) or `BROKEN`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Payment method of an order.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedPaymentMethod {
    pub name: String,
    /// `NO_REFUND`, `FULL_REFUND_ONLY` or `PARTIAL_REFUND` (default).
    #[serde(default)]
    pub refund: Option<String>,
    #[serde(default)]
    pub online_payment: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedOrder {
    /// A name to find the order by in the seed report.
    #[serde(default)]
    pub reference: Option<String>,
    pub lines: Vec<SeedLine>,
    /// A click & collect order (pickup line item, no shipping address).
    #[serde(default)]
    pub pickup: bool,
    #[serde(default)]
    pub shipping_price: Option<Decimal>,
    #[serde(default)]
    pub payment_method: Option<SeedPaymentMethod>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub test_order: bool,
    /// Take stock (default true).
    #[serde(default)]
    pub adjust_stock: Option<bool>,
    /// When the order was created (default: the sandbox clock's now). Its actions happen
    /// at the same instant unless they carry their own `at`.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub actions: Vec<SeedAction>,
}

impl SeedOrder {
    pub fn new(lines: &[(&str, u32)]) -> Self {
        Self {
            reference: None,
            lines: lines
                .iter()
                .map(|(sku, quantity)| SeedLine {
                    sku: (*sku).to_owned(),
                    quantity: *quantity,
                    status: None,
                })
                .collect(),
            pickup: false,
            shipping_price: None,
            payment_method: None,
            customer_email: None,
            order_number: None,
            test_order: false,
            adjust_stock: None,
            created_at: None,
            actions: Vec::new(),
        }
    }
}

/// One state-machine operation, as a merchant would do it in the cockpit.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum SeedAction {
    /// Mark the active payment paid.
    Pay {
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Create a shipping process (all unshipped pieces when `lines` is empty), and by
    /// default mark it shipped.
    #[serde(rename_all = "camelCase")]
    Ship {
        #[serde(default)]
        lines: Vec<SeedLine>,
        #[serde(default)]
        tracking_code: Option<String>,
        #[serde(default)]
        tracking_link: Option<String>,
        #[serde(default)]
        mark_shipped: Option<bool>,
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Mark every pending or shipped shipment delivered.
    Deliver {
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Cancel the whole order.
    Cancel {
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Cancel some pieces.
    CancelItems {
        lines: Vec<SeedLine>,
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Take pieces back (`status` per line: `RETURNED` or `BROKEN`).
    #[serde(rename_all = "camelCase")]
    Return {
        lines: Vec<SeedLine>,
        #[serde(default)]
        shipping_price_refund: Option<Decimal>,
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Create the pickup process (pickup orders).
    ReadyForPickup {
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Mark the pickup process picked up.
    PickedUp {
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Mark the pending refund paid.
    RefundPaid {
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
}

impl SeedAction {
    fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            SeedAction::Pay { at }
            | SeedAction::Ship { at, .. }
            | SeedAction::Deliver { at }
            | SeedAction::Cancel { at }
            | SeedAction::CancelItems { at, .. }
            | SeedAction::Return { at, .. }
            | SeedAction::ReadyForPickup { at }
            | SeedAction::PickedUp { at }
            | SeedAction::RefundPaid { at } => *at,
        }
    }
}

/// What a seed produced.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedReport {
    pub shops: Vec<ShopInfo>,
    /// Orders by `reference` (shop, order id, order number).
    pub orders: BTreeMap<String, SeededOrder>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededOrder {
    pub shop: String,
    pub order_id: Uuid,
    pub order_number: String,
}

impl Seed {
    /// Dates every order without a `createdAt` at `at` (its actions without an `at` follow
    /// it). `epages-sync sandbox` dates its seed's orders a little in the past: a poll reads
    /// orders updated up to its skew (30 s) before it started, so orders created at start-up
    /// would be left to the poll after the next one, and a first `run --once` right after
    /// the sandbox started would import nothing.
    pub fn date_undated_orders(&mut self, at: DateTime<Utc>) {
        for order in self
            .shops
            .iter_mut()
            .flat_map(|shop| shop.orders.iter_mut())
        {
            order.created_at.get_or_insert(at);
        }
    }
}

/// Loads a seed: registers shops, adds products, creates orders and applies their actions.
pub fn apply(core: &Arc<Core>, seed: &Seed) -> Result<SeedReport, ApiError> {
    let mut report = SeedReport::default();
    for shop in &seed.shops {
        report.shops.push(core.register_shop(shop.config())?);
        for product in &shop.products {
            add_product(core, &shop.name, product)?;
        }
        for (index, order) in shop.orders.iter().enumerate() {
            let created = create_order(core, &shop.name, order)?;
            let reference = order
                .reference
                .clone()
                .unwrap_or_else(|| format!("{}#{index}", shop.name));
            report.orders.insert(
                reference,
                SeededOrder {
                    shop: shop.name.clone(),
                    order_id: created.id,
                    order_number: created.order_number.unwrap_or_default(),
                },
            );
        }
    }
    Ok(report)
}

fn availability(
    stock: Option<i64>,
    threshold: Option<i64>,
    purchasable: Option<bool>,
) -> Availability {
    Availability {
        managed: stock.is_some(),
        available: stock.unwrap_or(0),
        threshold: stock.and(threshold),
        purchasable: purchasable.unwrap_or(true),
    }
}

/// Adds a product (and its variations) to a shop's catalog; returns its JSON.
pub fn add_product(core: &Core, shop: &str, seed: &SeedProduct) -> Result<Value, ApiError> {
    let currency = seed.currency.clone().unwrap_or_else(|| "EUR".to_owned());
    let mut attribute_names: Vec<String> = Vec::new();
    for variation in &seed.variations {
        for name in variation.attributes.keys() {
            if !attribute_names.contains(name) {
                attribute_names.push(name.clone());
            }
        }
    }
    let attributes: Vec<Value> = attribute_names
        .iter()
        .map(|name| {
            let mut values: Vec<&String> = seed
                .variations
                .iter()
                .filter_map(|variation| variation.attributes.get(name))
                .collect();
            values.dedup();
            json!({ "displayName": name, "values": values })
        })
        .collect();
    let mut body = json!({
        "name": seed.name,
        "taxClass": seed.tax_class.clone().unwrap_or_else(|| "REGULAR".to_owned()),
        "sku": seed.sku,
        "variationAttributes": attributes,
    });
    if let (Some(price), Some(object)) = (seed.price, body.as_object_mut()) {
        object.insert(
            "salesPrice".into(),
            json!({ "amount": crate::money::number(price), "taxModel": "GROSS", "currency": currency }),
        );
    }
    if let Some(variation) = seed.variations.iter().find(|v| {
        v.price
            .is_some_and(|price| !crate::money::plausible_amount(price))
    }) {
        return Err(ApiError::validation(
            "Variation",
            vec![(
                "price".into(),
                Value::String(variation.sku.clone()),
                "is out of range".into(),
            )],
        ));
    }
    let root = core.api_root(shop);
    core.with_shop(shop, |shop, now| {
        let mut product = build_product(&body, now)?;
        if !seed.variations.is_empty() && product.variations.is_none() {
            product.variations = Some(Vec::new());
        }
        let skus = product
            .sku
            .iter()
            .cloned()
            .chain(seed.variations.iter().map(|v| v.sku.clone()));
        for sku in skus {
            if shop.catalog.sku_taken(&sku) {
                return Err(duplicate_sku(&sku));
            }
        }
        product.availability = availability(seed.stock, seed.stock_threshold, seed.purchasable);
        let id = product.id;
        shop.catalog.insert(product);
        for variation in &seed.variations {
            shop.catalog.add_variation(
                id,
                Variation {
                    id: Uuid::new_v4(),
                    sku: variation.sku.clone(),
                    attribute_values: attribute_names
                        .iter()
                        .filter_map(|name| {
                            variation
                                .attributes
                                .get(name)
                                .map(|value| (name.clone(), value.clone()))
                        })
                        .collect(),
                    sales_price: variation.price,
                    availability: availability(
                        variation.stock,
                        variation.stock_threshold,
                        variation.purchasable,
                    ),
                },
            )?;
        }
        shop.catalog
            .product(id)
            .map(|product| {
                catalog_render::product(product, &root, catalog_render::ProductView::Detail)
            })
            .ok_or_else(|| ApiError::internal("the seeded product vanished"))
    })
}

/// The create-order body a seed order stands for.
fn order_body(seed: &SeedOrder, now: DateTime<Utc>) -> Value {
    let zero = json!({ "currency": "EUR", "amount": 0 });
    let refund = seed
        .payment_method
        .as_ref()
        .and_then(|method| method.refund.clone())
        .unwrap_or_else(|| "PARTIAL_REFUND".to_owned());
    let method_name = seed
        .payment_method
        .as_ref()
        .map_or_else(|| "Invoice".to_owned(), |method| method.name.clone());
    let email = seed
        .customer_email
        .clone()
        .unwrap_or_else(|| "customer@example.com".to_owned());
    let mut body = json!({
        "entryDate": format_timestamp(now),
        "taxModel": "GROSS",
        "currency": "EUR",
        "salesChannel": "Storefront",
        "customerEmail": email,
        "testOrder": seed.test_order,
        "adjustStock": seed.adjust_stock.unwrap_or(true),
        "netTotal": zero, "subTotal": zero, "taxTotal": zero,
        "billingAddress": {
            "firstName": "Erika", "lastName": "Mustermann", "street": "Hauptstraße",
            "houseNumber": "1", "postalCode": "20095", "city": "Hamburg", "country": "DE",
            "email": email, "displayAddressLines": []
        },
        "paymentLineItem": {
            "lineItemPrice": { "taxModel": "GROSS", "currency": "EUR", "amount": 0 },
            "taxClass": "REGULAR",
            "paymentMethod": {
                "name": method_name,
                "onlinePayment": seed.payment_method.as_ref().and_then(|m| m.online_payment).unwrap_or(false),
                "refund": refund
            }
        },
        "productLineItems": seed.lines.iter().map(|line| json!({
            "quantity": line.quantity, "product": { "sku": line.sku }
        })).collect::<Vec<_>>(),
    });
    let charge = |name: &str| {
        json!({
            "lineItemPrice": {
                "taxModel": "GROSS", "currency": "EUR",
                "amount": crate::money::number(seed.shipping_price.unwrap_or_default())
            },
            "taxClass": "REGULAR",
            "shippingMethod": { "name": name },
            "pickupOption": { "name": name }
        })
    };
    if let Some(object) = body.as_object_mut() {
        if seed.pickup {
            object.insert("pickupLineItem".into(), charge("Pickup in store"));
        } else {
            object.insert("shippingLineItem".into(), charge("Standard"));
        }
        if let Some(number) = &seed.order_number {
            object.insert("orderNumber".into(), Value::String(number.clone()));
        }
    }
    body
}

/// Creates an order from a seed description and applies its actions.
pub fn create_order(core: &Arc<Core>, shop: &str, seed: &SeedOrder) -> Result<m::Order, ApiError> {
    let created_at = seed.created_at;
    let now = core
        .clock
        .reading(created_at.unwrap_or_else(|| core.clock.now()));
    let body = order_body(seed, now);
    let mut order = core.create_order_at(shop, &body, created_at)?;
    for action in &seed.actions {
        order = apply_action(core, shop, order.id, action, action.at().or(created_at))?;
    }
    Ok(order)
}

/// Applies one action to an existing order (at `at`, default the sandbox clock's now).
pub fn apply_action(
    core: &Arc<Core>,
    shop: &str,
    order_id: Uuid,
    action: &SeedAction,
    at: Option<DateTime<Utc>>,
) -> Result<m::Order, ApiError> {
    let ((), order) =
        core.update_order_at(shop, order_id, at, |order, now| run(order, action, now))?;
    Ok(order)
}

fn run(order: &mut Order, action: &SeedAction, now: DateTime<Utc>) -> Result<(), ApiError> {
    match action {
        SeedAction::Pay { .. } => order.mark_paid(None, now).map(|_| ()),
        SeedAction::Ship {
            lines,
            tracking_code,
            tracking_link,
            mark_shipped,
            ..
        } => {
            let lines = if lines.is_empty() {
                order
                    .lines
                    .iter()
                    .filter(|line| line.buckets.unshipped > 0)
                    .map(|line| LineRequest {
                        line_item: line.id,
                        quantity: i64::from(line.buckets.unshipped),
                    })
                    .collect()
            } else {
                resolve(order, lines)?
            };
            let request = ShippingRequest {
                lines,
                tracking_code: tracking_code.clone(),
                tracking_link: tracking_link.clone(),
                comment: None,
            };
            let process = order.create_shipping(&request, now)?;
            if mark_shipped.unwrap_or(true) {
                order.mark_shipped(process, None, None, None, now)?;
            }
            Ok(())
        }
        SeedAction::Deliver { .. } => {
            let open: Vec<Uuid> = order
                .shippings
                .iter()
                .filter(|p| p.status != ShippingProcessStatus::Delivered)
                .map(|p| p.id)
                .collect();
            for process in open {
                order.mark_delivered(process, None, now)?;
            }
            Ok(())
        }
        SeedAction::Cancel { .. } => order.cancel(None, now),
        SeedAction::CancelItems { lines, .. } => {
            let lines = resolve(order, lines)?;
            order.cancel_items(&lines, None, now).map(|_| ())
        }
        SeedAction::Return {
            lines,
            shipping_price_refund,
            ..
        } => {
            let mut requested = Vec::new();
            for (line, seed) in resolve(order, lines)?.into_iter().zip(lines) {
                let status = match seed.status.as_deref() {
                    None => ReturnStatus::Returned,
                    Some(raw) => ReturnStatus::parse(raw).ok_or_else(|| {
                        ApiError::not_readable(format!("unknown return status {raw}"))
                    })?,
                };
                requested.push(ReturnLineRequest {
                    line_item: line.line_item,
                    quantity: line.quantity,
                    status,
                });
            }
            let request = ReturnRequest {
                lines: requested,
                shipping_price_refund: *shipping_price_refund,
                ..ReturnRequest::default()
            };
            order.return_items(&request, now).map(|_| ())
        }
        SeedAction::ReadyForPickup { .. } => order.create_pickup(None, now).map(|_| ()),
        SeedAction::PickedUp { .. } => {
            let process =
                order.pickups.first().map(|p| p.id).ok_or_else(|| {
                    ApiError::illegal_transition("The order has no pickup process.")
                })?;
            order.mark_picked_up(process, None, now)
        }
        SeedAction::RefundPaid { .. } => order.mark_refund_paid(None, now).map(|_| ()),
    }
}

/// Seed lines name SKUs; process bodies need line item ids.
fn resolve(order: &Order, lines: &[SeedLine]) -> Result<Vec<LineRequest>, ApiError> {
    lines
        .iter()
        .map(|line| {
            order
                .lines
                .iter()
                .find(|item| item.product.sku.as_deref() == Some(line.sku.as_str()))
                .map(|item| LineRequest {
                    line_item: item.id,
                    quantity: i64::from(line.quantity),
                })
                .ok_or_else(|| {
                    ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "no-such-product-line-item",
                        format!("The order has no line item with SKU {}.", line.sku),
                    )
                })
        })
        .collect()
}

/// The availability of the product or variation with this SKU, as the API shows it.
pub fn availability_by_sku(
    core: &Core,
    shop: &str,
    sku: &str,
) -> Result<Option<m::Availability>, ApiError> {
    let root = core.api_root(shop);
    core.with_shop(shop, |shop, _| {
        let Some(item) = shop.catalog.resolve_sku(sku) else {
            return Ok(None);
        };
        let Some(product) = shop.catalog.product(item.product_id) else {
            return Ok(None);
        };
        Ok(match item.target {
            StockTarget::Product(_) => Some(catalog_render::product_availability(product, &root)),
            StockTarget::Variation { variation, .. } => product
                .variation(variation)
                .map(|v| catalog_render::variation_availability(product, v, &root)),
        })
    })
}

/// Reads a seed from JSON text.
pub fn parse(text: &str) -> Result<Seed, serde_json::Error> {
    serde_json::from_str(text)
}
