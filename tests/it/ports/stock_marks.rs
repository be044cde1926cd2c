//! Stock record contract: per-location levels that only move forward (a redelivery finds
//! its own level), emitted orders kept once per order, and one pending adjustment intent
//! per SKU.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use connector::ports::StockMarkStore;
use connector::ports::stock_marks::{ClearOutcome, EmittedOrderLine, IntentOutcome, LevelOutcome};
use domain::stock_mark::{EmittedOrder, LocationLevel, StockIntent};

use crate::support::{contracts, now, unique_tenant};

fn intent(id: &str, amount: i64) -> StockIntent {
    StockIntent {
        intent_id: id.to_owned(),
        command_id: format!("command-of-{id}"),
        level_before: 10,
        relative_amount: amount,
        target: 10 + amount,
        recorded_at: now(),
    }
}

fn level(level: i64, observed_at: DateTime<Utc>, command: &str) -> LocationLevel {
    LocationLevel {
        level,
        observed_at,
        command_id: command.to_owned(),
    }
}

fn line(sku: &str, order: &str, quantity: i64, emitted_at: DateTime<Utc>) -> EmittedOrderLine {
    EmittedOrderLine {
        sku: sku.to_owned(),
        order_id: order.to_owned(),
        order: EmittedOrder {
            quantity,
            emitted_at,
        },
    }
}

fn recorded(outcome: LevelOutcome) -> domain::stock_mark::SkuStock {
    match outcome {
        LevelOutcome::Recorded(stock) => stock,
        other => panic!("expected Recorded, got {other:?}"),
    }
}

async fn levels_move_forward_per_location(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let sku = "SKU#1/red";
    let t0 = now();
    assert_eq!(store.get(&tenant, sku).await.expect("get"), None);
    let first = level(10, t0, "c1");
    let stock = recorded(
        store
            .record_level(&tenant, sku, "wh1", &first)
            .await
            .expect("record"),
    );
    assert_eq!(stock.sku, sku);
    assert_eq!(stock.levels.get("wh1"), Some(&first));
    // Not newer, from another command: refused with the stored level.
    for stale in [t0, t0 - TimeDelta::seconds(1)] {
        assert_eq!(
            store
                .record_level(&tenant, sku, "wh1", &level(3, stale, "c2"))
                .await
                .expect("record"),
            LevelOutcome::NotNewer {
                current: first.clone()
            }
        );
    }
    // The same command again (a redelivery): its own level, not outdated.
    assert_eq!(
        recorded(
            store
                .record_level(&tenant, sku, "wh1", &first)
                .await
                .expect("record")
        )
        .levels
        .get("wh1"),
        Some(&first)
    );
    // Staleness is per location: an older observation of another location is recorded.
    let other = level(5, t0 - TimeDelta::seconds(30), "c3");
    let stock = recorded(
        store
            .record_level(&tenant, sku, "wh 2#x", &other)
            .await
            .expect("record"),
    );
    assert_eq!(stock.levels.len(), 2);
    assert_eq!(stock.levels.get("wh 2#x"), Some(&other));
    let newer = level(7, t0 + TimeDelta::milliseconds(1), "c4");
    let stock = recorded(
        store
            .record_level(&tenant, sku, "wh1", &newer)
            .await
            .expect("record"),
    );
    assert_eq!(stock.levels.get("wh1"), Some(&newer));
    assert_eq!(
        store
            .get(&tenant, sku)
            .await
            .expect("get")
            .map(|s| s.levels),
        Some(stock.levels)
    );
    // Keys differ by SKU and tenant; `#` in a SKU cannot fake another key.
    assert_eq!(store.get(&tenant, "SKU").await.expect("get"), None);
    assert_eq!(
        store.get(&unique_tenant("s"), sku).await.expect("get"),
        None
    );
    assert!(
        store
            .record_level(&tenant, "", "wh1", &first)
            .await
            .is_err(),
        "an empty SKU is refused"
    );
}

