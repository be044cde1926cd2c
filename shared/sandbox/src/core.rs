//! The sandbox's shared core: all shops behind one lock, plus clock, journal, fault
//! injector and webhook dispatcher. The HTTP routes, the admin API and the typed handle all
//! call these methods, so every way of changing a shop behaves the same (including the
//! webhooks it triggers).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use beyond::model as m;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::TokenStore;
use crate::catalog::create::build_product;
use crate::catalog::render as catalog_render;
use crate::clock::SandboxClock;
use crate::error::ApiError;
use crate::faults::FaultInjector;
use crate::journal::Journal;
use crate::order::create::build_order;
use crate::order::{Order, render as order_render};
use crate::shop::{Shop, ShopConfig};
use crate::webhooks::{self, Delivery, Dispatcher};

#[derive(Debug, Default)]
pub struct SandboxState {
    pub shops: BTreeMap<String, Shop>,
    pub tokens: TokenStore,
    next_tenant_id: i64,
}

/// What registering a shop produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopInfo {
    pub name: String,
    pub tenant_id: i64,
    pub api_url: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub token_lifetime_seconds: u64,
}

#[derive(Debug)]
pub struct Core {
    state: Mutex<SandboxState>,
    pub clock: SandboxClock,
    pub journal: Journal,
    pub faults: FaultInjector,
    pub(crate) dispatcher: Dispatcher,
    base_url: String,
}

impl Core {
    pub fn new(base_url: String) -> Self {
        Self {
            state: Mutex::new(SandboxState::default()),
            clock: SandboxClock::default(),
            journal: Journal::default(),
            faults: FaultInjector::default(),
            dispatcher: Dispatcher::default(),
            base_url,
        }
    }

    /// The state lock. Nothing awaits while holding it, and a panic elsewhere must not
    /// wedge the sandbox, so a poisoned lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, SandboxState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://host:port/shops/{shop}/api`.
    pub fn api_root(&self, shop: &str) -> String {
        format!("{}/shops/{shop}/api", self.base_url)
    }

    /// Registers a shop, or updates the app settings of an existing one (keeping its data).
    pub fn register_shop(&self, config: ShopConfig) -> Result<ShopInfo, ApiError> {
        let valid_name = !config.name.is_empty()
            && config
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !valid_name {
            return Err(ApiError::validation(
                "Shop",
                vec![(
                    "name".into(),
                    Value::String(config.name.clone()),
                    "must be non-empty and use only letters, digits, '-', '_' and '.'".into(),
                )],
            ));
        }
        let mut state = self.lock();
        let name = config.name.clone();
        match state.shops.get_mut(&name) {
            Some(shop) => shop.reconfigure(config),
            None => {
                state.next_tenant_id += 1;
                let tenant_id = 1_000 + state.next_tenant_id;
                state
                    .shops
                    .insert(name.clone(), Shop::new(config, tenant_id));
            }
        }
        let shop = state
            .shops
            .get(&name)
            .ok_or_else(|| ApiError::internal("shop vanished while registering"))?;
        Ok(self.shop_info(shop))
    }

    pub fn shop_info(&self, shop: &Shop) -> ShopInfo {
        ShopInfo {
            name: shop.name.clone(),
            tenant_id: shop.tenant_id,
            api_url: self.api_root(&shop.name),
            client_id: shop.client_id.clone(),
            scopes: shop.scopes.iter().cloned().collect(),
            token_lifetime_seconds: shop.token_lifetime_secs,
        }
    }

    pub fn shops(&self) -> Vec<ShopInfo> {
        let state = self.lock();
        state
            .shops
            .values()
            .map(|shop| self.shop_info(shop))
            .collect()
    }

    pub fn issue_code(&self, shop: &str) -> Result<String, ApiError> {
        let mut state = self.lock();
        let state = &mut *state;
        let shop = state.shops.get(shop).ok_or_else(|| unknown_shop(shop))?;
        Ok(state.tokens.issue_code(shop))
    }

    pub fn expire_access_tokens(&self, shop: &str) -> Result<(), ApiError> {
        let now = self.clock.now();
        let mut state = self.lock();
        if !state.shops.contains_key(shop) {
            return Err(unknown_shop(shop));
        }
        state.tokens.expire_access_tokens(shop, now);
        Ok(())
    }

    /// What ePages does when the merchant uninstalls the app: every token and code the
    /// shop issued stops working (the webhook that follows is the shop's business).
    pub fn uninstall_app(&self, shop: &str) -> Result<(), ApiError> {
        let mut state = self.lock();
        if !state.shops.contains_key(shop) {
            return Err(unknown_shop(shop));
        }
        state.tokens.revoke_all(shop);
        Ok(())
    }

    /// Runs `f` on one shop under the lock, at the sandbox clock's now.
    pub fn with_shop<R>(
        &self,
        shop: &str,
        f: impl FnOnce(&mut Shop, DateTime<Utc>) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        self.with_shop_at(shop, None, f)
    }

