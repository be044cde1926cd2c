//! Lambda Function URL for Afosto webhooks: wiring only. The handler is `connector::lambda::ReceiveAfostoWebhooks`,
//! built from the environment by `epages_sync_aws::lambda::FromEnv`.

use aws_adapters::lambda::FromEnv;
use connector::lambda::ReceiveAfostoWebhooks;
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_adapters::lambda::init_tracing();
    let handler = &ReceiveAfostoWebhooks::from_env().await?;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
