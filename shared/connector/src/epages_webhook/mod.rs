//! The ePages webhook receiver (Lambda Function URL `epages-webhook`).
//!
//! ePages signs each delivery once per signer: `X-EPAGES-SIGNATURE =
//! base64(HMAC-SHA1(sharedSecret, callbackUri + ":" + body))`. The install flow registered
//! our callback as `{EPAGES_WEBHOOK_URL}?tenant={id}` and stored the signer's secret per
//! tenant, so the URI we verify against is rebuilt from configuration, never taken from
//! request headers a forger controls.
//!
//! `order.created` / `order.updated` → a targeted read of the order the body names (a
//! [`PollRequest`] with trigger `Order` on the poll queue, see
//! `pipeline/poll/targeted.rs`), so the order's changes reach Afosto in seconds; the
//! 5-minute schedule is the backstop. Bursts stay bounded per window (default 30 s):
//! - per order, at most two reads: one at once, one delayed to the window's end for every
//!   later webhook of the order in that window (it reads the newest state);
//! - per tenant, at most [`ORDER_READS_PER_WINDOW`] immediate reads (and as many trailing
//!   ones); any order over that budget, or a body naming no order, is covered by one
//!   window poll delayed until its window (which ends `skew` before now) has passed the
//!   window's end.
//!
//! `app.uninstalled` pauses the tenant and deletes its tokens; its configuration stays.
//!
//! The action is read from the signed body ([`payload`]): the unsigned
//! `X-EPAGES-WEBHOOK-EVENT-TYPE` header must agree with the body's `_payloadType`. Every
//! verified delivery is claimed once by a fingerprint of what was signed (durable for
//! [`DEDUP_TTL`]), so duplicates and replays are no-ops. An `app.uninstalled` acts only
//! when it is newer than the tenant's last install. A caller without the signer secret
//! gets one answer (401, same body) whether the tenant exists or not, and more than
//! [`MAX_SIGNATURES`] signature values are refused before any work.

mod payload;
mod probe;
pub mod registration;
mod signature;

pub use probe::{InstallationProbe, ProbeError, ShopInstallationProbe};

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

pub use payload::{PayloadError, SignedEvent, fingerprint, signed_event};
pub use signature::{sign, verify_any};

use crate::config::{self, ConfigError};
use crate::pipeline::poll_request::{PollRequest, PollTrigger};
use crate::ports::idempotency::{ClaimOutcome, IdempotencyKey};
use crate::ports::queue::OutgoingMessage;
use crate::ports::secrets::SecretNaming;
use crate::ports::tenants::UpdateOutcome;
use crate::ports::{Clock, MessageQueue, StateStores, StoreError};
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::tenant::{SecretRef, TenantConfig, TenantId};

/// The query parameter naming the tenant in our callback URI.
pub const TENANT_PARAM: &str = "tenant";
pub const SIGNATURE_HEADER: &str = "x-epages-signature";
pub const EVENT_TYPE_HEADER: &str = "x-epages-webhook-event-type";
/// A shop has a handful of signers (beyond-api.md §7.1: two to five); more values than
/// this are an attempt to make us compute HMACs, and are refused before any.
pub const MAX_SIGNATURES: usize = 8;
/// Deliveries are one entity's JSON; anything larger is refused before it is read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long a delivery's fingerprint is remembered. ePages keeps failed deliveries for a
/// manual retry of unknown horizon; a week covers its automatic retries with room.
pub const DEDUP_TTL: TimeDelta = TimeDelta::days(7);
/// Immediate targeted reads per tenant and window; beyond them a window poll catches up.
pub const ORDER_READS_PER_WINDOW: u128 = 20;
/// Budget slots tried per order before it falls back to the catch-up poll: two orders
/// whose ids hash to the same slot should both be read at once while the budget lasts.
const SLOT_PROBES: u128 = 4;

/// Our callback URI for a tenant: `{base}?tenant={id}` (other query parameters of the
/// base are kept).
pub fn callback_uri(base: &Url, tenant: &TenantId) -> Url {
    let mut uri = base.clone();
    uri.query_pairs_mut()
        .append_pair(TENANT_PARAM, tenant.as_str());
    uri
}

