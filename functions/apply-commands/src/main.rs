//! Lambda behind the command FIFO queue (`ReportBatchItemFailures`): wiring only; the
//! handler is `shared::lambda::ApplyCommands`, the consumer `shared::pipeline::apply`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::lambda::ApplyCommands;
use shared::ports::queue::SqsEvent;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let handler = &ApplyCommands::from_env().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        handler.handle(event)
    }))
    .await
}
