//! Conformance of the models with the official spec: every request `x-examples` and
//! response `examples` payload of the operations we use parses into our types, keeps its
//! key values, and survives a serialize → parse round trip unchanged.

use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_norway::Value;
use uuid::Uuid;

use super::*;

const SPEC_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/beyond-openapi.yaml"
);

/// The 2.6 MB spec, parsed once per test binary.
fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(SPEC_PATH)
            .unwrap_or_else(|e| panic!("cannot read {SPEC_PATH}: {e}"));
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("cannot parse the spec: {e}"))
    })
}

fn operation(path: &str, method: &str) -> &'static Value {
    let op = &spec()["paths"][path][method];
    assert!(!op.is_null(), "the spec has no {method} {path}");
    op
}

/// The first JSON example of a response (`examples: application/hal+json: "<json>"`).
fn response_example(path: &str, method: &str, status: &str) -> &'static str {
    let examples = &operation(path, method)["responses"][status]["examples"];
    first_json_string(examples).unwrap_or_else(|| panic!("no {status} example for {method} {path}"))
}

/// The first JSON `x-examples` of the request body.
fn request_example(path: &str, method: &str) -> &'static str {
    let parameters = operation(path, method)["parameters"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{method} {path} has no parameters"));
    parameters
        .iter()
        .filter(|param| param["in"].as_str() == Some("body"))
        .find_map(|param| first_json_string(&param["x-examples"]))
        .unwrap_or_else(|| panic!("no request example for {method} {path}"))
}

fn first_json_string(examples: &'static Value) -> Option<&'static str> {
    examples
        .as_mapping()?
        .iter()
        .find(|(media, _)| media.as_str().is_some_and(|m| m.contains("json")))
        .and_then(|(_, body)| body.as_str())
}

/// Parses an example, naming the failing JSON path, then checks that serializing and
/// parsing again yields the same value (the sandbox relies on that).
fn parse<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(json: &str) -> T {
    let parsed = parse_only::<T>(json);
    let reserialized = serde_json::to_string(&parsed).expect("serializable");
    let again: T = serde_json::from_str(&reserialized)
        .unwrap_or_else(|e| panic!("round trip failed: {e}\n{reserialized}"));
    assert_eq!(parsed, again, "round trip changed the value");
    parsed
}

/// Parses without the round-trip check, for types holding secrets (no `PartialEq`).
fn parse_only<T: DeserializeOwned>(json: &str) -> T {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer)
        .unwrap_or_else(|e| panic!("parse failed at {}: {}", e.path(), e.inner()))
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("test decimal")
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("test uuid")
}

fn api_error(json: &str) -> ApiErrorBody {
    match ErrorBody::parse(json.as_bytes()) {
        Some(ErrorBody::Api(body)) => body,
        other => panic!("expected a Beyond error body, got {other:?}"),
    }
}

#[test]
fn list_orders_page() {
    let page: Page<Order> = parse(response_example("/orders", "get", "200"));
    let meta = page.page.expect("page meta");
    assert_eq!(
        (
            meta.size,
            meta.total_elements,
            meta.total_pages,
            meta.number
        ),
        (20, 1, 1, 0)
    );
    assert!(page.links.has("unviewed"));
    let order = &page.items()[0];
    assert_eq!(order.shipping_status, Some(OrderShippingStatus::Unshipped));
    let method = order
        .shipping_line_item
        .as_ref()
        .and_then(|s| s.shipping_method.as_ref())
        .expect("shipping method");
    assert_eq!(method.name.as_deref(), Some("Standard"));
    assert_eq!(order.refund_policy(), Some(&RefundPolicy::PartialRefund));
    assert_eq!(
        order
            .shipping_address
            .as_ref()
            .and_then(|a| a.door_code.as_deref()),
        Some("456")
    );
    assert!(!order.product_line_items.is_empty());
}

