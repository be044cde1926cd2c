//! A sandbox seeded with the client fixture, and clients pointed at it.

use std::collections::BTreeMap;
use std::time::Duration;

use beyond::{BeyondClient, ClientConfig, HttpSettings, RetryPolicy};
use sandbox::{FaultKind, FaultSpec, JournalEntry, JournalFilter, Sandbox, SandboxHandle};
use secrecy::SecretString;
use uuid::Uuid;

pub const SHOP: &str = "s1";
pub const CLIENT_ID: &str = "client-1";
pub const CLIENT_SECRET: &str = "secret-1";
pub const READONLY_SHOP: &str = "readonly";

const SEED: &str = include_str!("../support/fixtures/beyond/client-shop.json");

/// Retries fast enough for tests, with room for a 1 s `Retry-After`.
pub fn fast_settings() -> HttpSettings {
    HttpSettings {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(3),
        },
        max_concurrent_requests: 4,
        user_agent: "epages-sync-tests".to_owned(),
        ..HttpSettings::default()
    }
}

pub struct Fixture {
    pub sandbox: SandboxHandle,
    /// A client-credentials client for shop `s1`.
    pub client: BeyondClient,
    /// Seeded orders by their seed reference (`new`, `paid`, `shipped`, `variation`,
    /// `pickup`, `full-refund-only`, `ro-new`).
    pub orders: BTreeMap<String, Uuid>,
}

impl Fixture {
    pub async fn start() -> Self {
        Self::start_with(fast_settings()).await
    }

    pub async fn start_with(settings: HttpSettings) -> Self {
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
        let report = sandbox.seed_json(SEED).expect("fixture seeds");
        let orders = report
            .orders
            .into_iter()
            .map(|(reference, seeded)| (reference, seeded.order_id))
            .collect();
        let client = client_for(&sandbox, SHOP, CLIENT_ID, CLIENT_SECRET, settings);
        Self {
            sandbox,
            client,
            orders,
        }
    }

    pub fn order(&self, reference: &str) -> Uuid {
        *self
            .orders
            .get(reference)
            .unwrap_or_else(|| panic!("no seeded order {reference:?}"))
    }

    /// Journal entries of shop `s1` for `method` on paths matching `path_glob`.
    pub fn journal(&self, method: &str, path_glob: &str) -> Vec<JournalEntry> {
        self.sandbox.journal(&JournalFilter {
            shop: Some(SHOP.to_owned()),
            method: Some(method.to_owned()),
            path: Some(path_glob.to_owned()),
            ..JournalFilter::default()
        })
    }

    /// Every API request shop `s1` saw.
    pub fn journal_all(&self) -> Vec<JournalEntry> {
        self.sandbox.journal(&JournalFilter {
            shop: Some(SHOP.to_owned()),
            webhooks: Some(false),
            ..JournalFilter::default()
        })
    }

    pub fn fault(&self, method: &str, path: &str, kind: FaultKind) -> FaultSpec {
        FaultSpec::new(path, kind).method(method).shop(SHOP)
    }
}

pub fn client_for(
    sandbox: &SandboxHandle,
    shop: &str,
    client_id: &str,
    client_secret: &str,
    settings: HttpSettings,
) -> BeyondClient {
    let mut config = ClientConfig::new(&sandbox.shop_api_url(shop)).expect("valid API URL");
    config.http = settings;
    BeyondClient::with_client_credentials(
        &config,
        client_id,
        SecretString::from(client_secret.to_owned()),
    )
    .expect("client builds")
}

/// The statuses of journal entries, `None` for dropped connections.
pub fn statuses(entries: &[JournalEntry]) -> Vec<Option<u16>> {
    entries.iter().map(|entry| entry.outcome.status()).collect()
}
