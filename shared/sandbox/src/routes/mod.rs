//! The Beyond API of every shop, under `/shops/{shop}/api`.

pub mod oauth;
pub mod orders;
pub mod processes;
pub mod products;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post, put};

use crate::core::Core;
use crate::error::ApiError;

pub fn api() -> Router<Arc<Core>> {
    let order = "/shops/{shop}/api/orders/{orderId}";
    let processes = "/shops/{shop}/api/orders/{orderId}/processes";
    let product = "/shops/{shop}/api/products/{productId}";
    let variation = "/shops/{shop}/api/products/{productId}/variations/{variationId}";
    Router::new()
        .route("/shops/{shop}/api/oauth/token", post(oauth::token))
        // products and stock
        .route(
            "/shops/{shop}/api/products",
            get(products::list).post(products::create),
        )
        .route(
            "/shops/{shop}/api/products/search/find-by-sku",
            get(products::find_by_sku),
        )
        .route(product, get(products::get))
        .route(&format!("{product}/variations"), get(products::variations))
        .route(variation, get(products::variation))
        .route(
            &format!("{product}/availability"),
            get(products::availability),
        )
        .route(
            &format!("{product}/availability/adjust-available-stock"),
            post(products::adjust_stock),
        )
        .route(
            &format!("{product}/availability/enable-stock-management"),
            post(products::enable_stock_management),
        )
        .route(
            &format!("{product}/availability/disable-stock-management"),
            post(products::disable_stock_management),
        )
        .route(
            &format!("{product}/availability/update-stock-threshold"),
            put(products::update_threshold),
        )
        .route(
            &format!("{product}/availability/enable-purchasability"),
            post(products::enable_purchasability),
        )
        .route(
            &format!("{product}/availability/disable-purchasability"),
            post(products::disable_purchasability),
        )
        .route(
            &format!("{variation}/availability"),
            get(products::variation_availability),
        )
        .route(
            &format!("{variation}/availability/adjust-available-stock"),
            post(products::variation_adjust_stock),
        )
        .route(
            &format!("{variation}/availability/enable-purchasability"),
            post(products::variation_enable_purchasability),
        )
        .route(
            &format!("{variation}/availability/disable-purchasability"),
            post(products::variation_disable_purchasability),
        )
        // orders
        .route(
            "/shops/{shop}/api/orders",
            get(orders::list).post(orders::create),
        )
        .route(order, get(orders::get))
        .route(&format!("{order}/cancel"), post(orders::cancel))
        .route(
            &format!("{order}/mark-as-viewed"),
            post(orders::mark_as_viewed),
        )
        .route(&format!("{order}/events"), get(orders::events))
        .route(processes, get(processes::overview))
        .route(
            &format!("{processes}/shippings"),
            get(processes::shippings).post(processes::create_shipping),
        )
        .route(
            &format!("{processes}/shippings/{{processId}}"),
            get(processes::shipping),
        )
        .route(
            &format!("{processes}/shippings/{{processId}}/mark-shipped"),
            post(processes::mark_shipped),
        )
        .route(
            &format!("{processes}/shippings/{{processId}}/mark-delivered"),
            post(processes::mark_delivered),
        )
        .route(
            &format!("{processes}/pickups"),
            get(processes::pickups).post(processes::create_pickup),
        )
        .route(
            &format!("{processes}/pickups/{{processId}}"),
            get(processes::pickup),
        )
        .route(
            &format!("{processes}/pickups/{{processId}}/mark-picked-up"),
            post(processes::mark_picked_up),
        )
        .route(
            &format!("{processes}/cancelations"),
            get(processes::cancelations).post(processes::create_cancelation),
        )
        .route(
            &format!("{processes}/cancelations/{{processId}}"),
            get(processes::cancelation),
        )
        .route(
            &format!("{processes}/returns"),
            get(processes::returns).post(processes::create_return),
        )
        .route(
            &format!("{processes}/returns/{{processId}}"),
            get(processes::return_process),
        )
        .route(&format!("{processes}/payments"), get(processes::payments))
        .route(
            &format!("{processes}/payments/active"),
            get(processes::active_payment),
        )
        .route(
            &format!("{processes}/payments/active/mark-paid"),
            post(processes::mark_paid),
        )
        .route(
            &format!("{processes}/payments/{{processId}}"),
            get(processes::payment),
        )
        .route(&format!("{processes}/refunds"), get(processes::refunds))
        .route(
            &format!("{processes}/refunds/active"),
            get(processes::active_refund),
        )
        .route(
            &format!("{processes}/refunds/active/mark-paid"),
            post(processes::mark_refund_paid),
        )
        .route(
            &format!("{processes}/refunds/{{processId}}"),
            get(processes::refund),
        )
        // webhooks
        .route(
            "/shops/{shop}/api/signers",
            get(webhooks::list_signers).post(webhooks::create_signer),
        )
        .route(
            "/shops/{shop}/api/signers/{signerId}",
            axum::routing::delete(webhooks::delete_signer),
        )
        .route(
            "/shops/{shop}/api/webhook-subscriptions",
            get(webhooks::list_subscriptions).post(webhooks::create_subscription),
        )
        .route(
            "/shops/{shop}/api/webhook-subscriptions/{subscriptionId}",
            get(webhooks::get_subscription)
                .put(webhooks::update_subscription)
                .delete(webhooks::delete_subscription),
        )
        .route(
            "/shops/{shop}/api/webhook-subscriptions/{subscriptionId}/activate",
            post(webhooks::activate_subscription),
        )
        .route(
            "/shops/{shop}/api/webhook-subscriptions/{subscriptionId}/deactivate",
            post(webhooks::deactivate_subscription),
        )
}

/// Unknown paths: 404 `resource-not-found` with the path, like Beyond.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(uri.path())
}

/// A known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Request method not supported",
    )
}