/// Where a tenant's signer secret lives: `{prefix}/tenants/{tenant}/webhook-signer`.
pub fn signer_secret_ref(naming: &SecretNaming, tenant: &TenantId) -> SecretRef {
    SecretRef(format!(
        "{}/tenants/{tenant}/webhook-signer",
        naming.prefix()
    ))
}

/// The stored signer: its id (to find it in `GET /signers` on reinstall) and secret.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSigner {
    pub signer_id: uuid::Uuid,
    #[serde(with = "secret_text")]
    pub shared_secret: SecretString,
}

impl StoredSigner {
    pub fn to_secret(&self) -> SecretString {
        let value = serde_json::json!({
            "signerId": self.signer_id,
            "sharedSecret": self.shared_secret.expose_secret(),
        });
        SecretString::from(value.to_string())
    }

    pub fn from_secret(secret: &SecretString) -> Option<Self> {
        let signer: Self = serde_json::from_str(secret.expose_secret()).ok()?;
        // A secret this process holds: no sink may ever print it (beyond::redact).
        beyond::redact::register_secret(&signer.shared_secret);
        Some(signer)
    }
}

mod secret_text {
    use secrecy::{ExposeSecret, SecretString};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.expose_secret())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        String::deserialize(d).map(SecretString::from)
    }
}

/// Typed configuration, read from the environment once.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// `EPAGES_WEBHOOK_URL`: this function's public URL, as registered with ePages.
    pub webhook_url: Url,
    /// `SECRETS_PREFIX`.
    pub secrets: SecretNaming,
    /// `WEBHOOK_POLL_WINDOW_SECONDS` (default 30).
    pub poll_window: Duration,
    /// `POLL_SKEW_SECONDS` (default 30), as the poller reads it: a catch-up window poll is
    /// delayed by it, so its window reaches the end of the webhook window.
    pub poll_skew: Duration,
}

impl WebhookConfig {
    pub const DEFAULT_POLL_WINDOW: Duration = Duration::from_secs(30);

    pub fn from_env() -> Result<Self, ConfigError> {
        let webhook_url = Url::parse(&config::required("EPAGES_WEBHOOK_URL")?)
            .map_err(|e| ConfigError::invalid("EPAGES_WEBHOOK_URL", e.to_string()))?;
        let secrets = SecretNaming::new(config::required("SECRETS_PREFIX")?)
            .map_err(|e| ConfigError::invalid("SECRETS_PREFIX", e.to_string()))?;
        let poll_window = match config::optional("WEBHOOK_POLL_WINDOW_SECONDS")? {
            None => Self::DEFAULT_POLL_WINDOW,
            Some(raw) => match raw.parse::<u64>() {
                Ok(seconds) if (1..=900).contains(&seconds) => Duration::from_secs(seconds),
                _ => {
                    return Err(ConfigError::invalid(
                        "WEBHOOK_POLL_WINDOW_SECONDS",
                        format!("{raw:?} is not a whole number of seconds in 1..=900"),
                    ));
                }
            },
        };
        let poll_skew = crate::pipeline::poll::PollSettings::from_env()?.skew;
        Ok(Self {
            webhook_url,
            secrets,
            poll_window,
            poll_skew,
        })
    }
}

/// What the receiver needs: state, the poll queue, a clock, and the shop to confirm an
/// uninstall with.
#[derive(Clone)]
pub struct WebhookReceiver {
    pub config: WebhookConfig,
    pub stores: StateStores,
    pub poll_queue: Arc<dyn MessageQueue>,
    pub clock: Arc<dyn Clock>,
    /// Asked before an `app.uninstalled` is acted on (see [`probe`]). `None` acts on the
    /// signed delivery and its time alone: for tests of that logic, never in a deployment.
    pub installation: Option<Arc<dyn InstallationProbe>>,
}

