//! Lambda Function URL for ePages webhooks: wiring only; the handler is
//! `shared::epages_webhook`.

use std::sync::Arc;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::aws::{AwsStateConfig, SqsQueue, queue_url_from_env, state_stores};
use shared::epages_webhook::{WebhookConfig, WebhookReceiver};
use shared::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let state = AwsStateConfig::from_env()?;
    let config = WebhookConfig::from_env()?;
    let poll_url = queue_url_from_env("POLL_QUEUE_URL")?;
    let sdk = shared::aws::load_sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let poll_queue = SqsQueue::connect(aws_sdk_sqs::Client::new(&sdk), poll_url).await?;
    let receiver = WebhookReceiver {
        config,
        stores: state_stores(&sdk, &state, clock.clone()),
        poll_queue: Arc::new(poll_queue),
        clock,
    };
    let receiver = &receiver;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            Ok::<LambdaFunctionUrlResponse, Error>(
                receiver.handle_function_url(&event.payload).await,
            )
        },
    ))
    .await
}
