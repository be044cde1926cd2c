//! Both state backends as a full `StateStores` bundle, a sandbox shop per test, and tenants
//! pointing at it.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use aws_adapters::AwsStateConfig;
use beyond::{BeyondHttp, HttpSettings, RetryPolicy, TokenEndpoint};
use chrono::{TimeDelta, Utc};
use connector::ports::activity::Retention;
use connector::ports::secrets::SecretNaming;
use connector::ports::tokens::TokenPutOutcome;
use connector::ports::{Clock, ManualClock, StateStores};
use domain::tenant::{AuthMode, TenantConfig, TenantId};
use domain::tokens::TenantTokens;
use sandbox::{JournalFilter, Sandbox, SandboxHandle, ShopConfig};
use secrecy::SecretString;

use crate::support::{aws as aws_support, embedded as embedded_support, unique_tenant};

pub const SHOP: &str = "s1";
pub const CLIENT_ID: &str = "app-client-1";
pub const CLIENT_SECRET: &str = "app-secret-7f3a9c";

/// A state bundle on one backend plus what must outlive it.
pub struct Backend {
    pub stores: StateStores,
    pub naming: SecretNaming,
    pub clock: Arc<ManualClock>,
    /// The AWS configuration the stores were built from (`None` on the embedded backend).
    pub aws: Option<AwsStateConfig>,
    /// The embedded state directory (`None` on AWS).
    pub dir: Option<std::path::PathBuf>,
    pub _keep: Box<dyn Any + Send + Sync>,
}

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Embedded,
    Aws,
}

impl Backend {
    pub async fn open(kind: Kind) -> Self {
        let clock = Arc::new(ManualClock::new(crate::support::now()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        match kind {
            Kind::Embedded => {
                let dir = embedded_support::state_dir();
                let stores = ::embedded::open_state(dir.path(), Retention::default(), dyn_clock)
                    .await
                    .expect("embedded state opens");
                Self {
                    stores,
                    naming: SecretNaming::new("epages-sync/test").expect("valid prefix"),
                    clock,
                    aws: None,
                    dir: Some(dir.path().to_owned()),
                    _keep: Box::new(dir),
                }
            }
            Kind::Aws => {
                let sdk = aws_support::sdk_config().await;
                let (_, state_table) = aws_support::table("state").await;
                let (_, activity_table) = aws_support::table("activity").await;
                let naming = SecretNaming::new(aws_support::unique("epages-sync/test"))
                    .expect("valid prefix");
                let config = AwsStateConfig {
                    state_table,
                    activity_table,
                    secrets: naming.clone(),
                    secrets_kms_key_id: None,
                    activity_retention: Retention::default(),
                    // No caching across the test's own writes.
                    secrets_cache_ttl: Duration::ZERO,
                };
                let stores = aws_adapters::state_stores(&sdk, &config, dyn_clock);
                let config = config.clone();
                Self {
                    stores,
                    naming,
                    clock,
                    aws: Some(config),
                    dir: None,
                    _keep: Box::new(()),
                }
            }
        }
    }

    pub fn dyn_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
}

/// Retries fast enough for tests.
pub fn fast_http() -> HttpSettings {
    HttpSettings {
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(1),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(200),
        },
        max_concurrent_requests: 8,
        user_agent: "epages-sync-tests".to_owned(),
        ..HttpSettings::default()
    }
}

/// A sandbox with one shop whose app is `CLIENT_ID`/`CLIENT_SECRET`, tokens living an hour.
pub async fn sandbox_with_shop(scopes: Option<&[&str]>) -> SandboxHandle {
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
    let mut shop = ShopConfig::new(SHOP, CLIENT_ID, CLIENT_SECRET).token_lifetime_seconds(3600);
    if let Some(scopes) = scopes {
        shop = shop.scopes(scopes);
    }
    sandbox.register_shop(shop).expect("shop registers");
    sandbox
}

/// A tenant of `mode` for the sandbox shop, with its client secret stored.
pub async fn tenant(backend: &Backend, sandbox: &SandboxHandle, mode: AuthMode) -> TenantConfig {
    let id = unique_tenant("auth");
    let secret = backend.naming.tenant_client_secret(&id);
    backend
        .stores
        .secrets
        .put(&secret, SecretString::from(CLIENT_SECRET.to_owned()))
        .await
        .expect("secret stored");
    let api_url = url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("valid url");
    TenantConfig::new(id, api_url, mode, CLIENT_ID, secret, Utc::now())
}

/// Installs an authorization-code tenant the way the install callback does: exchanges a
/// fresh code and stores the tokens. Returns the stored refresh token.
pub async fn install_tokens(
    backend: &Backend,
    sandbox: &SandboxHandle,
    tenant: &TenantId,
) -> SecretString {
    let code = SecretString::from(sandbox.issue_authorization_code(SHOP).expect("code issued"));
    let http = BeyondHttp::new(&fast_http()).expect("http builds");
    let api_url = url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("valid url");
    let endpoint = TokenEndpoint::for_api_url(
        http,
        &api_url,
        CLIENT_ID,
        SecretString::from(CLIENT_SECRET.to_owned()),
    )
    .expect("endpoint builds");
    let response = endpoint
        .authorization_code(&code)
        .await
        .expect("code exchanged");
    let refresh = response.refresh_token.clone().expect("a refresh token");
    let tokens = TenantTokens {
        access_token: response.access_token,
        access_expires_at: backend.clock.now() + TimeDelta::seconds(3600),
        refresh_token: Some(refresh.clone()),
        version: 0,
    };
    let outcome = backend
        .stores
        .tokens
        .put_if_version(tenant, &tokens)
        .await
        .expect("tokens stored");
    assert!(matches!(outcome, TokenPutOutcome::Stored { version: 1 }));
    refresh
}

/// Token requests the sandbox shop answered.
pub fn token_calls(sandbox: &SandboxHandle) -> usize {
    sandbox
        .journal(&JournalFilter {
            shop: Some(SHOP.to_owned()),
            method: Some("POST".to_owned()),
            path: Some("/oauth/token".to_owned()),
            ..JournalFilter::default()
        })
        .len()
}

/// Moves our clock past the token lifetime and makes the sandbox expire its tokens.
pub fn expire_tokens(backend: &Backend, sandbox: &SandboxHandle) {
    backend.clock.advance(TimeDelta::seconds(3601));
    sandbox.expire_access_tokens(SHOP).expect("tokens expire");
}

/// Runs a test body on both backends: `both!(name, body_fn)`.
macro_rules! both {
    ($($name:ident => $body:ident),+ $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$body($crate::auth::support::Kind::Embedded).await;
                }
            )+
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$body($crate::auth::support::Kind::Aws).await;
                }
            )+
        }
    };
}

pub(crate) use both;
