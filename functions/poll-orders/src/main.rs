//! Lambda behind the poll queue (`ReportBatchItemFailures`): wiring only; the handler is
//! `shared::lambda::PollOrders`, the poller `shared::pipeline::poll`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::lambda::PollOrders;
use shared::ports::queue::SqsEvent;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let handler = &PollOrders::from_env().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        handler.handle(event)
    }))
    .await
}
