//! The wire shape of products, variations and availability, built with the shared Beyond
//! models. Availability links advertise exactly the actions possible now: Beyond switches
//! between `enable-stock-management` and `adjust-available-stock`/`disable-stock-management`.

use beyond::model as m;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::{Availability, AvailabilityState, Product, Variation};
use crate::money::default_tax_rate;

fn state(state: AvailabilityState) -> m::AvailabilityState {
    m::AvailabilityState::from(state.as_str())
}

/// A gross product price with its net `derivedPrice`.
fn sales_price(currency: &str, tax_class: &str, amount: Decimal) -> m::Price {
    let rate = default_tax_rate(tax_class);
    let mut price = m::Price::new(m::TaxModel::Gross, currency, amount);
    price.derived_price = Some(m::DerivedPrice {
        tax_model: Some(m::TaxModel::Net),
        currency: currency.to_owned(),
        amount: (amount / (Decimal::ONE + rate)).round_dp(5),
        tax_rate: Some(rate),
    });
    price
}

fn model(
    derived: AvailabilityState,
    availability: &Availability,
    links: m::Links,
) -> m::Availability {
    m::Availability {
        availability_state: Some(state(derived)),
        available_stock: availability.available_stock(),
        stock_threshold: availability.stock_threshold(),
        purchasable: Some(availability.purchasable),
        links,
    }
}

/// `GET /products/{id}/availability`.
pub fn product_availability(product: &Product, root: &str) -> m::Availability {
    let product_href = format!("{root}/products/{}", product.id);
    let href = format!("{product_href}/availability");
    let (derived, availability) = product.effective_availability();
    let mut links = m::Links::new()
        .with("product", &product_href)
        .with("self", &href);
    links.insert(
        purchasability_rel(availability.purchasable),
        format!("{href}/{}", purchasability_rel(availability.purchasable)),
    );
    let managed: Vec<bool> = match &product.variations {
        None => vec![product.availability.managed],
        Some(variations) => variations.iter().map(|v| v.availability.managed).collect(),
    };
    if managed.iter().any(|managed| !managed) || managed.is_empty() {
        links.insert(
            "enable-stock-management",
            format!("{href}/enable-stock-management"),
        );
    }
    if managed.iter().any(|managed| *managed) {
        if !product.is_variation_product() {
            links.insert(
                "adjust-available-stock",
                format!("{href}/adjust-available-stock"),
            );
        }
        links.insert(
            "update-stock-threshold",
            format!("{href}/update-stock-threshold"),
        );
        links.insert(
            "disable-stock-management",
            format!("{href}/disable-stock-management"),
        );
    }
    model(derived, &availability, links)
}

/// `GET /products/{id}/variations/{variationId}/availability`.
pub fn variation_availability(
    product: &Product,
    variation: &Variation,
    root: &str,
) -> m::Availability {
    let product_href = format!("{root}/products/{}", product.id);
    let href = format!("{product_href}/variations/{}/availability", variation.id);
    let availability = &variation.availability;
    let mut links = m::Links::new()
        .with("product", &product_href)
        .with("self", &href);
    links.insert(
        purchasability_rel(availability.purchasable),
        format!("{href}/{}", purchasability_rel(availability.purchasable)),
    );
    if availability.managed {
        links.insert(
            "adjust-available-stock",
            format!("{href}/adjust-available-stock"),
        );
    }
    model(availability.state(), availability, links)
}

fn purchasability_rel(purchasable: bool) -> &'static str {
    if purchasable {
        "disable-purchasability"
    } else {
        "enable-purchasability"
    }
}

/// The availability embedded in a product or variation: only a `self` link.
fn embedded(
    derived: AvailabilityState,
    availability: &Availability,
    href: String,
) -> m::AvailabilityEmbedded {
    m::AvailabilityEmbedded {
        availability: Some(model(
            derived,
            availability,
            m::Links::new().with("self", href),
        )),
    }
}

/// Which response a product is rendered for: Beyond documents the `variations` and
/// `variation-attributes` links only on `GET /products/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductView {
    Detail,
    Summary,
}

/// `GET /products/{id}` (and list items, `find-by-sku`, create): the shared product model
/// plus the create request's other fields, with Beyond's defaults for the ones never given.
pub fn product(product: &Product, root: &str, view: ProductView) -> Value {
    let href = format!("{root}/products/{}", product.id);
    let (derived, availability) = product.effective_availability();
    let mut links = m::Links::new()
        .with("self", &href)
        .with("availability", format!("{href}/availability"))
        .with("attributes", format!("{href}/attributes"))
        .with("images", format!("{href}/images"));
    if product.is_variation_product() && view == ProductView::Detail {
        links.insert("variations", format!("{href}/variations"));
        links.insert(
            "variation-attributes",
            format!("{href}/variation-attributes"),
        );
    }
    let model = m::Product {
        id: product.id,
        sku: product.sku.clone(),
        name: Some(product.name.clone()),
        is_variation_product: Some(product.is_variation_product()),
        sales_price: product
            .sales_price
            .map(|amount| sales_price(&product.currency, &product.tax_class, amount)),
        list_price: None,
        tax_class: Some(m::TaxClass::from(product.tax_class.as_str())),
        visible: Some(
            product
                .extra
                .get("visible")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        ),
        last_modified_at: Some(product.last_modified_at.into()),
        embedded: embedded(derived, &availability, format!("{href}/availability")),
        links,
    };
    let mut value = serde_json::to_value(&model).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        merge_product_defaults(object, product);
    }
    value
}

/// Fields the shared model does not carry: as given at creation, else Beyond's defaults.
fn merge_product_defaults(object: &mut Map<String, Value>, product: &Product) {
    let defaults = json!({
        "listPrice": null,
        "manufacturerPrice": null,
        "tags": [],
        "productIdentifiers": [],
        "shippingWeight": null,
        "maxOrderQuantity": null,
        "shippingDimension": null,
        "refPrice": null,
        "shippingPeriod": null,
        "pickupPeriod": null,
        "description": null,
        "manufacturer": null,
        "essentialFeatures": null,
        "customText": null,
        "productLabels": [],
    });
    if let Value::Object(defaults) = defaults {
        for (key, default) in defaults {
            let value = product.extra.get(&key).cloned().unwrap_or(default);
            object.insert(key, value);
        }
    }
    let attributes: Vec<Value> = product
        .variation_attributes
        .iter()
        .map(|(name, values)| json!({ "displayName": name, "values": values }))
        .collect();
    object.insert("variationAttributes".into(), Value::Array(attributes));
}

/// One entry of `GET /products/{id}/variations`.
pub fn variation(product: &Product, variation: &Variation, root: &str) -> m::Variation {
    let href = format!("{root}/products/{}/variations/{}", product.id, variation.id);
    let price = variation.sales_price.or(product.sales_price);
    m::Variation {
        id: variation.id,
        sku: Some(variation.sku.clone()),
        variation_attribute_values: variation
            .attribute_values
            .iter()
            .map(|(name, value)| m::VariationAttributeValue {
                display_name: Some(name.clone()),
                value: Some(value.clone()),
            })
            .collect(),
        sales_price: price.map(|amount| sales_price(&product.currency, &product.tax_class, amount)),
        list_price: None,
        tax_class: Some(m::TaxClass::from(product.tax_class.as_str())),
        embedded: embedded(
            variation.availability.state(),
            &variation.availability,
            format!("{href}/availability"),
        ),
        links: m::Links::new()
            .with("self", &href)
            .with("product", format!("{root}/products/{}", product.id))
            .with("images", format!("{href}/images")),
    }
}
