//! The lenient Beyond models under payloads that drift from the spec the way Beyond does:
//! fields added, optional fields missing or `null`, enum values added. Each property
//! starts from a realistic payload, perturbs it, and checks that the model parses, keeps
//! the known fields (read back from the perturbed JSON itself), and that serialising the
//! parsed value and parsing it again gives the same value.

use beyond::model::{
    AvailabilityState, Order, OrderPaymentStatus, OrderShippingStatus, Product, RefundProcess,
    RefundProcessStatus, ReturnLineItemStatus, ReturnProcess, ShippingProcess,
    ShippingProcessStatus, TaxModel,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

/// What happens to one optional field.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Keep,
    Drop,
    Null,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![4 => Just(Fate::Keep), 1 => Just(Fate::Drop), 1 => Just(Fate::Null)]
}

/// A field Beyond might add one day: any JSON, nested a little.
fn unknown_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A known wire value, or one this client has never heard of.
fn enum_value(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(known).prop_map(str::to_owned),
        // Upper snake case like Beyond's own values, so it looks like a real addition.
        "NEW_[A-Z_]{1,12}",
    ]
}

/// How a payload drifts: the fate of each optional field, the enum values, and fields
/// added at some of the given places.
#[derive(Debug, Clone)]
struct Drift {
    fates: Vec<Fate>,
    enums: Vec<String>,
    added: Vec<(prop::sample::Index, String, Value)>,
}

fn drift(optional: usize, enums: &[&'static [&'static str]]) -> impl Strategy<Value = Drift> {
    let enum_strategies: Vec<_> = enums.iter().map(|known| enum_value(known)).collect();
    (
        prop::collection::vec(fate(), optional),
        enum_strategies,
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                "future[A-Z][a-zA-Z]{0,8}",
                unknown_value(),
            ),
            0..5,
        ),
    )
        .prop_map(|(fates, enums, added)| Drift {
            fates,
            enums,
            added,
        })
}

/// Applies a drift to `base`: enum values first (so a dropped field stays dropped), then
/// drops and nulls, then the added fields (a place that was dropped gets none).
fn apply(
    mut base: Value,
    drift: &Drift,
    optional: &[&str],
    enum_pointers: &[&str],
    places: &[&str],
) -> Value {
    for (pointer, value) in enum_pointers.iter().zip(&drift.enums) {
        if let Some(slot) = base.pointer_mut(pointer) {
            *slot = json!(value);
        }
    }
    for (pointer, fate) in optional.iter().zip(&drift.fates) {
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer has a parent");
        let Some(Value::Object(object)) = base.pointer_mut(parent) else {
            continue;
        };
        match fate {
            Fate::Keep => {}
            Fate::Drop => {
                object.remove(key);
            }
            Fate::Null => {
                if object.contains_key(key) {
                    object.insert(key.to_owned(), Value::Null);
                }
            }
        }
    }
    for (place, key, value) in &drift.added {
        let place: &&str = place.get(places);
        if let Some(Value::Object(object)) = base.pointer_mut(place) {
            object.insert(key.clone(), value.clone());
        }
    }
    base
}

/// Parses, then checks that serialise → parse gives the same value.
fn parse_and_round_trip<T>(json: &Value) -> Result<T, TestCaseError>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let parsed: T = serde_json::from_value(json.clone())
        .map_err(|error| TestCaseError::fail(format!("{error}: {json}")))?;
    let written = serde_json::to_value(&parsed).expect("a model serialises");
    let again: T = serde_json::from_value(written.clone())
        .map_err(|error| TestCaseError::fail(format!("re-parse: {error}: {written}")))?;
    prop_assert_eq!(&again, &parsed, "round trip through {}", written);
    Ok(parsed)
}

