//! Every documented error reaches the caller typed, with its `errorId`, and permanent
//! errors are not retried.

use std::sync::Arc;

use beyond::model::{
    CreateCancelProcess, CreatePickupProcess, CreateProduct, CreateShippingProcess, ProcessLineItem,
};
use beyond::{BeyondClient, BeyondError, ClientConfig, Disposition, StaticToken};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::support::{
    CLIENT_ID, Fixture, READONLY_SHOP, SHOP, client_for, fast_settings, statuses,
};

fn ship(line: Uuid, quantity: u32) -> CreateShippingProcess {
    CreateShippingProcess {
        line_items: vec![ProcessLineItem::new(line, quantity)],
        ..CreateShippingProcess::default()
    }
}

fn assert_permanent(error: &BeyondError, status: StatusCode, error_id: &str) {
    assert_eq!(error.status(), Some(status), "{error:?}");
    assert_eq!(error.error_id(), Some(error_id), "{error:?}");
    assert_eq!(error.disposition(), Disposition::Reject);
    assert!(!error.is_transient());
}

#[tokio::test]
async fn shipping_more_than_unshipped_is_400_and_not_retried() {
    let f = Fixture::start().await;
    let order_id = f.order("paid");
    let line = f
        .client
        .get_order(order_id)
        .await
        .unwrap()
        .product_line_items[0]
        .id;
    let error = f
        .client
        .create_shipping_process(order_id, &ship(line, 5))
        .await
        .unwrap_err();
    assert_permanent(
        &error,
        StatusCode::BAD_REQUEST,
        "cannot-create-shipping-process",
    );
    assert_eq!(
        statuses(&f.journal("POST", "/orders/*/processes/shippings")),
        vec![Some(400)]
    );
}

#[tokio::test]
async fn shipping_a_pickup_order_is_400_with_a_reason() {
    let f = Fixture::start().await;
    let order_id = f.order("pickup");
    let line = f
        .client
        .get_order(order_id)
        .await
        .unwrap()
        .product_line_items[0]
        .id;
    let error = f
        .client
        .create_shipping_process(order_id, &ship(line, 1))
        .await
        .unwrap_err();
    assert_permanent(
        &error,
        StatusCode::BAD_REQUEST,
        "cannot-create-shipping-process",
    );
    assert_eq!(error.reason_id(), Some("order-has-pickup-line-item"));
}

#[tokio::test]
async fn a_second_pickup_process_is_409() {
    let f = Fixture::start().await;
    let order_id = f.order("pickup");
    let body = CreatePickupProcess::default();
    f.client
        .create_pickup_process(order_id, &body)
        .await
        .unwrap();
    let error = f
        .client
        .create_pickup_process(order_id, &body)
        .await
        .unwrap_err();
    assert_permanent(
        &error,
        StatusCode::CONFLICT,
        "pickup-process-already-exists",
    );
}

#[tokio::test]
async fn an_unknown_line_item_is_409() {
    let f = Fixture::start().await;
    let error = f
        .client
        .create_shipping_process(f.order("paid"), &ship(Uuid::new_v4(), 1))
        .await
        .unwrap_err();
    assert_permanent(&error, StatusCode::CONFLICT, "no-such-product-line-item");
}

#[tokio::test]
async fn adjusting_unmanaged_stock_is_409() {
    let f = Fixture::start().await;
    let bag = f
        .client
        .find_product_by_sku("BAG-001")
        .await
        .unwrap()
        .expect("bag");
    let error = f.client.adjust_product_stock(bag.id, 3).await.unwrap_err();
    assert_permanent(
        &error,
        StatusCode::CONFLICT,
        "product.availability.invalid-availability-state",
    );
    assert_eq!(
        f.journal("POST", "/products/*/availability/adjust-available-stock")
            .len(),
        1
    );
}

#[tokio::test]
async fn partial_cancel_with_full_refund_only_is_409() {
    let f = Fixture::start().await;
    let order_id = f.order("full-refund-only");
    let order = f.client.get_order(order_id).await.unwrap();
    let line = &order.product_line_items[0];
    let error = f
        .client
        .create_cancel_process(
            order_id,
            &CreateCancelProcess {
                comment: None,
                line_items: vec![ProcessLineItem::new(line.id, 1)],
            },
        )
        .await
        .unwrap_err();
    assert_permanent(
        &error,
        StatusCode::CONFLICT,
        "cancel-process-partial-refund-not-allowed",
    );
}

