//! One emulated shop: its app credentials and granted scopes, catalog, orders and webhook
//! configuration.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::order::Order;

/// Beyond's access tokens live 12 hours; its examples say `expires_in: 43199`.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 43_199;

/// Every scope the sandbox enforces somewhere; the default grant of a shop's app.
pub const ALL_SCOPES: &[&str] = &[
    "ordr:r", "ordr:c", "ordr:u", "orde:r", "ordp:r", "shpr:r", "shpr:c", "shpr:u", "clpr:r",
    "clpr:c", "rtpr:r", "rtpr:c", "rfpr:r", "rfpr:u", "pypr:r", "pypr:u", "prod:r", "prod:c",
    "prod:u", "prda:r", "prda:u",
];

/// How to register a shop (admin API, seed file, typed handle).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopConfig {
    /// The shop's name: its API lives at `/shops/{name}/api`.
    pub name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Scopes granted to the app; all scopes the sandbox knows when absent.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub token_lifetime_seconds: Option<u64>,
}

impl ShopConfig {
    pub fn new(name: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            name: name.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: SecretString::from(client_secret.to_owned()),
            scopes: None,
            token_lifetime_seconds: None,
        }
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = Some(scopes.iter().map(|scope| (*scope).to_owned()).collect());
        self
    }

    pub fn token_lifetime_seconds(mut self, seconds: u64) -> Self {
        self.token_lifetime_seconds = Some(seconds);
        self
    }
}

/// A signer: the shared secret webhook signatures are computed with.
#[derive(Debug, Clone)]
pub struct SignerRecord {
    pub id: Uuid,
    pub shared_secret: SecretString,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    pub id: Uuid,
    pub callback_uri: String,
    pub event_types: Vec<String>,
    pub active: bool,
}

#[derive(Debug)]
pub struct Shop {
    pub name: String,
    pub tenant_id: i64,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: BTreeSet<String>,
    pub token_lifetime_secs: u64,
    pub catalog: Catalog,
    pub orders: HashMap<Uuid, Order>,
    /// The next generated order number (Beyond's default numbering starts at 10001).
    pub next_order_number: u64,
    pub signers: Vec<SignerRecord>,
    pub subscriptions: Vec<SubscriptionRecord>,
}

impl Shop {
    pub fn new(config: ShopConfig, tenant_id: i64) -> Self {
        let scopes = match config.scopes {
            Some(scopes) => scopes.into_iter().collect(),
            None => ALL_SCOPES.iter().map(|scope| (*scope).to_owned()).collect(),
        };
        Self {
            name: config.name,
            tenant_id,
            client_id: config.client_id,
            client_secret: config.client_secret,
            scopes,
            token_lifetime_secs: config
                .token_lifetime_seconds
                .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS),
            catalog: Catalog::default(),
            orders: HashMap::new(),
            next_order_number: 10_001,
            signers: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    /// Re-registering a shop updates its app settings and keeps its data.
    pub fn reconfigure(&mut self, config: ShopConfig) {
        self.client_id = config.client_id;
        self.client_secret = config.client_secret;
        if let Some(scopes) = config.scopes {
            self.scopes = scopes.into_iter().collect();
        }
        if let Some(lifetime) = config.token_lifetime_seconds {
            self.token_lifetime_secs = lifetime;
        }
    }

    pub fn take_order_number(&mut self) -> String {
        let number = self.next_order_number;
        self.next_order_number += 1;
        number.to_string()
    }
}