#[test]
fn get_pickup_order() {
    let order: Order = parse(response_example("/orders/{orderId}", "get", "200"));
    assert_eq!(order.id, uuid("0da86a9c-8633-4c26-9647-e85dda934669"));
    assert_eq!(order.order_number.as_deref(), Some("10001"));
    assert_eq!(
        order.shipping_status,
        Some(OrderShippingStatus::NotPickedUp)
    );
    assert_eq!(order.payment_status, Some(OrderPaymentStatus::Pending));
    assert_eq!(order.canceled, Some(false));
    assert!(order.is_pickup() && order.shipping_address.is_none());
    assert_eq!(order.tax_model, Some(TaxModel::Gross));
    assert_eq!(
        order.created_at.map(|t| t.to_wire()).as_deref(),
        Some("2023-09-26T09:52:57.567")
    );
    assert_eq!(
        order.grand_total.as_ref().map(|m| m.amount),
        Some(dec("62.44"))
    );
    assert_eq!(
        order.net_total.as_ref().map(|m| m.amount),
        Some(dec("53.2687"))
    );
    assert_eq!(order.taxes[0].tax_rate, Some(dec("0.19")));

    let line = &order.product_line_items[0];
    assert_eq!(line.sku(), Some("EB001"));
    assert_eq!((line.quantity, line.initial_quantity), (5, Some(5)));
    assert_eq!(line.not_picked_up_quantity(), 5);
    assert_eq!(line.unshipped_quantity(), 0);
    assert_eq!(line.canceled_quantity(), 0);
    assert_eq!(
        line.pickup_status
            .as_ref()
            .and_then(|p| p.not_picked_up.amount.as_ref())
            .map(|m| m.amount),
        Some(dec("49.95"))
    );
    assert_eq!(
        line.unit_discount.as_ref().map(|m| m.amount),
        Some(dec("-2.997"))
    );
    assert_eq!(
        line.product.variation_parent_id(),
        Some(uuid("0dfed139-6bbb-4570-b314-7fd2af9e177f"))
    );
    assert_eq!(
        line.product.variation_attribute_values[0].value.as_deref(),
        Some("Salted Caramel")
    );

    let pickup = order
        .pickup_line_item
        .as_ref()
        .and_then(|p| p.pickup_option.as_ref())
        .expect("pickup option");
    let location = pickup.embedded.location.as_ref().expect("location");
    assert_eq!(location.store_code.as_deref(), Some("MLC-St-Ives"));
    assert_eq!(
        location.regular_hours.as_ref().map(|h| h.periods.len()),
        Some(2)
    );
    assert_eq!(
        order
            .coupon_line_item
            .as_ref()
            .and_then(|c| c.code.as_deref()),
        Some("SUMMER-SALE-SHOES")
    );
    assert!(order.links.has("cancel"));
}

#[test]
fn cancel_order() {
    let request: CancelOrder = parse(request_example("/orders/{orderId}/cancel", "post"));
    assert_eq!(
        request.comment.as_deref(),
        Some("Customer requested cancelation via email")
    );
    let order: Order = parse(response_example("/orders/{orderId}/cancel", "post", "200"));
    assert!(order.is_canceled());
    assert_eq!(order.shipping_status, Some(OrderShippingStatus::Canceled));
    assert_eq!(
        order.payment_status,
        Some(OrderPaymentStatus::RefundPending)
    );
    assert!(!order.links.has("cancel"));
    // Nanosecond timestamps parse and are written back unchanged.
    assert_eq!(
        order.updated_at.map(|t| t.to_wire()).as_deref(),
        Some("2023-09-26T09:57:26.877250765")
    );
    let line = &order.product_line_items[0];
    assert_eq!(
        line.canceled_quantity(),
        line.initial_quantity.unwrap_or_default()
    );
}

