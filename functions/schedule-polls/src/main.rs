//! Lambda on the EventBridge schedule (`rate(5 minutes)`): wiring only; the handler is
//! `shared::lambda::SchedulePolls`, the fan-out `shared::pipeline::schedule`.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::lambda::SchedulePolls;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let handler = &SchedulePolls::from_env().await?;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| handler.handle(event),
    ))
    .await
}
