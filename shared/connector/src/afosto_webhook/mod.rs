//! Afosto webhooks (afosto.md A.9) → commands on the command queue.
//!
//! Each request is checked before anything else, cheapest first, so that what a caller
//! without the secret can send costs no AWS call: the `X-Afosto-Tenant` header must be a
//! safe name, `X-Afosto-Hmac-Sha256` exactly 64 hex digits (no `sha256=` prefix), the
//! body at most [`MAX_BODY_BYTES`] of JSON. Then the Afosto tenant must be mapped to one
//! of our tenants (`TenantConfig::afosto_tenant`, found in the cached
//! [`TenantDirectory`]): an unmapped header is refused without reading any secret. Only
//! then is the endpoint secret read, `{SECRETS_PREFIX}/afosto-webhooks/{afosto tenant}`
//! holding `{"tenant": "<our tenant id>", "secret": "<endpoint secret>"}`; its tenant must
//! be the mapped one, and the signature the hex HMAC-SHA256 of the raw body under that
//! secret, compared in constant time. Anything else is 401 with no detail.
//!
//! Then: deduplicate on `message_id` in the idempotency store (durable for
//! [`WebhookSettings::dedup_ttl`], not only SQS's 5-minute window); turn `IN_TRANSIT` into a
//! `ship` command and `DELIVERED` into a `deliver` command (FIFO group per order, the
//! command id derived from the event and the delivery id so a re-sent event is one
//! command); acknowledge every other event with 200 and log it.
//!
//! The delivery payload is **unconfirmed** (afosto.md A.9: the documentation cuts off), so
//! it is read leniently from the candidate paths in [`paths`]; when a needed value is at
//! none of them the answer is 422 naming the field, and the activity log records it.

mod directory;
mod payload;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

pub use directory::TenantDirectory;
pub use payload::{PayloadError, WebhookEnvelope, command_for, paths};

use crate::ports::idempotency::{ClaimOutcome, IdempotencyKey};
use crate::ports::queue::OutgoingMessage;
use crate::ports::secrets::SecretNaming;
use crate::ports::{ActivityLog, Clock, IdempotencyStore, MessageQueue, SecretStore, TenantStore};
use contracts::command::Command;
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::tenant::{SecretRef, TenantId};

pub use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};

pub const SIGNATURE_HEADER: &str = "x-afosto-hmac-sha256";
pub const TENANT_HEADER: &str = "x-afosto-tenant";
/// Afosto sends one entity's JSON; anything larger is refused before it is read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Settings of the webhook handler.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    pub naming: SecretNaming,
    /// How long a `message_id` is remembered. Afosto's retry schedule is unknown
    /// (afosto.md A.9), so this is generous: 30 days.
    pub dedup_ttl: Duration,
}

impl WebhookSettings {
    pub fn new(naming: SecretNaming) -> Self {
        Self {
            naming,
            dedup_ttl: Duration::from_secs(30 * 24 * 3600),
        }
    }

    /// The secret holding an Afosto tenant's endpoint secret and our tenant id.
    pub fn endpoint_secret(&self, afosto_tenant: &str) -> SecretRef {
        SecretRef(format!(
            "{}/afosto-webhooks/{afosto_tenant}",
            self.naming.prefix()
        ))
    }
}

/// The stored value of an endpoint secret.
#[derive(Deserialize)]
struct EndpointSecret {
    tenant: TenantId,
    secret: SecretString,
}

/// What the handler answered, before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAnswer {
    pub status: u16,
    /// `accepted`, `duplicate`, `ignored`, `unauthorized`, `unprocessable`, `retry`.
    pub outcome: &'static str,
    pub detail: Option<String>,
    /// The command sent to the command queue, if any.
    pub command_id: Option<String>,
}

impl WebhookAnswer {
    fn new(status: u16, outcome: &'static str, detail: Option<String>) -> Self {
        Self {
            status,
            outcome,
            detail,
            command_id: None,
        }
    }

    fn unauthorized() -> Self {
        // No detail: a caller without the secret learns nothing about why.
        Self::new(401, "unauthorized", None)
    }

