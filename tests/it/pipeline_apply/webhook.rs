//! The Afosto webhook: signatures, deduplication, delivery events → commands → the shop.

use std::sync::Arc;

use connector::afosto_webhook::{
    AfostoWebhook, LambdaFunctionUrlRequest, SIGNATURE_HEADER, TENANT_HEADER, WebhookSettings, sign,
};
use connector::pipeline::apply::result_type;
use connector::ports::activity::TimeRange;
use connector::ports::secrets::SecretNaming;
use connector::ports::{PageRequest, SystemClock};
use domain::activity::ActivityOutcome;
use secrecy::SecretString;
use serde_json::json;

use super::harness::{Backend, Harness, both};

both!(webhook_signatures_dedup_and_delivery_to_the_shop);

const AFOSTO_TENANT: &str = "afosto-tenant-1";

/// Maps `afosto` to `tenant` in the tenant configuration.
pub(crate) async fn map_afosto_tenant(
    stores: &connector::ports::StateStores,
    tenant: &domain::tenant::TenantId,
    afosto: &str,
) {
    let mut config = stores
        .tenants
        .get(tenant)
        .await
        .expect("reads")
        .expect("the tenant exists");
    config.afosto_tenant = Some(afosto.to_owned());
    let outcome = stores
        .tenants
        .update(config, chrono::Utc::now())
        .await
        .expect("updates");
    assert!(matches!(
        outcome,
        connector::ports::tenants::UpdateOutcome::Updated(_)
    ));
}

fn request(body: &str, signature: Option<&str>, tenant: Option<&str>) -> LambdaFunctionUrlRequest {
    let mut request = LambdaFunctionUrlRequest::default();
    if let Some(signature) = signature {
        request
            .headers
            .insert(SIGNATURE_HEADER, signature.parse().expect("header value"));
    }
    if let Some(tenant) = tenant {
        request
            .headers
            .insert(TENANT_HEADER, tenant.parse().expect("header value"));
    }
    request.body = Some(body.to_owned());
    request
}

async fn webhook_signatures_dedup_and_delivery_to_the_shop(backend: Backend) {
    let h = Harness::start(backend).await;
    let settings = WebhookSettings::new(
        SecretNaming::new(format!("apply-tests/{}", h.tenant)).expect("valid prefix"),
    );
    let secret = SecretString::from("whsec-1");
    h.stores
        .secrets
        .put(
            &settings.endpoint_secret(AFOSTO_TENANT),
            SecretString::from(
                json!({ "tenant": h.tenant.as_str(), "secret": "whsec-1" }).to_string(),
            ),
        )
        .await
        .expect("endpoint secret stored");
    map_afosto_tenant(&h.stores, &h.tenant, AFOSTO_TENANT).await;
    let webhook = AfostoWebhook::new(
        h.stores.tenants.clone(),
        h.stores.secrets.clone(),
        h.stores.idempotency.clone(),
        h.stores.activity.clone(),
        h.commands.queue.clone(),
        Arc::new(SystemClock),
        settings,
    );
    let order = h.order("new");
    let body = json!({
        "event": "IN_TRANSIT", "message_id": "msg-1", "entity_id": "delivery-1",
        "entity_type": "delivery", "triggered_at": 1_767_261_600_000_i64,
        "data": { "order": { "meta_data": { "epages_order_id": order } },
                  "track_trace": { "code": "3SAFOSTO" } }
    })
    .to_string();
    let good = sign(&secret, body.as_bytes());
    let wrong_key = sign(&SecretString::from("not-the-secret"), body.as_bytes());
    let tampered = body.replace("3SAFOSTO", "3SEVIL");

    for (case, req) in [
        ("missing", request(&body, None, Some(AFOSTO_TENANT))),
        ("empty", request(&body, Some(" "), Some(AFOSTO_TENANT))),
        (
            "wrong key",
            request(&body, Some(&wrong_key), Some(AFOSTO_TENANT)),
        ),
        (
            "tampered",
            request(&tampered, Some(&good), Some(AFOSTO_TENANT)),
        ),
        (
            "unknown tenant",
            request(&body, Some(&good), Some("someone-else")),
        ),
        ("no tenant", request(&body, Some(&good), None)),
    ] {
        let response = webhook.handle(&req).await;
        assert_eq!(response.status_code, 401, "{case}");
    }
    assert_eq!(
        h.commands.queue.depth().await.expect("depth").total(),
        0,
        "nothing unverified reaches the queue"
    );

    let first = webhook
        .handle(&request(&body, Some(&good), Some(AFOSTO_TENANT)))
        .await;
    assert_eq!(first.status_code, 200, "{:?}", first.body);
    let again = webhook
        .handle(&request(&body, Some(&good), Some(AFOSTO_TENANT)))
        .await;
    assert_eq!(again.status_code, 200);
    assert!(again.body.unwrap_or_default().contains("duplicate"));

    // Other events are acknowledged, and a delivery without an order reference is 422.
    let other = json!({ "event": "ORDER_UPDATED", "message_id": "msg-2", "entity_id": "o-1",
                        "entity_type": "order", "data": {} })
    .to_string();
    let response = webhook
        .handle(&request(
            &other,
            Some(&sign(&secret, other.as_bytes())),
            Some(AFOSTO_TENANT),
        ))
        .await;
    assert_eq!(response.status_code, 200);
    let lacking = json!({ "event": "DELIVERED", "message_id": "msg-3", "entity_id": "delivery-1",
                          "entity_type": "delivery", "data": { "tracking_code": "3SAFOSTO" } })
    .to_string();
    let response = webhook
        .handle(&request(
            &lacking,
            Some(&sign(&secret, lacking.as_bytes())),
            Some(AFOSTO_TENANT),
        ))
        .await;
    assert_eq!(response.status_code, 422);
    assert!(
        response
            .body
            .unwrap_or_default()
            .contains("data.order.meta_data.epages_order_id")
    );
    let log = h
        .stores
        .activity
        .by_tenant(
            &h.tenant,
            TimeRange::default(),
            PageRequest::first(50),
            chrono::Utc::now(),
        )
        .await
        .expect("activity");
    assert!(
        log.items
            .iter()
            .any(|e| e.outcome == ActivityOutcome::Failed && e.action.contains("delivered")),
        "{:?}",
        log.items
    );

    // The one command reaches the shop once.
    assert_eq!(h.commands.queue.depth().await.expect("depth").total(), 1);
    h.drain(5).await;
    assert_eq!(h.applied_writes("/orders/*/processes/shippings"), 1);
    let processes = h.shop.order_processes(order).await.expect("processes");
    assert_eq!(
        processes.embedded.shipping[0].tracking_code.as_deref(),
        Some("3SAFOSTO")
    );
    let events = h.results().await;
    assert_eq!(events.len(), 1);
    assert_eq!(result_type(&events[0]), "command.applied");
    assert_eq!(
        events[0].command_id.as_str(),
        "afosto-in_transit-delivery-1"
    );
}
