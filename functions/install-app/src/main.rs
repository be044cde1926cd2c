//! Lambda Function URL for the ePages public-app install callback: wiring only. The handler is `connector::lambda::InstallApp`,
//! built from the environment by `epages_sync_aws::lambda::FromEnv`.

use aws_adapters::lambda::FromEnv;
use connector::lambda::InstallApp;
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    aws_adapters::lambda::init_tracing();
    let handler = &InstallApp::from_env().await?;
    lambda_runtime::run(service_fn(move |event| handler.handle(event))).await
}