/// One delivery, independent of how it arrived.
#[derive(Debug, Clone, Default)]
pub struct WebhookDelivery {
    /// The raw query string (`tenant=…`).
    pub query: Option<String>,
    /// Every `X-EPAGES-SIGNATURE` value.
    pub signatures: Vec<String>,
    pub event_type: Option<String>,
    pub body: String,
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A read of the order was requested now.
    OrderReadRequested,
    /// A read of the order was requested for the end of the window (it was read at once
    /// earlier in the window).
    OrderReadScheduled,
    /// A catch-up window poll was requested (no order named, or over the tenant's budget).
    PollScheduled,
    /// Everything this delivery could ask for in this window was requested already.
    Deduplicated,
    /// The tenant is paused; nothing to do.
    TenantPaused,
    Uninstalled,
    /// An `app.uninstalled` not newer than the tenant's last install: ignored.
    StaleUninstall,
    /// The same signed delivery was handled before: nothing done again.
    Duplicate,
    /// An event type we do not act on.
    Ignored,
}

/// Why a delivery was refused or failed; each maps to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A missing or invalid `tenant` parameter, an unknown tenant, a missing or wrong
    /// signature, too many signature values: one answer, so that tenants cannot be
    /// enumerated (the log says which).
    #[error("signature missing or invalid")]
    Unauthorized,
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body is not valid base64 UTF-8")]
    BadBody,
    #[error("the delivery is refused: {0}")]
    Payload(#[from] PayloadError),
    #[error("the same delivery is being handled; retry later")]
    InProgress,
    #[error("{what} failed")]
    Store {
        what: &'static str,
        #[source]
        source: StoreError,
    },
    #[error("sending the poll request failed: {0}")]
    Queue(String),
    #[error(transparent)]
    Probe(#[from] ProbeError),
}

impl WebhookError {
    pub fn status(&self) -> u16 {
        match self {
            WebhookError::Unauthorized => 401,
            WebhookError::TooLarge => 413,
            WebhookError::BadBody | WebhookError::Payload(_) => 400,
            WebhookError::InProgress => 409,
            WebhookError::Store { .. } | WebhookError::Queue(_) | WebhookError::Probe(_) => 503,
        }
    }
}

fn store(what: &'static str) -> impl FnOnce(StoreError) -> WebhookError {
    move |source| WebhookError::Store { what, source }
}

impl WebhookReceiver {
    /// Verifies and acts on one delivery.
    pub async fn handle(&self, delivery: &WebhookDelivery) -> Result<Outcome, WebhookError> {
        // Cheap checks first: nothing below them costs a store call or an HMAC.
        if delivery.signatures.is_empty() || delivery.signatures.len() > MAX_SIGNATURES {
            tracing::warn!(
                signatures = delivery.signatures.len(),
                "webhook without signatures or with too many"
            );
            return Err(WebhookError::Unauthorized);
        }
        if delivery.body.len() > MAX_BODY_BYTES {
            return Err(WebhookError::TooLarge);
        }
        let Some(tenant_id) = delivery
            .query
            .as_deref()
            .and_then(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == TENANT_PARAM)
                    .map(|(_, value)| value.into_owned())
            })
            .and_then(|raw| TenantId::parse(&raw).ok())
        else {
            tracing::warn!("webhook without a valid tenant parameter");
            return Err(WebhookError::Unauthorized);
        };
        let Some(tenant) = self
            .stores
            .tenants
            .get(&tenant_id)
            .await
            .map_err(store("reading the tenant"))?
        else {
            tracing::warn!(tenant = %tenant_id, "webhook for an unknown tenant");
            return Err(WebhookError::Unauthorized);
        };
        let signer = self
            .stores
            .secrets
            .get(&signer_secret_ref(&self.config.secrets, &tenant_id))
            .await
            .map_err(store("reading the signer secret"))?
            .and_then(|secret| StoredSigner::from_secret(&secret));
        let uri = callback_uri(&self.config.webhook_url, &tenant_id);
        let verified = signer.is_some_and(|signer| {
            verify_any(
                &signer.shared_secret,
                uri.as_str(),
                &delivery.body,
                &delivery.signatures,
            )
        });
        if !verified {
            tracing::warn!(
                tenant = %tenant_id,
                signatures = delivery.signatures.len(),
                "webhook signature missing or invalid"
            );
            return Err(WebhookError::Unauthorized);
        }
        let header = delivery.event_type.as_deref().unwrap_or("");
        let event = signed_event(header, &delivery.body).inspect_err(|error| {
            tracing::warn!(tenant = %tenant_id, event_type = header, %error, "verified webhook refused");
        })?;
        tracing::info!(tenant = %tenant_id, event_type = header, "verified ePages webhook");

        // One claim per signed delivery: a duplicate or a replay with other headers is
        // the same fingerprint.
        let now = self.clock.now();
        let key = IdempotencyKey::new(format!(
            "{tenant_id}:epages-webhook:{}",
            fingerprint(uri.as_str(), &delivery.body)
        ))
        .map_err(store("building the delivery key"))?;
        let hold = now + TimeDelta::seconds(60);
        match self
            .stores
            .idempotency
            .claim(&key, hold, now + DEDUP_TTL, now)
            .await
            .map_err(store("claiming the delivery"))?
        {
            ClaimOutcome::Claimed => {}
            ClaimOutcome::AlreadyCompleted(_) => {
                tracing::info!(tenant = %tenant_id, "duplicate webhook delivery ignored");
                return Ok(Outcome::Duplicate);
            }
            ClaimOutcome::InProgress { .. } => return Err(WebhookError::InProgress),
        }
        let result = match event {
            SignedEvent::Order { id } => {
                tracing::debug!(tenant = %tenant_id, order = ?id, "order webhook");
                let order = id.as_deref().and_then(|id| uuid::Uuid::parse_str(id).ok());
                self.request_read(&tenant, order).await
            }
            SignedEvent::AppUninstalled { at } => self.uninstall(tenant, at.unwrap_or(now)).await,
            SignedEvent::Other => Ok(Outcome::Ignored),
        };
        match &result {
            Ok(outcome) => {
                let record = serde_json::json!({ "outcome": outcome });
                if let Err(error) = self.stores.idempotency.complete(&key, &record).await {
                    // Done already; a redelivery within the hold is InProgress, after it
                    // the claim is free again and the action (idempotent) repeats.
                    tracing::warn!(tenant = %tenant_id, %error, "cannot complete the delivery claim");
                }
            }
            Err(_) => {
                if let Err(error) = self.stores.idempotency.release(&key).await {
                    tracing::warn!(tenant = %tenant_id, %error, "cannot release the delivery claim");
                }
            }
        }
        result
    }

    /// Requests the read of `order` as the module docs describe: at once, at the window's
    /// end, or through the tenant's catch-up poll.
    async fn request_read(
        &self,
        tenant: &TenantConfig,
        order: Option<uuid::Uuid>,
    ) -> Result<Outcome, WebhookError> {
        if tenant.paused {
            return Ok(Outcome::TenantPaused);
        }
        let now = self.clock.now();
        let window = i64::try_from(self.config.poll_window.as_secs().max(1)).unwrap_or(30);
        let bucket = now.timestamp().div_euclid(window);
        let window_end = DateTime::<Utc>::from_timestamp((bucket + 1) * window, 0).unwrap_or(now);
        let until_end = (window_end - now).to_std().unwrap_or_default();
        let slots = Slots {
            stores: &self.stores,
            tenant,
            now,
            expires_at: window_end + TimeDelta::seconds(window),
        };
        if let Some(order) = order {
            let request = PollRequest {
                tenant: tenant.id.clone(),
                trigger: PollTrigger::Order { order_id: order },
                requested_at: now,
            };
            let now_key = format!("order-read:{order}:{bucket}:now");
            if slots.claim(&now_key).await? {
                let first = order.as_u128() % ORDER_READS_PER_WINDOW;
                for probe in 0..SLOT_PROBES {
                    let slot = (first + probe) % ORDER_READS_PER_WINDOW;
                    let budget = format!("order-reads:{bucket}:{slot}");
                    if slots.claim(&budget).await? {
                        self.send(&slots, &[now_key, budget], &request, None)
                            .await?;
                        return Ok(Outcome::OrderReadRequested);
                    }
                }
                tracing::info!(tenant = %tenant.id, %order, "targeted reads of this window used up: catch-up poll");
            } else {
                let trailing = format!("order-read:{order}:{bucket}:trailing");
                if slots.claim(&trailing).await? {
                    self.send(&slots, &[trailing], &request, Some(until_end))
                        .await?;
                    return Ok(Outcome::OrderReadScheduled);
                }
                return Ok(Outcome::Deduplicated);
            }
        }
        let catch_up = format!("webhook-poll:{bucket}:catch-up");
        if !slots.claim(&catch_up).await? {
            return Ok(Outcome::Deduplicated);
        }
        let request = PollRequest {
            tenant: tenant.id.clone(),
            trigger: PollTrigger::Webhook,
            requested_at: now,
        };
        // Its window ends `skew` before it runs: after the webhook window's end.
        let delay = until_end + self.config.poll_skew + Duration::from_secs(1);
        self.send(&slots, &[catch_up], &request, Some(delay))
            .await?;
        Ok(Outcome::PollScheduled)
    }

    /// Sends one poll request; on failure releases `claimed`, so the next delivery (or
    /// ePages' retry) asks again.
    async fn send(
        &self,
        slots: &Slots<'_>,
        claimed: &[String],
        request: &PollRequest,
        delay: Option<Duration>,
    ) -> Result<(), WebhookError> {
        let mut message = OutgoingMessage::new(request.to_json());
        if let Some(delay) = delay {
            // SQS delays are whole seconds, at most 15 minutes.
            message = message.with_delay(Duration::from_secs(delay.as_secs().clamp(1, 900)));
        }
        let sent = match self.poll_queue.send_batch(vec![message]).await {
            Ok(report) if report.all_sent() => Ok(()),
            Ok(report) => Err(report
                .failures()
                .map(|(_, failure)| format!("{}: {}", failure.code, failure.message))
                .collect::<Vec<_>>()
                .join("; ")),
            Err(error) => Err(error.to_string()),
        };
        if let Err(reason) = sent {
            for name in claimed {
                slots.release(name).await;
            }
            return Err(WebhookError::Queue(reason));
        }
        Ok(())
    }

    /// Pauses the tenant (configuration kept) and deletes its tokens, when the uninstall
    /// at `at` is newer than the tenant's last install; an older one is ignored.
    async fn uninstall(
        &self,
        mut tenant: TenantConfig,
        at: DateTime<Utc>,
    ) -> Result<Outcome, WebhookError> {
        for _ in 0..5 {
            if !tenant.uninstall_applies(at) {
                tracing::warn!(
                    tenant = %tenant.id,
                    uninstalled_at = %at,
                    installed_at = ?tenant.installed_at,
                    "app.uninstalled is not newer than the last install: ignored, tokens kept"
                );
                return Ok(Outcome::StaleUninstall);
            }
            // The delivery's time may be only its arrival (ePages app payloads carry none):
            // a genuine uninstall delivered after a re-install would pass the check above.
            // The shop decides: it refuses an uninstalled app's credentials.
            if let Some(installation) = &self.installation
                && installation.still_installed(&tenant).await?
            {
                tracing::warn!(
                    tenant = %tenant.id,
                    "app.uninstalled, but the shop still accepts the app: ignored, tokens kept"
                );
                return Ok(Outcome::StaleUninstall);
            }
            let mut paused = tenant.clone();
            paused.mark_uninstalled(at);
            if paused == tenant {
                break;
            }
            match self
                .stores
                .tenants
                .update(paused, self.clock.now())
                .await
                .map_err(store("pausing the tenant"))?
            {
                UpdateOutcome::Updated(_) | UpdateOutcome::NotFound => break,
                UpdateOutcome::Stale { current } => tenant = current,
            }
        }
        self.stores
            .tokens
            .delete(&tenant.id)
            .await
            .map_err(store("deleting the tokens"))?;
        let entry = ActivityEntry {
            tenant: tenant.id.clone(),
            entry_id: uuid::Uuid::new_v4().to_string(),
            at: self.clock.now(),
            entity: EntityRef {
                kind: EntityKind::Tenant,
                id: tenant.id.to_string(),
                number: None,
            },
            direction: Direction::EpagesToAfosto,
            action: "app.uninstalled".to_owned(),
            outcome: ActivityOutcome::Ok,
            error: Some("the app was uninstalled in the shop: tenant paused, tokens deleted; re-install to resume".to_owned()),
            correlation: Correlation::default(),
        };
        if let Err(error) = self.stores.activity.append(&[entry]).await {
            tracing::warn!(tenant = %tenant.id, error = %error, "cannot write the activity log");
        }
        tracing::info!(tenant = %tenant.id, "app uninstalled: tenant paused, tokens deleted");
        Ok(Outcome::Uninstalled)
    }

    /// The Lambda Function URL shape of [`WebhookReceiver::handle`].
    pub async fn handle_function_url(
        &self,
        request: &LambdaFunctionUrlRequest,
    ) -> LambdaFunctionUrlResponse {
        let delivery = delivery_from(request);
        match async { self.handle(&delivery?).await }.await {
            Ok(outcome) => json_response(200, &serde_json::json!({ "outcome": outcome })),
            Err(error) => {
                if error.status() >= 500 {
                    tracing::error!(error = %crate::auth::report(&error), "webhook failed");
                }
                json_response(
                    error.status(),
                    &serde_json::json!({ "error": error.to_string() }),
                )
            }
        }
    }
}

