//! The three Function URL handlers: `afosto-webhook`, `epages-webhook` and `install-app`.
//! One handler serves all three: it asks its receiver for the answer, counts what the
//! answer says was done and flushes the function's metrics after every request, like the
//! queue-driven handlers do.

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use lambda_runtime::LambdaEvent;

use super::HandlerError;
use super::handlers::invocation_trace;
use crate::afosto_webhook::AfostoWebhook;
use crate::epages_webhook::WebhookReceiver;
use crate::install::Installer;
use crate::metrics::function_url::{count_afosto_webhook, count_epages_webhook, count_install};
use crate::metrics::{Function, Metrics, MetricsPublisher};
use crate::trace::RecordTrace;
use chrono::Utc;

/// What answers a public function's requests.
pub trait FunctionUrlReceiver: Send + Sync {
    /// The function, for its metrics.
    const FUNCTION: Function;

    /// Every request gets an answer; a failure inside is a 4xx or 5xx answer.
    fn answer(
        &self,
        request: &LambdaFunctionUrlRequest,
    ) -> impl Future<Output = LambdaFunctionUrlResponse> + Send;

    /// Counts what `response` says was done.
    fn count(metrics: &Metrics, response: &LambdaFunctionUrlResponse);
}

/// A public function's handler around its receiver.
pub struct FunctionUrlHandler<R> {
    receiver: R,
    metrics: MetricsPublisher,
}

/// `afosto-webhook`: Afosto's signed requests, each put on the command queue once.
pub type ReceiveAfostoWebhooks = FunctionUrlHandler<AfostoWebhook>;
/// `epages-webhook`: signed ePages webhooks, turned into poll requests.
pub type ReceiveEpagesWebhooks = FunctionUrlHandler<WebhookReceiver>;
/// `install-app`: the public app's install callback.
pub type InstallApp = FunctionUrlHandler<Installer>;

impl<R: FunctionUrlReceiver> FunctionUrlHandler<R> {
    /// Counts nothing until [`Self::with_metrics`] hands it a publisher.
    pub fn new(receiver: R) -> Self {
        Self {
            receiver,
            metrics: MetricsPublisher::discard(R::FUNCTION),
        }
    }

    pub fn with_metrics(self, metrics: MetricsPublisher) -> Self {
        Self { metrics, ..self }
    }

    pub fn metrics(&self) -> &MetricsPublisher {
        &self.metrics
    }

    pub async fn handle(
        &self,
        event: LambdaEvent<LambdaFunctionUrlRequest>,
    ) -> Result<LambdaFunctionUrlResponse, HandlerError> {
        // One segment per request in the invocation's trace; what it queues (commands, poll
        // requests) carries that trace on.
        let trace = RecordTrace::start(None, invocation_trace(&event.context).as_ref(), Utc::now());
        let response = trace.run(None, self.receiver.answer(&event.payload)).await;
        R::count(self.metrics.metrics(), &response);
        self.metrics.flush();
        Ok(response)
    }
}

impl FunctionUrlReceiver for AfostoWebhook {
    const FUNCTION: Function = Function::AfostoWebhook;

    async fn answer(&self, request: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        self.handle(request).await
    }

    fn count(metrics: &Metrics, response: &LambdaFunctionUrlResponse) {
        count_afosto_webhook(metrics, response);
    }
}

impl FunctionUrlReceiver for WebhookReceiver {
    const FUNCTION: Function = Function::EpagesWebhook;

    async fn answer(&self, request: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        self.handle_function_url(request).await
    }

    fn count(metrics: &Metrics, response: &LambdaFunctionUrlResponse) {
        count_epages_webhook(metrics, response);
    }
}

impl FunctionUrlReceiver for Installer {
    const FUNCTION: Function = Function::InstallApp;

    async fn answer(&self, request: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        self.handle_function_url(request).await
    }

    fn count(metrics: &Metrics, response: &LambdaFunctionUrlResponse) {
        count_install(metrics, response);
    }
}
