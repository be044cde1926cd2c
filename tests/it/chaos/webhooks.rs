//! The webhook fast path under chaos: the sandbox delivers its signed `order.created` /
//! `order.updated` webhooks to the real `epages-webhook` handler (behind a loopback HTTP
//! server, registered with each shop as `install-app` and `run --listen` register it), whose
//! targeted-read requests land on the same poll queue the scheduler feeds, and the same
//! consumers run both, several at once.
//!
//! Reads only ever run while the shop stands still (after the merchant's turn, and after
//! the schedule fires), so every read of an order sees one of the states the model knows.
//! Which orders the fast path reads after the merchant's turn is not the model's to decide
//! (the receiver's per-tenant budget, delivery order and thread timing do): an order whose
//! events arrive then is read by the model at that state too, and from then on must match
//! exactly, its stock included (`order.created` now reaches Afosto before the round's stock
//! levels). The fast path must not be idle either: every order whose read was requested
//! before the consumers ran, and that has something to report, must have reported it
//! before the commands run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use chrono::{TimeDelta, Utc};
use connector::auth::ShopClients;
use connector::epages_webhook::registration::register_webhooks;
use connector::epages_webhook::{ShopInstallationProbe, WebhookConfig, WebhookReceiver};
use connector::lambda::ReceiveEpagesWebhooks;
use connector::pipeline::poll::PollSettings;
use connector::ports::secrets::SecretNaming;
use connector::ports::{Clock, MessageQueue, StateStores};
use domain::tenant::TenantId;
use uuid::Uuid;

use super::workload::{SHOPS, Workload, tenant};
use super::world::{Outbound, World, chaos_http};

const PATH: &str = "/epages-webhook";
/// The receiver's burst window. Its clock is real time (plus the gaps between rounds): on
/// the shop's clock, frozen within a round, a whole round would be one window and the
/// fast path would stop at the per-tenant budget of the first few orders.
const WINDOW: Duration = Duration::from_secs(1);
/// The shop's deliveries are over when none arrived and none was in progress this long.
const QUIET: Duration = Duration::from_millis(75);
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// What the receiver answered, for the checks and the summary.
#[derive(Debug, Default)]
struct Log {
    /// Receiver outcome (or HTTP status) → deliveries.
    outcomes: BTreeMap<String, usize>,
    /// Orders whose read was requested at once since the last [`Webhooks::settle`].
    requested: BTreeSet<(String, Uuid)>,
    /// Deliveries answered with anything but 200.
    refused: Vec<String>,
}

/// The `epages-webhook` function on loopback, registered with every shop.
pub struct Webhooks {
    log: Arc<Mutex<Log>>,
    received: Arc<AtomicUsize>,
    active: Arc<AtomicUsize>,
}

