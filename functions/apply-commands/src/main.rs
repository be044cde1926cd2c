//! Lambda behind the FIFO command queue (`ReportBatchItemFailures`): wiring only. The handler is `connector::lambda::ApplyCommands`,
//! built from the environment by `epages_sync_aws::lambda::FromEnv`.

use aws_adapters::lambda::FromEnv;
use connector::lambda::ApplyCommands;
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_adapters::lambda::init_tracing();
    let handler = &ApplyCommands::from_env().await?;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
