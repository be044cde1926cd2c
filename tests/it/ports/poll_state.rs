//! Poll state contract: lease, cursor, bookkeeping.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use connector::ports::poll_state::{CursorOutcome, LeaseOutcome, ReleaseOutcome, RenewOutcome};
use connector::ports::{PollStateStore, StoreError};
use domain::poll_state::PollCursor;

use crate::support::{contracts, now, unique_tenant};

const TTL: Duration = Duration::from_secs(60);

async fn lease_excludes_a_second_poller_until_it_expires(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let LeaseOutcome::Acquired(first) = store
        .acquire_lease(&tenant, "poller-a", TTL, t0)
        .await
        .expect("acquire")
    else {
        panic!("a free lease must be acquired");
    };
    assert_eq!(first.owner, "poller-a");
    assert_eq!(first.until, t0 + TimeDelta::seconds(60));

    // Held: a second poller (and the same one) is refused while the lease runs.
    for owner in ["poller-b", "poller-a"] {
        let outcome = store
            .acquire_lease(&tenant, owner, TTL, t0 + TimeDelta::seconds(30))
            .await
            .expect("acquire");
        assert_eq!(
            outcome,
            LeaseOutcome::Held {
                owner: "poller-a".into(),
                until: first.until
            }
        );
    }
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.lease.as_ref(), Some(&first));

    // Expired: taken over, with a new epoch.
    let t1 = first.until + TimeDelta::milliseconds(1);
    let LeaseOutcome::Acquired(second) = store
        .acquire_lease(&tenant, "poller-b", TTL, t1)
        .await
        .expect("acquire")
    else {
        panic!("an expired lease must be taken over");
    };
    assert!(second.epoch > first.epoch);

    // The old holder can neither renew nor release the new lease.
    assert_eq!(
        store.renew_lease(&first, TTL, t1).await.expect("renew"),
        RenewOutcome::Lost
    );
    assert_eq!(
        store.release_lease(&first).await.expect("release"),
        ReleaseOutcome::NotHeld
    );
    assert_eq!(
        store.get(&tenant).await.expect("get").lease,
        Some(second.clone())
    );

    // The holder renews, then releases; the lease is free again at once.
    let t2 = t1 + TimeDelta::seconds(10);
    let RenewOutcome::Renewed(renewed) = store.renew_lease(&second, TTL, t2).await.expect("renew")
    else {
        panic!("the holder renews");
    };
    assert_eq!(renewed.until, t2 + TimeDelta::seconds(60));
    assert_eq!(renewed.epoch, second.epoch);
    assert_eq!(
        store.release_lease(&renewed).await.expect("release"),
        ReleaseOutcome::Released
    );
    assert_eq!(store.get(&tenant).await.expect("get").lease, None);
    assert_eq!(
        store.release_lease(&renewed).await.expect("release again"),
        ReleaseOutcome::NotHeld
    );
    assert!(matches!(
        store
            .acquire_lease(&tenant, "poller-c", TTL, t2)
            .await
            .expect("acquire"),
        LeaseOutcome::Acquired(_)
    ));
}

async fn an_expired_lease_cannot_be_renewed(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease(&tenant, "a", TTL, t0)
        .await
        .expect("acquire")
    else {
        panic!("acquired");
    };
    let late = lease.until + TimeDelta::seconds(1);
    assert_eq!(
        store.renew_lease(&lease, TTL, late).await.expect("renew"),
        RenewOutcome::Lost
    );
    let bad = store.acquire_lease(&tenant, "", TTL, t0).await;
    assert!(matches!(bad, Err(StoreError::InvalidInput { .. })));
    let bad = store.acquire_lease(&tenant, "a", Duration::ZERO, t0).await;
    assert!(matches!(bad, Err(StoreError::InvalidInput { .. })));
}

/// Sixteen pollers race for one free lease: exactly one gets it.
async fn concurrent_acquirers_get_one_lease(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let attempts = (0..16).map(|i| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            store
                .acquire_lease(&tenant, &format!("poller-{i}"), TTL, t0)
                .await
                .expect("acquire")
        })
    });
    let outcomes = futures::future::join_all(attempts).await;
    let acquired = outcomes
        .into_iter()
        .map(|r| r.expect("task"))
        .filter(|o| matches!(o, LeaseOutcome::Acquired(_)))
        .count();
    assert_eq!(acquired, 1);
}

