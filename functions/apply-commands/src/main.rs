//! Lambda behind the command FIFO queue (`ReportBatchItemFailures`): wiring only; the
//! consumer is `shared::pipeline::apply`.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::aws::{AwsStateConfig, SqsQueue, queue_url_from_env, state_stores};
use shared::auth::ShopClients;
use shared::beyond::HttpSettings;
use shared::pipeline::apply::{ApplySettings, CommandApplier};
use shared::ports::queue::{SqsBatchResponse, SqsEvent};
use shared::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let state = AwsStateConfig::from_env()?;
    let settings = ApplySettings::from_env()?;
    let results_url = queue_url_from_env("ORDER_EVENTS_QUEUE_URL")?;
    let dead_letters_url = queue_url_from_env("COMMAND_DLQ_URL")?;
    let sdk = shared::aws::load_sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stores = state_stores(&sdk, &state, clock.clone());
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let results = SqsQueue::connect(sqs.clone(), results_url).await?;
    let dead_letters = SqsQueue::connect(sqs, dead_letters_url).await?;
    let clients = Arc::new(ShopClients::new(
        &stores,
        HttpSettings::default(),
        clock.clone(),
    ));
    let applier = CommandApplier::new(stores, clients, Arc::new(results), clock, settings);
    let (applier, dead_letters) = (&applier, &dead_letters);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = i64::try_from(event.context.deadline)
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .unwrap_or_else(chrono::Utc::now);
        let (response, _summary) = applier
            .handle_event(&event.payload, deadline, dead_letters)
            .await?;
        Ok::<SqsBatchResponse, Error>(response)
    }))
    .await
}
