//! Lambda on the 5-minute EventBridge schedule: wiring only. The handler is `connector::lambda::SchedulePolls`,
//! built from the environment by `epages_sync_aws::lambda::FromEnv`.

use aws_adapters::lambda::FromEnv;
use connector::lambda::SchedulePolls;
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_adapters::lambda::init_tracing();
    let handler = &SchedulePolls::from_env().await?;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
