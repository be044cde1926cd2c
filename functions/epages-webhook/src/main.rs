//! Lambda Function URL for ePages webhooks: wiring only; the handler is
//! `shared::epages_webhook`.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::aws::{
    AwsStateConfig, SecretsManagerStore, SqsQueue, queue_url_from_env, state_stores,
};
use shared::epages_webhook::{WebhookConfig, WebhookReceiver};
use shared::metrics::function_url::count_epages_webhook;
use shared::metrics::{Function, MetricsPublisher};
use shared::ports::secrets::CachedSecretStore;
use shared::ports::{Clock, SystemClock};

/// Signer secrets change when a reinstall has to create a new signer; a short cache keeps
/// a warm container from refusing the new signatures for long.
const SIGNER_CACHE: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let state = AwsStateConfig::from_env()?;
    let config = WebhookConfig::from_env()?;
    let poll_url = queue_url_from_env("POLL_QUEUE_URL")?;
    let sdk = shared::aws::load_sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let poll_queue = SqsQueue::connect(aws_sdk_sqs::Client::new(&sdk), poll_url).await?;
    let mut stores = state_stores(&sdk, &state, clock.clone());
    stores.secrets = Arc::new(CachedSecretStore::new(
        Arc::new(SecretsManagerStore::new(
            aws_sdk_secretsmanager::Client::new(&sdk),
            state.secrets_kms_key_id.clone(),
        )),
        SIGNER_CACHE.min(state.secrets_cache_ttl),
        clock.clone(),
    ));
    let receiver = WebhookReceiver {
        config,
        stores,
        poll_queue: Arc::new(poll_queue),
        clock,
    };
    let receiver = &receiver;
    let metrics = &MetricsPublisher::stdout_from_env(Function::EpagesWebhook);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            let response = receiver.handle_function_url(&event.payload).await;
            count_epages_webhook(metrics.metrics(), &response);
            metrics.flush();
            Ok::<LambdaFunctionUrlResponse, Error>(response)
        },
    ))
    .await
}
