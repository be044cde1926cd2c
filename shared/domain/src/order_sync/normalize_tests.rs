//! Unit tests of `normalize`: the mapping, the fallbacks and every import-blocking error.

use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde_json::Value;

use super::fixtures::{line_a, make_pickup, order_json, to_order};
use super::normalize::{InvalidOrder, normalize};
use contracts::order_event::{Amount, CustomerKind, Delivery, TaxModel};

fn amount(text: &str) -> Amount {
    Amount(Decimal::from_str(text).expect("decimal"))
}

fn error_of(json: Value) -> InvalidOrder {
    normalize(&to_order(json)).expect_err("normalize should refuse")
}

#[test]
fn a_shipping_order_normalizes_completely() {
    let order = normalize(&to_order(order_json())).expect("valid");
    assert_eq!(order.order_number, "10042");
    assert_eq!(order.currency, "EUR");
    assert_eq!(order.tax_model, TaxModel::Gross);
    assert!(!order.test_order);
    assert!(order.entry_date.is_some());

    assert_eq!(order.customer.kind, CustomerKind::Private, "blank company");
    assert_eq!(order.customer.email, "jan@example.com");
    assert_eq!(order.customer.customer_number.as_deref(), Some("C-1001"));
    assert_eq!(order.customer.phone.as_deref(), Some("+31 20 123 4567"));

    assert_eq!(order.billing_address.country, "NL", "upper-cased");
    assert_eq!(order.billing_address.house_number.as_deref(), Some("12"));
    assert_eq!(order.billing_address.addition.as_deref(), Some("B"));
    let shipping = order.shipping_address.as_ref().expect("shipping address");
    assert_eq!(shipping.street.as_deref(), Some("Prinsengracht"));

    let Delivery::Shipping(charge) = &order.delivery else {
        panic!("not a shipping order")
    };
    assert_eq!(charge.method_name.as_deref(), Some("PostNL Standard"));
    assert_eq!(charge.price, amount("4.95"));
    assert_eq!(charge.taxes.len(), 1);

    assert_eq!(order.lines.len(), 2);
    let line = &order.lines[0];
    assert_eq!(line.line_item_id, line_a());
    assert_eq!(line.sku, "TSHIRT-RED-M");
    assert_eq!(line.quantity, 2);
    assert_eq!(line.unit_price, amount("19.95"));
    assert_eq!(line.line_price, amount("39.9"));
    assert_eq!(line.variation_attributes[0].value.as_deref(), Some("M"));
    assert!(line.parent_product_id.is_some());
    let tax = line.tax.as_ref().expect("line tax");
    assert_eq!(tax.rate, Some(amount("0.19")));
    assert_eq!(tax.tax_class.as_deref(), Some("REGULAR"));

    assert_eq!(order.totals.grand_total, amount("54.35"));
    assert_eq!(order.totals.shipping, amount("4.95"));
    let payment = order.payment.as_ref().expect("payment");
    assert_eq!(payment.method_name.as_deref(), Some("iDEAL"));
    assert_eq!(payment.status.as_deref(), Some("PAID"));
    assert_eq!(payment.refund_policy.as_deref(), Some("PARTIAL_REFUND"));
    assert_eq!(
        order.notes.customer_comment.as_deref(),
        Some("Please ring twice.")
    );

    let json = serde_json::to_value(&order).expect("serializes");
    assert_eq!(json["lines"][0]["unitPrice"], "19.95", "money is a string");
    assert_eq!(json["delivery"]["method"], "SHIPPING");
}

#[test]
fn a_company_makes_a_business_customer() {
    let mut json = order_json();
    json["billingAddress"]["company"] = "Jansen B.V.".into();
    json["billingAddress"]["vatId"] = "NL123456789B01".into();
    let order = normalize(&to_order(json)).expect("valid");
    assert_eq!(order.customer.kind, CustomerKind::Business);
    assert_eq!(order.customer.vat_id.as_deref(), Some("NL123456789B01"));
}

#[test]
fn the_shipping_address_defaults_to_billing() {
    let mut json = order_json();
    json["shippingAddress"] = Value::Null;
    let order = normalize(&to_order(json)).expect("valid");
    assert_eq!(order.shipping_address, Some(order.billing_address.clone()));
}

#[test]
fn a_pickup_order_has_its_location_and_no_shipping_address() {
    let mut json = order_json();
    make_pickup(&mut json);
    let order = normalize(&to_order(json)).expect("valid");
    assert!(order.shipping_address.is_none());
    let Delivery::Pickup(pickup) = &order.delivery else {
        panic!("not a pickup order")
    };
    assert_eq!(pickup.option_name.as_deref(), Some("Pick up in Amsterdam"));
    let location = pickup.location.as_ref().expect("location");
    assert_eq!(location.store_code.as_deref(), Some("AMS-1"));
    assert_eq!(
        location
            .address
            .as_ref()
            .map(|address| address.country.as_str()),
        Some("NL")
    );
}

#[test]
fn the_email_falls_back_to_the_billing_address() {
    let mut json = order_json();
    json["customerEmail"] = "".into();
    json["billingAddress"]["email"] = "billing@example.com".into();
    let order = normalize(&to_order(json)).expect("valid");
    assert_eq!(order.customer.email, "billing@example.com");
}

