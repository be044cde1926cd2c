//! Order ledger contract.

use std::sync::Arc;

use chrono::TimeDelta;
use connector::ports::OrderLedger;
use connector::ports::order_ledger::LedgerPutOutcome;
use serde_json::json;

use crate::support::{contracts, now, unique_tenant};

async fn put_is_conditional_on_version(ledger: Arc<dyn OrderLedger>) {
    let tenant = unique_tenant("l");
    let t0 = now();
    let order = "7a1c9bd6-0b6b-4b2e-9d7e-6f4a2b0c9e11";
    assert_eq!(ledger.get(&tenant, order).await.expect("get"), None);

    let data = json!({"lines": {"l1": {"emitted": 2}}, "cancelled": false, "note": null});
    let LedgerPutOutcome::Stored(first) = ledger
        .put(&tenant, order, data.clone(), 0, t0)
        .await
        .expect("put")
    else {
        panic!("first put stores");
    };
    assert_eq!(first.version, 1);
    assert_eq!(first.data, data);
    assert_eq!(first.updated_at, t0);
    assert_eq!(
        ledger.get(&tenant, order).await.expect("get"),
        Some(first.clone())
    );

    // Another poller that also saw "absent" loses and gets the stored entry.
    assert_eq!(
        ledger
            .put(&tenant, order, json!({}), 0, t0)
            .await
            .expect("put"),
        LedgerPutOutcome::Stale {
            current: Some(first.clone())
        }
    );
    let t1 = t0 + TimeDelta::minutes(5);
    let next = json!({"lines": {"l1": {"emitted": 3}}, "cancelled": true, "note": null});
    let LedgerPutOutcome::Stored(second) = ledger
        .put(&tenant, order, next.clone(), 1, t1)
        .await
        .expect("put")
    else {
        panic!("put at the current version stores");
    };
    assert_eq!((second.version, second.updated_at), (2, t1));
    assert_eq!(
        ledger
            .put(&tenant, order, json!({}), 1, t1)
            .await
            .expect("put"),
        LedgerPutOutcome::Stale {
            current: Some(second)
        }
    );
    assert_eq!(
        ledger
            .put(&tenant, "other-order", json!({}), 3, t1)
            .await
            .expect("put"),
        LedgerPutOutcome::Stale { current: None }
    );
    // Tenants are separate.
    assert_eq!(
        ledger.get(&unique_tenant("l"), order).await.expect("get"),
        None
    );
}

/// A page of 250 polled orders (more than BatchGetItem's 100 keys) with 150 known ones,
/// duplicates and odd characters in ids: all found, none invented.
async fn get_many_reads_a_page_of_orders(ledger: Arc<dyn OrderLedger>) {
    let tenant = unique_tenant("l");
    let t0 = now();
    let ids: Vec<String> = (0..250).map(|i| format!("order#{i}%x")).collect();
    let puts = ids.iter().take(150).map(|id| {
        let (ledger, tenant) = (ledger.clone(), tenant.clone());
        let id = id.clone();
        async move {
            ledger
                .put(&tenant, &id, json!({"n": id}), 0, t0)
                .await
                .expect("put")
        }
    });
    futures::future::join_all(puts).await;
    let mut wanted = ids.clone();
    wanted.extend(ids.iter().take(10).cloned());
    let found = ledger.get_many(&tenant, &wanted).await.expect("get_many");
    assert_eq!(found.len(), 150);
    for id in ids.iter().take(150) {
        assert_eq!(found.get(id).map(|e| &e.data), Some(&json!({"n": id})));
    }
    assert!(ids.iter().skip(150).all(|id| !found.contains_key(id)));
    assert!(
        ledger
            .get_many(&tenant, &[])
            .await
            .expect("empty")
            .is_empty()
    );
}

contracts!(
    embedded: crate::support::embedded::order_ledger,
    aws: crate::support::aws::order_ledger;
    put_is_conditional_on_version,
    get_many_reads_a_page_of_orders,
);

#[tokio::test]
async fn embedded_ledger_survives_reopen() {
    use ::embedded::EmbeddedOrderLedger;
    let dir = crate::support::embedded::state_dir();
    let tenant = unique_tenant("l");
    {
        let ledger = EmbeddedOrderLedger::open(dir.path()).await.expect("opens");
        ledger
            .put(&tenant, "o1", json!([1]), 0, now())
            .await
            .expect("put");
    }
    let ledger = EmbeddedOrderLedger::open(dir.path())
        .await
        .expect("reopens");
    assert_eq!(
        ledger
            .get(&tenant, "o1")
            .await
            .expect("get")
            .map(|e| e.data),
        Some(json!([1]))
    );
}
