//! Lambda behind the poll queue (`ReportBatchItemFailures`): wiring only; the poller is
//! `shared::pipeline::poll`.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::aws::{AwsStateConfig, SqsQueue, queue_url_from_env, state_stores};
use shared::auth::ShopClients;
use shared::beyond::HttpSettings;
use shared::pipeline::poll::{PollService, PollSettings};
use shared::ports::queue::{SqsBatchResponse, SqsEvent};
use shared::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let state = AwsStateConfig::from_env()?;
    let settings = PollSettings::from_env()?;
    let events_url = queue_url_from_env("ORDER_EVENTS_QUEUE_URL")?;
    let poll_url = queue_url_from_env("POLL_QUEUE_URL")?;
    let dead_letters_url = queue_url_from_env("POLL_DLQ_URL")?;
    let sdk = shared::aws::load_sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stores = state_stores(&sdk, &state, clock.clone());
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let order_events = SqsQueue::connect(sqs.clone(), events_url).await?;
    let poll_queue = SqsQueue::connect(sqs.clone(), poll_url).await?;
    let dead_letters = SqsQueue::connect(sqs, dead_letters_url).await?;
    let clients = Arc::new(ShopClients::new(
        &stores,
        HttpSettings::default(),
        clock.clone(),
    ));
    let poller = PollService::new(
        stores,
        clients,
        Arc::new(order_events),
        Arc::new(poll_queue),
        clock,
        settings,
    );
    let (poller, dead_letters) = (&poller, &dead_letters);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response = poller.handle_event(&event.payload, dead_letters).await?;
        Ok::<SqsBatchResponse, Error>(response)
    }))
    .await
}
