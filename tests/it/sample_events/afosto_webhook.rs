//! `afosto-webhook.json`: Afosto's signed `IN_TRANSIT` delivery to the Function URL.

use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use connector::afosto_webhook::{AfostoWebhook, SIGNATURE_HEADER, WebhookSettings};
use connector::lambda::ReceiveAfostoWebhooks;
use contracts::command::parse_command;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{AFOSTO_TENANT, ORDER_NUMBER, SAMPLE_SECRET, TENANT, drain, event, files};
use crate::auth::support::{Backend, Kind};

fn status_of(response: &LambdaFunctionUrlResponse) -> (i64, Value) {
    let body = response.body.as_deref().unwrap_or("null");
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    (response.status_code, body["status"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signed_delivery_becomes_one_ship_command_and_a_forged_one_nothing() {
    let backend = Backend::open(Kind::Embedded).await;
    let commands = crate::support::embedded::queue_pair(QueueSpec::fifo("commands")).await;
    let settings = WebhookSettings::new(backend.naming.clone());
    // The endpoint secret and the tenant it maps to, as the operator stores them.
    let endpoint = json!({ "tenant": TENANT, "secret": SAMPLE_SECRET });
    backend
        .stores
        .secrets
        .put(
            &settings.endpoint_secret(AFOSTO_TENANT),
            SecretString::from(endpoint.to_string()),
        )
        .await
        .expect("endpoint secret stored");
    let stores = &backend.stores;
    // The tenant that the Afosto tenant is mapped to, as `tenant add --afosto-tenant` does.
    let mut config = domain::tenant::TenantConfig::new(
        domain::tenant::TenantId::parse(TENANT).expect("valid id"),
        url::Url::parse("https://sample-shop.beyondshop.cloud/api").expect("valid url"),
        domain::tenant::AuthMode::ClientCredentials,
        "client",
        backend
            .naming
            .tenant_client_secret(&domain::tenant::TenantId::parse(TENANT).expect("valid id")),
        chrono::Utc::now(),
    );
    config.afosto_tenant = Some(AFOSTO_TENANT.to_owned());
    stores
        .tenants
        .create(config, chrono::Utc::now())
        .await
        .expect("tenant stored");
    let handler = ReceiveAfostoWebhooks::new(AfostoWebhook::new(
        stores.tenants.clone(),
        stores.secrets.clone(),
        stores.idempotency.clone(),
        stores.activity.clone(),
        commands.queue.clone(),
        backend.dyn_clock(),
        settings,
    ));

    let mut forged =
        event::<LambdaFunctionUrlRequest>("afosto-webhook.json", files::AFOSTO_WEBHOOK);
    let signature = forged
        .payload
        .headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .expect("the sample is signed")
        .to_owned();
    let altered = super::one_character_off(&signature);
    forged.payload.headers.insert(
        SIGNATURE_HEADER,
        http::HeaderValue::from_str(&altered).expect("a header value"),
    );
    let response = handler.handle(forged).await.expect("answered");
    assert_eq!(status_of(&response), (401, json!("unauthorized")));
    let queued = drain(commands.queue.as_ref(), Duration::from_millis(100)).await;
    assert!(queued.is_empty(), "a forged delivery queues nothing");

    let sample = || event::<LambdaFunctionUrlRequest>("afosto-webhook.json", files::AFOSTO_WEBHOOK);
    let response = handler.handle(sample()).await.expect("answered");
    assert_eq!(
        status_of(&response),
        (200, json!("accepted")),
        "{:?}",
        response.body
    );
    let queued = drain(commands.queue.as_ref(), Duration::from_millis(200)).await;
    let [message] = queued.as_slice() else {
        panic!("one command queued, got {queued:?}");
    };
    let command = parse_command(message.body.as_bytes()).expect("a v1 command");
    let body: Value = serde_json::from_str(&message.body).expect("JSON");
    assert_eq!(body["type"], "ship");
    assert_eq!(body["tenant"], TENANT);
    assert_eq!(body["order"], json!({ "number": ORDER_NUMBER }));
    assert_eq!(body["trackingCode"], "3SABCD1234567");
    assert_eq!(message.group_id, Some(command.message_group_id()));
    assert_eq!(
        message.deduplication_id.as_deref(),
        Some(command.id.as_str())
    );

    // Afosto may deliver the same message again: acknowledged, not queued twice.
    let response = handler.handle(sample()).await.expect("answered");
    assert_eq!(status_of(&response), (200, json!("duplicate")));
    let queued = drain(commands.queue.as_ref(), Duration::from_millis(100)).await;
    assert!(queued.is_empty(), "{queued:?}");
}
