//! Token grants, refresh-token rotation, authentication and scope errors.

use chrono::Duration;
use reqwest::Method;
use sandbox::ShopConfig;
use serde_json::json;

use super::support::{CLIENT_ID, CLIENT_SECRET, Env, SHOP, order_body};

#[tokio::test]
async fn client_credentials_token_has_the_spec_fields_and_no_refresh_token() {
    let env = Env::start().await;
    let reply = env
        .token_request(
            SHOP,
            "grant_type=client_credentials",
            CLIENT_ID,
            CLIENT_SECRET,
        )
        .await;
    let body = reply.expect(200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 43199);
    assert!(body["tenantId"].is_number());
    assert!(body["iat"].is_number());
    assert!(body["jti"].is_string());
    assert!(body["scope"].as_str().is_some_and(|s| s.contains("ordr:r")));
    assert!(body.get("refresh_token").is_none());
    assert!(
        reply
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"))
    );
}

#[tokio::test]
async fn grant_parameters_are_also_accepted_in_a_form_body() {
    let env = Env::start().await;
    let response = env
        .http
        .post(format!("{}/oauth/token", env.api(SHOP)))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn bad_client_credentials_and_grants_are_oauth_errors() {
    let env = Env::start().await;
    env.token_request(SHOP, "grant_type=client_credentials", CLIENT_ID, "wrong")
        .await
        .expect_error(401, "unauthorized");
    env.token_request(
        SHOP,
        "grant_type=client_credentials",
        "other-app",
        CLIENT_SECRET,
    )
    .await
    .expect_error(401, "unauthorized");
    let no_basic = env
        .http
        .post(format!(
            "{}/oauth/token?grant_type=client_credentials",
            env.api(SHOP)
        ))
        .send()
        .await
        .expect("answered");
    assert_eq!(no_basic.status().as_u16(), 401);
    let reply = env.token_request(SHOP, "", CLIENT_ID, CLIENT_SECRET).await;
    reply.expect_error(400, "invalid_request");
    assert!(reply.body["error_description"].is_string());
    env.token_request(SHOP, "grant_type=password", CLIENT_ID, CLIENT_SECRET)
        .await
        .expect_error(400, "unsupported_grant_type");
    env.token_request(
        SHOP,
        "grant_type=authorization_code",
        CLIENT_ID,
        CLIENT_SECRET,
    )
    .await
    .expect_error(400, "invalid_request");
    env.token_request(
        SHOP,
        "grant_type=authorization_code&code=made-up",
        CLIENT_ID,
        CLIENT_SECRET,
    )
    .await
    .expect_error(400, "invalid_grant");
    env.token_request(
        SHOP,
        "grant_type=refresh_token&refresh_token=made-up",
        CLIENT_ID,
        CLIENT_SECRET,
    )
    .await
    .expect_error(400, "invalid_grant");
}

#[tokio::test]
async fn authorization_codes_are_single_use_and_refresh_tokens_rotate() {
    let env = Env::start().await;
    let code = env
        .sandbox
        .issue_authorization_code(SHOP)
        .expect("code is issued");
    let query = format!("grant_type=authorization_code&code={code}");
    let first = env
        .token_request(SHOP, &query, CLIENT_ID, CLIENT_SECRET)
        .await;
    let refresh = first.expect(200)["refresh_token"]
        .as_str()
        .expect("an authorization-code grant returns a refresh token")
        .to_owned();
    env.token_request(SHOP, &query, CLIENT_ID, CLIENT_SECRET)
        .await
        .expect_error(400, "invalid_grant");

    let refresh_query = format!("grant_type=refresh_token&refresh_token={refresh}");
    let second = env
        .token_request(SHOP, &refresh_query, CLIENT_ID, CLIENT_SECRET)
        .await;
    let rotated = second.expect(200)["refresh_token"]
        .as_str()
        .expect("a refresh returns a new refresh token")
        .to_owned();
    assert_ne!(rotated, refresh);
    let access = second.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    env.call_as(&access, SHOP, Method::GET, "/orders", None)
        .await
        .expect(200);
    // The used refresh token stopped working; the new one works.
    env.token_request(SHOP, &refresh_query, CLIENT_ID, CLIENT_SECRET)
        .await
        .expect_error(400, "invalid_grant");
    env.token_request(
        SHOP,
        &format!("grant_type=refresh_token&refresh_token={rotated}"),
        CLIENT_ID,
        CLIENT_SECRET,
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn missing_unknown_foreign_and_expired_tokens_are_401() {
    let env =
        Env::start_with(ShopConfig::new(SHOP, CLIENT_ID, CLIENT_SECRET).token_lifetime_seconds(60))
            .await;
    env.sandbox
        .register_shop(ShopConfig::new("s2", CLIENT_ID, CLIENT_SECRET))
        .expect("second shop registers");

    env.call_as("", SHOP, Method::GET, "/orders", None)
        .await
        .expect_error(401, "unauthorized");
    env.call_as("not-a-token", SHOP, Method::GET, "/orders", None)
        .await
        .expect_error(401, "invalid_token");
    env.call_as(&env.token, "s2", Method::GET, "/orders", None)
        .await
        .expect_error(401, "invalid_token");

    env.get("/orders").await.expect(200);
    env.sandbox.clock().advance(Duration::seconds(61));
    let expired = env.get("/orders").await;
    expired.expect_error(401, "invalid_token");
    assert!(expired.header("www-authenticate").is_some());
    // A fresh token works again, and the admin can expire tokens on demand.
    let fresh = env.client_credentials_token(SHOP).await;
    env.call_as(&fresh, SHOP, Method::GET, "/orders", None)
        .await
        .expect(200);
    env.sandbox.expire_access_tokens(SHOP).expect("shop exists");
    env.call_as(&fresh, SHOP, Method::GET, "/orders", None)
        .await
        .expect_error(401, "invalid_token");
}

#[tokio::test]
async fn an_unknown_shop_is_404() {
    let env = Env::start().await;
    env.call_as(&env.token, "nope", Method::GET, "/orders", None)
        .await
        .expect_error(404, "resource-not-found");
    env.token_request(
        "nope",
        "grant_type=client_credentials",
        CLIENT_ID,
        CLIENT_SECRET,
    )
    .await
    .expect_error(404, "resource-not-found");
}

#[tokio::test]
async fn every_operation_needs_its_scope() {
    let env =
        Env::start_with(ShopConfig::new(SHOP, CLIENT_ID, CLIENT_SECRET).scopes(&["ordr:r"])).await;
    env.get("/orders").await.expect(200);
    let cases = [
        (
            Method::POST,
            "/orders",
            Some(order_body(&[("X", 1)], false, "PARTIAL_REFUND")),
            "ordr:c",
        ),
        (Method::GET, "/products", None, "prod:r"),
        (
            Method::POST,
            "/products",
            Some(json!({ "name": "x", "taxClass": "REGULAR" })),
            "prod:c",
        ),
        (
            Method::GET,
            "/products/search/find-by-sku?sku=X",
            None,
            "prod:r",
        ),
        (
            Method::GET,
            "/orders/00000000-0000-0000-0000-000000000001/events",
            None,
            "orde:r",
        ),
        (
            Method::GET,
            "/orders/00000000-0000-0000-0000-000000000001/processes",
            None,
            "ordp:r",
        ),
        (
            Method::POST,
            "/orders/00000000-0000-0000-0000-000000000001/processes/shippings",
            Some(json!({})),
            "shpr:c",
        ),
        (
            Method::POST,
            "/orders/00000000-0000-0000-0000-000000000001/cancel",
            None,
            "clpr:c",
        ),
        (
            Method::POST,
            "/orders/00000000-0000-0000-0000-000000000001/processes/returns",
            Some(json!({})),
            "rtpr:c",
        ),
        (
            Method::POST,
            "/orders/00000000-0000-0000-0000-000000000001/processes/payments/active/mark-paid",
            None,
            "pypr:u",
        ),
        (
            Method::GET,
            "/products/00000000-0000-0000-0000-000000000001/availability",
            None,
            "prda:r",
        ),
        (
            Method::POST,
            "/products/00000000-0000-0000-0000-000000000001/availability/adjust-available-stock",
            Some(json!({ "relativeAmount": 1 })),
            "prda:u",
        ),
        (
            Method::POST,
            "/webhook-subscriptions",
            Some(
                json!({ "callbackUri": "http://127.0.0.1:1/hook", "eventTypes": ["product.created"] }),
            ),
            "prod:r",
        ),
    ];
    for (method, path, body, scope) in cases {
        let reply = env.call(method.clone(), path, body).await;
        reply.expect_error(403, "insufficient_scope");
        assert!(
            reply.body["error_description"]
                .as_str()
                .is_some_and(|text| text.contains(scope)),
            "{method} {path}: {}",
            reply.body
        );
    }
}
