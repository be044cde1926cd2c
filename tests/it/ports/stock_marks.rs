//! Stock mark contract: forward-only marks and pending adjustment intents.

use std::sync::Arc;

use chrono::TimeDelta;
use connector::ports::StockMarkStore;
use connector::ports::stock_marks::{AdvanceOutcome, ClearOutcome, CommitOutcome, IntentOutcome};
use domain::stock_mark::{StockIntent, StockKey};

use crate::support::{contracts, now, unique_tenant};

fn intent(id: &str, amount: i64, observed_at: chrono::DateTime<chrono::Utc>) -> StockIntent {
    StockIntent {
        intent_id: id.to_owned(),
        command_id: format!("command-of-{id}"),
        level_before: 10,
        relative_amount: amount,
        observed_at,
        recorded_at: now(),
    }
}

async fn marks_only_move_forward(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let key = StockKey::new("SKU#1/red", "shop");
    let t0 = now();
    assert_eq!(store.get(&tenant, &key).await.expect("get"), None);
    assert_eq!(
        store.advance(&tenant, &key, t0).await.expect("advance"),
        AdvanceOutcome::Advanced
    );
    for stale in [t0, t0 - TimeDelta::seconds(1)] {
        assert_eq!(
            store.advance(&tenant, &key, stale).await.expect("advance"),
            AdvanceOutcome::NotNewer { current: t0 }
        );
    }
    let t1 = t0 + TimeDelta::milliseconds(1);
    assert_eq!(
        store.advance(&tenant, &key, t1).await.expect("advance"),
        AdvanceOutcome::Advanced
    );
    let mark = store
        .get(&tenant, &key)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(
        (mark.key, mark.observed_at, mark.pending),
        (key.clone(), Some(t1), None)
    );
    // Keys differ by SKU, location and tenant; `#` in a SKU cannot fake another key.
    let other = StockKey::new("SKU", "1/red#shop");
    assert_eq!(store.get(&tenant, &other).await.expect("get"), None);
    assert_eq!(
        store.advance(&tenant, &other, t0).await.expect("advance"),
        AdvanceOutcome::Advanced
    );
    assert_eq!(
        store.get(&unique_tenant("s"), &key).await.expect("get"),
        None
    );
}

async fn intent_lifecycle(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let key = StockKey::new("SKU-2", "shop");
    let t0 = now();
    store.advance(&tenant, &key, t0).await.expect("advance");

    let old = intent("i-old", 3, t0);
    assert_eq!(
        store
            .record_intent(&tenant, &key, &old)
            .await
            .expect("record"),
        IntentOutcome::NotNewer { current: t0 }
    );
    let first = intent("i-1", -2, t0 + TimeDelta::seconds(1));
    assert_eq!(
        store
            .record_intent(&tenant, &key, &first)
            .await
            .expect("record"),
        IntentOutcome::Recorded
    );
    let second = intent("i-2", 5, t0 + TimeDelta::seconds(2));
    assert_eq!(
        store
            .record_intent(&tenant, &key, &second)
            .await
            .expect("record"),
        IntentOutcome::Busy {
            pending: first.clone()
        }
    );
    let mark = store
        .get(&tenant, &key)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(mark.pending, Some(first.clone()));
    assert_eq!(
        mark.observed_at,
        Some(t0),
        "recording does not move the mark"
    );

    let pending = store.pending_intents(&tenant).await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].key, key);

    assert_eq!(
        store
            .commit_intent(&tenant, &key, "i-2")
            .await
            .expect("commit"),
        CommitOutcome::IntentMismatch {
            pending: Some(first.clone())
        }
    );
    assert_eq!(
        store
            .commit_intent(&tenant, &key, "i-1")
            .await
            .expect("commit"),
        CommitOutcome::Committed
    );
    let mark = store
        .get(&tenant, &key)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(
        (mark.observed_at, mark.pending),
        (Some(first.observed_at), None)
    );
    assert!(
        store
            .pending_intents(&tenant)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(
        store
            .commit_intent(&tenant, &key, "i-1")
            .await
            .expect("commit again"),
        CommitOutcome::IntentMismatch { pending: None }
    );

    // A refused adjustment is cleared and leaves the mark alone.
    assert_eq!(
        store
            .record_intent(&tenant, &key, &second)
            .await
            .expect("record"),
        IntentOutcome::Recorded
    );
    assert_eq!(
        store
            .clear_intent(&tenant, &key, "i-1")
            .await
            .expect("clear"),
        ClearOutcome::IntentMismatch {
            pending: Some(second.clone())
        }
    );
    assert_eq!(
        store
            .clear_intent(&tenant, &key, "i-2")
            .await
            .expect("clear"),
        ClearOutcome::Cleared
    );
    let mark = store
        .get(&tenant, &key)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(
        (mark.observed_at, mark.pending),
        (Some(first.observed_at), None)
    );
    assert_eq!(
        store
            .clear_intent(&tenant, &StockKey::new("never", "shop"), "x")
            .await
            .expect("clear"),
        ClearOutcome::IntentMismatch { pending: None }
    );
}

