//! `run --listen`: the two webhook receivers of a deployment (the `epages-webhook` and
//! `afosto-webhook` Function URLs) on one local HTTP listener, and the ePages side of their
//! registration, so a real test shop or the sandbox gets the webhook fast path locally.
//!
//! - `POST {path of --public-url}` → the ePages receiver (`order.created` / `order.updated`
//!   → a targeted read of the order on the poll queue, which the local poller consumes);
//! - `POST /afosto-webhook` → the Afosto receiver (→ the command queue).
//!
//! At start every active tenant's shop gets a signer and the subscriptions to
//! `{public-url}?tenant={id}`, as `install-app` registers them (one piece of code:
//! `connector::epages_webhook::registration`); a tenant whose registration fails is named
//! and keeps its scheduled polls.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use connector::afosto_webhook::{AfostoWebhook, WebhookSettings};
use connector::auth::ShopClients;
use connector::epages_webhook::registration::{Registration, register_webhooks};
use connector::epages_webhook::{
    ShopInstallationProbe, WebhookConfig, WebhookReceiver, delivery_of,
};
use connector::ports::PageRequest;
use url::Url;

use super::pumps::Shutdown;
use super::runtime::LocalRuntime;

/// Where the Afosto receiver listens.
pub const AFOSTO_PATH: &str = "/afosto-webhook";

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("--public-url {0} has the Afosto receiver's path; give the ePages receiver another")]
    PathTaken(Url),
    #[error("listing the tenants")]
    Tenants(#[source] connector::ports::StoreError),
}

/// What the registration at start did per tenant.
#[derive(Debug, Default, Clone)]
pub struct RegistrationSummary {
    pub registered: Vec<String>,
    pub already: Vec<String>,
    /// Tenant and reason.
    pub failed: Vec<(String, String)>,
}

/// The listener, serving until `shutdown`.
pub struct Listener {
    pub local_addr: SocketAddr,
    pub public_url: Url,
    pub served: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Receivers {
    epages: WebhookReceiver,
    afosto: Arc<AfostoWebhook>,
}

/// Binds `addr` and serves both receivers until `shutdown`. `public_url` is what the shop
/// calls (a tunnel's URL for a real shop); without one, `http://{bound address}/epages-webhook`.
pub async fn serve(
    runtime: &LocalRuntime,
    addr: SocketAddr,
    public_url: Option<Url>,
    shutdown: Shutdown,
) -> Result<Listener, ListenError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::Bind { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| ListenError::Bind { addr, source })?;
    let public_url = match public_url {
        Some(url) => url,
        None => Url::parse(&format!("http://{local_addr}/epages-webhook"))
            .unwrap_or_else(|error| unreachable!("a socket address makes a URL: {error}")),
    };
    let epages_path = match public_url.path() {
        "" => "/".to_owned(),
        path => path.to_owned(),
    };
    if epages_path == AFOSTO_PATH {
        return Err(ListenError::PathTaken(public_url));
    }
    let clients = Arc::new(ShopClients::new(
        &runtime.stores,
        runtime.http.clone(),
        runtime.clock.clone(),
    ));
    let receivers = Receivers {
        epages: WebhookReceiver {
            config: WebhookConfig {
                webhook_url: public_url.clone(),
                secrets: runtime.secrets.clone(),
                poll_window: WebhookConfig::DEFAULT_POLL_WINDOW,
                poll_skew: runtime.poll_skew,
            },
            stores: runtime.stores.clone(),
            poll_queue: runtime.queues.poll.clone(),
            clock: runtime.clock.clone(),
            installation: Some(Arc::new(ShopInstallationProbe::new(clients))),
        },
        afosto: Arc::new(AfostoWebhook::new(
            runtime.stores.tenants.clone(),
            runtime.stores.secrets.clone(),
            runtime.stores.idempotency.clone(),
            runtime.stores.activity.clone(),
            runtime.queues.commands.clone(),
            runtime.clock.clone(),
            WebhookSettings::new(runtime.secrets.clone()),
        )),
    };
    let app = axum::Router::new()
        .route(&epages_path, axum::routing::post(epages))
        .route(AFOSTO_PATH, axum::routing::post(afosto))
        .with_state(receivers);
    let served = tokio::spawn(async move {
        let stopped = async move { shutdown.wait().await };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(%error, "the webhook listener stopped");
        }
    });
    tracing::info!(%local_addr, %public_url, afosto = AFOSTO_PATH, "webhook receivers listening");
    Ok(Listener {
        local_addr,
        public_url,
        served,
    })
}

async fn epages(
    State(receivers): State<Receivers>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return (StatusCode::BAD_REQUEST, "the body is not UTF-8").into_response();
    };
    let delivery = delivery_of(&headers, uri.query().map(str::to_owned), body);
    match receivers.epages.handle(&delivery).await {
        Ok(outcome) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "outcome": outcome })),
        )
            .into_response(),
        Err(error) => {
            let status =
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({ "error": error.to_string() });
            (status, axum::Json(body)).into_response()
        }
    }
}

async fn afosto(State(receivers): State<Receivers>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = receivers.afosto.handle_raw(&headers, &body).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "status": answer.outcome, "detail": answer.detail });
    (status, axum::Json(body)).into_response()
}

/// Registers the receiver with the shop of every active tenant that is not registered yet.
pub async fn register_tenants(
    runtime: &LocalRuntime,
    public_url: &Url,
) -> Result<RegistrationSummary, ListenError> {
    let clients = ShopClients::new(&runtime.stores, runtime.http.clone(), runtime.clock.clone());
    let mut summary = RegistrationSummary::default();
    let mut page = PageRequest::first(100);
    loop {
        let listed = runtime
            .stores
            .tenants
            .list_active(page.clone())
            .await
            .map_err(ListenError::Tenants)?;
        for tenant in &listed.items {
            let id = tenant.id.to_string();
            let registered = match clients.client_for(tenant) {
                Ok(client) => register_webhooks(
                    &runtime.stores,
                    &runtime.secrets,
                    public_url,
                    &client,
                    &tenant.id,
                )
                .await
                .map_err(|error| failure_text(&error)),
                Err(error) => Err(failure_text(&error)),
            };
            match registered {
                Ok(Registration::Registered) => summary.registered.push(id),
                Ok(Registration::AlreadyRegistered) => summary.already.push(id),
                Err(reason) => {
                    tracing::warn!(tenant = %tenant.id, %reason, "webhooks not registered: the scheduled poll still runs");
                    summary.failed.push((id, reason));
                }
            }
        }
        match listed.next {
            Some(token) => page.token = Some(token),
            None => break,
        }
    }
    Ok(summary)
}

/// A failure as printed: its causes, with anything secret-shaped removed.
fn failure_text(error: &dyn std::error::Error) -> String {
    beyond::redact::sink_text(&connector::error_chain::error_chain(error))
}
