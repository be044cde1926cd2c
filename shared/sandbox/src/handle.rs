//! Starting a sandbox and driving it from Rust: [`Sandbox::start`] binds, serves in the
//! background and returns a [`SandboxHandle`] whose methods mirror the `/_sandbox/` admin
//! API (register shops, faults, journal, clock, seeds, state inspection), so tests need not
//! speak HTTP to it.

use std::net::SocketAddr;
use std::sync::Arc;

use beyond::model as m;
use serde_json::Value;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::clock::SandboxClock;
use crate::core::{Core, ShopInfo};
use crate::error::ApiError;
use crate::faults::{FaultSpec, FaultStatus};
use crate::journal::{JournalEntry, JournalFilter};
use crate::seed::{self, Seed, SeedAction, SeedOrder, SeedProduct, SeedReport};
use crate::server;
use crate::shop::ShopConfig;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The operation was refused the way the API would refuse it.
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("invalid seed")]
    Seed(#[source] serde_json::Error),
}

pub struct Sandbox;

impl Sandbox {
    /// Binds `addr` (e.g. `127.0.0.1:0`) and serves in the background.
    pub async fn start(
        addr: impl ToSocketAddrs + std::fmt::Debug,
    ) -> Result<SandboxHandle, SandboxError> {
        let described = format!("{addr:?}");
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: described.clone(),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: described,
            source,
        })?;
        let core = Arc::new(Core::new(server::base_url(local_addr)));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let app = server::app(Arc::clone(&core));
        let task = tokio::spawn(server::serve(listener, app, shutdown_rx));
        Ok(SandboxHandle {
            core,
            local_addr,
            shutdown,
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server too; [`SandboxHandle::shutdown`] also
/// waits for open connections to finish.
pub struct SandboxHandle {
    core: Arc<Core>,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("base_url", &self.core.base_url())
            .finish_non_exhaustive()
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        self.core.base_url()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT/shops/{shop}/api`.
    pub fn shop_api_url(&self, shop: &str) -> String {
        self.core.api_root(shop)
    }

    /// Stops accepting connections and waits (bounded) for open ones to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The shared core, for what the typed API does not cover.
    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    // ---- shops and auth ------------------------------------------------------------

    pub fn register_shop(&self, config: ShopConfig) -> Result<ShopInfo, SandboxError> {
        Ok(self.core.register_shop(config)?)
    }

    pub fn shops(&self) -> Vec<ShopInfo> {
        self.core.shops()
    }

    /// A single-use authorization code for the shop's app.
    pub fn issue_authorization_code(&self, shop: &str) -> Result<String, SandboxError> {
        Ok(self.core.issue_code(shop)?)
    }

    /// Makes the shop's current access tokens expire now.
    pub fn expire_access_tokens(&self, shop: &str) -> Result<(), SandboxError> {
        Ok(self.core.expire_access_tokens(shop)?)
    }

    /// The merchant uninstalls the app: the shop's tokens and codes stop working.
    pub fn uninstall_app(&self, shop: &str) -> Result<(), SandboxError> {
        Ok(self.core.uninstall_app(shop)?)
    }

    // ---- faults, journal, clock ----------------------------------------------------

    pub fn add_fault(&self, spec: FaultSpec) -> u64 {
        self.core.faults.add(spec)
    }

    pub fn remove_fault(&self, id: u64) -> bool {
        self.core.faults.remove(id)
    }

    pub fn clear_faults(&self) {
        self.core.faults.clear();
    }

    pub fn faults(&self) -> Vec<FaultStatus> {
        self.core.faults.list()
    }

    pub fn journal(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.core.journal.entries(filter)
    }

    pub fn reset_journal(&self) {
        self.core.journal.reset();
    }

    /// Freeze, set, advance or reset the sandbox clock.
    pub fn clock(&self) -> &SandboxClock {
        &self.core.clock
    }

    // ---- seeding and merchant actions ----------------------------------------------

    pub fn seed(&self, seed: &Seed) -> Result<SeedReport, SandboxError> {
        Ok(seed::apply(&self.core, seed)?)
    }

    pub fn seed_json(&self, text: &str) -> Result<SeedReport, SandboxError> {
        let seed = seed::parse(text).map_err(SandboxError::Seed)?;
        self.seed(&seed)
    }

    /// Loads the built-in demo seed.
    pub fn seed_demo(&self) -> Result<SeedReport, SandboxError> {
        self.seed_json(seed::DEMO_SEED)
    }

    /// Adds a product (with its variations); returns it as `GET /products/{id}` would.
    pub fn add_product(&self, shop: &str, product: &SeedProduct) -> Result<Value, SandboxError> {
        Ok(seed::add_product(&self.core, shop, product)?)
    }

    /// Creates an order and applies its actions (webhooks fire as for API calls).
    pub fn create_order(&self, shop: &str, order: &SeedOrder) -> Result<m::Order, SandboxError> {
        Ok(seed::create_order(&self.core, shop, order)?)
    }

    /// Applies a merchant action to an order, as if done in the Beyond cockpit.
    pub fn apply(
        &self,
        shop: &str,
        order_id: Uuid,
        action: &SeedAction,
    ) -> Result<m::Order, SandboxError> {
        Ok(seed::apply_action(
            &self.core, shop, order_id, action, None,
        )?)
    }

    // ---- inspection ------------------------------------------------------------------

    /// The order as `GET /orders/{id}` shows it.
    pub fn order(&self, shop: &str, order_id: Uuid) -> Option<m::Order> {
        self.core
            .read_order(shop, order_id, crate::order::render::order)
            .ok()
    }

    /// All orders of a shop, newest first.
    pub fn orders(&self, shop: &str) -> Vec<m::Order> {
        let root = self.core.api_root(shop);
        self.core
            .with_shop(shop, |shop, _| {
                let mut orders: Vec<_> = shop.orders.values().collect();
                orders.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
                Ok(orders
                    .into_iter()
                    .map(|order| crate::order::render::order(order, &root))
                    .collect())
            })
            .unwrap_or_default()
    }

    /// The events of an order, newest first.
    pub fn order_events(&self, shop: &str, order_id: Uuid) -> Vec<m::OrderEvent> {
        self.core
            .read_order(shop, order_id, |order, root| {
                order
                    .events
                    .iter()
                    .rev()
                    .map(|event| crate::order::render::event(order, event, root))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The availability of the product or variation with this SKU.
    pub fn availability(&self, shop: &str, sku: &str) -> Option<m::Availability> {
        seed::availability_by_sku(&self.core, shop, sku)
            .ok()
            .flatten()
    }
}
