//! Lambda on the EventBridge schedule (`rate(5 minutes)`): wiring only; the fan-out is
//! `shared::pipeline::schedule`.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::aws::{AwsStateConfig, SqsQueue, queue_url_from_env, state_stores};
use shared::pipeline::schedule::{ScheduleSettings, Scheduler};
use shared::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let state = AwsStateConfig::from_env()?;
    let settings = ScheduleSettings::from_env()?;
    let poll_url = queue_url_from_env("POLL_QUEUE_URL")?;
    let sdk = shared::aws::load_sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let stores = state_stores(&sdk, &state, clock.clone());
    let poll_queue = SqsQueue::connect(aws_sdk_sqs::Client::new(&sdk), poll_url).await?;
    let scheduler = Scheduler::new(stores.tenants, Arc::new(poll_queue), clock, settings);
    let scheduler = &scheduler;
    lambda_runtime::run(service_fn(
        move |_event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| async move {
            let report = scheduler.run().await?;
            Ok::<String, Error>(format!(
                "{} poll requests enqueued in {} calls",
                report.enqueued, report.send_calls
            ))
        },
    ))
    .await
}
