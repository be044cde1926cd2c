//! Test fixtures: a realistic ePages shipping order as JSON, parsed through the real Beyond
//! model, plus helpers to move pieces between its buckets.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::tenant::{PaymentStatusFilter, TenantId};
use beyond::model::order::Order;

use super::policy::SyncPolicy;

pub const ORDER_ID: &str = "0f8c1a2e-7b1d-4c3e-9a55-3f4b8e2d6c10";
pub const LINE_A: &str = "1a1a1a1a-0000-4000-8000-00000000000a";
pub const LINE_B: &str = "2b2b2b2b-0000-4000-8000-00000000000b";

pub fn line_a() -> Uuid {
    Uuid::parse_str(LINE_A).expect("fixture uuid")
}

pub fn line_b() -> Uuid {
    Uuid::parse_str(LINE_B).expect("fixture uuid")
}

pub fn tenant() -> TenantId {
    TenantId::parse("shop-1").expect("fixture tenant")
}

/// Everything imported: created after the start, test orders excluded, any payment status.
pub fn policy() -> SyncPolicy {
    SyncPolicy {
        sync_start: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        include_test_orders: false,
        payment_filter: PaymentStatusFilter::Any,
    }
}

pub fn detected_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 2, 8, 0, 0).unwrap()
}

pub fn to_order(json: Value) -> Order {
    serde_json::from_value(json).unwrap_or_else(|error| panic!("fixture order: {error}"))
}

fn money(amount: f64) -> Value {
    json!({"currency": "EUR", "amount": amount})
}

fn price(amount: f64) -> Value {
    json!({"taxModel": "GROSS", "currency": "EUR", "amount": amount})
}

/// A line; `variation` makes it a variation (size M) of a parent product.
fn line(
    id: &str,
    product: (&str, &str, &str),
    quantity: u32,
    unit: f64,
    tax: f64,
    variation: bool,
) -> Value {
    let (product_id, sku, name) = product;
    let total = unit * f64::from(quantity);
    let mut product = json!({"_id": product_id, "sku": sku, "name": name});
    if variation {
        product["variationAttributeValues"] = json!([{"displayName": "Size", "value": "M"}]);
        product["_links"] = json!({"variation-product": {
            "href": "https://shop.example/api/products/8e8e8e8e-0000-4000-8000-000000000002"
        }});
    }
    json!({
        "_id": id,
        "product": product,
        "quantity": quantity,
        "initialQuantity": quantity,
        "unitPrice": price(unit),
        "lineItemPrice": price(total),
        "initialLineItemPrice": price(total),
        "lineItemTax": {"taxClass": "REGULAR", "taxRate": 0.19, "currency": "EUR", "amount": tax},
        "shippingStatus": {
            "unshipped": {"quantity": quantity}, "pending": {"quantity": 0},
            "shipped": {"quantity": 0}, "delivered": {"quantity": 0}
        },
        "pickupStatus": {
            "notPickedUp": {"quantity": 0}, "readyForPickup": {"quantity": 0},
            "pickedUp": {"quantity": 0}
        },
        "returnStatus": {"returned": {"quantity": 0}, "broken": {"quantity": 0}},
        "cancelationStatus": {"canceled": {"quantity": 0}}
    })
}

