//! `POST /orders`: validating the spec's create-order body and building a real order from it.
//!
//! The body is an order snapshot (Beyond's order import): the client sends line items with
//! product data and prices. The sandbox links each line to its catalog product or variation
//! (by `product._id`, which may be a variation's id, or by `product.sku`), fills in what the
//! client left out from the catalog, and computes totals itself rather than trusting the
//! client's `subTotal`/`grandTotal`. A line whose product is not in the catalog is accepted
//! when it carries a SKU, a name and a unit price (it then takes no stock).
//!
//! Stock: when `adjustStock` is not `false` and the order is not a test order, the ordered
//! quantity is taken from the managed stock of linked products and variations (the spec's
//! `adjustStock` flag says Beyond does this; it is not documented for absent flags, the
//! sandbox treats absent as `true`). Cancelations and returns do not put stock back.
//!
//! Pickup orders: the spec's create body has no `pickupLineItem`; the sandbox accepts one as
//! an extension (same shape as on the order) so tests can create pickup orders over HTTP.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Buckets, ChargeLine, Fulfilment, LineItem, Order, ProductSnapshot, RefundPolicy};
use crate::catalog::{Catalog, ResolvedItem, StockTarget};
use crate::clock::parse_timestamp;
use crate::error::ApiError;
use crate::money::{
    TaxModel, decimal_from_json, default_tax_rate, plausible_amount, plausible_rate,
};

/// The body fields the spec marks as required.
const REQUIRED: [&str; 8] = [
    "billingAddress",
    "entryDate",
    "netTotal",
    "paymentLineItem",
    "salesChannel",
    "subTotal",
    "taxModel",
    "taxTotal",
];

/// Bounds that keep every sum of pieces far from overflow.
const MAX_LINE_QUANTITY: i64 = 1_000_000;
const MAX_LINES: usize = 1_000;

/// Plain fields copied onto the order as given.
const COPIED: [&str; 10] = [
    "customerEmail",
    "customerComment",
    "customerId",
    "customerNumber",
    "orderNote",
    "paymentNote",
    "salesChannel",
    "marketingChannel",
    "marketingSubchannel",
    "externalPaymentId",
];

/// A new order and the stock it takes.
#[derive(Debug)]
pub struct NewOrder {
    pub order: Order,
    pub stock: Vec<(StockTarget, i64)>,
}

