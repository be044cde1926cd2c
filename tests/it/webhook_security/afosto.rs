//! Afosto webhooks: the signature is checked against the header's own tenant, malformed
//! signature headers are refused before any lookup, a `message_id` is one command, and a
//! flood of random `X-Afosto-Tenant` values reads no secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use aws_adapters::provision::QueueSpec;
use chrono::{DateTime, Utc};
use connector::afosto_webhook::{
    AfostoWebhook, LambdaFunctionUrlRequest, SIGNATURE_HEADER, TENANT_HEADER, WebhookSettings, sign,
};
use connector::ports::idempotency::{ClaimOutcome, IdempotencyKey};
use connector::ports::tenants::{CreateOutcome, DeleteOutcome, UpdateOutcome};
use connector::ports::{Page, PageRequest, SecretStore, StoreError, TenantStore};
use domain::tenant::{AuthMode, SecretRef, TenantConfig, TenantId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::auth::support::{Backend, Kind, both};
use crate::support::aws::QueuePairFixture;

both! {
    a_request_signed_with_another_tenants_secret_is_refused => cross_tenant,
    malformed_signature_headers_store_nothing_and_a_message_id_is_one_command => malformed,
    random_afosto_tenants_cost_no_secret_read => random_tenants,
}

/// Counts secret reads and tenant listings, passing everything through.
struct Counting<T: ?Sized> {
    inner: Arc<T>,
    calls: AtomicUsize,
}

#[async_trait]
impl SecretStore for Counting<dyn SecretStore> {
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get(name).await
    }
    async fn put(&self, name: &SecretRef, value: SecretString) -> Result<(), StoreError> {
        self.inner.put(name, value).await
    }
    async fn delete(&self, name: &SecretRef) -> Result<(), StoreError> {
        self.inner.delete(name).await
    }
}

#[async_trait]
impl TenantStore for Counting<dyn TenantStore> {
    async fn create(
        &self,
        config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<CreateOutcome, StoreError> {
        self.inner.create(config, now).await
    }
    async fn update(
        &self,
        config: TenantConfig,
        now: DateTime<Utc>,
    ) -> Result<UpdateOutcome, StoreError> {
        self.inner.update(config, now).await
    }
    async fn get(&self, id: &TenantId) -> Result<Option<TenantConfig>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get(id).await
    }
    async fn list_active(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.list_active(page).await
    }
    async fn list_all(&self, page: PageRequest) -> Result<Page<TenantConfig>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.list_all(page).await
    }
    async fn delete(&self, id: &TenantId) -> Result<DeleteOutcome, StoreError> {
        self.inner.delete(id).await
    }
}

struct World {
    backend: Backend,
    webhook: AfostoWebhook,
    commands: QueuePairFixture,
    secrets: Arc<Counting<dyn SecretStore>>,
    tenants: Arc<Counting<dyn TenantStore>>,
    /// (afosto tenant, our tenant, endpoint secret) for tenants A and B.
    mapped: Vec<(String, TenantId, SecretString)>,
}

async fn world(kind: Kind) -> World {
    let backend = Backend::open(kind).await;
    let commands = match kind {
        Kind::Embedded => crate::support::embedded::queue_pair(QueueSpec::fifo("commands")).await,
        Kind::Aws => crate::support::aws::queue_pair(QueueSpec::fifo("commands")).await,
    };
    let settings = WebhookSettings::new(backend.naming.clone());
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let mut mapped = Vec::new();
    for name in ["a", "b"] {
        let afosto = format!("afosto-{name}-{unique}");
        let tenant = TenantId::parse(&format!("tenant-{name}-{}", &unique[..8])).expect("id");
        // Unique per run: the redaction registry is process-wide (see cross_tenant).
        let secret = format!("endpoint-secret-{name}-{unique}");
        let mut config = TenantConfig::new(
            tenant.clone(),
            url::Url::parse(&format!("https://{name}.beyondshop.cloud/api")).expect("url"),
            AuthMode::ClientCredentials,
            "client",
            backend.naming.tenant_client_secret(&tenant),
            Utc::now(),
        );
        config.afosto_tenant = Some(afosto.clone());
        backend
            .stores
            .tenants
            .create(config, Utc::now())
            .await
            .expect("tenant stored");
        backend
            .stores
            .secrets
            .put(
                &settings.endpoint_secret(&afosto),
                SecretString::from(json!({ "tenant": tenant, "secret": secret }).to_string()),
            )
            .await
            .expect("endpoint secret stored");
        mapped.push((afosto, tenant, SecretString::from(secret)));
    }
    let secrets = Arc::new(Counting {
        inner: backend.stores.secrets.clone(),
        calls: AtomicUsize::new(0),
    });
    let tenants = Arc::new(Counting {
        inner: backend.stores.tenants.clone(),
        calls: AtomicUsize::new(0),
    });
    let webhook = AfostoWebhook::new(
        tenants.clone(),
        secrets.clone(),
        backend.stores.idempotency.clone(),
        backend.stores.activity.clone(),
        commands.queue.clone(),
        backend.dyn_clock(),
        settings,
    );
    World {
        backend,
        webhook,
        commands,
        secrets,
        tenants,
        mapped,
    }
}