/// A paid shipping order with line A (2 × TSHIRT-RED-M) and line B (1 × MUG-01).
pub fn order_json() -> Value {
    json!({
        "_id": ORDER_ID,
        "orderNumber": "10042",
        "createdAt": "2024-03-01T10:15:00.000",
        "updatedAt": "2024-03-01T10:16:00.000",
        "entryDate": "2024-03-01T10:14:59.000",
        "canceled": false,
        "testOrder": false,
        "taxable": true,
        "paymentStatus": "PAID",
        "shippingStatus": "UNSHIPPED",
        "currency": "EUR",
        "taxModel": "GROSS",
        "subtotal": money(49.4),
        "initialSubtotal": money(49.4),
        "grandTotal": money(54.35),
        "initialGrandTotal": money(54.35),
        "netTotal": money(45.67),
        "taxTotal": money(8.68),
        "taxes": [{"taxClass": "REGULAR", "taxRate": 0.19, "currency": "EUR", "amount": 8.68}],
        "customerEmail": "jan@example.com",
        "customerNumber": "C-1001",
        "customerComment": "Please ring twice.",
        "billingAddress": {
            "firstName": "Jan", "lastName": "Jansen", "street": "Keizersgracht",
            "houseNumber": "12", "addressExtension": "B", "postalCode": "1015 CX",
            "city": "Amsterdam", "country": "nl", "phone": "+31 20 123 4567",
            "company": ""
        },
        "shippingAddress": {
            "firstName": "Jan", "lastName": "Jansen", "street": "Prinsengracht",
            "houseNumber": "300", "postalCode": "1016 HX", "city": "Amsterdam",
            "country": "NL"
        },
        "productLineItems": [
            line(
                LINE_A,
                ("9d9d9d9d-0000-4000-8000-000000000001", "TSHIRT-RED-M", "T-shirt red"),
                2,
                19.95,
                6.37,
                true
            ),
            line(
                LINE_B,
                ("9d9d9d9d-0000-4000-8000-000000000003", "MUG-01", "Mug"),
                1,
                9.5,
                1.52,
                false
            )
        ],
        "shippingLineItem": {
            "lineItemPrice": price(4.95),
            "initialLineItemPrice": price(4.95),
            "taxClass": "REGULAR",
            "lineItemTaxes": [{"taxClass": "REGULAR", "taxRate": 0.19, "currency": "EUR", "amount": 0.79}],
            "shippingMethod": {"id": "standard", "name": "PostNL Standard"}
        },
        "paymentLineItem": {
            "lineItemPrice": price(0.0),
            "paymentMethod": {"id": "ideal", "name": "iDEAL", "onlinePayment": true, "refund": "PARTIAL_REFUND"}
        },
        "_links": {"self": {"href": "https://shop.example/api/orders/0f8c1a2e-7b1d-4c3e-9a55-3f4b8e2d6c10"}}
    })
}

/// Sets a bucket quantity of line `index`, in the nested form ePages sends.
/// `bucket` is one of unshipped, pending, shipped, delivered, notPickedUp,
/// readyForPickup, pickedUp, returned, broken, canceled.
pub fn set_bucket(json: &mut Value, index: usize, bucket: &str, quantity: u32) {
    let group = match bucket {
        "unshipped" | "pending" | "shipped" | "delivered" => "shippingStatus",
        "notPickedUp" | "readyForPickup" | "pickedUp" => "pickupStatus",
        "returned" | "broken" => "returnStatus",
        "canceled" => "cancelationStatus",
        other => panic!("unknown bucket {other}"),
    };
    json["productLineItems"][index][group][bucket] = json!({"quantity": quantity});
}

/// Turns the fixture into a click & collect order: pickup line, no shipping.
pub fn make_pickup(json: &mut Value) {
    json["shippingLineItem"] = Value::Null;
    json["shippingAddress"] = Value::Null;
    json["shippingStatus"] = "NOT_PICKED_UP".into();
    json["pickupLineItem"] = json!({
        "lineItemPrice": price(0.0),
        "pickupOption": {
            "id": "store-ams", "name": "Pick up in Amsterdam",
            "_embedded": {"location": {
                "_id": "78bc1877-018d-4d1a-8498-69a744e05cc7", "storeCode": "AMS-1",
                "companyName": "Shop Amsterdam", "primaryPhone": "+31 20 000 0000",
                "address": {"street": "Damrak", "houseNumber": "1", "postalCode": "1012 LG",
                            "city": "Amsterdam", "country": "NL"}
            }}
        }
    });
    let count = json["productLineItems"].as_array().map_or(0, Vec::len);
    for index in 0..count {
        let initial = json["productLineItems"][index]["initialQuantity"]
            .as_u64()
            .and_then(|quantity| u32::try_from(quantity).ok())
            .unwrap_or(0);
        set_bucket(json, index, "unshipped", 0);
        set_bucket(json, index, "notPickedUp", initial);
    }
}