/// The mark moved past a pending intent (a newer absolute level was applied): committing
/// drops the intent and keeps the newer mark.
async fn commit_never_moves_the_mark_back(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let key = StockKey::new("SKU-3", "shop");
    let t0 = now();
    let pending = intent("i-1", 4, t0);
    assert_eq!(
        store
            .record_intent(&tenant, &key, &pending)
            .await
            .expect("record"),
        IntentOutcome::Recorded
    );
    let newer = t0 + TimeDelta::seconds(10);
    assert_eq!(
        store.advance(&tenant, &key, newer).await.expect("advance"),
        AdvanceOutcome::Advanced
    );
    assert_eq!(
        store
            .commit_intent(&tenant, &key, "i-1")
            .await
            .expect("commit"),
        CommitOutcome::NotNewer { current: newer }
    );
    let mark = store
        .get(&tenant, &key)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!((mark.observed_at, mark.pending), (Some(newer), None));
}

async fn pending_intents_lists_only_that_tenants_in_flight_keys(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let neighbour = unique_tenant("s");
    let t0 = now();
    for i in 0..30u32 {
        let key = StockKey::new(format!("SKU-{i}"), "shop");
        store.advance(&tenant, &key, t0).await.expect("advance");
        if i.is_multiple_of(3) {
            let pending = intent(&format!("i-{i}"), 1, t0 + TimeDelta::seconds(1));
            store
                .record_intent(&tenant, &key, &pending)
                .await
                .expect("record");
        }
    }
    let key = StockKey::new("SKU-0", "shop");
    store
        .record_intent(&neighbour, &key, &intent("n", 1, t0))
        .await
        .expect("record");
    let mut pending: Vec<String> = store
        .pending_intents(&tenant)
        .await
        .expect("pending")
        .into_iter()
        .map(|m| m.key.sku)
        .collect();
    pending.sort();
    let mut expected: Vec<String> = (0..30).step_by(3).map(|i| format!("SKU-{i}")).collect();
    expected.sort();
    assert_eq!(pending, expected);
}

/// Sixteen workers apply levels observed at different times to one SKU concurrently: the
/// mark ends at the newest, and exactly the advances that raised it report `Advanced`.
async fn concurrent_advances_keep_the_newest(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let key = StockKey::new("SKU-race", "shop");
    let t0 = now();
    let tasks = (0..16).map(|i| {
        let (store, tenant, key) = (store.clone(), tenant.clone(), key.clone());
        tokio::spawn(async move {
            store
                .advance(&tenant, &key, t0 + TimeDelta::seconds((i * 5) % 16))
                .await
                .expect("advance")
        })
    });
    let outcomes: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert!(outcomes.contains(&AdvanceOutcome::Advanced));
    let mark = store
        .get(&tenant, &key)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(mark.observed_at, Some(t0 + TimeDelta::seconds(15)));
}

contracts!(
    embedded: crate::support::embedded::stock_marks,
    aws: crate::support::aws::stock_marks;
    marks_only_move_forward,
    intent_lifecycle,
    commit_never_moves_the_mark_back,
    pending_intents_lists_only_that_tenants_in_flight_keys,
    concurrent_advances_keep_the_newest,
);

#[tokio::test]
async fn embedded_stock_marks_survive_reopen() {
    use ::embedded::EmbeddedStockMarkStore;
    let dir = crate::support::embedded::state_dir();
    let tenant = unique_tenant("s");
    let key = StockKey::new("SKU", "shop");
    let t0 = now();
    {
        let store = EmbeddedStockMarkStore::open(dir.path())
            .await
            .expect("opens");
        store
            .record_intent(&tenant, &key, &intent("i", 1, t0))
            .await
            .expect("record");
    }
    let store = EmbeddedStockMarkStore::open(dir.path())
        .await
        .expect("reopens");
    assert_eq!(
        store.pending_intents(&tenant).await.expect("pending").len(),
        1
    );
}
