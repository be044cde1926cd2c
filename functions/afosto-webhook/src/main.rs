//! Lambda Function URL for Afosto webhooks: wiring only; the handler is
//! `shared::afosto_webhook`.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::aws::{AwsStateConfig, SqsQueue, queue_url_from_env, state_stores};
use shared::afosto_webhook::{
    AfostoWebhook, LambdaFunctionUrlRequest, LambdaFunctionUrlResponse, WebhookSettings,
};
use shared::metrics::function_url::count_afosto_webhook;
use shared::metrics::{Function, MetricsPublisher};
use shared::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let state = AwsStateConfig::from_env()?;
    let commands_url = queue_url_from_env("COMMAND_QUEUE_URL")?;
    let sdk = shared::aws::load_sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = WebhookSettings::new(state.secrets.clone());
    let stores = state_stores(&sdk, &state, clock.clone());
    let commands = SqsQueue::connect(aws_sdk_sqs::Client::new(&sdk), commands_url).await?;
    let webhook = AfostoWebhook::new(
        stores.secrets,
        stores.idempotency,
        stores.activity,
        Arc::new(commands),
        clock,
        settings,
    );
    let webhook = &webhook;
    let metrics = &MetricsPublisher::stdout_from_env(Function::AfostoWebhook);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            let response = webhook.handle(&event.payload).await;
            count_afosto_webhook(metrics.metrics(), &response);
            metrics.flush();
            Ok::<LambdaFunctionUrlResponse, Error>(response)
        },
    ))
    .await
}