/// Builds an order from a create-order body. `order_number` is used unless the body
/// carries its own.
pub fn build_order(
    body: &Value,
    catalog: &Catalog,
    order_number: String,
    now: DateTime<Utc>,
) -> Result<NewOrder, ApiError> {
    let Some(fields) = body.as_object() else {
        return Err(ApiError::not_readable(
            "JSON parse error: the order must be a JSON object",
        ));
    };
    let missing: Vec<(String, Value, String)> = REQUIRED
        .iter()
        .filter(|name| fields.get(**name).is_none_or(Value::is_null))
        .map(|name| {
            (
                (*name).to_owned(),
                Value::Null,
                "must not be null".to_owned(),
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::validation("CreateOrderRequest", missing));
    }

    let tax_model = match fields.get("taxModel").and_then(Value::as_str) {
        Some(raw) => TaxModel::parse(raw).ok_or_else(|| {
            ApiError::not_readable(format!(
                "JSON parse error: Cannot deserialize value of type `TaxModel` from String \"{raw}\": not one of the values accepted for Enum class: [GROSS, NET]"
            ))
        })?,
        None => return Err(ApiError::not_readable("JSON parse error: taxModel must be a string")),
    };
    let entry_date = fields
        .get("entryDate")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .ok_or_else(|| {
            ApiError::not_readable(format!(
                "JSON parse error: cannot parse entryDate {}",
                fields.get("entryDate").cloned().unwrap_or(Value::Null)
            ))
        })?;
    for object_field in ["billingAddress", "paymentLineItem"] {
        if !fields.get(object_field).is_some_and(Value::is_object) {
            return Err(ApiError::not_readable(format!(
                "JSON parse error: {object_field} must be an object"
            )));
        }
    }

    let shipping_raw = fields.get("shippingLineItem").filter(|v| !v.is_null());
    let pickup_raw = fields.get("pickupLineItem").filter(|v| !v.is_null());
    if shipping_raw.is_some() && pickup_raw.is_some() {
        return Err(ApiError::validation(
            "CreateOrderRequest",
            vec![(
                "pickupLineItem".into(),
                Value::Null,
                "An order has either a shipping line item or a pickup line item".into(),
            )],
        ));
    }
    let fulfilment = if pickup_raw.is_some() {
        Fulfilment::Pickup
    } else {
        Fulfilment::Shipping
    };

    let raw_lines = fields
        .get("productLineItems")
        .and_then(Value::as_array)
        .filter(|lines| !lines.is_empty() && lines.len() <= MAX_LINES)
        .ok_or_else(|| {
            ApiError::validation(
                "CreateOrderRequest",
                vec![(
                    "productLineItems".into(),
                    Value::Null,
                    format!("must hold 1 to {MAX_LINES} line items"),
                )],
            )
        })?;

    let test_order = fields
        .get("testOrder")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let adjust_stock = !test_order
        && fields
            .get("adjustStock")
            .and_then(Value::as_bool)
            .unwrap_or(true);

    let mut charge_problems = Vec::new();
    for field in [
        "shippingLineItem",
        "pickupLineItem",
        "paymentLineItem",
        "couponLineItem",
    ] {
        let Some(charge) = fields.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        if let Some(price) = charge
            .pointer("/lineItemPrice/amount")
            .and_then(decimal_from_json)
            && !plausible_amount(price)
        {
            charge_problems.push((
                format!("{field}.lineItemPrice.amount"),
                charge
                    .pointer("/lineItemPrice/amount")
                    .cloned()
                    .unwrap_or(Value::Null),
                "is out of range".to_owned(),
            ));
        }
        if let Some(rate) = charge
            .pointer("/lineItemTaxes/0/taxRate")
            .and_then(decimal_from_json)
            && !plausible_rate(rate)
        {
            charge_problems.push((
                format!("{field}.lineItemTaxes[0].taxRate"),
                charge
                    .pointer("/lineItemTaxes/0/taxRate")
                    .cloned()
                    .unwrap_or(Value::Null),
                "must be between 0 and 1".to_owned(),
            ));
        }
    }
    if !charge_problems.is_empty() {
        return Err(ApiError::validation("CreateOrderRequest", charge_problems));
    }

    let mut lines = Vec::new();
    let mut stock: BTreeMap<StockTarget, i64> = BTreeMap::new();
    let mut problems = Vec::new();
    for (index, raw) in raw_lines.iter().enumerate() {
        match build_line(raw, index, catalog, fulfilment) {
            Ok((line, target)) => {
                if let (Some(target), true) = (target, adjust_stock) {
                    *stock.entry(target).or_default() += i64::from(line.initial_quantity);
                }
                lines.push(line);
            }
            Err(mut line_problems) => problems.append(&mut line_problems),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::validation("CreateOrderRequest", problems));
    }

    let currency = fields
        .get("currency")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            raw_lines
                .iter()
                .find_map(|line| line.pointer("/unitPrice/currency").and_then(Value::as_str))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "EUR".to_owned());

    let payment_raw = fields
        .get("paymentLineItem")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let refund_policy = payment_raw
        .get("paymentMethod")
        .and_then(|method| method.get("refund"))
        .and_then(Value::as_str)
        .and_then(RefundPolicy::parse)
        .unwrap_or(RefundPolicy::PartialRefund);

    let mut info = Map::new();
    for name in COPIED {
        if let Some(value) = fields.get(name) {
            info.insert(name.to_owned(), value.clone());
        }
    }
    let billing_address = fields.get("billingAddress").cloned().unwrap_or(Value::Null);
    let shipping_address = match fulfilment {
        Fulfilment::Pickup => Value::Null,
        Fulfilment::Shipping => fields
            .get("shippingAddress")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| billing_address.clone()),
    };

    let mut order = Order {
        id: Uuid::new_v4(),
        order_number: fields
            .get("orderNumber")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or(order_number),
        created_at: now,
        updated_at: now,
        entry_date,
        cart_id: Uuid::new_v4(),
        currency,
        tax_model,
        taxable: fields
            .get("taxable")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        test_order,
        terms_accepted: fields
            .get("termsAndConditionsExplicitlyAccepted")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        viewed: false,
        info,
        billing_address,
        shipping_address,
        fulfilment,
        lines,
        shipping_line: shipping_raw.map(charge_line),
        pickup_line: pickup_raw.map(charge_line),
        payment_line: charge_line(&Value::Object(payment_raw)),
        coupon_line: fields
            .get("couponLineItem")
            .filter(|v| !v.is_null())
            .map(charge_line),
        refund_policy,
        total_received: Decimal::ZERO,
        total_refunded: Decimal::ZERO,
        shippings: Vec::new(),
        pickups: Vec::new(),
        cancelations: Vec::new(),
        returns: Vec::new(),
        payments: Vec::new(),
        refunds: Vec::new(),
        events: Vec::new(),
    };
    let created_lines: Vec<Value> = order
        .lines
        .iter()
        .map(|line| json!({ "quantity": line.initial_quantity, "productLineItemId": line.id }))
        .collect();
    let mut details = Map::new();
    details.insert("lineItems".into(), Value::Array(created_lines));
    order.event(now, "order-created", None, None, details, Vec::new());
    let grand_total = order.totals().grand_total;
    order.open_payment(grand_total, now);

    Ok(NewOrder {
        order,
        stock: stock.into_iter().collect(),
    })
}