/// The durable claims that bound a tenant's reads per window: each name is claimed once
/// until the window after this one has ended.
struct Slots<'a> {
    stores: &'a StateStores,
    tenant: &'a TenantConfig,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl Slots<'_> {
    fn key(&self, name: &str) -> Result<IdempotencyKey, WebhookError> {
        IdempotencyKey::new(format!("{}:{name}", self.tenant.id))
            .map_err(store("building the idempotency key"))
    }

    async fn claim(&self, name: &str) -> Result<bool, WebhookError> {
        let claim = self
            .stores
            .idempotency
            .claim(&self.key(name)?, self.expires_at, self.expires_at, self.now)
            .await
            .map_err(store("claiming a webhook read"))?;
        Ok(claim == ClaimOutcome::Claimed)
    }

    async fn release(&self, name: &str) {
        let released = match self.key(name) {
            Ok(key) => self.stores.idempotency.release(&key).await,
            Err(_) => return,
        };
        if let Err(error) = released {
            // The claim expires by itself after the next window.
            tracing::warn!(tenant = %self.tenant.id, %error, "cannot release a webhook read claim");
        }
    }
}

/// Reads a delivery from a Function URL event (multiple header values arrive joined by
/// commas; base64 never contains one).
pub fn delivery_from(request: &LambdaFunctionUrlRequest) -> Result<WebhookDelivery, WebhookError> {
    let body = match (&request.body, request.is_base64_encoded) {
        (None, _) => String::new(),
        // Base64 is 4/3 of the bytes: refuse an oversized body before decoding it.
        (Some(body), _) if body.len() > MAX_BODY_BYTES.div_ceil(3) * 4 => {
            return Err(WebhookError::TooLarge);
        }
        (Some(body), false) => body.clone(),
        (Some(body), true) => base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or(WebhookError::BadBody)?,
    };
    Ok(delivery_of(
        &request.headers,
        request.raw_query_string.clone(),
        body,
    ))
}

/// A delivery from what any HTTP front end has of a request: its headers (a header given
/// several times, or with values joined by commas, counts every value), its query and its
/// body. At most [`MAX_SIGNATURES`] + 1 signatures are kept: enough for
/// [`WebhookReceiver::handle`] to refuse the lot.
pub fn delivery_of(
    headers: &http::HeaderMap,
    query: Option<String>,
    body: String,
) -> WebhookDelivery {
    let header_values = |name: &str, limit: usize| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .take(limit)
            .map(str::to_owned)
            .collect()
    };
    WebhookDelivery {
        query,
        signatures: header_values(SIGNATURE_HEADER, MAX_SIGNATURES + 1),
        event_type: header_values(EVENT_TYPE_HEADER, 1).into_iter().next(),
        body,
    }
}

pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> LambdaFunctionUrlResponse {
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = i64::from(status);
    response.body = Some(body.to_string());
    response.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