fn text_at(json: &Value, pointer: &str) -> Option<String> {
    json.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn count_at(json: &Value, pointer: &str) -> u32 {
    json.pointer(pointer)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

// ---- orders ----------------------------------------------------------------------------

const ORDER_ID: &str = "0f8c1a2e-7b1d-4c3e-9a55-3f4b8e2d6c10";
const LINE_IDS: [&str; 2] = [
    "1a1a1a1a-0000-4000-8000-00000000000a",
    "2b2b2b2b-0000-4000-8000-00000000000b",
];

fn order_line(id: &str, sku: &str, shipped: u32) -> Value {
    json!({
        "_id": id,
        "product": {"_id": "9d9d9d9d-0000-4000-8000-000000000001", "sku": sku, "name": "T-shirt"},
        "quantity": 3, "initialQuantity": 3,
        "unitPrice": {"taxModel": "GROSS", "currency": "EUR", "amount": 19.95},
        "lineItemPrice": {"taxModel": "GROSS", "currency": "EUR", "amount": 59.85},
        "lineItemTax": {"taxClass": "REGULAR", "taxRate": 0.19, "currency": "EUR", "amount": 9.56},
        "shippingStatus": {
            "unshipped": {"quantity": 3 - shipped}, "pending": {"quantity": 0},
            "shipped": {"quantity": shipped}, "delivered": {"quantity": 0}
        },
        "returnStatus": {"returned": {"quantity": 0}, "broken": {"quantity": 0}},
        "cancelationStatus": {"canceled": {"quantity": 0}}
    })
}

fn order_base() -> Value {
    json!({
        "_id": ORDER_ID,
        "orderNumber": "10042",
        "createdAt": "2024-03-01T10:15:00.000",
        "updatedAt": "2024-03-01T10:16:00.123456",
        "canceled": false, "testOrder": false, "taxable": true,
        "paymentStatus": "PAID", "shippingStatus": "PARTIALLY_SHIPPED",
        "currency": "EUR", "taxModel": "GROSS",
        "grandTotal": {"currency": "EUR", "amount": 124.65},
        "subtotal": {"currency": "EUR", "amount": 119.7},
        "taxes": [{"taxClass": "REGULAR", "taxRate": 0.19, "currency": "EUR", "amount": 19.9}],
        "customerEmail": "jan@example.com",
        "billingAddress": {"firstName": "Jan", "lastName": "Jansen", "city": "Amsterdam", "country": "NL"},
        "shippingAddress": {"firstName": "Jan", "lastName": "Jansen", "city": "Amsterdam", "country": "NL"},
        "productLineItems": [order_line(LINE_IDS[0], "TSHIRT-M", 1), order_line(LINE_IDS[1], "MUG-01", 2)],
        "shippingLineItem": {
            "lineItemPrice": {"taxModel": "GROSS", "currency": "EUR", "amount": 4.95},
            "shippingMethod": {"id": "standard", "name": "PostNL"}
        },
        "paymentLineItem": {
            "lineItemPrice": {"taxModel": "GROSS", "currency": "EUR", "amount": 0},
            "paymentMethod": {"id": "ideal", "name": "iDEAL", "refund": "PARTIAL_REFUND"}
        },
        "_links": {"self": {"href": "https://shop.example/api/orders/0f8c1a2e-7b1d-4c3e-9a55-3f4b8e2d6c10"}}
    })
}

const ORDER_OPTIONAL: [&str; 24] = [
    "/orderNumber",
    "/createdAt",
    "/updatedAt",
    "/canceled",
    "/testOrder",
    "/paymentStatus",
    "/shippingStatus",
    "/currency",
    "/taxModel",
    "/grandTotal",
    "/taxes",
    "/customerEmail",
    "/billingAddress/city",
    "/shippingAddress",
    "/shippingLineItem",
    "/paymentLineItem/paymentMethod",
    "/productLineItems/0/product",
    "/productLineItems/0/quantity",
    "/productLineItems/0/lineItemTax",
    "/productLineItems/0/shippingStatus",
    "/productLineItems/1/shippingStatus/shipped",
    "/productLineItems/1/shippingStatus/shipped/quantity",
    "/productLineItems/1/returnStatus",
    "/productLineItems",
];

const ORDER_ENUMS: [&str; 5] = [
    "/paymentStatus",
    "/shippingStatus",
    "/taxModel",
    "/paymentLineItem/paymentMethod/refund",
    "/productLineItems/0/lineItemTax/taxClass",
];

const ORDER_PLACES: [&str; 9] = [
    "",
    "/billingAddress",
    "/productLineItems/0",
    "/productLineItems/0/product",
    "/productLineItems/1/shippingStatus",
    "/productLineItems/1/shippingStatus/shipped",
    "/shippingLineItem/shippingMethod",
    "/paymentLineItem/paymentMethod",
    "/grandTotal",
];

fn order_drift() -> impl Strategy<Value = Drift> {
    drift(
        ORDER_OPTIONAL.len(),
        &[
            &[
                "PAID",
                "PARTIALLY_PAID",
                "PENDING",
                "REFUND_PENDING",
                "VOIDED",
            ],
            &[
                "UNSHIPPED",
                "PARTIALLY_SHIPPED",
                "SHIPPED",
                "DELIVERED",
                "CANCELED",
                "NOT_PICKED_UP",
            ],
            &["GROSS", "NET"],
            &["NO_REFUND", "FULL_REFUND_ONLY", "PARTIAL_REFUND"],
            &["REGULAR", "REDUCED", "EXEMPT"],
        ],
    )
}

// ---- processes and products ------------------------------------------------------------

fn shipping_process_base() -> Value {
    json!({
        "_id": "5e5e5e5e-0000-4000-8000-000000000001",
        "status": "SHIPPED",
        "trackingCode": "3SABCD1234567",
        "trackingLink": "https://jouw.postnl.nl/track-and-trace/3SABCD1234567",
        "packingSlipPdfUri": "https://shop.example/slip.pdf",
        "lineItems": [{"productLineItemId": LINE_IDS[0], "quantity": 1}],
        "_links": {"self": {"href": "https://shop.example/api/orders/x/processes/shipping-processes/y"}}
    })
}

const SHIPPING_OPTIONAL: [&str; 4] = [
    "/trackingCode",
    "/trackingLink",
    "/packingSlipPdfUri",
    "/lineItems",
];

fn return_process_base() -> Value {
    json!({
        "_id": "6f6f6f6f-0000-4000-8000-000000000001",
        "shippingPriceRefund": {"currency": "EUR", "amount": 4.95},
        "_embedded": {"shippingProcess": {"_id": "5e5e5e5e-0000-4000-8000-000000000001", "status": "DELIVERED"}},
        "lineItems": [
            {"productLineItemId": LINE_IDS[0], "quantity": 1, "status": "RETURNED"},
            {"productLineItemId": LINE_IDS[1], "quantity": 2, "status": "BROKEN"}
        ]
    })
}

const RETURN_OPTIONAL: [&str; 4] = [
    "/shippingPriceRefund",
    "/_embedded",
    "/_embedded/shippingProcess/status",
    "/lineItems",
];

fn refund_process_base() -> Value {
    json!({
        "_id": "7a7a7a7a-0000-4000-8000-000000000001",
        "amount": {"currency": "EUR", "amount": 24.9},
        "status": "PENDING",
        "completed": false
    })
}

fn product_base() -> Value {
    json!({
        "_id": "8b8b8b8b-0000-4000-8000-000000000001",
        "sku": "TSHIRT-M",
        "name": "T-shirt",
        "isVariationProduct": false,
        "salesPrice": {"taxModel": "GROSS", "currency": "EUR", "amount": 19.95,
                       "derivedPrice": {"taxModel": "NET", "currency": "EUR", "amount": 16.76, "taxRate": 0.19}},
        "taxClass": "REGULAR",
        "visible": true,
        "lastModifiedAt": "2024-03-01T10:16:00.000",
        "_embedded": {"availability": {
            "availabilityState": "IN_STOCK", "availableStock": 17, "stockThreshold": 2,
            "purchasable": true
        }},
        "_links": {"self": {"href": "https://shop.example/api/products/8b8b8b8b-0000-4000-8000-000000000001"}}
    })
}

const PRODUCT_OPTIONAL: [&str; 9] = [
    "/sku",
    "/name",
    "/salesPrice",
    "/salesPrice/derivedPrice",
    "/taxClass",
    "/lastModifiedAt",
    "/_embedded",
    "/_embedded/availability",
    "/_embedded/availability/availableStock",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn drifted_orders_parse_and_keep_known_fields(drift in order_drift()) {
        let json = apply(order_base(), &drift, &ORDER_OPTIONAL, &ORDER_ENUMS, &ORDER_PLACES);
        let order: Order = parse_and_round_trip(&json)?;

        prop_assert_eq!(order.id, Uuid::parse_str(ORDER_ID).expect("uuid"));
        prop_assert_eq!(order.order_number.clone(), text_at(&json, "/orderNumber"));
        prop_assert_eq!(order.customer_email.clone(), text_at(&json, "/customerEmail"));
        prop_assert_eq!(
            order.payment_status.clone(),
            text_at(&json, "/paymentStatus").map(OrderPaymentStatus::from)
        );
        prop_assert_eq!(
            order.shipping_status.clone(),
            text_at(&json, "/shippingStatus").map(OrderShippingStatus::from)
        );
        prop_assert_eq!(order.tax_model.clone(), text_at(&json, "/taxModel").map(TaxModel::from));
        // A new payment status is kept verbatim, never mistaken for a known one.
        if let Some(status) = &order.payment_status {
            prop_assert_eq!(status.is_known(), !status.as_str().starts_with("NEW_"));
        }
        prop_assert_eq!(
            order.refund_policy().map(|policy| policy.as_str().to_owned()),
            text_at(&json, "/paymentLineItem/paymentMethod/refund")
        );
        prop_assert_eq!(
            order.billing_address.as_ref().and_then(|address| address.city.clone()),
            text_at(&json, "/billingAddress/city")
        );
        prop_assert_eq!(order.is_canceled(), json.get("canceled") == Some(&json!(true))
            || text_at(&json, "/shippingStatus").as_deref() == Some("CANCELED"));

        let lines = json.get("productLineItems").and_then(Value::as_array).cloned().unwrap_or_default();
        prop_assert_eq!(order.product_line_items.len(), lines.len());
        for (index, line) in order.product_line_items.iter().enumerate() {
            let at = |path: &str| format!("/productLineItems/{index}{path}");
            prop_assert_eq!(line.id, Uuid::parse_str(LINE_IDS[index]).expect("uuid"));
            prop_assert_eq!(line.sku().map(str::to_owned), text_at(&json, &at("/product/sku")));
            prop_assert_eq!(line.quantity, count_at(&json, &at("/quantity")));
            prop_assert_eq!(line.shipped_quantity(), count_at(&json, &at("/shippingStatus/shipped/quantity")));
            prop_assert_eq!(line.unshipped_quantity(), count_at(&json, &at("/shippingStatus/unshipped/quantity")));
            prop_assert_eq!(line.canceled_quantity(), count_at(&json, &at("/cancelationStatus/canceled/quantity")));
            prop_assert_eq!(line.broken_quantity(), count_at(&json, &at("/returnStatus/broken/quantity")));
        }
    }

    #[test]
    fn drifted_shipping_processes_parse_and_keep_known_fields(
        drift in drift(SHIPPING_OPTIONAL.len(), &[&["PENDING", "SHIPPED", "DELIVERED"]])
    ) {
        let json = apply(shipping_process_base(), &drift, &SHIPPING_OPTIONAL, &["/status"], &["", "/lineItems/0"]);
        let process: ShippingProcess = parse_and_round_trip(&json)?;
        prop_assert_eq!(Some(process.status), text_at(&json, "/status").map(ShippingProcessStatus::from));
        prop_assert_eq!(process.tracking_code, text_at(&json, "/trackingCode"));
        prop_assert_eq!(process.tracking_link, text_at(&json, "/trackingLink"));
        let lines = json.get("lineItems").and_then(Value::as_array).map_or(0, Vec::len);
        prop_assert_eq!(process.line_items.len(), lines);
    }

    #[test]
    fn drifted_return_processes_parse_and_keep_known_fields(
        drift in drift(RETURN_OPTIONAL.len(), &[&["RETURNED", "BROKEN"], &["RETURNED", "BROKEN"], &["PENDING", "SHIPPED", "DELIVERED"]])
    ) {
        let json = apply(
            return_process_base(), &drift, &RETURN_OPTIONAL,
            &["/lineItems/0/status", "/lineItems/1/status", "/_embedded/shippingProcess/status"],
            &["", "/lineItems/1", "/_embedded", "/_embedded/shippingProcess", "/shippingPriceRefund"],
        );
        let process: ReturnProcess = parse_and_round_trip(&json)?;
        let lines = json.get("lineItems").and_then(Value::as_array).cloned().unwrap_or_default();
        prop_assert_eq!(process.line_items.len(), lines.len());
        for (index, line) in process.line_items.iter().enumerate() {
            prop_assert_eq!(
                Some(line.status.clone()),
                text_at(&json, &format!("/lineItems/{index}/status")).map(ReturnLineItemStatus::from)
            );
            prop_assert_eq!(line.quantity, count_at(&json, &format!("/lineItems/{index}/quantity")));
        }
        prop_assert_eq!(
            process.embedded.shipping_process.as_ref().and_then(|p| p.status.as_ref()).map(|s| s.as_str().to_owned()),
            text_at(&json, "/_embedded/shippingProcess/status")
        );
    }

    #[test]
    fn drifted_refund_processes_parse_and_keep_known_fields(
        drift in drift(2, &[&["PENDING", "PAID", "VOIDED"]])
    ) {
        let json = apply(refund_process_base(), &drift, &["/amount", "/completed"], &["/status"], &[""]);
        let process: RefundProcess = parse_and_round_trip(&json)?;
        prop_assert_eq!(Some(process.status), text_at(&json, "/status").map(RefundProcessStatus::from));
        prop_assert_eq!(process.completed, json.get("completed").and_then(Value::as_bool));
    }

    #[test]
    fn drifted_products_parse_and_keep_known_fields(
        drift in drift(PRODUCT_OPTIONAL.len(), &[&["IN_STOCK", "LOW_STOCK", "OUT_OF_STOCK", "NOT_AVAILABLE"], &["REGULAR", "REDUCED", "EXEMPT"]])
    ) {
        let json = apply(
            product_base(), &drift, &PRODUCT_OPTIONAL,
            &["/_embedded/availability/availabilityState", "/taxClass"],
            &["", "/_embedded", "/_embedded/availability", "/salesPrice"],
        );
        let product: Product = parse_and_round_trip(&json)?;
        prop_assert_eq!(product.sku, text_at(&json, "/sku"));
        let availability = product.embedded.availability.as_ref();
        prop_assert_eq!(
            availability.and_then(|a| a.availability_state.clone()),
            text_at(&json, "/_embedded/availability/availabilityState").map(AvailabilityState::from)
        );
        // `null` stock means stock management is off; it must not read as 0.
        prop_assert_eq!(
            availability.and_then(|a| a.available_stock),
            json.pointer("/_embedded/availability/availableStock").and_then(Value::as_i64)
        );
        prop_assert_eq!(
            product.sales_price.as_ref().map(|price| price.amount.to_string()),
            json.pointer("/salesPrice/amount").map(Value::to_string)
        );
    }
}
