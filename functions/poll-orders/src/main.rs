//! Lambda behind the poll queue (`ReportBatchItemFailures`): wiring only. The handler is `connector::lambda::PollOrders`,
//! built from the environment by `epages_sync_aws::lambda::FromEnv`.

use aws_adapters::lambda::FromEnv;
use connector::lambda::PollOrders;
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_adapters::lambda::init_tracing();
    let handler = &PollOrders::from_env().await?;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
