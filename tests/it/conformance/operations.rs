//! The Beyond operations epages-sync uses, as (spec path template, method, success status).

use super::spec::Operation;

const fn op(path: &'static str, method: &'static str, status: u16) -> Operation {
    Operation {
        path,
        method,
        status,
    }
}

pub const USED: &[Operation] = &[
    op("/oauth/token", "post", 200),
    op("/orders", "get", 200),
    op("/orders", "post", 201),
    op("/orders/{orderId}", "get", 200),
    op("/orders/{orderId}/events", "get", 200),
    op("/orders/{orderId}/processes", "get", 200),
    op("/orders/{orderId}/processes/shippings", "get", 200),
    op("/orders/{orderId}/processes/shippings", "post", 201),
    op(
        "/orders/{orderId}/processes/shippings/{shipping-process-id}",
        "get",
        200,
    ),
    op(
        "/orders/{orderId}/processes/shippings/{shipping-process-id}/mark-shipped",
        "post",
        200,
    ),
    op(
        "/orders/{orderId}/processes/shippings/{shipping-process-id}/mark-delivered",
        "post",
        200,
    ),
    op("/orders/{orderId}/processes/pickups", "get", 200),
    op("/orders/{orderId}/processes/pickups", "post", 201),
    op(
        "/orders/{orderId}/processes/pickups/{pickup-process-id}/mark-picked-up",
        "post",
        200,
    ),
    op("/orders/{orderId}/cancel", "post", 200),
    op("/orders/{orderId}/processes/cancelations", "get", 200),
    op("/orders/{orderId}/processes/cancelations", "post", 201),
    op("/orders/{orderId}/processes/returns", "get", 200),
    op("/orders/{orderId}/processes/returns", "post", 201),
    op(
        "/orders/{orderId}/processes/payments/active/mark-paid",
        "post",
        200,
    ),
    op("/products", "get", 200),
    op("/products", "post", 201),
    op("/products/search/find-by-sku", "get", 200),
    op("/products/{productId}/variations", "get", 200),
    op("/products/{productId}/availability", "get", 200),
    op(
        "/products/{productId}/availability/adjust-available-stock",
        "post",
        200,
    ),
    op(
        "/products/{productId}/availability/enable-stock-management",
        "post",
        200,
    ),
    op(
        "/products/{productId}/variations/{variationId}/availability",
        "get",
        200,
    ),
    op(
        "/products/{productId}/variations/{variationId}/availability/adjust-available-stock",
        "post",
        200,
    ),
    op("/signers", "get", 200),
    op("/signers", "post", 200),
    op("/webhook-subscriptions", "get", 200),
    op("/webhook-subscriptions", "post", 201),
];