fn delivery(message_id: &str) -> String {
    json!({
        "event": "IN_TRANSIT", "message_id": message_id, "entity_id": "delivery-1",
        "entity_type": "delivery", "triggered_at": 1_767_261_600_000_i64,
        "data": { "order": { "meta_data": { "epages_order_id": "0b5a2c4e-0000-4000-8000-000000000017" } },
                  "track_trace": { "code": "3SAFOSTO" } }
    })
    .to_string()
}

fn request(body: &str, signature: Option<&str>, tenant: &str) -> LambdaFunctionUrlRequest {
    let mut request = LambdaFunctionUrlRequest::default();
    if let Some(signature) = signature {
        request.headers.insert(
            SIGNATURE_HEADER,
            http::HeaderValue::from_str(signature).expect("header value"),
        );
    }
    request.headers.insert(
        TENANT_HEADER,
        http::HeaderValue::from_str(tenant).expect("header value"),
    );
    request.body = Some(body.to_owned());
    request
}

async fn queued(w: &World) -> u64 {
    w.commands.queue.depth().await.expect("depth").total()
}

/// Done-when 17.
async fn cross_tenant(kind: Kind) {
    let w = world(kind).await;
    let (_, _, secret_a) = &w.mapped[0];
    let (afosto_b, _, _) = &w.mapped[1];
    let body = delivery("msg-17");
    let response = w
        .webhook
        .handle(&request(
            &body,
            Some(&sign(secret_a, body.as_bytes())),
            afosto_b,
        ))
        .await;
    assert_eq!(response.status_code, 401, "{:?}", response.body);
    assert_eq!(queued(&w).await, 0);
    // The endpoint secret the handler read (B's) is one the process now holds: whatever
    // error or log line would quote it, every sink gets it redacted.
    let (_, _, secret_b) = &w.mapped[1];
    let line = format!("verification failed against {}", secret_b.expose_secret());
    assert!(!beyond::redact::sink_text(&line).contains(secret_b.expose_secret()));
}

/// Done-when 18.
async fn malformed(kind: Kind) {
    let w = world(kind).await;
    let (afosto_a, tenant_a, secret_a) = &w.mapped[0];
    let body = delivery("msg-18");
    let good = sign(secret_a, body.as_bytes());
    let cases = [
        ("missing", None),
        ("empty", Some(String::new())),
        ("non-hex", Some("z".repeat(64))),
        ("63 hex", Some(good[..63].to_owned())),
        ("sha256=", Some(format!("sha256={good}"))),
    ];
    for (case, signature) in cases {
        let response = w
            .webhook
            .handle(&request(&body, signature.as_deref(), afosto_a))
            .await;
        assert_eq!(response.status_code, 401, "{case}: {:?}", response.body);
    }
    assert_eq!(w.secrets.calls.load(Ordering::SeqCst), 0, "no secret read");
    assert_eq!(w.tenants.calls.load(Ordering::SeqCst), 0, "no tenant read");
    assert_eq!(queued(&w).await, 0, "nothing queued");
    // Nothing claimed: the message id is still free.
    let key = IdempotencyKey::new(format!("{tenant_a}:afosto-webhook:msg-18")).expect("key");
    let now = Utc::now();
    let claim = w
        .backend
        .stores
        .idempotency
        .claim(
            &key,
            now + chrono::TimeDelta::seconds(1),
            now + chrono::TimeDelta::seconds(60),
            now,
        )
        .await
        .expect("claims");
    assert_eq!(claim, ClaimOutcome::Claimed);
    w.backend
        .stores
        .idempotency
        .release(&key)
        .await
        .expect("released");

    // The same message twice: one command.
    for _ in 0..2 {
        let response = w
            .webhook
            .handle(&request(&body, Some(&good), afosto_a))
            .await;
        assert_eq!(response.status_code, 200, "{:?}", response.body);
    }
    assert_eq!(queued(&w).await, 1, "one command");
}

/// Done-when 19.
async fn random_tenants(kind: Kind) {
    let w = world(kind).await;
    let body = delivery("msg-19");
    let signature = sign(&SecretString::from("guess"), body.as_bytes());
    for n in 0..1000 {
        let random = format!("{:032x}", uuid::Uuid::new_v4().as_u128() ^ n);
        let response = w
            .webhook
            .handle(&request(&body, Some(&signature), &random))
            .await;
        assert_eq!(response.status_code, 401, "{:?}", response.body);
    }
    assert_eq!(
        w.secrets.calls.load(Ordering::SeqCst),
        0,
        "no Secrets Manager call for an unmapped Afosto tenant"
    );
    assert!(
        w.tenants.calls.load(Ordering::SeqCst) <= 2,
        "the tenant directory was listed {} times",
        w.tenants.calls.load(Ordering::SeqCst)
    );
    // The mapped tenant still gets through, with one secret read.
    let (afosto_a, _, secret_a) = &w.mapped[0];
    let response = w
        .webhook
        .handle(&request(
            &body,
            Some(&sign(secret_a, body.as_bytes())),
            afosto_a,
        ))
        .await;
    assert_eq!(response.status_code, 200, "{:?}", response.body);
    assert_eq!(w.secrets.calls.load(Ordering::SeqCst), 1);
    assert_eq!(queued(&w).await, 1);
}