async fn cursor_moves_forward_under_its_version(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    assert_eq!(
        store.get(&tenant).await.expect("get").cursor,
        PollCursor::default()
    );

    let first = PollCursor {
        updated_after: Some(t0),
        version: 1,
    };
    assert_eq!(
        store.advance_cursor(&tenant, 0, t0).await.expect("advance"),
        CursorOutcome::Advanced(first.clone())
    );
    // Someone who read version 0 is stale now.
    assert_eq!(
        store
            .advance_cursor(&tenant, 0, t0 + TimeDelta::minutes(5))
            .await
            .expect("advance"),
        CursorOutcome::Stale {
            current: first.clone()
        }
    );
    // The right version but an older watermark does not move it back.
    assert_eq!(
        store
            .advance_cursor(&tenant, 1, t0 - TimeDelta::minutes(5))
            .await
            .expect("advance"),
        CursorOutcome::NotForward {
            current: first.clone()
        }
    );
    // Equal is allowed (an empty window), and bumps the version.
    let same = store.advance_cursor(&tenant, 1, t0).await.expect("advance");
    assert_eq!(
        same,
        CursorOutcome::Advanced(PollCursor {
            updated_after: Some(t0),
            version: 2
        })
    );
    let later = t0 + TimeDelta::minutes(5);
    store
        .advance_cursor(&tenant, 2, later)
        .await
        .expect("advance");
    let cursor = store.get(&tenant).await.expect("get").cursor;
    assert_eq!(
        cursor,
        PollCursor {
            updated_after: Some(later),
            version: 3
        }
    );
}

/// Sixteen overlapping polls each read the cursor and try to move it to their own
/// watermark, retrying on `Stale`: the cursor never goes backwards and ends at the maximum.
async fn concurrent_cursor_advances_end_at_the_maximum(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let marks: Vec<_> = (0..16)
        .map(|i| t0 + TimeDelta::seconds((i * 7) % 16))
        .collect();
    let max = *marks.iter().max().expect("marks");
    let tasks = marks.into_iter().map(|mark| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let mut observed = Vec::new();
            loop {
                let current = store.get(&tenant).await.expect("get").cursor;
                observed.push(current.clone());
                if current.updated_after.is_some_and(|at| at >= mark) {
                    return observed;
                }
                match store
                    .advance_cursor(&tenant, current.version, mark)
                    .await
                    .expect("advance")
                {
                    CursorOutcome::Advanced(_) => return observed,
                    CursorOutcome::Stale { .. } | CursorOutcome::NotForward { .. } => continue,
                }
            }
        })
    });
    for observed in futures::future::join_all(tasks).await {
        let observed = observed.expect("task");
        assert!(
            observed
                .windows(2)
                .all(|w| w[0].updated_after <= w[1].updated_after && w[0].version <= w[1].version),
            "a poller saw the cursor go backwards: {observed:?}"
        );
    }
    let final_cursor = store.get(&tenant).await.expect("get").cursor;
    assert_eq!(final_cursor.updated_after, Some(max));
}

async fn last_poll_bookkeeping(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    store.record_success(&tenant, t0).await.expect("success");
    let failed_at = t0 + TimeDelta::minutes(5);
    store
        .record_failure(&tenant, failed_at, "429 from the shop")
        .await
        .expect("failure");
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.last_success_at, Some(t0));
    let failure = state.last_failure.expect("failure recorded");
    assert_eq!(failure.at, failed_at);
    assert_eq!(failure.message, "429 from the shop");
    // Bookkeeping leaves cursor and lease alone.
    assert_eq!(state.cursor, PollCursor::default());
    assert_eq!(state.lease, None);

    let long = "x".repeat(10_000);
    store
        .record_failure(&tenant, failed_at, &long)
        .await
        .expect("failure");
    let kept = store
        .get(&tenant)
        .await
        .expect("get")
        .last_failure
        .expect("kept")
        .message;
    assert!(kept.chars().count() <= 2001, "long messages are clipped");
}

contracts!(
    embedded: crate::support::embedded::poll_state,
    aws: crate::support::aws::poll_state;
    lease_excludes_a_second_poller_until_it_expires,
    an_expired_lease_cannot_be_renewed,
    concurrent_acquirers_get_one_lease,
    cursor_moves_forward_under_its_version,
    concurrent_cursor_advances_end_at_the_maximum,
    last_poll_bookkeeping,
);

#[tokio::test]
async fn embedded_poll_state_survives_reopen() {
    use ::embedded::EmbeddedPollStateStore;
    let dir = crate::support::embedded::state_dir();
    let tenant = unique_tenant("p");
    let t0 = now();
    {
        let store = EmbeddedPollStateStore::open(dir.path())
            .await
            .expect("opens");
        store.advance_cursor(&tenant, 0, t0).await.expect("advance");
        store
            .acquire_lease(&tenant, "a", TTL, t0)
            .await
            .expect("acquire");
    }
    let store = EmbeddedPollStateStore::open(dir.path())
        .await
        .expect("reopens");
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.cursor.version, 1);
    assert_eq!(state.lease.map(|l| l.owner), Some("a".to_owned()));
    // Epochs keep counting after a restart, so a stale holder stays fenced off.
    let LeaseOutcome::Acquired(next) = store
        .acquire_lease(&tenant, "b", TTL, t0 + TimeDelta::hours(1))
        .await
        .expect("acquire")
    else {
        panic!("expired lease is taken over");
    };
    assert_eq!(next.epoch, 2);
}
