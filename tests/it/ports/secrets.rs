//! Secret store contract, and the cache that serves both adapters.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_adapters::CachedSecretStore;
use chrono::TimeDelta;
use connector::ports::secrets::SecretNaming;
use connector::ports::{ManualClock, SecretStore, StoreError, async_trait};
use domain::tenant::SecretRef;
use secrecy::{ExposeSecret, SecretString};

use crate::support::{contracts, now, unique_tenant};

fn naming() -> SecretNaming {
    SecretNaming::new(format!(
        "epages-sync/test-{}",
        uuid::Uuid::new_v4().simple()
    ))
    .expect("valid")
}

async fn put_get_and_rotate(store: Arc<dyn SecretStore>) {
    let name = naming().tenant_client_secret(&unique_tenant("x"));
    assert!(store.get(&name).await.expect("get").is_none());
    store
        .put(&name, SecretString::from("first"))
        .await
        .expect("create");
    assert_eq!(
        store
            .get(&name)
            .await
            .expect("get")
            .expect("stored")
            .expose_secret(),
        "first"
    );
    store
        .put(&name, SecretString::from("second"))
        .await
        .expect("rotate");
    assert_eq!(
        store
            .get(&name)
            .await
            .expect("get")
            .expect("stored")
            .expose_secret(),
        "second"
    );
}

async fn cached_store_serves_from_cache_within_ttl(store: Arc<dyn SecretStore>) {
    let clock = Arc::new(ManualClock::new(now()));
    let name = naming().app_client_secret("public-app");
    store
        .put(&name, SecretString::from("v1"))
        .await
        .expect("create");
    let cached = CachedSecretStore::new(store.clone(), Duration::from_secs(300), clock.clone());
    assert_eq!(
        cached
            .get(&name)
            .await
            .expect("get")
            .expect("v1")
            .expose_secret(),
        "v1"
    );
    // Rotated behind the cache's back: the cache keeps v1 until its TTL runs out.
    store
        .put(&name, SecretString::from("v2"))
        .await
        .expect("rotate");
    assert_eq!(
        cached
            .get(&name)
            .await
            .expect("get")
            .expect("cached")
            .expose_secret(),
        "v1"
    );
    clock.advance(TimeDelta::seconds(301));
    assert_eq!(
        cached
            .get(&name)
            .await
            .expect("get")
            .expect("fresh")
            .expose_secret(),
        "v2"
    );
    // Writes through the cache are visible at once; invalidation forces a read.
    cached
        .put(&name, SecretString::from("v3"))
        .await
        .expect("put");
    assert_eq!(
        cached
            .get(&name)
            .await
            .expect("get")
            .expect("v3")
            .expose_secret(),
        "v3"
    );
    store
        .put(&name, SecretString::from("v4"))
        .await
        .expect("rotate");
    cached.invalidate(&name).await;
    assert_eq!(
        cached
            .get(&name)
            .await
            .expect("get")
            .expect("v4")
            .expose_secret(),
        "v4"
    );
}

/// Deletion is immediate and idempotent, and the name can be used again at once (a
/// re-added tenant stores its secret under the same name).
async fn delete_is_immediate_idempotent_and_frees_the_name(store: Arc<dyn SecretStore>) {
    let name = naming().tenant_client_secret(&unique_tenant("gone"));
    store
        .put(&name, SecretString::from("old"))
        .await
        .expect("create");
    store.delete(&name).await.expect("delete");
    assert!(store.get(&name).await.expect("get").is_none());
    store.delete(&name).await.expect("deleting again is fine");
    store
        .put(&name, SecretString::from("new"))
        .await
        .expect("re-create under the same name");
    assert_eq!(
        store
            .get(&name)
            .await
            .expect("get")
            .expect("stored")
            .expose_secret(),
        "new"
    );
    let clock = Arc::new(ManualClock::new(now()));
    let cached = CachedSecretStore::new(store.clone(), Duration::from_secs(300), clock);
    assert!(cached.get(&name).await.expect("get").is_some());
    cached
        .delete(&name)
        .await
        .expect("delete through the cache");
    assert!(
        cached.get(&name).await.expect("get").is_none(),
        "the cache must not serve a deleted secret"
    );
}

contracts!(
    embedded: crate::support::embedded::secrets,
    aws: crate::support::aws::secrets;
    put_get_and_rotate,
    cached_store_serves_from_cache_within_ttl,
    delete_is_immediate_idempotent_and_frees_the_name,
);

/// Counts reads to prove the cache saves them.
struct Counting {
    inner: Arc<dyn SecretStore>,
    reads: AtomicUsize,
}

#[async_trait]
impl SecretStore for Counting {
    async fn get(&self, name: &SecretRef) -> Result<Option<SecretString>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get(name).await
    }
    async fn put(&self, name: &SecretRef, value: SecretString) -> Result<(), StoreError> {
        self.inner.put(name, value).await
    }
    async fn delete(&self, name: &SecretRef) -> Result<(), StoreError> {
        self.inner.delete(name).await
    }
}

#[tokio::test]
async fn cache_reads_once_per_ttl_and_never_caches_misses() {
    let fixture = crate::support::embedded::secrets().await;
    let counting = Arc::new(Counting {
        inner: fixture.port.clone(),
        reads: AtomicUsize::new(0),
    });
    let clock = Arc::new(ManualClock::new(now()));
    let cached = CachedSecretStore::new(counting.clone(), Duration::from_secs(60), clock.clone());
    let name = naming().tenant_client_secret(&unique_tenant("x"));
    assert!(cached.get(&name).await.expect("miss").is_none());
    assert!(cached.get(&name).await.expect("miss").is_none());
    assert_eq!(
        counting.reads.load(Ordering::SeqCst),
        2,
        "misses are not cached"
    );
    fixture
        .port
        .put(&name, SecretString::from("s"))
        .await
        .expect("put");
    for _ in 0..5 {
        cached.get(&name).await.expect("get");
    }
    assert_eq!(counting.reads.load(Ordering::SeqCst), 3);
    clock.advance(TimeDelta::seconds(61));
    cached.get(&name).await.expect("get");
    assert_eq!(counting.reads.load(Ordering::SeqCst), 4);
}

#[test]
fn secret_names_follow_the_documented_scheme() {
    let naming = SecretNaming::new("epages-sync/prod/").expect("valid");
    let tenant = domain::tenant::TenantId::parse("shop-1").expect("valid");
    assert_eq!(
        naming.tenant_client_secret(&tenant).as_str(),
        "epages-sync/prod/tenants/shop-1/client-secret"
    );
    assert_eq!(
        naming.app_client_secret("beyond").as_str(),
        "epages-sync/prod/apps/beyond/client-secret"
    );
    assert!(SecretNaming::new("").is_err());
    assert!(SecretNaming::new("has space").is_err());
}