async fn intent_lifecycle(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let sku = "SKU-2";
    let t0 = now();
    store
        .record_level(&tenant, sku, "wh1", &level(10, t0, "c1"))
        .await
        .expect("record");
    let first = intent("i-1", -2);
    assert_eq!(
        store
            .record_intent(&tenant, sku, &first)
            .await
            .expect("record"),
        IntentOutcome::Recorded
    );
    let second = intent("i-2", 5);
    assert_eq!(
        store
            .record_intent(&tenant, sku, &second)
            .await
            .expect("record"),
        IntentOutcome::Busy {
            pending: first.clone()
        }
    );
    let stock = store.get(&tenant, sku).await.expect("get").expect("stored");
    assert_eq!(stock.pending, Some(first.clone()));
    assert_eq!(stock.levels.len(), 1, "intents leave the levels alone");

    let pending = store.pending_intents(&tenant).await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].sku, sku);

    assert_eq!(
        store
            .clear_intent(&tenant, sku, "i-2")
            .await
            .expect("clear"),
        ClearOutcome::IntentMismatch {
            pending: Some(first.clone())
        }
    );
    assert_eq!(
        store
            .clear_intent(&tenant, sku, "i-1")
            .await
            .expect("clear"),
        ClearOutcome::Cleared
    );
    let stock = store.get(&tenant, sku).await.expect("get").expect("stored");
    assert_eq!(stock.pending, None);
    assert_eq!(stock.levels.len(), 1);
    assert!(
        store
            .pending_intents(&tenant)
            .await
            .expect("pending")
            .is_empty()
    );
    assert_eq!(
        store
            .clear_intent(&tenant, sku, "i-1")
            .await
            .expect("clear again"),
        ClearOutcome::IntentMismatch { pending: None }
    );
    // An intent on a SKU without levels yet (the first adjustment) works too.
    assert_eq!(
        store
            .record_intent(&tenant, "SKU-new", &second)
            .await
            .expect("record"),
        IntentOutcome::Recorded
    );
    assert_eq!(
        store
            .clear_intent(&tenant, "never", "x")
            .await
            .expect("clear"),
        ClearOutcome::IntentMismatch { pending: None }
    );
}

/// Emitted orders: only SKUs with a record are tracked, the first emission of an order
/// stays, and forgotten orders are gone.
async fn emitted_orders_are_kept_once_per_order(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let t0 = now();
    let untracked = [line("UNSYNCED", "o-1", 2, t0)];
    assert_eq!(
        store
            .record_orders(&tenant, &untracked)
            .await
            .expect("record"),
        0
    );
    assert_eq!(store.get(&tenant, "UNSYNCED").await.expect("get"), None);

    store
        .record_level(&tenant, "SKU-o", "wh1", &level(10, t0, "c1"))
        .await
        .expect("record");
    let lines = [
        line("SKU-o", "o-1", 2, t0 + TimeDelta::seconds(1)),
        line("SKU-o", "o-2", 3, t0 + TimeDelta::seconds(2)),
        line("UNSYNCED", "o-2", 1, t0),
    ];
    assert_eq!(
        store.record_orders(&tenant, &lines).await.expect("record"),
        2
    );
    // Sent again later (a re-run): the first emission stays.
    let again = [line("SKU-o", "o-1", 2, t0 + TimeDelta::seconds(9))];
    assert_eq!(
        store.record_orders(&tenant, &again).await.expect("record"),
        0
    );
    let stock = store
        .get(&tenant, "SKU-o")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stock.orders.len(), 2);
    assert_eq!(stock.orders["o-1"], lines[0].order);
    assert_eq!(stock.orders["o-2"], lines[1].order);
    assert_eq!(stock.levels.len(), 1, "orders leave the levels alone");

    store
        .forget_orders(&tenant, "SKU-o", &["o-1".to_owned(), "o-404".to_owned()])
        .await
        .expect("forget");
    let stock = store
        .get(&tenant, "SKU-o")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stock.orders.keys().collect::<Vec<_>>(), vec!["o-2"]);
    store
        .forget_orders(&tenant, "NOTHING", &["o-1".to_owned()])
        .await
        .expect("forgetting on a SKU without a record is fine");
    assert_eq!(store.get(&tenant, "NOTHING").await.expect("get"), None);
}

