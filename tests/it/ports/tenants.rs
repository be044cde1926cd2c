//! Tenant store contract.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use connector::ports::tenants::{CreateOutcome, DeleteOutcome, UpdateOutcome};
use connector::ports::{PageRequest, PageToken, StoreError, TenantStore};
use domain::tenant::{AuthMode, PaymentStatusFilter, SecretRef, TenantConfig, TenantId};

use crate::support::{contracts, now, unique_tenant};

fn config(id: TenantId, at: DateTime<Utc>) -> TenantConfig {
    let api_url = format!("https://{id}.beyondshop.cloud/api")
        .parse()
        .expect("valid url");
    TenantConfig::new(
        id.clone(),
        api_url,
        AuthMode::ClientCredentials,
        format!("client-{id}"),
        SecretRef(format!("epages-sync/test/tenants/{id}/client-secret")),
        at - TimeDelta::days(7),
    )
}

async fn created(store: &dyn TenantStore, config: TenantConfig, at: DateTime<Utc>) -> TenantConfig {
    match store.create(config, at).await.expect("create") {
        CreateOutcome::Created(stored) => stored,
        CreateOutcome::AlreadyExists => panic!("tenant already existed"),
    }
}

async fn create_get_and_already_exists(store: Arc<dyn TenantStore>) {
    let at = now();
    let id = unique_tenant("t");
    let mut wanted = config(id.clone(), at);
    wanted.payment_filter = PaymentStatusFilter::PaidOnly;
    wanted.include_test_orders = true;
    let stored = created(store.as_ref(), wanted.clone(), at).await;
    assert_eq!(stored.version, 1);
    assert_eq!(stored.created_at, at);
    assert_eq!(stored.updated_at, at);
    assert_eq!(store.get(&id).await.expect("get"), Some(stored.clone()));
    assert_eq!(
        store.create(wanted, at).await.expect("second create"),
        CreateOutcome::AlreadyExists
    );
    assert_eq!(
        store.get(&unique_tenant("absent")).await.expect("get"),
        None
    );
}

async fn update_is_conditional_on_version(store: Arc<dyn TenantStore>) {
    let at = now();
    let id = unique_tenant("t");
    let v1 = created(store.as_ref(), config(id.clone(), at), at).await;

    let mut change = v1.clone();
    change.flows.stock = false;
    change.created_at = at + TimeDelta::days(1); // must not be rewritable
    let later = at + TimeDelta::seconds(5);
    let v2 = match store.update(change, later).await.expect("update") {
        UpdateOutcome::Updated(v2) => v2,
        other => panic!("expected Updated, got {other:?}"),
    };
    assert_eq!(v2.version, 2);
    assert!(!v2.flows.stock);
    assert_eq!(v2.created_at, at);
    assert_eq!(v2.updated_at, later);
    assert_eq!(store.get(&id).await.expect("get"), Some(v2.clone()));

    // A writer still holding version 1 loses and is shown the current record.
    let mut stale = v1.clone();
    stale.paused = true;
    match store.update(stale, later).await.expect("stale update") {
        UpdateOutcome::Stale { current } => assert_eq!(current, v2),
        other => panic!("expected Stale, got {other:?}"),
    }
    let missing = config(unique_tenant("absent"), at);
    assert_eq!(
        store.update(missing, at).await.expect("update of absent"),
        UpdateOutcome::NotFound
    );
}

async fn delete_then_not_found(store: Arc<dyn TenantStore>) {
    let at = now();
    let id = unique_tenant("t");
    created(store.as_ref(), config(id.clone(), at), at).await;
    assert_eq!(
        store.delete(&id).await.expect("delete"),
        DeleteOutcome::Deleted
    );
    assert_eq!(store.get(&id).await.expect("get"), None);
    assert_eq!(
        store.delete(&id).await.expect("delete again"),
        DeleteOutcome::NotFound
    );
}

