//! The sample events in `infra/events/` (one per function, as Lambda delivers it) still
//! work: each is deserialized as the exact event type its function's handler takes and run
//! through that handler over the embedded backend, with the sandbox shop where a shop is
//! needed, and its effect is checked. The signed samples face the internet, so each is also
//! sent with its signature one character off and must be refused without an effect.
//!
//! The samples are compiled in (`include_str!`), so editing one re-runs these tests; after
//! editing a signed body, `python3 infra/events/sign.py` signs it again.

mod afosto_webhook;
mod apply_commands;
mod epages_webhook;
mod install_app;
mod poll_orders;
mod schedule_polls;

use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use connector::lambda::lambda_context;
use connector::ports::MessageQueue;
use connector::ports::queue::ReceivedMessage;
use domain::tenant::{AuthMode, LocationMapping, StockTarget, TenantConfig, TenantId};
use lambda_runtime::LambdaEvent;
use sandbox::{Sandbox, SandboxHandle, ShopConfig};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::auth::support::{Backend, Kind};

/// The samples, as committed.
pub mod files {
    pub const SCHEDULE_POLLS: &str = include_str!("../../../infra/events/schedule-polls.json");
    pub const POLL_ORDERS: &str = include_str!("../../../infra/events/poll-orders.json");
    pub const APPLY_COMMANDS: &str = include_str!("../../../infra/events/apply-commands.json");
    pub const AFOSTO_WEBHOOK: &str = include_str!("../../../infra/events/afosto-webhook.json");
    pub const EPAGES_WEBHOOK: &str = include_str!("../../../infra/events/epages-webhook.json");
    pub const INSTALL_APP: &str = include_str!("../../../infra/events/install-app.json");
    /// The shop the samples assume, for `epages-sync sandbox --seed` and these tests.
    pub const SANDBOX_SEED: &str = include_str!("../../../infra/events/sandbox-seed.json");
}

/// What the samples assume (infra/events/README.md says the same).
pub const SAMPLE_SECRET: &str = "sample-secret-not-for-production";
pub const TENANT: &str = "sample-shop";
/// The public app's (and the sandbox shop's) client id.
pub const CLIENT_ID: &str = "sample-app-client";
pub const SHOP: &str = "sample-shop";
pub const ORDER_NUMBER: &str = "10001";
pub const SKU: &str = "MUG-001";
pub const LOCATION: &str = "warehouse-amsterdam";
pub const AFOSTO_TENANT: &str = "sample-afosto-tenant";
/// `EPAGES_WEBHOOK_URL` of the sample stage: the HTTP API's default endpoint.
pub const EPAGES_WEBHOOK_URL: &str = "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/";

/// A sample parsed as the event type its handler takes; a sample that no longer
/// deserializes fails here, naming the file.
pub fn event<T: DeserializeOwned>(name: &str, text: &str) -> LambdaEvent<T> {
    let payload = serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("infra/events/{name} is not the handler's event: {error}"));
    LambdaEvent::new(
        payload,
        lambda_context(
            format!("sample-{name}"),
            Utc::now() + TimeDelta::seconds(60),
        ),
    )
}

/// `signature` with its first character swapped for another of both the hex and the base64
/// alphabet, so only the signature is wrong, never its encoding.
pub fn one_character_off(signature: &str) -> String {
    let mut chars = signature.chars();
    let replacement = match chars.next() {
        Some('a') => 'b',
        _ => 'a',
    };
    std::iter::once(replacement).chain(chars).collect()
}

/// The sample tenant on the embedded backend, for the sandbox shop of
/// `infra/events/sandbox-seed.json`: app credentials the sample ones, `MUG-001` (25 in
/// stock) and the paid order `10001` with two of them.
pub struct World {
    pub backend: Backend,
    pub sandbox: SandboxHandle,
    pub tenant: TenantId,
    pub order_id: Uuid,
}

impl World {
    pub async fn start() -> Self {
        let backend = Backend::open(Kind::Embedded).await;
        let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
        let report = sandbox
            .seed_json(files::SANDBOX_SEED)
            .expect("infra/events/sandbox-seed.json seeds the sandbox");
        let order = report
            .orders
            .get("sample-order")
            .expect("the seed has the sample order");
        assert_eq!(order.order_number, ORDER_NUMBER);

        let tenant = TenantId::parse(TENANT).expect("the sample tenant id is valid");
        let secret = backend.naming.tenant_client_secret(&tenant);
        backend
            .stores
            .secrets
            .put(&secret, SecretString::from(SAMPLE_SECRET.to_owned()))
            .await
            .expect("client secret stored");
        let api_url = url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("valid url");
        let mut config = TenantConfig::new(
            tenant.clone(),
            api_url,
            AuthMode::ClientCredentials,
            CLIENT_ID,
            secret,
            // The start date the documented workflow uses (docs/DEVELOPING.md): before
            // the seed's order, which is dated days back so the poller's skew (30 s before
            // now, on the real clock) has long passed it.
            Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
                .single()
                .expect("a date"),
        );
        config.afosto_tenant = Some(AFOSTO_TENANT.to_owned());
        config.locations = vec![LocationMapping {
            afosto_location_id: LOCATION.to_owned(),
            target: StockTarget::ShopAvailability,
            epages_location_id: None,
        }];
        backend
            .stores
            .tenants
            .create(config, Utc::now())
            .await
            .expect("tenant created");
        Self {
            backend,
            sandbox,
            tenant,
            order_id: order.order_id,
        }
    }
}

/// A sandbox with only the (empty) shop `sample-shop`, whose app is the sample app.
pub async fn sample_shop() -> SandboxHandle {
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
    sandbox
        .register_shop(ShopConfig::new(SHOP, CLIENT_ID, SAMPLE_SECRET).token_lifetime_seconds(3600))
        .expect("shop registers");
    sandbox
}

/// Everything on `queue` now (nothing the handlers send here is delayed past `wait`).
pub async fn drain(queue: &dyn MessageQueue, wait: Duration) -> Vec<ReceivedMessage> {
    let mut all = Vec::new();
    loop {
        let batch = queue
            .receive(10, wait, Some(Duration::from_secs(60)))
            .await
            .expect("the queue answers");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}
