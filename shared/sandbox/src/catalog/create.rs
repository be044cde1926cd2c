//! `POST /products`: validating the create-product body (the spec requires `name` and
//! `taxClass`, and `amount`/`taxModel`/`currency` inside every price) and building the
//! product. SKU uniqueness is checked by the caller against the whole catalog.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Availability, Product};
use crate::error::ApiError;
use crate::money::{decimal_from_json, plausible_amount};

const PRICES: [&str; 3] = ["salesPrice", "listPrice", "manufacturerPrice"];

pub fn build_product(body: &Value, now: DateTime<Utc>) -> Result<Product, ApiError> {
    let Some(fields) = body.as_object() else {
        return Err(ApiError::not_readable(
            "JSON parse error: the product must be a JSON object",
        ));
    };
    let mut problems = Vec::new();
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| !name.trim().is_empty());
    if name.is_none() {
        problems.push(problem(fields, "name", "must not be blank"));
    }
    let tax_class = fields.get("taxClass").and_then(Value::as_str);
    if tax_class.is_none() {
        problems.push(problem(fields, "taxClass", "must not be null"));
    }
    for price in PRICES {
        let Some(value) = fields.get(price).filter(|v| !v.is_null()) else {
            continue;
        };
        if let Some(amount) = value.get("amount").and_then(decimal_from_json)
            && !plausible_amount(amount)
        {
            problems.push((
                format!("{price}.amount"),
                value.get("amount").cloned().unwrap_or(Value::Null),
                "is out of range".to_owned(),
            ));
        }
        for part in ["amount", "taxModel", "currency"] {
            if value.get(part).is_none_or(Value::is_null) {
                problems.push((
                    format!("{price}.{part}"),
                    Value::Null,
                    "must not be null".to_owned(),
                ));
            }
        }
    }
    if fields.get("refPrice").is_some_and(|v| !v.is_null())
        && fields.get("salesPrice").is_none_or(Value::is_null)
    {
        problems.push((
            "salesPrice".to_owned(),
            Value::Null,
            "Sales price is required when reference price is present.".to_owned(),
        ));
    }
    let sku = match fields.get("sku") {
        None | Some(Value::Null) => None,
        Some(Value::String(sku)) if !sku.trim().is_empty() => Some(sku.clone()),
        Some(other) => {
            problems.push((
                "sku".to_owned(),
                other.clone(),
                "must not be blank".to_owned(),
            ));
            None
        }
    };
    let variation_attributes = parse_variation_attributes(fields.get("variationAttributes"));
    let (Some(name), Some(tax_class), true) = (name, tax_class, problems.is_empty()) else {
        return Err(ApiError::validation("Product", problems));
    };

    let sales_price = fields.get("salesPrice").filter(|v| !v.is_null());
    let currency = sales_price
        .and_then(|price| price.get("currency"))
        .and_then(Value::as_str)
        .unwrap_or("EUR")
        .to_owned();
    let mut extra: Map<String, Value> = fields.clone();
    for handled in [
        "_id",
        "sku",
        "name",
        "taxClass",
        "salesPrice",
        "variationAttributes",
    ] {
        extra.remove(handled);
    }
    Ok(Product {
        id: Uuid::new_v4(),
        sku,
        name: name.to_owned(),
        currency,
        sales_price: sales_price
            .and_then(|price| price.get("amount"))
            .and_then(decimal_from_json),
        tax_class: tax_class.to_owned(),
        last_modified_at: now,
        extra,
        availability: Availability::default(),
        variations: (!variation_attributes.is_empty()).then(Vec::new),
        variation_attributes,
    })
}

fn problem(fields: &Map<String, Value>, property: &str, message: &str) -> (String, Value, String) {
    (
        property.to_owned(),
        fields.get(property).cloned().unwrap_or(Value::Null),
        message.to_owned(),
    )
}

fn parse_variation_attributes(raw: Option<&Value>) -> Vec<(String, Vec<String>)> {
    raw.and_then(Value::as_array)
        .map(|attributes| {
            attributes
                .iter()
                .filter_map(|attribute| {
                    let name = attribute.get("displayName")?.as_str()?.to_owned();
                    let values = attribute
                        .get("values")?
                        .as_array()?
                        .iter()
                        .filter_map(|value| value.as_str().map(str::to_owned))
                        .collect();
                    Some((name, values))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requires_name_tax_class_and_complete_prices() {
        let error = build_product(&json!({ "salesPrice": { "amount": 1 } }), Utc::now()).err();
        let body = error.map(|e| e.to_json()).unwrap_or_default();
        let properties: Vec<&str> = body["details"]["validationErrors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["property"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            properties,
            [
                "name",
                "taxClass",
                "salesPrice.taxModel",
                "salesPrice.currency"
            ]
        );
    }

    #[test]
    fn variation_attributes_make_a_variation_product() {
        let product = build_product(
            &json!({
                "name": "Shirt", "taxClass": "REGULAR",
                "salesPrice": { "amount": 29.99, "taxModel": "GROSS", "currency": "EUR" },
                "variationAttributes": [ { "displayName": "size", "values": ["S", "M"] } ],
                "description": "cotton"
            }),
            Utc::now(),
        );
        assert!(product.as_ref().is_ok_and(Product::is_variation_product));
        assert!(product.is_ok_and(|p| p.extra.get("description") == Some(&json!("cotton"))));
    }
}