#[test]
fn create_order() {
    let request: CreateOrder = parse(request_example("/orders", "post"));
    assert_eq!(request.order_number.as_deref(), Some("order-number-10001"));
    assert_eq!(
        request.sub_total.as_ref().map(|m| m.amount),
        Some(dec("57.45"))
    );
    assert_eq!(request.product_line_items.len(), 2);
    assert_eq!(
        request.product_line_items[0].product.variation_product_id,
        Some(uuid("2d590f8e-a6a0-4b9e-a216-a5f5c42b6ef9"))
    );
    assert_eq!(request.adjust_stock, Some(false));
    assert_eq!(request.sales_channel.as_deref(), Some("StoreFront"));

    let order: Order = parse(response_example("/orders", "post", "201"));
    assert_eq!(order.product_line_items[0].unshipped_quantity(), 5);
    assert_eq!(order.shipping_status, Some(OrderShippingStatus::Unshipped));
}

#[test]
fn order_events() {
    let page: Page<OrderEvent> = parse(response_example("/orders/{orderId}/events", "get", "200"));
    assert_eq!(page.page.map(|p| p.size), Some(30));
    assert_eq!(page.items().len(), 11);
    assert!(page.items().iter().all(|event| event.kind.is_known()));
    assert_eq!(
        page.items()[0].kind,
        OrderEventType::InvoiceCancelationCreated
    );
    let canceled = page
        .items()
        .iter()
        .find(|event| event.kind == OrderEventType::ItemsCanceled)
        .expect("items-canceled event");
    assert_eq!(canceled.triggered_by.as_deref(), Some("user"));
    assert_eq!(
        canceled.details.cancel_process_id,
        Some(uuid("20e3c34d-b245-46a1-a3ad-367dd07f7a0f"))
    );
    assert_eq!(canceled.details.line_items[0].quantity, 1);
    let refund = page
        .items()
        .iter()
        .find(|e| e.kind == OrderEventType::RefundCreated)
        .expect("refund-created");
    assert_eq!(
        refund.details.amount.as_ref().map(|m| m.amount),
        Some(dec("9.99"))
    );
    let invoice = &page.items()[0];
    assert!(invoice.details.other.contains_key("invoicePdfUri"));
    let created = page.items().last().expect("oldest event");
    assert_eq!(created.kind, OrderEventType::OrderCreated);
    assert_eq!(created.details.line_items.len(), 2);
}

#[test]
fn order_processes_overview() {
    let processes: OrderProcesses = parse(response_example(
        "/orders/{orderId}/processes",
        "get",
        "200",
    ));
    let embedded = &processes.embedded;
    assert_eq!(embedded.payment.len(), 3);
    assert_eq!(embedded.payment[2].status, PaymentProcessStatus::Pending);
    assert!(embedded.payment[2].links.has("mark-paid"));
    assert_eq!(embedded.shipping[0].status, ShippingProcessStatus::Shipped);
    assert_eq!(
        embedded.shipping[0].tracking_code.as_deref(),
        Some("LZ101003859US")
    );
    assert!(embedded.pickup.is_empty() && embedded.refund.is_empty());
    let returned = &embedded.returns[0];
    assert_eq!(
        returned.line_items[0].status,
        ReturnLineItemStatus::Returned
    );
    assert_eq!(
        returned
            .embedded
            .shipping_process
            .as_ref()
            .and_then(|p| p.status.clone()),
        Some(ShippingProcessStatus::Shipped)
    );
    assert!(returned.embedded.pickup_process.is_none());
    assert_eq!(embedded.cancel[0].line_items[0].quantity, 2);
    assert!(processes.links.has("refund-processes"));
}

