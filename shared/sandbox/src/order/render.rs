//! The wire shape of orders, processes and events, built with the shared Beyond models
//! (`beyond::model`): the same types the client parses are the ones the sandbox
//! serializes. `root` is the shop's API root (`http://host:port/shops/{shop}/api`).

use beyond::model as m;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    ChargeLine, LineItem, MoneyProcess, Order, OrderEvent, PickupProcess, PickupProcessStatus,
    ProcessPaymentStatus, ReturnProcess, ShippingProcess, ShippingProcessStatus,
};
use crate::money::{TaxModel, tax_of};

fn tax_model(model: TaxModel) -> m::TaxModel {
    match model {
        TaxModel::Gross => m::TaxModel::Gross,
        TaxModel::Net => m::TaxModel::Net,
    }
}

fn money(order: &Order, amount: Decimal) -> m::Money {
    m::Money::new(order.currency.clone(), amount)
}

fn price(order: &Order, amount: Decimal) -> m::Price {
    m::Price::new(tax_model(order.tax_model), order.currency.clone(), amount)
}

fn tax(order: &Order, class: &str, rate: Decimal, amount: Decimal) -> m::Tax {
    m::Tax {
        tax_class: Some(m::TaxClass::from(class)),
        tax_rate: Some(rate),
        currency: order.currency.clone(),
        amount,
    }
}

/// Reads a stored request object into a model type; `None` when it does not fit (the
/// request was lenient, the answer stays well-formed).
fn from_raw<T: DeserializeOwned>(raw: &Map<String, Value>) -> Option<T> {
    serde_json::from_value(Value::Object(raw.clone())).ok()
}