    pub fn into_response(self) -> LambdaFunctionUrlResponse {
        let body = serde_json::json!({ "status": self.outcome, "detail": self.detail });
        let mut response = LambdaFunctionUrlResponse::default();
        response.status_code = i64::from(self.status);
        response.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response.body = Some(body.to_string());
        response
    }
}

pub struct AfostoWebhook {
    directory: TenantDirectory,
    secrets: Arc<dyn SecretStore>,
    idempotency: Arc<dyn IdempotencyStore>,
    activity: Arc<dyn ActivityLog>,
    commands: Arc<dyn MessageQueue>,
    clock: Arc<dyn Clock>,
    settings: WebhookSettings,
}

impl AfostoWebhook {
    pub fn new(
        tenants: Arc<dyn TenantStore>,
        secrets: Arc<dyn SecretStore>,
        idempotency: Arc<dyn IdempotencyStore>,
        activity: Arc<dyn ActivityLog>,
        commands: Arc<dyn MessageQueue>,
        clock: Arc<dyn Clock>,
        settings: WebhookSettings,
    ) -> Self {
        Self {
            directory: TenantDirectory::new(tenants),
            secrets,
            idempotency,
            activity,
            commands,
            clock,
            settings,
        }
    }

    /// The Lambda Function URL entry point.
    pub async fn handle(&self, request: &LambdaFunctionUrlRequest) -> LambdaFunctionUrlResponse {
        let body = match raw_body(request) {
            Some(body) if body.len() > MAX_BODY_BYTES => {
                return WebhookAnswer::new(413, "too_large", None).into_response();
            }
            Some(body) => body,
            None => {
                return WebhookAnswer::new(400, "bad_request", Some("body is not base64".into()))
                    .into_response();
            }
        };
        self.handle_raw(&request.headers, &body)
            .await
            .into_response()
    }

