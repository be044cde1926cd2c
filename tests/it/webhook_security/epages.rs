//! ePages webhooks: the action comes from the signed body, each signed delivery acts once,
//! an uninstall older than the last install is ignored, and refusals say nothing.

use std::time::{Duration, Instant};

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use connector::epages_webhook::{MAX_SIGNATURES, Outcome, WebhookDelivery};
use connector::ports::Clock;
use domain::tenant::TenantId;

use crate::auth::install::{Harness, harness, install, receive_polls, signed};
use crate::auth::support::{Kind, SHOP, both};
use sandbox::{FaultKind, FaultSpec, FaultTrigger};

both! {
    a_replayed_order_delivery_with_an_uninstall_header_changes_nothing => header_swap,
    a_genuine_uninstall_older_than_the_reinstall_keeps_the_tokens => late_uninstall,
    an_uninstall_is_not_decided_while_the_shop_cannot_be_asked => uninstall_while_the_shop_is_down,
    unknown_tenants_and_bad_signatures_get_the_same_answer => same_answer,
}

async fn tokens_kept(h: &Harness, id: &TenantId) -> bool {
    let paused = h
        .backend
        .stores
        .tenants
        .get(id)
        .await
        .expect("reads")
        .expect("exists")
        .paused;
    let tokens = h.backend.stores.tokens.get(id).await.expect("reads");
    !paused && tokens.is_some()
}

/// Done-when 6.
async fn header_swap(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    let body = r#"{"_id":"0b5a2c4e-0000-4000-8000-000000000006","_payloadType":"order"}"#;
    let genuine = signed(&h, &id, "order.created", body).await;
    assert_eq!(
        h.receiver.handle(&genuine).await.expect("genuine"),
        Outcome::OrderReadRequested
    );
    // The attacker replays it with the unsigned header changed.
    let mut replay = genuine.clone();
    replay.event_type = Some("app.uninstalled".to_owned());
    let refused = h.receiver.handle(&replay).await.expect_err("refused");
    assert_eq!(refused.status(), 400, "{refused}");
    assert!(tokens_kept(&h, &id).await, "not paused, tokens kept");
    // Sent before the genuine one, the swap is refused just the same.
    let fresh = r#"{"_id":"0b5a2c4e-0000-4000-8000-000000000007","_payloadType":"order"}"#;
    let mut first = signed(&h, &id, "order.created", fresh).await;
    first.event_type = Some("app.uninstalled".to_owned());
    assert_eq!(
        h.receiver
            .handle(&first)
            .await
            .expect_err("refused")
            .status(),
        400
    );
    // And the genuine delivery replayed as is: a no-op.
    assert_eq!(
        h.receiver.handle(&genuine).await.expect("replay"),
        Outcome::Duplicate
    );
    assert!(tokens_kept(&h, &id).await, "not paused, tokens kept");
}