impl Webhooks {
    /// Serves the handler and registers its URL with every tenant's shop.
    pub async fn start(
        stores: &StateStores,
        poll_queue: Arc<dyn MessageQueue>,
        clock: Arc<dyn Clock>,
        tenants: &[TenantId],
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let url = url::Url::parse(&format!(
            "http://{}{PATH}",
            listener.local_addr().expect("addr")
        ))
        .expect("a URL");
        let naming = SecretNaming::new("chaos").expect("a prefix");
        let clients = Arc::new(ShopClients::new(stores, chaos_http(), clock.clone()));
        let handler = Arc::new(ReceiveEpagesWebhooks::new(WebhookReceiver {
            config: WebhookConfig {
                webhook_url: url.clone(),
                secrets: naming.clone(),
                poll_window: WINDOW,
                poll_skew: PollSettings::default().skew,
            },
            stores: stores.clone(),
            poll_queue,
            clock,
            installation: Some(Arc::new(ShopInstallationProbe::new(clients.clone()))),
        }));
        let webhooks = Self {
            log: Arc::default(),
            received: Arc::default(),
            active: Arc::default(),
        };
        let (log, received, active) = (
            webhooks.log.clone(),
            webhooks.received.clone(),
            webhooks.active.clone(),
        );
        let app = axum::Router::new().route(
            PATH,
            axum::routing::post(
                move |uri: http::Uri, headers: http::HeaderMap, body: String| {
                    let (handler, log) = (handler.clone(), log.clone());
                    let (received, active) = (received.clone(), active.clone());
                    async move {
                        active.fetch_add(1, Ordering::SeqCst);
                        received.fetch_add(1, Ordering::SeqCst);
                        let status = deliver(&handler, &log, uri, headers, body).await;
                        active.fetch_sub(1, Ordering::SeqCst);
                        status
                    }
                },
            ),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        for id in tenants {
            let config = stores
                .tenants
                .get(id)
                .await
                .expect("reads")
                .expect("the tenant exists");
            let client = clients.client_for(&config).expect("a shop client");
            register_webhooks(stores, &naming, &url, &client, id)
                .await
                .expect("webhooks registered");
        }
        webhooks
    }

    /// Waits until the shop's deliveries are over; the orders whose read was requested at
    /// once since the last call.
    pub async fn settle(&self) -> BTreeSet<(String, Uuid)> {
        let started = Instant::now();
        let mut seen = self.received.load(Ordering::SeqCst);
        let mut quiet_since = Instant::now();
        while started.elapsed() < SETTLE_LIMIT {
            tokio::time::sleep(Duration::from_millis(15)).await;
            let now = self.received.load(Ordering::SeqCst);
            if now != seen || self.active.load(Ordering::SeqCst) > 0 {
                seen = now;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= QUIET {
                break;
            }
        }
        std::mem::take(&mut self.lock().requested)
    }

    pub fn outcomes(&self) -> BTreeMap<String, usize> {
        self.lock().outcomes.clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.lock().refused.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One delivery through the Lambda handler, as the Function URL hands it over.
async fn deliver(
    handler: &ReceiveEpagesWebhooks,
    log: &Mutex<Log>,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: String,
) -> http::StatusCode {
    let named: Option<(String, Uuid)> = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|order| order["id"].as_str().and_then(|id| id.parse().ok()))
        .zip(uri.query().and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "tenant")
                .map(|(_, value)| value.into_owned())
        }))
        .map(|(order, tenant)| (tenant, order));
    let mut request = LambdaFunctionUrlRequest::default();
    request.raw_path = Some(uri.path().to_owned());
    request.raw_query_string = uri.query().map(str::to_owned);
    request.headers = headers;
    request.body = Some(body);
    let context =
        connector::lambda::lambda_context("epages-webhook", Utc::now() + TimeDelta::seconds(30));
    let response = handler
        .handle(lambda_runtime::LambdaEvent::new(request, context))
        .await
        .expect("the function answers every request");
    let outcome = response
        .body
        .as_deref()
        .and_then(|body| serde_json::from_str::<serde_json::Value>(body).ok())
        .and_then(|body| body["outcome"].as_str().map(str::to_owned));
    let mut log = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match (response.status_code, outcome) {
        (200, Some(outcome)) => {
            if outcome == "order_read_requested"
                && let Some(named) = named
            {
                log.requested.insert(named);
            }
            *log.outcomes.entry(outcome).or_default() += 1;
        }
        (status, _) => {
            *log.outcomes.entry(format!("http {status}")).or_default() += 1;
            log.refused
                .push(format!("{status} {:?} for {named:?}", response.body));
        }
    }
    http::StatusCode::from_u16(u16::try_from(response.status_code).unwrap_or(500))
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// After the merchant's turn: the shop's webhooks delivered, their targeted reads run on
/// `workers` consumers at once (with whatever else is due on the poll queue), and the model
/// told which orders they read. Returns the differences found.
pub async fn fast_path(
    world: &World,
    workload: &mut Workload,
    outbound: &mut Vec<Outbound>,
    workers: usize,
) -> Vec<String> {
    let requested = world.webhooks.settle().await;
    world.consuming(world.drain_polls(workers), outbound).await;
    let now_ms = world.clock.now().timestamp_millis();
    let received = events_per_order(outbound);
    let mut problems = Vec::new();
    for shop in 0..SHOPS {
        for index in 0..workload.orders[shop].len() {
            let order = &workload.orders[shop][index];
            let key = (tenant(shop), order.id);
            let got = received.get(&key).copied().unwrap_or(0);
            if got > order.expected.len() {
                workload.read(shop, index, now_ms);
                workload.stats.fast_path_reads += 1;
            } else if requested.contains(&key) {
                let mut probe = order.clone();
                probe.poll();
                if probe.expected.len() > order.expected.len() {
                    problems.push(format!(
                        "{} order {} ({}): its read was requested by a webhook, but its changes were not sent before the commands ran",
                        key.0, order.number, order.id
                    ));
                }
            }
        }
    }
    problems.extend(checkpoint(outbound, workload, "after the fast path"));
    problems
}

/// Every order has received exactly as many events as the model expects by now.
pub fn checkpoint(outbound: &[Outbound], workload: &Workload, when: &str) -> Vec<String> {
    let received = events_per_order(outbound);
    let mut problems = Vec::new();
    for (shop, orders) in workload.orders.iter().enumerate() {
        for order in orders {
            let got = received
                .get(&(tenant(shop), order.id))
                .copied()
                .unwrap_or(0);
            if got != order.expected.len() {
                problems.push(format!(
                    "{} order {} ({}): {got} events {when}, the model expects {}",
                    tenant(shop),
                    order.number,
                    order.id,
                    order.expected.len()
                ));
            }
        }
    }
    problems
}

fn events_per_order(outbound: &[Outbound]) -> BTreeMap<(String, Uuid), usize> {
    let mut counts = BTreeMap::new();
    for message in outbound {
        if let Outbound::Event { event, .. } = message {
            let header = event.header();
            *counts
                .entry((header.tenant.clone(), header.order_id))
                .or_default() += 1;
        }
    }
    counts
}