#[tokio::test]
async fn an_unknown_order_is_404() {
    let f = Fixture::start().await;
    let error = f.client.get_order(Uuid::new_v4()).await.unwrap_err();
    assert!(error.is_not_found());
    assert_permanent(&error, StatusCode::NOT_FOUND, "resource-not-found");
    assert_eq!(error.operation(), Some("get-order"));
    assert_eq!(f.journal("GET", "/orders/*").len(), 1);
}

#[tokio::test]
async fn invalid_products_carry_validation_errors() {
    let f = Fixture::start().await;
    let body: CreateProduct = serde_json::from_value(json!({ "sku": " " })).unwrap();
    let error = f.client.create_product(&body).await.unwrap_err();
    assert_permanent(&error, StatusCode::BAD_REQUEST, "input-validation-failed");
    assert!(
        error
            .validation_errors()
            .iter()
            .any(|v| v.property.as_deref() == Some("sku"))
    );
}

#[tokio::test]
async fn a_missing_scope_is_403() {
    let f = Fixture::start().await;
    let readonly = client_for(
        &f.sandbox,
        READONLY_SHOP,
        "client-ro",
        "secret-ro",
        fast_settings(),
    );
    let order_id = f.order("ro-new");
    let order = readonly.get_order(order_id).await.unwrap();
    let error = readonly
        .create_shipping_process(order_id, &ship(order.product_line_items[0].id, 1))
        .await
        .unwrap_err();
    assert_permanent(&error, StatusCode::FORBIDDEN, "insufficient_scope");
    assert!(error.message().is_some_and(|m| m.contains("shpr:c")));
}

#[tokio::test]
async fn bad_client_credentials_are_401_from_the_token_endpoint() {
    let f = Fixture::start().await;
    let client = client_for(&f.sandbox, SHOP, CLIENT_ID, "wrong-secret", fast_settings());
    let error = client.get_order(f.order("new")).await.unwrap_err();
    assert_permanent(&error, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(error.operation(), Some("oauth-token-client-credentials"));
    assert_eq!(f.journal("POST", "/oauth/token").len(), 1);
    assert!(f.journal("GET", "/orders/*").is_empty());
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once_then_401_is_final() {
    let f = Fixture::start().await;
    let mut config = ClientConfig::new(&f.sandbox.shop_api_url(SHOP)).unwrap();
    config.http = fast_settings();
    let client = BeyondClient::new(
        &config,
        Arc::new(StaticToken(SecretString::from("not-a-token"))),
    )
    .unwrap();
    let error = client.get_order(f.order("new")).await.unwrap_err();
    assert_permanent(&error, StatusCode::UNAUTHORIZED, "invalid_token");
    // One retry after invalidating, then the 401 stands.
    assert_eq!(
        statuses(&f.journal("GET", "/orders/*")),
        vec![Some(401), Some(401)]
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_transparently() {
    let f = Fixture::start().await;
    let order_id = f.order("new");
    f.client.get_order(order_id).await.unwrap();
    f.sandbox.expire_access_tokens(SHOP).unwrap();
    f.client.get_order(order_id).await.unwrap();
    let calls: Vec<(String, Option<u16>)> = f
        .journal_all()
        .iter()
        .map(|entry| (entry.method.clone(), entry.outcome.status()))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("POST".to_owned(), Some(200)),
            ("GET".to_owned(), Some(200)),
            ("GET".to_owned(), Some(401)),
            ("POST".to_owned(), Some(200)),
            ("GET".to_owned(), Some(200)),
        ]
    );
}

#[tokio::test]
async fn token_endpoint_failures_never_reveal_the_grant() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut settings = fast_settings();
    settings.retry.max_attempts = 1;
    let http = beyond::BeyondHttp::new(&settings).unwrap();
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/api/oauth/token")).unwrap();
    let endpoint = beyond::TokenEndpoint::new(
        http,
        url,
        CLIENT_ID,
        SecretString::from("client-secret-value"),
    );
    let error = endpoint
        .refresh(&SecretString::from("refresh-token-value"))
        .await
        .unwrap_err();
    assert!(matches!(error, BeyondError::Transport { sent: false, .. }));
    for text in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{endpoint:?}"),
    ] {
        assert!(!text.contains("refresh-token-value"), "{text}");
        assert!(!text.contains("client-secret-value"), "{text}");
    }
}
