//! Idempotency store contract (the Powertools record design).

use std::sync::Arc;

use chrono::TimeDelta;
use connector::ports::idempotency::{ClaimOutcome, CompleteOutcome, IdempotencyKey};
use connector::ports::{IdempotencyStore, StoreError};
use serde_json::json;

use crate::support::{contracts, now};

fn key() -> IdempotencyKey {
    IdempotencyKey::new(format!("tenant-a:command:{}", uuid::Uuid::new_v4())).expect("valid key")
}

async fn claim_complete_then_replay_the_result(store: Arc<dyn IdempotencyStore>) {
    let key = key();
    let t0 = now();
    let lock = t0 + TimeDelta::seconds(30);
    let expiry = t0 + TimeDelta::hours(1);
    assert_eq!(
        store.claim(&key, lock, expiry, t0).await.expect("claim"),
        ClaimOutcome::Claimed
    );
    // While the holder works, others are told to come back later.
    assert_eq!(
        store
            .claim(
                &key,
                lock + TimeDelta::seconds(5),
                expiry,
                t0 + TimeDelta::seconds(1)
            )
            .await
            .expect("claim"),
        ClaimOutcome::InProgress { until: lock }
    );
    let result = json!({"shipmentId": "s-1", "lines": [1, 2]});
    assert_eq!(
        store.complete(&key, &result).await.expect("complete"),
        CompleteOutcome::Completed
    );
    assert_eq!(
        store
            .claim(
                &key,
                t0 + TimeDelta::minutes(4),
                expiry,
                t0 + TimeDelta::minutes(2)
            )
            .await
            .expect("claim"),
        ClaimOutcome::AlreadyCompleted(result.clone())
    );
    // Completing twice does not overwrite the stored result.
    assert_eq!(
        store
            .complete(&key, &json!("other"))
            .await
            .expect("complete"),
        CompleteOutcome::NotInProgress
    );
    // Release never removes a completed record.
    store.release(&key).await.expect("release");
    assert_eq!(
        store
            .claim(
                &key,
                t0 + TimeDelta::minutes(4),
                expiry,
                t0 + TimeDelta::minutes(3)
            )
            .await
            .expect("claim"),
        ClaimOutcome::AlreadyCompleted(result)
    );
}

async fn release_lets_a_retry_run(store: Arc<dyn IdempotencyStore>) {
    let key = key();
    let t0 = now();
    let expiry = t0 + TimeDelta::hours(1);
    store
        .claim(&key, t0 + TimeDelta::seconds(30), expiry, t0)
        .await
        .expect("claim");
    store.release(&key).await.expect("release");
    assert_eq!(
        store
            .claim(
                &key,
                t0 + TimeDelta::seconds(40),
                expiry,
                t0 + TimeDelta::seconds(1)
            )
            .await
            .expect("claim"),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        store
            .complete(
                &IdempotencyKey::new("never-claimed").expect("key"),
                &json!(1)
            )
            .await
            .expect("complete"),
        CompleteOutcome::NotInProgress
    );
    store
        .release(&IdempotencyKey::new("never-claimed").expect("key"))
        .await
        .expect("release of absent");
}

/// A holder that crashed (its Lambda timed out) leaves INPROGRESS behind; once its lock
/// passes, the record is taken over. An expired COMPLETED record counts as absent, checked
/// in code because TTL deletion lags.
async fn expired_locks_and_records_are_taken_over(store: Arc<dyn IdempotencyStore>) {
    let key = key();
    let t0 = now();
    let lock = t0 + TimeDelta::seconds(30);
    let expiry = t0 + TimeDelta::hours(1);
    store.claim(&key, lock, expiry, t0).await.expect("claim");
    let after_lock = lock + TimeDelta::milliseconds(1);
    assert_eq!(
        store
            .claim(
                &key,
                after_lock + TimeDelta::seconds(30),
                expiry,
                after_lock
            )
            .await
            .expect("claim"),
        ClaimOutcome::Claimed
    );
    store
        .complete(&key, &json!("done"))
        .await
        .expect("complete");
    let after_expiry = expiry + TimeDelta::seconds(2);
    assert_eq!(
        store
            .claim(
                &key,
                after_expiry + TimeDelta::seconds(30),
                after_expiry + TimeDelta::hours(1),
                after_expiry
            )
            .await
            .expect("claim"),
        ClaimOutcome::Claimed
    );
}