async fn pending_intents_lists_only_that_tenants_in_flight_skus(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let neighbour = unique_tenant("s");
    let t0 = now();
    for i in 0..30u32 {
        let sku = format!("SKU-{i}");
        store
            .record_level(&tenant, &sku, "wh1", &level(1, t0, "c"))
            .await
            .expect("record");
        if i.is_multiple_of(3) {
            store
                .record_intent(&tenant, &sku, &intent(&format!("i-{i}"), 1))
                .await
                .expect("record");
        }
    }
    store
        .record_intent(&neighbour, "SKU-0", &intent("n", 1))
        .await
        .expect("record");
    let mut pending: Vec<String> = store
        .pending_intents(&tenant)
        .await
        .expect("pending")
        .into_iter()
        .map(|m| m.sku)
        .collect();
    pending.sort();
    let mut expected: Vec<String> = (0..30).step_by(3).map(|i| format!("SKU-{i}")).collect();
    expected.sort();
    assert_eq!(pending, expected);
}

/// Levels of three locations observed at different times, emitted orders and an intent
/// are written to one SKU concurrently: every location ends at its newest level, no write
/// of one location or order loses another's, and exactly one intent wins.
async fn concurrent_writes_to_one_sku_lose_nothing(store: Arc<dyn StockMarkStore>) {
    let tenant = unique_tenant("s");
    let sku = "SKU-race";
    let t0 = now();
    store
        .record_level(&tenant, sku, "wh0", &level(0, t0, "seed"))
        .await
        .expect("record");
    let levels = (0..24i64).map(|i| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let location = format!("wh{}", i % 3);
            let at = t0 + TimeDelta::seconds(1 + (i * 5) % 8);
            store
                .record_level(&tenant, sku, &location, &level(i, at, &format!("c{i}")))
                .await
                .expect("record level");
        })
    });
    let orders = (0..8).map(|i| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let lines = [line(sku, &format!("o-{i}"), 1, t0)];
            store.record_orders(&tenant, &lines).await.expect("orders");
        })
    });
    let intents = (0..4).map(|i| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            store
                .record_intent(&tenant, sku, &intent(&format!("i-{i}"), 1))
                .await
                .expect("intent")
        })
    });
    let (levels, orders, intents) = tokio::join!(
        futures::future::join_all(levels),
        futures::future::join_all(orders),
        futures::future::join_all(intents),
    );
    assert!(levels.into_iter().chain(orders).all(|r| r.is_ok()));
    let recorded = intents
        .into_iter()
        .map(|r| r.expect("task"))
        .filter(|o| *o == IntentOutcome::Recorded)
        .count();
    assert_eq!(recorded, 1, "one adjustment in flight per SKU");
    let stock = store.get(&tenant, sku).await.expect("get").expect("stored");
    assert_eq!(stock.orders.len(), 8);
    assert!(stock.pending.is_some());
    for location in ["wh0", "wh1", "wh2"] {
        let newest = (0..24i64)
            .filter(|i| format!("wh{}", i % 3) == location)
            .map(|i| t0 + TimeDelta::seconds(1 + (i * 5) % 8))
            .max()
            .expect("some level");
        assert_eq!(
            stock.levels.get(location).map(|l| l.observed_at),
            Some(newest),
            "{location}"
        );
    }
}

contracts!(
    embedded: crate::support::embedded::stock_marks,
    aws: crate::support::aws::stock_marks;
    levels_move_forward_per_location,
    intent_lifecycle,
    emitted_orders_are_kept_once_per_order,
    pending_intents_lists_only_that_tenants_in_flight_skus,
    concurrent_writes_to_one_sku_lose_nothing,
);

#[tokio::test]
async fn embedded_stock_records_survive_reopen() {
    use ::embedded::EmbeddedStockMarkStore;
    let dir = crate::support::embedded::state_dir();
    let tenant = unique_tenant("s");
    let t0 = now();
    {
        let store = EmbeddedStockMarkStore::open(dir.path())
            .await
            .expect("opens");
        store
            .record_level(&tenant, "SKU", "wh1", &level(4, t0, "c1"))
            .await
            .expect("record");
        store
            .record_intent(&tenant, "SKU", &intent("i", 1))
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
    let stock = store.get(&tenant, "SKU").await.expect("get").expect("kept");
    assert_eq!(stock.levels["wh1"].level, 4);
}
