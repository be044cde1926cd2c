//! The three Function URL handlers: `afosto-webhook`, `epages-webhook` and `install-app`.
//! Each wraps its receiver with the function's metrics publisher, counts what the answer
//! says was done and flushes after every request, like the queue-driven handlers do.

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use lambda_runtime::LambdaEvent;

use super::HandlerError;
use crate::afosto_webhook::AfostoWebhook;
use crate::epages_webhook::WebhookReceiver;
use crate::install::Installer;
use crate::metrics::function_url::{count_afosto_webhook, count_epages_webhook, count_install};
use crate::metrics::{Function, MetricsPublisher};

/// `afosto-webhook`: Afosto's signed requests, each put on the command queue once.
pub struct ReceiveAfostoWebhooks {
    webhook: AfostoWebhook,
    metrics: MetricsPublisher,
}

impl ReceiveAfostoWebhooks {
    pub fn new(webhook: AfostoWebhook) -> Self {
        Self {
            webhook,
            metrics: MetricsPublisher::discard(Function::AfostoWebhook),
        }
    }

    pub fn with_metrics(self, metrics: MetricsPublisher) -> Self {
        Self { metrics, ..self }
    }

    pub fn metrics(&self) -> &MetricsPublisher {
        &self.metrics
    }

    /// Every request gets an answer; a failure inside is a 5xx answer, not an error.
    pub async fn handle(
        &self,
        event: LambdaEvent<LambdaFunctionUrlRequest>,
    ) -> Result<LambdaFunctionUrlResponse, HandlerError> {
        let response = self.webhook.handle(&event.payload).await;
        count_afosto_webhook(self.metrics.metrics(), &response);
        self.metrics.flush();
        Ok(response)
    }
}

/// `epages-webhook`: signed ePages webhooks, turned into poll requests.
pub struct ReceiveEpagesWebhooks {
    receiver: WebhookReceiver,
    metrics: MetricsPublisher,
}

impl ReceiveEpagesWebhooks {
    pub fn new(receiver: WebhookReceiver) -> Self {
        Self {
            receiver,
            metrics: MetricsPublisher::discard(Function::EpagesWebhook),
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
        let response = self.receiver.handle_function_url(&event.payload).await;
        count_epages_webhook(self.metrics.metrics(), &response);
        self.metrics.flush();
        Ok(response)
    }
}

/// `install-app`: the public app's install callback.
pub struct InstallApp {
    installer: Installer,
    metrics: MetricsPublisher,
}

impl InstallApp {
    pub fn new(installer: Installer) -> Self {
        Self {
            installer,
            metrics: MetricsPublisher::discard(Function::InstallApp),
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
        let response = self.installer.handle_function_url(&event.payload).await;
        count_install(self.metrics.metrics(), &response);
        self.metrics.flush();
        Ok(response)
    }
}