/// Powertools #4759: an in-progress expiry of "now" or earlier would lock nothing (or,
/// when omitted, forever). Such claims are refused before anything is written.
async fn claims_without_a_future_lock_are_refused(store: Arc<dyn IdempotencyStore>) {
    let key = key();
    let t0 = now();
    let expiry = t0 + TimeDelta::hours(1);
    for lock in [t0, t0 - TimeDelta::seconds(1), chrono::DateTime::UNIX_EPOCH] {
        let refused = store.claim(&key, lock, expiry, t0).await;
        assert!(matches!(
            refused,
            Err(StoreError::InvalidInput {
                field: "in_progress_until",
                ..
            })
        ));
    }
    let refused = store
        .claim(&key, t0 + TimeDelta::hours(2), expiry, t0)
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::InvalidInput {
            field: "expires_at",
            ..
        })
    ));
    // Nothing was written: the key is still free.
    assert_eq!(
        store
            .claim(&key, t0 + TimeDelta::seconds(30), expiry, t0)
            .await
            .expect("claim"),
        ClaimOutcome::Claimed
    );
    let huge = json!("x".repeat(400 * 1024));
    assert!(matches!(
        store.complete(&key, &huge).await,
        Err(StoreError::InvalidInput { .. })
    ));
}

/// Sixteen consumers receive the same message at once: exactly one runs it.
async fn concurrent_claimers_exactly_one_wins(store: Arc<dyn IdempotencyStore>) {
    let key = key();
    let t0 = now();
    let claims = (0..16).map(|_| {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            store
                .claim(
                    &key,
                    t0 + TimeDelta::seconds(30),
                    t0 + TimeDelta::hours(1),
                    t0,
                )
                .await
                .expect("claim")
        })
    });
    let outcomes: Vec<_> = futures::future::join_all(claims)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let claimed = outcomes
        .iter()
        .filter(|o| **o == ClaimOutcome::Claimed)
        .count();
    assert_eq!(claimed, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, ClaimOutcome::Claimed | ClaimOutcome::InProgress { .. }))
    );
}

contracts!(
    embedded: crate::support::embedded::idempotency,
    aws: crate::support::aws::idempotency;
    claim_complete_then_replay_the_result,
    release_lets_a_retry_run,
    expired_locks_and_records_are_taken_over,
    claims_without_a_future_lock_are_refused,
    concurrent_claimers_exactly_one_wins,
);

#[tokio::test]
async fn embedded_idempotency_survives_reopen() {
    use ::embedded::EmbeddedIdempotencyStore;
    let dir = crate::support::embedded::state_dir();
    let key = key();
    let t0 = now();
    let expiry = t0 + TimeDelta::hours(1);
    {
        let store = EmbeddedIdempotencyStore::open(dir.path())
            .await
            .expect("opens");
        store
            .claim(&key, t0 + TimeDelta::seconds(30), expiry, t0)
            .await
            .expect("claim");
        store
            .complete(&key, &json!({"ok": true}))
            .await
            .expect("complete");
    }
    let store = EmbeddedIdempotencyStore::open(dir.path())
        .await
        .expect("reopens");
    assert_eq!(
        store
            .claim(
                &key,
                t0 + TimeDelta::seconds(60),
                expiry,
                t0 + TimeDelta::seconds(1)
            )
            .await
            .expect("claim"),
        ClaimOutcome::AlreadyCompleted(json!({"ok": true}))
    );
}