/// Done-when 7. ePages app payloads carry no time of their own, so the delivery's time
/// alone cannot tell a late uninstall from a fresh one: the shop is asked (it refuses an
/// uninstalled app's credentials and accepts a re-installed one's).
async fn late_uninstall(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    // The merchant uninstalls; ePages' deliveries (one with a time, one without, as real
    // app payloads are) do not reach us yet.
    // A fake clock is right here: what is tested is the order of installs and uninstalls
    // as the connector's clock stamps them (not a wait or a margin); the steps put them
    // in the order they happen in the world.
    h.backend.clock.advance(chrono::TimeDelta::seconds(5));
    h.sandbox
        .uninstall_app(SHOP)
        .expect("uninstalled in the shop");
    let timed = format!(
        r#"{{"_payloadType":"app","_id":"5b3b0606-bc78-4824-93cf-a2855345ad40","timestamp":"{}"}}"#,
        h.backend.clock.now().format("%Y-%m-%dT%H:%M:%S%.3f")
    );
    let timed = signed(&h, &id, "app.uninstalled", &timed).await;
    let untimed = signed(&h, &id, "app.uninstalled", r#"{"_payloadType":"app"}"#).await;
    // The merchant re-installs; then the old deliveries arrive.
    h.backend.clock.advance(chrono::TimeDelta::seconds(1));
    install(&h).await;
    assert_eq!(
        h.receiver.handle(&timed).await.expect("handled"),
        Outcome::StaleUninstall,
        "older than the re-install by its own time"
    );
    h.backend.clock.advance(chrono::TimeDelta::seconds(1));
    assert_eq!(
        h.receiver.handle(&untimed).await.expect("handled"),
        Outcome::StaleUninstall,
        "no time of its own, but the shop still accepts the app"
    );
    assert!(tokens_kept(&h, &id).await, "not paused, tokens kept");

    // A real uninstall now: the shop refuses the app, and the delivery takes effect.
    h.backend.clock.advance(chrono::TimeDelta::seconds(5));
    h.sandbox
        .uninstall_app(SHOP)
        .expect("uninstalled in the shop");
    let now = signed(
        &h,
        &id,
        "app.uninstalled",
        r#"{"_payloadType":"app","_id":"9d0e0b1c-0000-4000-8000-000000000007"}"#,
    )
    .await;
    assert_eq!(
        h.receiver.handle(&now).await.expect("handled"),
        Outcome::Uninstalled
    );
    assert!(!tokens_kept(&h, &id).await, "paused, tokens deleted");
    // Re-installed, the same delivery replayed is a duplicate.
    install(&h).await;
    assert_eq!(
        h.receiver.handle(&now).await.expect("handled"),
        Outcome::Duplicate
    );
    assert!(tokens_kept(&h, &id).await, "not paused, tokens kept");
}

/// When the shop cannot be asked, an uninstall is neither applied nor dropped: the
/// delivery is answered 503 (ePages retries) and nothing changes.
async fn uninstall_while_the_shop_is_down(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    // A fake clock is right here: what is tested is the order of the install and the
    // uninstall as the connector's clock stamps them (not a wait or a margin), and the
    // step puts the uninstall after the install as it is in the world.
    h.backend.clock.advance(chrono::TimeDelta::seconds(5));
    let fault = h.sandbox.add_fault(FaultSpec {
        trigger: FaultTrigger::Always,
        ..FaultSpec::new(
            "/**",
            FaultKind::Status {
                status: 503,
                retry_after_seconds: None,
            },
        )
    });
    let delivery = signed(&h, &id, "app.uninstalled", r#"{"_payloadType":"app"}"#).await;
    let error = h.receiver.handle(&delivery).await.expect_err("not decided");
    assert_eq!(error.status(), 503);
    assert!(tokens_kept(&h, &id).await, "nothing changed");
    // The retry, once the shop answers (the app was really uninstalled meanwhile).
    h.sandbox.remove_fault(fault);
    h.sandbox
        .uninstall_app(SHOP)
        .expect("uninstalled in the shop");
    assert_eq!(
        h.receiver.handle(&delivery).await.expect("handled"),
        Outcome::Uninstalled
    );
    assert!(!tokens_kept(&h, &id).await, "paused, tokens deleted");
}

fn request(query: &str, signatures: &[String], body: String) -> LambdaFunctionUrlRequest {
    let mut request = LambdaFunctionUrlRequest::default();
    request.raw_query_string = Some(query.to_owned());
    for signature in signatures {
        request.headers.append(
            "x-epages-signature",
            http::HeaderValue::from_str(signature).expect("header value"),
        );
    }
    request.headers.insert(
        "x-epages-webhook-event-type",
        http::HeaderValue::from_static("order.created"),
    );
    request.body = Some(body);
    request
}

/// Done-when 8.
async fn same_answer(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    let body = r#"{"_id":"x","_payloadType":"order"}"#;
    let genuine: WebhookDelivery = signed(&h, &id, "order.created", body).await;
    let query = genuine.query.clone().unwrap_or_default();
    let forged = vec!["c29tZXRoaW5nIGVsc2UgZW50aXJlbHk=".to_owned()];
    let bad_signature = h
        .receiver
        .handle_function_url(&request(&query, &forged, body.to_owned()))
        .await;
    let unknown = h
        .receiver
        .handle_function_url(&request(
            "tenant=nobody-here-at-all",
            &genuine.signatures,
            body.to_owned(),
        ))
        .await;
    let no_tenant = h
        .receiver
        .handle_function_url(&request("", &genuine.signatures, body.to_owned()))
        .await;
    assert_eq!(bad_signature.status_code, 401);
    for other in [&unknown, &no_tenant] {
        assert_eq!(
            (other.status_code, &other.body),
            (bad_signature.status_code, &bad_signature.body)
        );
    }
    assert!(
        receive_polls(&h.queue.queue, 0).await.is_empty(),
        "nothing enqueued"
    );
}

/// Done-when 9: 300 signature values on a 5 MB body are refused before any HMAC or store
/// call (the tenant does not even exist: a store call would be visible as nothing, so the
/// bound is the time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_signatures_on_a_five_megabyte_body_are_refused_quickly() {
    let h = harness(Kind::Embedded).await;
    let id = install(&h).await;
    let body = format!(
        r#"{{"_payloadType":"order","pad":"{}"}}"#,
        "a".repeat(5 * 1024 * 1024)
    );
    let signatures: Vec<String> = (0..300)
        .map(|n| format!("c2lnbmF0dXJlLW51bWJlci0{n:03}="))
        .collect();
    let query = format!("tenant={id}");
    let started = Instant::now();
    let response = h
        .receiver
        .handle_function_url(&request(&query, &signatures, body.clone()))
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(response.status_code, 401 | 413),
        "{:?}",
        response.body
    );
    assert!(elapsed < Duration::from_millis(500), "took {elapsed:?}");
    // Direct calls: too many values, or an oversized body, each on its own.
    let mut delivery = WebhookDelivery {
        query: Some(query),
        signatures: signatures[..MAX_SIGNATURES + 1].to_vec(),
        event_type: Some("order.created".to_owned()),
        body: r#"{"_payloadType":"order"}"#.to_owned(),
    };
    assert_eq!(
        h.receiver
            .handle(&delivery)
            .await
            .expect_err("too many")
            .status(),
        401
    );
    delivery.signatures.truncate(1);
    delivery.body = body;
    assert_eq!(
        h.receiver
            .handle(&delivery)
            .await
            .expect_err("too large")
            .status(),
        413
    );
    assert!(tokens_kept(&h, &id).await);
}
