//! `epages-webhook.json`: a signed `order.created` delivery as the HTTP API (payload format
//! 2.0) hands it to the function, which reads it as a Function URL request.

use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use connector::epages_webhook::{
    SIGNATURE_HEADER, StoredSigner, WebhookConfig, WebhookReceiver, signer_secret_ref,
};
use connector::lambda::ReceiveEpagesWebhooks;
use connector::pipeline::poll::PollSettings;
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{EPAGES_WEBHOOK_URL, SAMPLE_SECRET, World, drain, event, files};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signed_order_webhook_requests_a_poll_and_a_forged_one_nothing() {
    let world = World::start().await;
    let backend = &world.backend;
    let poll = crate::support::embedded::queue_pair(QueueSpec::standard("poll")).await;
    // The signer the install flow would have registered, with the sample secret.
    let signer = StoredSigner {
        signer_id: uuid::Uuid::new_v4(),
        shared_secret: SecretString::from(SAMPLE_SECRET.to_owned()),
    };
    backend
        .stores
        .secrets
        .put(
            &signer_secret_ref(&backend.naming, &world.tenant),
            signer.to_secret(),
        )
        .await
        .expect("signer stored");
    let handler = ReceiveEpagesWebhooks::new(WebhookReceiver {
        config: WebhookConfig {
            webhook_url: url::Url::parse(EPAGES_WEBHOOK_URL).expect("valid url"),
            secrets: backend.naming.clone(),
            poll_window: WebhookConfig::DEFAULT_POLL_WINDOW,
            poll_skew: PollSettings::default().skew,
        },
        stores: backend.stores.clone(),
        poll_queue: poll.queue.clone(),
        clock: backend.dyn_clock(),
        // The sample is an order webhook; the uninstall probe is tested in auth::install.
        installation: None,
    });

    // The shape API Gateway sends for the template's route, not a Function URL's.
    let raw: Value = serde_json::from_str(files::EPAGES_WEBHOOK).expect("JSON");
    assert_eq!(
        (&raw["version"], &raw["routeKey"]),
        (&json!("2.0"), &json!("POST /"))
    );

    let mut forged =
        event::<LambdaFunctionUrlRequest>("epages-webhook.json", files::EPAGES_WEBHOOK);
    let signature = forged
        .payload
        .headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .expect("the sample is signed")
        .to_owned();
    forged.payload.headers.insert(
        SIGNATURE_HEADER,
        http::HeaderValue::from_str(&super::one_character_off(&signature)).expect("a value"),
    );
    let response = handler.handle(forged).await.expect("answered");
    assert_eq!(response.status_code, 401, "{:?}", response.body);
    let queued = drain(poll.queue.as_ref(), Duration::from_millis(100)).await;
    assert!(queued.is_empty(), "a forged delivery requests no poll");

    let sample = event::<LambdaFunctionUrlRequest>("epages-webhook.json", files::EPAGES_WEBHOOK);
    let response = handler.handle(sample).await.expect("answered");
    let body: Value =
        serde_json::from_str(response.body.as_deref().unwrap_or("null")).unwrap_or(Value::Null);
    assert_eq!(
        (response.status_code, &body["outcome"]),
        (200, &json!("order_read_requested")),
        "{body}"
    );
    let queued = drain(poll.queue.as_ref(), Duration::from_millis(200)).await;
    let requests: Vec<PollRequest> = queued
        .iter()
        .map(|m| PollRequest::parse(&m.body).expect("a poll request"))
        .collect();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].tenant, world.tenant);
    assert_eq!(
        requests[0].trigger,
        PollTrigger::Order {
            order_id: uuid::Uuid::parse_str("0f5c3e2a-7b1d-4c9e-8a6f-2d4b1e9c7a35")
                .expect("the sample's order id")
        },
        "a targeted read of the order the sample names"
    );
}
