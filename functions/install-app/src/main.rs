//! Lambda Function URL for the ePages public-app install callback: wiring only; the
//! handler is `shared::install`.

use std::sync::Arc;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::aws::{AwsStateConfig, state_stores};
use shared::install::{InstallConfig, Installer};
use shared::metrics::function_url::count_install;
use shared::metrics::{Function, MetricsPublisher};
use shared::ports::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let state = AwsStateConfig::from_env()?;
    let config = InstallConfig::from_env()?;
    let sdk = shared::aws::load_sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let installer = Installer {
        config,
        stores: state_stores(&sdk, &state, clock.clone()),
        clock,
    };
    let installer = &installer;
    let metrics = &MetricsPublisher::stdout_from_env(Function::InstallApp);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            let response = installer.handle_function_url(&event.payload).await;
            count_install(metrics.metrics(), &response);
            metrics.flush();
            Ok::<LambdaFunctionUrlResponse, Error>(response)
        },
    ))
    .await
}