#[test]
fn missing_optional_fields_never_fail() {
    let mut json = order_json();
    let object = json.as_object_mut().expect("object");
    for optional in [
        "entryDate",
        "updatedAt",
        "taxable",
        "testOrder",
        "netTotal",
        "taxTotal",
        "taxes",
        "customerNumber",
        "customerComment",
        "shippingAddress",
        "shippingLineItem",
        "paymentLineItem",
        "paymentStatus",
        "initialSubtotal",
        "initialGrandTotal",
        "_links",
    ] {
        object.remove(optional);
    }
    for line in json["productLineItems"]
        .as_array_mut()
        .expect("lines")
        .iter_mut()
    {
        let line = line.as_object_mut().expect("line");
        for optional in [
            "initialQuantity",
            "initialLineItemPrice",
            "lineItemTax",
            "shippingStatus",
            "pickupStatus",
            "returnStatus",
            "cancelationStatus",
        ] {
            line.remove(optional);
        }
        let product = line["product"].as_object_mut().expect("product");
        for optional in ["_id", "name", "variationAttributeValues", "_links"] {
            product.remove(optional);
        }
    }
    let order = normalize(&to_order(json)).expect("optional fields are optional");
    assert!(order.payment.is_none());
    assert!(order.coupon.is_none());
    let Delivery::Shipping(charge) = &order.delivery else {
        panic!("not a shipping order")
    };
    assert_eq!(charge.price, Amount::ZERO);
    assert_eq!(order.lines[0].quantity, 2, "derived from quantity");
    assert!(order.lines[0].name.is_none());
}

/// Breaks one thing in the fixture order.
type Breakage = Box<dyn Fn(&mut Value)>;

#[test]
fn import_blocking_data_is_refused_naming_the_field() {
    let cases: Vec<(&str, Breakage)> = vec![
        ("currency", Box::new(|json| json["currency"] = Value::Null)),
        ("taxModel", Box::new(|json| json["taxModel"] = Value::Null)),
        (
            "orderNumber",
            Box::new(|json| json["orderNumber"] = "  ".into()),
        ),
        (
            "customerEmail",
            Box::new(|json| json["customerEmail"] = Value::Null),
        ),
        (
            "billingAddress",
            Box::new(|json| json["billingAddress"] = Value::Null),
        ),
        (
            "billingAddress.country",
            Box::new(|json| json["billingAddress"]["country"] = Value::Null),
        ),
        (
            "shippingAddress.country",
            Box::new(|json| json["shippingAddress"]["country"] = "Netherlands".into()),
        ),
        (
            "productLineItems",
            Box::new(|json| json["productLineItems"] = serde_json::json!([])),
        ),
        (
            "productLineItems[0].product.sku",
            Box::new(|json| json["productLineItems"][0]["product"]["sku"] = "".into()),
        ),
        (
            "productLineItems[1].unitPrice",
            Box::new(|json| json["productLineItems"][1]["unitPrice"] = Value::Null),
        ),
        (
            "productLineItems[0].unitPrice",
            Box::new(|json| json["productLineItems"][0]["unitPrice"]["currency"] = "USD".into()),
        ),
        (
            "productLineItems[1]._id",
            Box::new(|json| {
                json["productLineItems"][1]["_id"] = json["productLineItems"][0]["_id"].clone()
            }),
        ),
        (
            "grandTotal",
            Box::new(|json| {
                json["grandTotal"] = Value::Null;
                json["initialGrandTotal"] = Value::Null;
            }),
        ),
    ];
    for (field, break_it) in cases {
        let mut json = order_json();
        break_it(&mut json);
        let error = error_of(json);
        assert_eq!(error.field(), field, "{error}");
    }
}

#[test]
fn errors_explain_themselves() {
    let mut json = order_json();
    json["taxModel"] = "MIXED".into();
    let error = error_of(json);
    assert!(matches!(error, InvalidOrder::Unsupported { .. }));
    assert!(error.to_string().contains("MIXED"), "{error}");

    let mut json = order_json();
    json["shippingLineItem"]["lineItemTaxes"][0]["currency"] = "GBP".into();
    let error = error_of(json);
    assert_eq!(
        error.field(),
        "shippingLineItem.lineItemTaxes[0].amount",
        "{error}"
    );
    assert!(error.to_string().contains("GBP"), "{error}");
}

const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/beyond-openapi.yaml"
);

/// The spec's `GET /orders/{orderId}` example: a pickup order.
fn spec_order_example() -> &'static Value {
    static EXAMPLE: OnceLock<Value> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|error| panic!("cannot read {SPEC_PATH}: {error}"));
        let spec: Value =
            serde_norway::from_str(&text).unwrap_or_else(|error| panic!("spec: {error}"));
        let examples = &spec["paths"]["/orders/{orderId}"]["get"]["responses"]["200"]["examples"];
        let text = examples
            .as_object()
            .and_then(|examples| examples.values().find_map(Value::as_str))
            .unwrap_or_else(|| panic!("no example for GET /orders/{{orderId}}"));
        serde_json::from_str(text).unwrap_or_else(|error| panic!("example: {error}"))
    })
}

#[test]
fn the_spec_example_order_normalizes() {
    let order = normalize(&to_order(spec_order_example().clone())).expect("valid");
    assert_eq!(order.order_number, "10001");
    assert_eq!(order.customer.kind, CustomerKind::Business);
    assert_eq!(order.lines[0].sku, "EB001");
    assert_eq!(order.lines[0].line_discount, Some(amount("-14.99")));
    assert_eq!(order.totals.net_total, Some(amount("53.2687")));
    let Delivery::Pickup(pickup) = &order.delivery else {
        panic!("the spec example is a pickup order")
    };
    assert!(pickup.location.is_some());
    assert_eq!(
        order
            .coupon
            .as_ref()
            .and_then(|coupon| coupon.code.as_deref()),
        Some("SUMMER-SALE-SHOES")
    );
}