/// 250 tenants, every fifth paused, read in pages of 17: the continuation token walks the
/// whole set exactly once and leaves out paused tenants. (The same code serves 10,000.)
async fn list_active_pages_through_every_active_tenant(store: Arc<dyn TenantStore>) {
    let at = now();
    let mut expected = BTreeSet::new();
    let stores: Vec<_> = (0..250u32)
        .map(|i| {
            let store = store.clone();
            async move {
                let id = TenantId::parse(&format!("tenant-{i:04}")).expect("valid");
                let mut tenant = config(id.clone(), at);
                tenant.paused = i.is_multiple_of(5);
                created(store.as_ref(), tenant, at).await;
                (id, !i.is_multiple_of(5))
            }
        })
        .collect();
    for (id, active) in futures::future::join_all(stores).await {
        if active {
            expected.insert(id);
        }
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(17);
    let mut pages = 0;
    loop {
        let result = store.list_active(page.clone()).await.expect("list");
        pages += 1;
        assert!(result.items.len() <= 17);
        assert!(result.items.iter().all(|t| !t.paused));
        seen.extend(result.items.into_iter().map(|t| t.id));
        match result.next {
            Some(token) => page = PageRequest::after(17, token),
            None => break,
        }
        assert!(pages < 100, "paging does not end");
    }
    assert_eq!(seen.len(), expected.len(), "no tenant twice, none missing");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    assert!(
        (12..=13).contains(&pages),
        "200 tenants in pages of 17, got {pages} pages"
    );

    // Pausing takes a tenant out of the list; unpausing brings it back.
    let first = expected.iter().next().cloned().expect("a tenant");
    let mut paused = store.get(&first).await.expect("get").expect("exists");
    paused.paused = true;
    let UpdateOutcome::Updated(paused) = store.update(paused, at).await.expect("pause") else {
        panic!("pause failed");
    };
    let listed = store
        .list_active(PageRequest::first(5))
        .await
        .expect("list");
    assert!(listed.items.iter().all(|t| t.id != first));
    let mut resumed = paused;
    resumed.paused = false;
    store.update(resumed, at).await.expect("resume");
    let listed = store
        .list_active(PageRequest::first(5))
        .await
        .expect("list");
    assert_eq!(listed.items.first().map(|t| &t.id), Some(&first));
}

/// 40 tenants, every third paused, read in pages of 7: `list_all` walks every tenant,
/// paused or not, exactly once (in no promised order: a scan on AWS).
async fn list_all_pages_through_every_tenant_paused_too(store: Arc<dyn TenantStore>) {
    let at = now();
    let mut expected = BTreeSet::new();
    for i in 0..40u32 {
        let id = TenantId::parse(&format!("tenant-{i:04}")).expect("valid");
        let mut tenant = config(id.clone(), at);
        tenant.paused = i.is_multiple_of(3);
        created(store.as_ref(), tenant, at).await;
        expected.insert((id, i.is_multiple_of(3)));
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(7);
    for _ in 0..100 {
        let result = store.list_all(page.clone()).await.expect("list all");
        assert!(result.items.len() <= 7);
        seen.extend(result.items.into_iter().map(|t| (t.id, t.paused)));
        match result.next {
            Some(token) => page = PageRequest::after(7, token),
            None => break,
        }
    }
    assert_eq!(seen.len(), expected.len(), "no tenant twice, none missing");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
    let zero = store.list_all(PageRequest::first(0)).await;
    assert!(matches!(zero, Err(StoreError::InvalidInput { .. })));
}

async fn bad_page_requests_are_refused(store: Arc<dyn TenantStore>) {
    let zero = store.list_active(PageRequest::first(0)).await;
    assert!(matches!(zero, Err(StoreError::InvalidInput { .. })));
    let garbage = store
        .list_active(PageRequest::after(10, PageToken("not a token".into())))
        .await;
    assert!(matches!(garbage, Err(StoreError::InvalidInput { .. })));
}

contracts!(
    embedded: crate::support::embedded::tenants,
    aws: crate::support::aws::tenants;
    create_get_and_already_exists,
    update_is_conditional_on_version,
    delete_then_not_found,
    list_active_pages_through_every_active_tenant,
    list_all_pages_through_every_tenant_paused_too,
    bad_page_requests_are_refused,
);

#[tokio::test]
async fn embedded_tenants_survive_reopen() {
    use ::embedded::EmbeddedTenantStore;
    let dir = crate::support::embedded::state_dir();
    let at = now();
    let id = unique_tenant("t");
    let stored = {
        let store = EmbeddedTenantStore::open(dir.path()).await.expect("opens");
        created(&store, config(id.clone(), at), at).await
    };
    let reopened = EmbeddedTenantStore::open(dir.path())
        .await
        .expect("reopens");
    assert_eq!(reopened.get(&id).await.expect("get"), Some(stored));
}