#[test]
fn process_lists_per_type() {
    let base = "/orders/{orderId}/processes";
    let shippings: Page<ShippingProcess> =
        parse(response_example(&format!("{base}/shippings"), "get", "200"));
    assert_eq!(shippings.items()[0].status, ShippingProcessStatus::Pending);
    let pickups: Page<PickupProcess> =
        parse(response_example(&format!("{base}/pickups"), "get", "200"));
    assert_eq!(pickups.items().len(), 1);
    let cancels: Page<CancelProcess> = parse(response_example(
        &format!("{base}/cancelations"),
        "get",
        "200",
    ));
    assert_eq!(cancels.items()[0].line_items[0].quantity, 3);
    let returns: Page<ReturnProcess> =
        parse(response_example(&format!("{base}/returns"), "get", "200"));
    assert_eq!(returns.items().len(), 1);
    let refunds: Page<RefundProcess> =
        parse(response_example(&format!("{base}/refunds"), "get", "200"));
    assert_eq!(refunds.items()[0].status, RefundProcessStatus::Pending);
    assert_eq!(
        refunds.items()[0].amount.as_ref().map(|m| m.amount),
        Some(dec("19.98"))
    );
    let payments: Page<PaymentProcess> =
        parse(response_example(&format!("{base}/payments"), "get", "200"));
    assert_eq!(payments.items().len(), 1);
    let active_refund: RefundProcess = parse(response_example(
        &format!("{base}/refunds/active"),
        "get",
        "200",
    ));
    assert_eq!(active_refund.completed, Some(false));
    let one_shipping: ShippingProcess = parse(response_example(
        &format!("{base}/shippings/{{shipping-process-id}}"),
        "get",
        "200",
    ));
    assert!(one_shipping.links.has("self"));
}

#[test]
fn shipping_process_lifecycle() {
    let path = "/orders/{orderId}/processes/shippings";
    let request: CreateShippingProcess = parse(request_example(path, "post"));
    assert_eq!(request.send_mail, Some(true));
    assert_eq!(request.create_packing_slip, Some(true));
    assert_eq!(request.line_items[0].quantity, 10);
    assert_eq!(
        request.line_items[0].product_line_item_id,
        uuid("29a50f1b-7619-48f3-99bc-70bc52d48ef2")
    );

    let created: ShippingProcess = parse(response_example(path, "post", "201"));
    assert_eq!(created.status, ShippingProcessStatus::Pending);
    assert!(created.links.has("mark-shipped") && created.links.has("mark-delivered"));

    let pickup_order = api_error(response_example(path, "post", "400"));
    assert_eq!(
        pickup_order.error_id.as_deref(),
        Some("cannot-create-shipping-process")
    );
    assert_eq!(
        pickup_order.details.reason_id.as_deref(),
        Some("order-has-pickup-line-item")
    );
    let unknown_line = api_error(response_example(path, "post", "409"));
    assert_eq!(
        unknown_line.error_id.as_deref(),
        Some("no-such-product-line-item")
    );

    let ship_path = "/orders/{orderId}/processes/shippings/{shipping-process-id}/mark-shipped";
    let mark: MarkShipped = parse(request_example(ship_path, "post"));
    let details = mark.details.expect("details");
    assert_eq!(details.tracking_code.as_deref(), Some("LZ101003859US"));
    assert_eq!(details.send_mail, Some(true));
    let shipped: ShippingProcess = parse(response_example(ship_path, "post", "200"));
    assert_eq!(shipped.status, ShippingProcessStatus::Shipped);
    assert!(!shipped.links.has("mark-shipped"));

    let deliver_path = "/orders/{orderId}/processes/shippings/{shipping-process-id}/mark-delivered";
    let deliver: MarkDelivered = parse(request_example(deliver_path, "post"));
    assert_eq!(deliver.comment.as_deref(), Some("Accepted by a neighbor"));
    let delivered: ShippingProcess = parse(response_example(deliver_path, "post", "200"));
    assert_eq!(delivered.status, ShippingProcessStatus::Delivered);
}