type Problem = (String, Value, String);

fn build_line(
    raw: &Value,
    index: usize,
    catalog: &Catalog,
    fulfilment: Fulfilment,
) -> Result<(LineItem, Option<StockTarget>), Vec<Problem>> {
    let at = |field: &str| format!("productLineItems[{index}].{field}");
    let mut problems = Vec::new();
    let quantity = match raw.get("quantity").and_then(Value::as_i64) {
        Some(quantity) if (1..=MAX_LINE_QUANTITY).contains(&quantity) => {
            u32::try_from(quantity).ok()
        }
        _ => None,
    };
    if quantity.is_none() {
        problems.push((
            at("quantity"),
            raw.get("quantity").cloned().unwrap_or(Value::Null),
            format!("must be a whole number from 1 to {MAX_LINE_QUANTITY}"),
        ));
    }
    let product = raw.get("product").cloned().unwrap_or(Value::Null);
    let given_id = product
        .get("_id")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok());
    let given_sku = product.get("sku").and_then(Value::as_str);
    let resolved: Option<ResolvedItem> = given_id
        .and_then(|id| catalog.resolve_id(id))
        .or_else(|| given_sku.and_then(|sku| catalog.resolve_sku(sku)));

    let name = product
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| resolved.as_ref().map(|item| item.name.clone()));
    let sku = given_sku
        .map(str::to_owned)
        .or_else(|| resolved.as_ref().and_then(|item| item.sku.clone()));
    let unit_price = raw
        .pointer("/unitPrice/amount")
        .and_then(decimal_from_json)
        .or_else(|| resolved.as_ref().and_then(|item| item.unit_price));
    if resolved.is_none() && (sku.is_none() || name.is_none()) {
        problems.push((
            at("product"),
            product.clone(),
            "must reference a product or variation of the shop by _id or sku, or carry sku and name".to_owned(),
        ));
    }
    match unit_price {
        None => problems.push((
            at("unitPrice"),
            raw.get("unitPrice").cloned().unwrap_or(Value::Null),
            "must not be null".to_owned(),
        )),
        Some(price) if !plausible_amount(price) => problems.push((
            at("unitPrice.amount"),
            raw.pointer("/unitPrice/amount")
                .cloned()
                .unwrap_or(Value::Null),
            "is out of range".to_owned(),
        )),
        Some(_) => {}
    }
    if let Some(rate) = raw
        .pointer("/lineItemTax/taxRate")
        .and_then(decimal_from_json)
        && !plausible_rate(rate)
    {
        problems.push((
            at("lineItemTax.taxRate"),
            raw.pointer("/lineItemTax/taxRate")
                .cloned()
                .unwrap_or(Value::Null),
            "must be between 0 and 1".to_owned(),
        ));
    }
    let (Some(quantity), Some(unit_price), true) = (quantity, unit_price, problems.is_empty())
    else {
        return Err(problems);
    };

    let tax_class = raw
        .pointer("/lineItemTax/taxClass")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| resolved.as_ref().map(|item| item.tax_class.clone()))
        .unwrap_or_else(|| "REGULAR".to_owned());
    let tax_rate = raw
        .pointer("/lineItemTax/taxRate")
        .and_then(decimal_from_json)
        .unwrap_or_else(|| default_tax_rate(&tax_class));
    let attribute_values = product
        .get("variationAttributeValues")
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|value| {
                    Some((
                        value.get("displayName")?.as_str()?.to_owned(),
                        value.get("value")?.as_str()?.to_owned(),
                    ))
                })
                .collect::<Vec<_>>()
        })
        .filter(|values| !values.is_empty())
        .or_else(|| resolved.as_ref().map(|item| item.attribute_values.clone()))
        .unwrap_or_default();
    let parent_id = resolved
        .as_ref()
        .and_then(|item| item.variation_id.map(|_| item.product_id))
        .or_else(|| {
            product
                .get("variationProductId")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok())
        });
    let snapshot = ProductSnapshot {
        id: resolved
            .as_ref()
            .map(|item| item.variation_id.unwrap_or(item.product_id))
            .or(given_id),
        parent_id,
        sku,
        name: name.unwrap_or_default(),
        essential_features: product
            .get("essentialFeatures")
            .and_then(Value::as_str)
            .map(str::to_owned),
        shipping_weight: product.get("shippingWeight").cloned(),
        default_image_data_uri: product
            .get("defaultImageDataUri")
            .and_then(Value::as_str)
            .map(str::to_owned),
        variation_attribute_values: attribute_values,
    };
    let line = LineItem {
        id: Uuid::new_v4(),
        product: snapshot,
        stock_target: resolved.as_ref().map(|item| item.target),
        unit_price,
        tax_class,
        tax_rate,
        unit_discount: raw.get("unitDiscount").filter(|v| !v.is_null()).cloned(),
        custom_text: raw.get("customText").filter(|v| !v.is_null()).cloned(),
        initial_quantity: quantity,
        buckets: Buckets::new(fulfilment, quantity),
    };
    Ok((line, resolved.map(|item| item.target)))
}

fn charge_line(raw: &Value) -> ChargeLine {
    let price = raw
        .pointer("/lineItemPrice/amount")
        .and_then(decimal_from_json)
        .unwrap_or_default();
    let tax_class = raw
        .get("taxClass")
        .and_then(Value::as_str)
        .unwrap_or("REGULAR")
        .to_owned();
    let tax_rate = raw
        .pointer("/lineItemTaxes/0/taxRate")
        .and_then(decimal_from_json)
        .unwrap_or_else(|| default_tax_rate(&tax_class));
    ChargeLine {
        raw: raw.as_object().cloned().unwrap_or_default(),
        price,
        refunded: Decimal::ZERO,
        tax_class,
        tax_rate,
    }
}