    /// Verifies, deduplicates and maps one delivery given its headers and raw body.
    pub async fn handle_raw(&self, headers: &http::HeaderMap, body: &[u8]) -> WebhookAnswer {
        let Some(afosto_tenant) = header(headers, TENANT_HEADER).filter(|t| valid_afosto_tenant(t))
        else {
            return WebhookAnswer::unauthorized();
        };
        let Some(signature) = header(headers, SIGNATURE_HEADER).filter(|s| well_formed(s)) else {
            return WebhookAnswer::unauthorized();
        };
        if body.len() > MAX_BODY_BYTES {
            return WebhookAnswer::new(413, "too_large", None);
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
            return WebhookAnswer::new(400, "bad_request", Some("the body is not JSON".into()));
        }
        let mapped = match self.directory.lookup(afosto_tenant, self.clock.now()).await {
            Ok(Some(tenant)) => tenant,
            Ok(None) => {
                tracing::warn!(
                    afosto_tenant,
                    "webhook for an Afosto tenant no tenant is mapped to"
                );
                return WebhookAnswer::unauthorized();
            }
            Err(error) => {
                tracing::warn!(%error, "reading the tenant directory failed");
                return WebhookAnswer::new(503, "retry", None);
            }
        };
        let endpoint = match self
            .secrets
            .get(&self.settings.endpoint_secret(afosto_tenant))
            .await
        {
            Ok(Some(value)) => {
                match serde_json::from_str::<EndpointSecret>(value.expose_secret()) {
                    Ok(endpoint) => {
                        // A secret this process holds: no sink may print it (beyond::redact).
                        beyond::redact::register_secret(&endpoint.secret);
                        endpoint
                    }
                    Err(error) => {
                        // The error text of serde never contains the secret's value here:
                        // only the position and the expected type.
                        tracing::error!(
                            afosto_tenant,
                            line = error.line(),
                            "endpoint secret is not {{tenant, secret}} JSON"
                        );
                        return WebhookAnswer::unauthorized();
                    }
                }
            }
            Ok(None) => {
                tracing::warn!(afosto_tenant, "webhook for an unknown Afosto tenant");
                return WebhookAnswer::unauthorized();
            }
            Err(error) => {
                tracing::warn!(%error, "reading the endpoint secret failed");
                return WebhookAnswer::new(503, "retry", None);
            }
        };
        if endpoint.tenant != mapped {
            tracing::error!(afosto_tenant, tenant = %mapped, secret_tenant = %endpoint.tenant, "the endpoint secret names another tenant than the tenant configuration");
            return WebhookAnswer::unauthorized();
        }
        if !signature_matches(&endpoint.secret, body, signature) {
            tracing::warn!(afosto_tenant, "webhook signature does not match");
            return WebhookAnswer::unauthorized();
        }
        let tenant = endpoint.tenant;

        let envelope = match WebhookEnvelope::parse(body) {
            Ok(envelope) => envelope,
            Err(error) => return self.unprocessable(&tenant, None, &error).await,
        };
        let key =
            match IdempotencyKey::new(format!("{tenant}:afosto-webhook:{}", envelope.message_id)) {
                Ok(key) => key,
                Err(error) => {
                    let error = PayloadError::Invalid {
                        field: "message_id".into(),
                        reason: error.to_string(),
                    };
                    return self.unprocessable(&tenant, Some(&envelope), &error).await;
                }
            };
        let now = self.clock.now();
        let hold = now + chrono::TimeDelta::seconds(30);
        let expires = chrono::TimeDelta::from_std(self.settings.dedup_ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(hold)
            .max(hold);
        match self.idempotency.claim(&key, hold, expires, now).await {
            Ok(ClaimOutcome::Claimed) => {}
            Ok(ClaimOutcome::AlreadyCompleted(_)) => {
                return WebhookAnswer::new(200, "duplicate", None);
            }
            Ok(ClaimOutcome::InProgress { .. }) => {
                return WebhookAnswer::new(409, "retry", Some("being processed".into()));
            }
            Err(error) => {
                tracing::warn!(%error, "claiming the webhook message failed");
                return WebhookAnswer::new(503, "retry", None);
            }
        }

        let answer = match command_for(&envelope, &tenant, now) {
            Ok(Some(command)) => self.enqueue(&command).await,
            Ok(None) => {
                tracing::info!(event = %envelope.event, "webhook event acknowledged, nothing to apply");
                self.log(&tenant, &envelope, ActivityOutcome::Skipped, None)
                    .await;
                WebhookAnswer::new(200, "ignored", None)
            }
            Err(error) => {
                self.release(&key).await;
                return self.unprocessable(&tenant, Some(&envelope), &error).await;
            }
        };
        if answer.status == 200 {
            let record =
                serde_json::json!({ "outcome": answer.outcome, "commandId": answer.command_id });
            if let Err(error) = self.idempotency.complete(&key, &record).await {
                // The command is queued; a re-sent event maps to the same command id,
                // which the command queue and the consumer deduplicate.
                tracing::warn!(%error, "completing the webhook record failed");
            }
        } else {
            self.release(&key).await;
        }
        answer
    }

    async fn enqueue(&self, command: &Command) -> WebhookAnswer {
        let body = match serde_json::to_string(command) {
            Ok(body) => body,
            Err(error) => {
                return WebhookAnswer::new(500, "retry", Some(error.to_string()));
            }
        };
        let message = OutgoingMessage::fifo(
            body,
            command.message_group_id(),
            command.id.as_str().to_owned(),
        );
        match self.commands.send_batch(vec![message]).await {
            Ok(report) if report.all_sent() => {
                let mut answer = WebhookAnswer::new(200, "accepted", None);
                answer.command_id = Some(command.id.to_string());
                answer
            }
            Ok(report) => {
                let detail = report
                    .failures()
                    .next()
                    .map(|(_, failure)| failure.message.clone());
                WebhookAnswer::new(503, "retry", detail)
            }
            Err(error) => {
                tracing::warn!(%error, "sending the command failed");
                WebhookAnswer::new(503, "retry", None)
            }
        }
    }

    async fn unprocessable(
        &self,
        tenant: &TenantId,
        envelope: Option<&WebhookEnvelope>,
        error: &PayloadError,
    ) -> WebhookAnswer {
        tracing::warn!(%tenant, %error, "webhook payload lacks what a command needs");
        let entry = self.entry(
            tenant,
            envelope,
            ActivityOutcome::Failed,
            Some(error.to_string()),
        );
        if let Err(store_error) = self.activity.append(&[entry]).await {
            tracing::warn!(%store_error, "writing the activity log failed");
        }
        WebhookAnswer::new(422, "unprocessable", Some(error.to_string()))
    }

    async fn log(
        &self,
        tenant: &TenantId,
        envelope: &WebhookEnvelope,
        outcome: ActivityOutcome,
        error: Option<String>,
    ) {
        let entry = self.entry(tenant, Some(envelope), outcome, error);
        if let Err(store_error) = self.activity.append(&[entry]).await {
            tracing::warn!(%store_error, "writing the activity log failed");
        }
    }

    fn entry(
        &self,
        tenant: &TenantId,
        envelope: Option<&WebhookEnvelope>,
        outcome: ActivityOutcome,
        error: Option<String>,
    ) -> ActivityEntry {
        let at = self.clock.now();
        let event = envelope.map_or("unknown", |e| e.event.as_str());
        ActivityEntry {
            tenant: tenant.clone(),
            entry_id: envelope.map_or_else(
                || {
                    format!(
                        "afosto-webhook-{}",
                        at.timestamp_nanos_opt().unwrap_or_default()
                    )
                },
                |e| format!("afosto-webhook-{}", e.message_id),
            ),
            at,
            entity: EntityRef {
                kind: EntityKind::Tenant,
                id: tenant.to_string(),
                number: None,
            },
            direction: Direction::AfostoToEpages,
            action: format!("afosto_webhook.{}", event.to_ascii_lowercase()),
            outcome,
            error,
            correlation: Correlation {
                message_id: envelope.map(|e| e.message_id.clone()),
                command_id: None,
                event_id: None,
            },
        }
    }

    async fn release(&self, key: &IdempotencyKey) {
        if let Err(error) = self.idempotency.release(key).await {
            tracing::warn!(%error, "releasing the webhook record failed");
        }
    }
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A hex HMAC-SHA256 is exactly 64 hex digits; anything else (empty, a prefix such as
/// `sha256=`, a truncated value) is refused before any lookup.
fn well_formed(signature: &str) -> bool {
    signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Afosto tenant ids become part of a secret name: only `A-Za-z0-9_-`, at most 128.
fn valid_afosto_tenant(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The exact bytes Afosto signed: a Function URL base64-encodes non-text bodies.
fn raw_body(request: &LambdaFunctionUrlRequest) -> Option<Vec<u8>> {
    let body = request.body.as_deref().unwrap_or_default();
    if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD.decode(body).ok()
    } else {
        Some(body.as_bytes().to_vec())
    }
}

/// Hex HMAC-SHA256 of `body` under `secret`, compared in constant time (`verify_slice`).
pub fn signature_matches(secret: &SecretString, body: &[u8], signature_hex: &str) -> bool {
    if !well_formed(signature_hex) {
        return false;
    }
    let Ok(signature) = hex::decode(signature_hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// The signature Afosto would send for `body` (tests and local tools).
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; this arm cannot run.
        Err(_) => String::new(),
    }
}

/// `triggered_at` (Unix ms) as a time, when present and sane.
fn millis(value: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_right_key_and_body() {
        let key = SecretString::from("endpoint-secret");
        let body = br#"{"event":"IN_TRANSIT"}"#;
        let good = sign(&key, body);
        assert!(signature_matches(&key, body, &good));
        assert!(signature_matches(&key, body, &good.to_uppercase()));
        assert!(!signature_matches(
            &key,
            b"{\"event\":\"DELIVERED\"}",
            &good
        ));
        assert!(!signature_matches(
            &SecretString::from("other"),
            body,
            &good
        ));
        assert!(!signature_matches(&key, body, "not hex"));
        assert!(!signature_matches(&key, body, &good[..10]));
        assert!(!signature_matches(&key, body, &good[..63]));
        assert!(!signature_matches(&key, body, &format!("sha256={good}")));
        assert!(!signature_matches(&key, body, &format!(" {good}")));
        assert!(!signature_matches(&key, body, ""));
    }

    #[test]
    fn afosto_tenant_ids_are_safe_in_secret_names() {
        assert!(valid_afosto_tenant("3f2b-aa_01"));
        assert!(!valid_afosto_tenant("../x"));
        assert!(!valid_afosto_tenant(""));
    }
}