fn text(order: &Order, field: &str) -> Option<String> {
    order
        .info
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub fn order_href(root: &str, order: Uuid) -> String {
    format!("{root}/orders/{order}")
}

/// The full order as `GET /orders/{id}` returns it.
pub fn order(order: &Order, root: &str) -> m::Order {
    let totals = order.totals();
    let initial = order.initial_totals();
    let href = order_href(root, order.id);
    let mut links = m::Links::new()
        .with("self", &href)
        .with("order", &href)
        .with("order-note", format!("{href}/order-note"))
        .with("processes", format!("{href}/processes"))
        .with("events", format!("{href}/events"))
        .with("mark-as-viewed", format!("{href}/mark-as-viewed"));
    if order.cancelable() {
        links.insert("cancel", format!("{href}/cancel"));
    }
    let taxes = totals
        .taxes
        .iter()
        .map(|((class, rate), amount)| tax(order, class, *rate, *amount))
        .collect();
    m::Order {
        id: order.id,
        order_number: Some(order.order_number.clone()),
        created_at: Some(order.created_at.into()),
        updated_at: Some(order.updated_at.into()),
        updated_at_latest: None,
        entry_date: Some(order.entry_date.into()),
        cart_id: Some(order.cart_id.to_string()),
        canceled: Some(order.canceled()),
        payment_status: Some(m::OrderPaymentStatus::from(order.payment_status().as_str())),
        shipping_status: Some(m::OrderShippingStatus::from(
            order.shipping_status().as_str(),
        )),
        viewed: Some(order.viewed),
        test_order: Some(order.test_order),
        taxable: Some(order.taxable),
        terms_and_conditions_explicitly_accepted: Some(order.terms_accepted),
        currency: Some(order.currency.clone()),
        tax_model: Some(tax_model(order.tax_model)),
        subtotal: Some(money(order, totals.subtotal)),
        grand_total: Some(money(order, totals.grand_total)),
        net_total: Some(money(order, totals.net_total)),
        tax_total: Some(money(order, totals.tax_total)),
        taxes,
        initial_subtotal: Some(money(order, initial.subtotal)),
        initial_grand_total: Some(money(order, initial.grand_total)),
        initial_net_total: Some(money(order, initial.net_total)),
        initial_tax_total: Some(money(order, initial.tax_total)),
        total_received: Some(money(order, order.total_received)),
        total_refunded: Some(money(order, order.total_refunded)),
        open_amount: Some(money(order, order.open_amount())),
        customer_email: text(order, "customerEmail"),
        customer_id: text(order, "customerId"),
        customer_number: text(order, "customerNumber"),
        customer_comment: text(order, "customerComment"),
        order_note: text(order, "orderNote"),
        payment_note: text(order, "paymentNote"),
        billing_address: serde_json::from_value(order.billing_address.clone()).ok(),
        shipping_address: serde_json::from_value(order.shipping_address.clone()).ok(),
        product_line_items: order
            .lines
            .iter()
            .map(|line| line_item(order, line, root))
            .collect(),
        shipping_line_item: order
            .shipping_line
            .as_ref()
            .map(|charge| shipping_line(order, charge)),
        pickup_line_item: order
            .pickup_line
            .as_ref()
            .map(|charge| pickup_line(order, charge)),
        payment_line_item: Some(payment_line(order, &order.payment_line)),
        coupon_line_item: order
            .coupon_line
            .as_ref()
            .map(|charge| coupon_line(order, charge)),
        external_payment_id: text(order, "externalPaymentId"),
        external_payment_uri: None,
        sales_channel: text(order, "salesChannel"),
        marketing_channel: text(order, "marketingChannel"),
        marketing_subchannel: text(order, "marketingSubchannel"),
        links,
    }
}

fn bucket(order: &Order, line: &LineItem, quantity: u32) -> m::QuantityBucket {
    m::QuantityBucket::new(
        quantity,
        Some(money(order, line.unit_price * Decimal::from(quantity))),
    )
}

fn line_item(order: &Order, line: &LineItem, root: &str) -> m::ProductLineItem {
    let b = line.buckets;
    let quantity = line.quantity();
    let line_price = line.unit_price * Decimal::from(quantity);
    let unit_discount: Option<m::Money> = line
        .unit_discount
        .clone()
        .and_then(|raw| serde_json::from_value(raw).ok());
    let mut product_links = m::Links::new();
    if let Some(uri) = &line.product.default_image_data_uri {
        product_links.insert("default-image-data", uri.clone());
    }
    if let Some(parent) = line.product.parent_id {
        product_links.insert("variation-product", format!("{root}/products/{parent}"));
    }
    m::ProductLineItem {
        id: line.id,
        product: m::LineItemProduct {
            id: line.product.id,
            sku: line.product.sku.clone(),
            name: Some(line.product.name.clone()),
            essential_features: line.product.essential_features.clone(),
            shipping_weight: line
                .product
                .shipping_weight
                .as_ref()
                .and_then(crate::money::decimal_from_json),
            default_image_data_uri: line.product.default_image_data_uri.clone(),
            variation_attribute_values: line
                .product
                .variation_attribute_values
                .iter()
                .map(|(name, value)| m::VariationAttributeValue {
                    display_name: Some(name.clone()),
                    value: Some(value.clone()),
                })
                .collect(),
            links: product_links,
        },
        quantity,
        initial_quantity: Some(line.initial_quantity),
        unit_price: Some(price(order, line.unit_price)),
        line_item_discount: unit_discount
            .as_ref()
            .map(|unit| money(order, unit.amount * Decimal::from(quantity))),
        unit_discount,
        line_item_price: Some(price(order, line_price)),
        initial_line_item_price: Some(price(
            order,
            line.unit_price * Decimal::from(line.initial_quantity),
        )),
        line_item_tax: Some(tax(
            order,
            &line.tax_class,
            line.tax_rate,
            tax_of(order.tax_model, line_price, line.tax_rate),
        )),
        custom_text: line
            .custom_text
            .clone()
            .and_then(|raw| serde_json::from_value(raw).ok()),
        shipping_status: Some(m::LineShippingBuckets {
            unshipped: bucket(order, line, b.unshipped),
            pending: bucket(order, line, b.pending),
            shipped: bucket(order, line, b.shipped),
            delivered: bucket(order, line, b.delivered),
        }),
        pickup_status: Some(m::LinePickupBuckets {
            not_picked_up: bucket(order, line, b.not_picked_up),
            ready_for_pickup: bucket(order, line, b.ready_for_pickup),
            picked_up: bucket(order, line, b.picked_up),
        }),
        return_status: Some(m::LineReturnBuckets {
            returned: bucket(order, line, b.returned),
            broken: bucket(order, line, b.broken),
        }),
        cancelation_status: Some(m::LineCancelationBuckets {
            canceled: bucket(order, line, b.canceled),
        }),
        unshipped: Some(bucket(order, line, b.unshipped)),
        pending: Some(bucket(order, line, b.pending)),
        shipped: Some(bucket(order, line, b.shipped)),
        delivered: Some(bucket(order, line, b.delivered)),
        returned: Some(bucket(order, line, b.returned)),
        broken: Some(bucket(order, line, b.broken)),
        canceled: Some(bucket(order, line, b.canceled)),
    }
}

/// Prices and taxes of a charge line as they stand now.
fn charge_prices(order: &Order, charge: &ChargeLine) -> (m::Price, m::Price, Vec<m::Tax>) {
    let current = order.charge_price(charge);
    (
        price(order, current),
        price(order, charge.price),
        vec![tax(
            order,
            &charge.tax_class,
            charge.tax_rate,
            tax_of(order.tax_model, current, charge.tax_rate),
        )],
    )
}

fn shipping_line(order: &Order, charge: &ChargeLine) -> m::ShippingLineItem {
    let (current, initial, taxes) = charge_prices(order, charge);
    let stored: Option<m::ShippingLineItem> = from_raw(&charge.raw);
    m::ShippingLineItem {
        line_item_price: Some(current),
        initial_line_item_price: Some(initial),
        tax_class: Some(m::TaxClass::from(charge.tax_class.as_str())),
        line_item_taxes: taxes,
        shipping_method: stored.and_then(|line| line.shipping_method),
    }
}

fn pickup_line(order: &Order, charge: &ChargeLine) -> m::PickupLineItem {
    let (current, initial, taxes) = charge_prices(order, charge);
    let stored: Option<m::PickupLineItem> = from_raw(&charge.raw);
    m::PickupLineItem {
        pickup_option: stored.and_then(|line| line.pickup_option),
        line_item_price: Some(current),
        initial_line_item_price: Some(initial),
        line_item_taxes: taxes,
        tax_class: Some(m::TaxClass::from(charge.tax_class.as_str())),
    }
}

fn payment_line(order: &Order, charge: &ChargeLine) -> m::PaymentLineItem {
    let (current, initial, taxes) = charge_prices(order, charge);
    let stored: Option<m::PaymentLineItem> = from_raw(&charge.raw);
    m::PaymentLineItem {
        line_item_price: Some(current),
        initial_line_item_price: Some(initial),
        tax_class: Some(m::TaxClass::from(charge.tax_class.as_str())),
        line_item_taxes: taxes,
        payment_method: stored.and_then(|line| line.payment_method),
    }
}

fn coupon_line(order: &Order, charge: &ChargeLine) -> m::CouponLineItem {
    let stored: Option<m::CouponLineItem> = from_raw(&charge.raw);
    let (code, campaign) = stored
        .map(|line| (line.code, line.coupon_campaign))
        .unwrap_or_default();
    m::CouponLineItem {
        code,
        line_item_price: Some(price(order, order.charge_price(charge))),
        coupon_campaign: campaign,
    }
}

fn process_lines(lines: &[super::ProcessLine]) -> Vec<m::ProcessLineItem> {
    lines
        .iter()
        .map(|line| m::ProcessLineItem::new(line.line_item, line.quantity))
        .collect()
}

fn shipping_status(status: ShippingProcessStatus) -> m::ShippingProcessStatus {
    m::ShippingProcessStatus::from(status.as_str())
}

pub fn shipping_process(
    order: &Order,
    process: &ShippingProcess,
    root: &str,
) -> m::ShippingProcess {
    let href = format!(
        "{}/processes/shippings/{}",
        order_href(root, order.id),
        process.id
    );
    let mut links = m::Links::new()
        .with("self", &href)
        .with("shipping-process", &href);
    if process.status == ShippingProcessStatus::Pending {
        links.insert("mark-shipped", format!("{href}/mark-shipped"));
    }
    if process.status != ShippingProcessStatus::Delivered {
        links.insert("mark-delivered", format!("{href}/mark-delivered"));
    }
    m::ShippingProcess {
        id: process.id,
        status: shipping_status(process.status),
        tracking_code: process.tracking_code.clone(),
        tracking_link: process.tracking_link.clone(),
        packing_slip_pdf_uri: None,
        line_items: process_lines(&process.lines),
        links,
    }
}

fn pickup_status(status: PickupProcessStatus) -> m::PickupProcessStatus {
    m::PickupProcessStatus::from(status.as_str())
}

pub fn pickup_process(order: &Order, process: &PickupProcess, root: &str) -> m::PickupProcess {
    let href = format!(
        "{}/processes/pickups/{}",
        order_href(root, order.id),
        process.id
    );
    let mut links = m::Links::new()
        .with("self", &href)
        .with("pickup-process", &href);
    if process.status == PickupProcessStatus::ReadyForPickup {
        links.insert("mark-picked-up", format!("{href}/mark-picked-up"));
    }
    m::PickupProcess {
        id: process.id,
        status: pickup_status(process.status),
        packing_slip_pdf_uri: None,
        line_items: process_lines(&process.lines),
        links,
    }
}

pub fn cancel_process(
    order: &Order,
    process: &super::CancelProcess,
    root: &str,
) -> m::CancelProcess {
    let href = format!(
        "{}/processes/cancelations/{}",
        order_href(root, order.id),
        process.id
    );
    m::CancelProcess {
        id: process.id,
        line_items: process_lines(&process.lines),
        links: m::Links::new()
            .with("self", &href)
            .with("cancel-process", &href),
    }
}

pub fn return_process(order: &Order, process: &ReturnProcess, root: &str) -> m::ReturnProcess {
    let href = format!(
        "{}/processes/returns/{}",
        order_href(root, order.id),
        process.id
    );
    let shipping = process.shipping_process.and_then(|id| {
        order
            .shippings
            .iter()
            .find(|shipping| shipping.id == id)
            .map(|shipping| m::ProcessRef {
                id,
                status: Some(shipping_status(shipping.status)),
            })
    });
    let pickup = process.pickup_process.and_then(|id| {
        order
            .pickups
            .iter()
            .find(|pickup| pickup.id == id)
            .map(|pickup| m::ProcessRef {
                id,
                status: Some(pickup_status(pickup.status)),
            })
    });
    m::ReturnProcess {
        id: process.id,
        shipping_price_refund: process
            .shipping_price_refund
            .map(|amount| money(order, amount)),
        pickup_price_refund: process
            .pickup_price_refund
            .map(|amount| money(order, amount)),
        embedded: m::ReturnProcessEmbedded {
            shipping_process: shipping,
            pickup_process: pickup,
        },
        line_items: process
            .lines
            .iter()
            .map(|line| m::ReturnLineItem {
                product_line_item_id: line.line_item,
                quantity: line.quantity,
                status: m::ReturnLineItemStatus::from(line.status.as_str()),
            })
            .collect(),
        links: m::Links::new()
            .with("self", &href)
            .with("return-process", &href),
    }
}

pub fn payment_process(order: &Order, process: &MoneyProcess, root: &str) -> m::PaymentProcess {
    let href = format!(
        "{}/processes/payments/{}",
        order_href(root, order.id),
        process.id
    );
    let mut links = m::Links::new()
        .with("self", &href)
        .with("payment-process", &href);
    if process.status == ProcessPaymentStatus::Pending {
        links.insert("mark-voided", format!("{href}/mark-voided"));
        links.insert("mark-paid", format!("{href}/mark-paid"));
    }
    m::PaymentProcess {
        id: process.id,
        amount: Some(money(order, process.amount)),
        status: m::PaymentProcessStatus::from(process.status.as_str()),
        payment_id: None,
        capture_workflow: None,
        completed: Some(process.status != ProcessPaymentStatus::Pending),
        links,
    }
}

pub fn refund_process(order: &Order, process: &MoneyProcess, root: &str) -> m::RefundProcess {
    let href = format!(
        "{}/processes/refunds/{}",
        order_href(root, order.id),
        process.id
    );
    let mut links = m::Links::new()
        .with("self", &href)
        .with("refund-process", &href);
    if process.status == ProcessPaymentStatus::Pending {
        links.insert("mark-paid", format!("{href}/mark-paid"));
    }
    m::RefundProcess {
        id: process.id,
        amount: Some(money(order, process.amount)),
        status: m::RefundProcessStatus::from(process.status.as_str()),
        completed: Some(process.status != ProcessPaymentStatus::Pending),
        links,
    }
}

/// `GET /orders/{id}/processes`: all six lists embedded, one link per list.
pub fn processes(order: &Order, root: &str) -> m::OrderProcesses {
    let base = format!("{}/processes", order_href(root, order.id));
    m::OrderProcesses {
        embedded: m::OrderProcessesEmbedded {
            payment: order
                .payments
                .iter()
                .map(|p| payment_process(order, p, root))
                .collect(),
            shipping: order
                .shippings
                .iter()
                .map(|p| shipping_process(order, p, root))
                .collect(),
            pickup: order
                .pickups
                .iter()
                .map(|p| pickup_process(order, p, root))
                .collect(),
            returns: order
                .returns
                .iter()
                .map(|p| return_process(order, p, root))
                .collect(),
            cancel: order
                .cancelations
                .iter()
                .map(|p| cancel_process(order, p, root))
                .collect(),
            refund: order
                .refunds
                .iter()
                .map(|p| refund_process(order, p, root))
                .collect(),
        },
        links: m::Links::new()
            .with("self", &base)
            .with("processes", &base)
            .with("payment-processes", format!("{base}/payments"))
            .with("shipping-processes", format!("{base}/shippings"))
            .with("pickup-processes", format!("{base}/pickups"))
            .with("return-processes", format!("{base}/returns"))
            .with("cancel-processes", format!("{base}/cancelations"))
            .with("refund-processes", format!("{base}/refunds")),
    }
}

pub fn event(order: &Order, event: &OrderEvent, root: &str) -> m::OrderEvent {
    let href = order_href(root, order.id);
    let mut links = m::Links::new();
    for (rel, path) in &event.links {
        links.insert(rel.clone(), format!("{href}/{path}"));
    }
    m::OrderEvent {
        kind: m::OrderEventType::from(event.event_type.as_str()),
        triggered_by: event.triggered_by.clone(),
        comment: event.comment.clone(),
        created_at: Some(event.created_at.into()),
        details: serde_json::from_value(Value::Object(event.details.clone())).unwrap_or_default(),
        links,
    }
}