#[test]
fn pickup_process_lifecycle() {
    let path = "/orders/{orderId}/processes/pickups";
    let request: CreatePickupProcess = parse(request_example(path, "post"));
    assert_eq!(request.create_packing_slip, Some(true));
    let created: PickupProcess = parse(response_example(path, "post", "201"));
    assert_eq!(created.status, PickupProcessStatus::ReadyForPickup);
    assert_eq!(created.line_items.len(), 2);
    assert!(created.links.has("mark-picked-up"));
    let duplicate = api_error(response_example(path, "post", "409"));
    assert_eq!(
        duplicate.error_id.as_deref(),
        Some("pickup-process-already-exists")
    );
    let canceled = api_error(response_example(path, "post", "400"));
    assert_eq!(
        canceled.error_id.as_deref(),
        Some("cannot-create-pickup-process")
    );

    let picked_path = "/orders/{orderId}/processes/pickups/{pickup-process-id}/mark-picked-up";
    let mark: MarkPickedUp = parse(request_example(picked_path, "post"));
    assert_eq!(mark.send_mail, Some(true));
    let picked: PickupProcess = parse(response_example(picked_path, "post", "200"));
    assert_eq!(picked.status, PickupProcessStatus::PickedUp);
}

#[test]
fn partial_cancelation() {
    let path = "/orders/{orderId}/processes/cancelations";
    let request: CreateCancelProcess = parse(request_example(path, "post"));
    assert_eq!(request.line_items[0].quantity, 3);
    let created: CancelProcess = parse(response_example(path, "post", "201"));
    assert_eq!(created.id, uuid("14526b95-7f79-44c4-9718-b292a739614e"));
    let refused = api_error(response_example(path, "post", "409"));
    assert_eq!(
        refused.error_id.as_deref(),
        Some("cancel-process-partial-refund-not-allowed")
    );
}

#[test]
fn return_process() {
    let path = "/orders/{orderId}/processes/returns";
    let request: CreateReturnProcess = parse(request_example(path, "post"));
    assert_eq!(request.line_items[0].status, ReturnLineItemStatus::Returned);
    assert_eq!(
        request.shipping_process_id,
        Some(uuid("a9f59770-4f7f-4221-b0ad-0b1efbcc43b3"))
    );
    assert_eq!(request.pickup_process_id, None);
    assert_eq!(
        request.shipping_price_refund.as_ref().map(|m| m.amount),
        Some(dec("4.99"))
    );
    let created: ReturnProcess = parse(response_example(path, "post", "201"));
    assert_eq!(created.line_items[0].quantity, 3);
    assert_eq!(
        created.embedded.shipping_process.as_ref().map(|p| p.id),
        Some(uuid("a9f59770-4f7f-4221-b0ad-0b1efbcc43b3"))
    );
    let refused = api_error(response_example(path, "post", "409"));
    assert_eq!(
        refused.error_id.as_deref(),
        Some("return-process-partial-refund-not-allowed")
    );
}

#[test]
fn mark_payment_paid() {
    let path = "/orders/{orderId}/processes/payments/active/mark-paid";
    let request: MarkPaid = parse(request_example(path, "post"));
    assert_eq!(
        request.details.and_then(|d| d.amount).map(|m| m.amount),
        Some(dec("62.44"))
    );
    let paid: PaymentProcess = parse(response_example(path, "post", "200"));
    assert_eq!(paid.status, PaymentProcessStatus::Paid);
    assert_eq!(paid.completed, Some(true));
}

#[test]
fn products_and_sku_lookup() {
    let product: Product = parse(response_example(
        "/products/search/find-by-sku",
        "get",
        "200",
    ));
    assert_eq!(product.sku.as_deref(), Some("vino020"));
    assert_eq!(product.is_variation_product, Some(false));
    assert_eq!(
        product.sales_price.as_ref().map(|p| p.amount),
        Some(dec("8.7"))
    );
    assert_eq!(
        product
            .sales_price
            .as_ref()
            .and_then(|p| p.derived_price.as_ref())
            .and_then(|d| d.tax_rate),
        Some(dec("0.19"))
    );
    let availability = product.availability().expect("embedded availability");
    assert_eq!(
        availability.availability_state,
        Some(AvailabilityState::InStock)
    );
    assert!(!availability.is_stock_managed());
    assert_eq!(
        product
            .links
            .0
            .get("default-image-data")
            .and_then(|l| l.templated),
        Some(true)
    );

    let page: Page<Product> = parse(response_example("/products", "get", "200"));
    assert_eq!(page.items().len(), 1);
    let by_id: Product = parse(response_example("/products/{productId}", "get", "200"));
    assert!(by_id.availability().is_some());
}