    /// Runs `f` on one shop under the lock, at `at` (seeds back-date orders) or now.
    pub fn with_shop_at<R>(
        &self,
        shop: &str,
        at: Option<DateTime<Utc>>,
        f: impl FnOnce(&mut Shop, DateTime<Utc>) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        // Shop data is written in the shop's zone (see `clock`): every `now` a shop
        // mutation sees is the wall-clock reading.
        let now = self.clock.reading(at.unwrap_or_else(|| self.clock.now()));
        let mut state = self.lock();
        let shop = state
            .shops
            .get_mut(shop)
            .ok_or_else(|| unknown_shop(shop))?;
        f(shop, now)
    }

    /// Reads one order.
    pub fn read_order<R>(
        &self,
        shop: &str,
        order_id: Uuid,
        f: impl FnOnce(&Order, &str) -> R,
    ) -> Result<R, ApiError> {
        let root = self.api_root(shop);
        self.with_shop(shop, |shop, _| {
            shop.orders
                .get(&order_id)
                .map(|order| f(order, &root))
                .ok_or_else(|| ApiError::not_found(&format!("/orders/{order_id}")))
        })
    }

    /// `POST /orders`: creates the order, takes its stock and announces `order.created`.
    pub fn create_order(self: &Arc<Self>, shop: &str, body: &Value) -> Result<m::Order, ApiError> {
        self.create_order_at(shop, body, None)
    }

    /// [`Core::create_order`] at a given time (default now).
    pub fn create_order_at(
        self: &Arc<Self>,
        shop: &str,
        body: &Value,
        at: Option<DateTime<Utc>>,
    ) -> Result<m::Order, ApiError> {
        let root = self.api_root(shop);
        let (model, deliveries) = self.with_shop_at(shop, at, |shop, now| {
            let number = shop.next_order_number.to_string();
            let new = build_order(body, &shop.catalog, number.clone(), now)?;
            if new.order.order_number == number {
                shop.take_order_number();
            }
            for (target, quantity) in &new.stock {
                shop.catalog.take_stock(*target, *quantity, now);
            }
            let model = order_render::order(&new.order, &root);
            let deliveries = order_deliveries(shop, "order.created", &model);
            shop.orders.insert(new.order.id, new.order);
            Ok((model, deliveries))
        })?;
        webhooks::send(self, deliveries);
        Ok(model)
    }

    /// Applies a state-machine operation to one order. The operation runs on a copy that
    /// replaces the order only on success, so a rejected request changes nothing. A change
    /// (a new event) announces `order.updated`.
    pub fn update_order<R>(
        self: &Arc<Self>,
        shop: &str,
        order_id: Uuid,
        f: impl FnOnce(&mut Order, DateTime<Utc>) -> Result<R, ApiError>,
    ) -> Result<(R, m::Order), ApiError> {
        self.update_order_at(shop, order_id, None, f)
    }

    /// [`Core::update_order`] at a given time (default now).
    pub fn update_order_at<R>(
        self: &Arc<Self>,
        shop: &str,
        order_id: Uuid,
        at: Option<DateTime<Utc>>,
        f: impl FnOnce(&mut Order, DateTime<Utc>) -> Result<R, ApiError>,
    ) -> Result<(R, m::Order), ApiError> {
        let root = self.api_root(shop);
        let (result, model, deliveries) = self.with_shop_at(shop, at, |shop, now| {
            let current = shop
                .orders
                .get(&order_id)
                .ok_or_else(|| ApiError::not_found(&format!("/orders/{order_id}")))?;
            let mut changed = current.clone();
            let events_before = changed.events.len();
            let result = f(&mut changed, now)?;
            let model = order_render::order(&changed, &root);
            let deliveries = if changed.events.len() != events_before {
                order_deliveries(shop, "order.updated", &model)
            } else {
                Vec::new()
            };
            shop.orders.insert(order_id, changed);
            Ok((result, model, deliveries))
        })?;
        webhooks::send(self, deliveries);
        Ok((result, model))
    }

    /// `POST /products`: 409 `integrity-constraint-violation` for a SKU already in use.
    pub fn create_product(self: &Arc<Self>, shop: &str, body: &Value) -> Result<Value, ApiError> {
        let root = self.api_root(shop);
        let (json, deliveries) = self.with_shop(shop, |shop, now| {
            let product = build_product(body, now)?;
            if let Some(sku) = &product.sku
                && shop.catalog.sku_taken(sku)
            {
                return Err(duplicate_sku(sku));
            }
            let json =
                catalog_render::product(&product, &root, catalog_render::ProductView::Summary);
            let deliveries = webhooks::plan(shop, "product.created", "product", json.clone());
            shop.catalog.insert(product);
            Ok((json, deliveries))
        })?;
        webhooks::send(self, deliveries);
        Ok(json)
    }
}

fn order_deliveries(shop: &Shop, event_type: &str, model: &m::Order) -> Vec<Delivery> {
    match serde_json::to_value(model) {
        Ok(payload) => webhooks::plan(shop, event_type, "order", payload),
        Err(_) => Vec::new(),
    }
}

pub fn unknown_shop(shop: &str) -> ApiError {
    ApiError::not_found(&format!("/shops/{shop}"))
}

pub fn duplicate_sku(sku: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "integrity-constraint-violation",
        format!("A product with the SKU '{sku}' already exists in this shop."),
    )
}