#[test]
fn create_product() {
    let request: CreateProduct = parse(request_example("/products", "post"));
    assert_eq!(
        request.name.as_deref(),
        Some("Tony Highfinger, Poloshirt, Men")
    );
    assert_eq!(
        request.sales_price.as_ref().map(|p| p.amount),
        Some(dec("29.99"))
    );
    assert_eq!(request.variation_attributes.len(), 2);
    assert!(request.other.contains_key("shippingDimension"));
    let created: Product = parse(response_example("/products", "post", "201"));
    assert_eq!(created.sku.as_deref(), Some("123456789-001"));
    let invalid = api_error(response_example("/products", "post", "400"));
    assert_eq!(invalid.error_id.as_deref(), Some("input-validation-failed"));
    let violation = &invalid.details.validation_errors[0];
    assert_eq!(violation.entity.as_deref(), Some("Product"));
    assert_eq!(violation.property.as_deref(), Some("salesPrice"));
    assert!(violation.invalid_value.is_null());
    let limit = api_error(response_example("/products", "post", "409"));
    assert_eq!(limit.error_id.as_deref(), Some("product-limit-exceeded"));
}

#[test]
fn variations() {
    let page: Page<Variation> = parse(response_example(
        "/products/{productId}/variations",
        "get",
        "200",
    ));
    assert_eq!(page.page.map(|p| p.total_elements), Some(12));
    assert_eq!(page.items().len(), 12);
    let first = &page.items()[0];
    assert_eq!(first.sku.as_deref(), Some("1000"));
    assert_eq!(
        first.availability().and_then(|a| a.available_stock),
        Some(100)
    );
    let bad_sort = api_error(response_example(
        "/products/{productId}/variations",
        "get",
        "400",
    ));
    assert_eq!(bad_sort.error_id.as_deref(), Some("invalid-sort-property"));
    let one: Variation = parse(response_example(
        "/products/{productId}/variations/{variationId}",
        "get",
        "200",
    ));
    assert!(one.availability().is_some());
}

#[test]
fn availability_and_stock_management() {
    let base = "/products/{productId}/availability";
    let current: Availability = parse(response_example(base, "get", "200"));
    assert_eq!(current.available_stock, Some(20));
    assert_eq!(current.stock_threshold, Some(2));
    assert!(current.links.has("adjust-available-stock"));

    let adjust_path = format!("{base}/adjust-available-stock");
    let adjust: AdjustAvailableStock = parse(request_example(&adjust_path, "post"));
    assert_eq!(adjust.relative_amount, -1);
    let adjusted: Availability = parse(response_example(&adjust_path, "post", "200"));
    assert_eq!(adjusted.available_stock, Some(9));
    let unmanaged = api_error(response_example(&adjust_path, "post", "409"));
    assert_eq!(
        unmanaged.error_id.as_deref(),
        Some("product.availability.invalid-availability-state")
    );
    assert!(unmanaged.details.other.contains_key("productId"));
    let parent = api_error(response_example(&adjust_path, "post", "400"));
    assert_eq!(parent.error_id.as_deref(), Some("operation-not-available"));

    let enable_path = format!("{base}/enable-stock-management");
    let enable: EnableStockManagement = parse(request_example(&enable_path, "post"));
    assert_eq!(
        (enable.initial_available_stock, enable.stock_threshold),
        (100, Some(2))
    );
    let enabled: Availability = parse(response_example(&enable_path, "post", "200"));
    assert!(enabled.is_stock_managed());
    let already = api_error(response_example(&enable_path, "post", "409"));
    assert_eq!(
        already.error_id.as_deref(),
        Some("product.availability.invalid-availability-state")
    );

    let disable_path = format!("{base}/disable-stock-management");
    let disabled: Availability = parse(response_example(&disable_path, "post", "200"));
    assert_eq!(disabled.available_stock, None);
    assert!(disabled.links.has("enable-stock-management"));

    let variation_base = "/products/{productId}/variations/{variationId}/availability";
    let variation: Availability = parse(response_example(variation_base, "get", "200"));
    assert!(variation.availability_state.is_some());
    let variation_adjust = format!("{variation_base}/adjust-available-stock");
    let _: AdjustAvailableStock = parse(request_example(&variation_adjust, "post"));
    let variation_adjusted: Availability =
        parse(response_example(&variation_adjust, "post", "200"));
    assert_eq!(variation_adjusted.available_stock, Some(99));
    let variation_unmanaged = api_error(response_example(&variation_adjust, "post", "409"));
    assert_eq!(
        variation_unmanaged.error_id.as_deref(),
        Some("product.availability.invalid-availability-state")
    );
}

#[test]
fn signers() {
    use secrecy::ExposeSecret;

    let page: Page<Signer> = parse_only(response_example("/signers", "get", "200"));
    assert_eq!(page.items().len(), 2);
    assert!(page.page.is_none());
    assert!(page.items()[0].shared_secret.is_none());
    assert!(page.items()[0].created_at.is_some());
    let created: Signer = parse_only(response_example("/signers", "post", "200"));
    assert_eq!(
        created.shared_secret.as_ref().map(|s| s.expose_secret()),
        Some("293q1j0r0tungt07fhlo2vcm8t")
    );
    assert!(!format!("{created:?}").contains("293q1j0r0tungt07fhlo2vcm8t"));
    let wire = serde_json::to_value(&created).expect("serializable");
    assert_eq!(wire["sharedSecret"], "293q1j0r0tungt07fhlo2vcm8t");
}

#[test]
fn webhook_subscriptions() {
    let path = "/webhook-subscriptions";
    let request: CreateSubscription = parse(request_example(path, "post"));
    assert_eq!(
        request.event_types,
        vec![
            WebhookEventType::OrderCreated,
            WebhookEventType::ProductCreated
        ]
    );
    let created: Subscription = parse(response_example(path, "post", "201"));
    assert_eq!(created.active, Some(true));
    assert!(created.links.has("deactivate"));
    let overlapping = api_error(response_example(path, "post", "400"));
    assert_eq!(
        overlapping.error_id.as_deref(),
        Some("webhook-overlapping-event-types")
    );
    let no_signer = api_error(response_example(path, "post", "401"));
    assert_eq!(no_signer.error_id.as_deref(), Some("no-signer-defined"));
    let page: Page<Subscription> = parse(response_example(path, "get", "200"));
    assert_eq!(
        page.items()[0].callback_uri.as_deref(),
        Some("http://example.com/test")
    );
}

#[test]
fn oauth_token() {
    use secrecy::ExposeSecret;

    let token: TokenResponse = parse_only(response_example("/oauth/token", "post", "200"));
    assert!(token.access_token.expose_secret().starts_with("eyJ"));
    assert!(token.refresh_token.is_some());
    assert_eq!(token.expires_in, Some(43199));
    assert!(token.scope.contains("user:r"));
    assert_eq!(token.tenant_id, Some(135));
    assert_eq!(token.token_type.as_deref(), Some("bearer"));
    let revoked = ErrorBody::parse(response_example("/oauth/token", "post", "401").as_bytes())
        .expect("oauth error body");
    assert!(matches!(revoked, ErrorBody::OAuth(_)));
    assert_eq!(revoked.error_id(), Some("unauthorized"));
    assert_eq!(revoked.message(), Some("The client was revoked."));
}
