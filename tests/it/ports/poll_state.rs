//! Poll state contract: the record's version, the lease taken at a version, the unleased
//! write (bookkeeping and cursor of a poll that found nothing to emit), the lease holder's
//! write (checkpoint, or cursor, bookkeeping and release in one) and the failure record.
//!
//! The guarantees the poller relies on (docs/POLLING.md): a live lease excludes every other
//! owner, an expired one can be taken over with a new epoch, a holder that lost its lease
//! changes nothing, the cursor never moves backwards, a write at a stale version is refused,
//! and of many polls racing for one record exactly one wins.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use connector::ports::poll_state::{
    LeasedOutcome, LeasedWrite, PollRecord, RenewOutcome, UnleasedOutcome, UnleasedWrite,
    VersionedLeaseOutcome,
};
use connector::ports::{PollStateStore, StoreError};
use domain::poll_state::{Lease, PollCursor, PollState};
use domain::tenant::TenantId;
use futures::future::join_all;

use crate::support::{contracts, now, unique_tenant};

const TTL: Duration = Duration::from_secs(60);

fn success(at: DateTime<Utc>) -> PollRecord {
    PollRecord::Success { at }
}

/// The one write of an idle poll that read up to `at`: cursor and success.
fn idle(at: DateTime<Utc>) -> UnleasedWrite {
    UnleasedWrite {
        cursor: Some(at),
        record: success(at),
    }
}

/// The end of a poll that holds `lease`: releases it, optionally moving the cursor.
fn release(cursor: Option<DateTime<Utc>>) -> LeasedWrite {
    LeasedWrite {
        cursor,
        release: true,
        record: None,
    }
}

/// Takes the lease at the record's current version; panics if it is refused.
async fn lease_now(
    store: &dyn PollStateStore,
    tenant: &TenantId,
    owner: &str,
    now: DateTime<Utc>,
) -> Lease {
    let version = store.get(tenant).await.expect("get").version;
    match store
        .acquire_lease_at(tenant, version, owner, TTL, now)
        .await
        .expect("lease")
    {
        VersionedLeaseOutcome::Acquired(lease) => lease,
        refused => panic!("{owner} expected the lease: {refused:?}"),
    }
}

async fn a_live_lease_excludes_other_owners_until_it_expires(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let first = lease_now(&*store, &tenant, "poller-a", t0).await;
    assert_eq!(first.owner, "poller-a");
    assert_eq!(first.until, t0 + TimeDelta::seconds(60));

    // Held: a second poller (and the same one) is refused while the lease runs, even at the
    // version it just read.
    let during = t0 + TimeDelta::seconds(30);
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.lease.as_ref(), Some(&first));
    for owner in ["poller-b", "poller-a"] {
        let outcome = store
            .acquire_lease_at(&tenant, state.version, owner, TTL, during)
            .await
            .expect("lease");
        assert_eq!(
            outcome,
            VersionedLeaseOutcome::Held {
                owner: "poller-a".into(),
                until: first.until
            }
        );
    }
    assert_eq!(
        store.get(&tenant).await.expect("get"),
        state,
        "refusals write nothing"
    );

    // Expired: taken over, with a new epoch.
    let t1 = first.until + TimeDelta::milliseconds(1);
    let second = lease_now(&*store, &tenant, "poller-b", t1).await;
    assert!(second.epoch > first.epoch);

    // The old holder can neither renew, nor release, nor write under the new lease.
    let taken = store.get(&tenant).await.expect("get");
    assert_eq!(
        store.renew_lease(&first, TTL, t1).await.expect("renew"),
        RenewOutcome::Lost
    );
    assert_eq!(
        store
            .write_leased(&first, &release(None))
            .await
            .expect("release"),
        LeasedOutcome::NotHeld
    );
    let checkpoint = LeasedWrite {
        cursor: Some(t1),
        release: false,
        record: Some(success(t1)),
    };
    assert_eq!(
        store
            .write_leased(&first, &checkpoint)
            .await
            .expect("write"),
        LeasedOutcome::NotHeld
    );
    assert_eq!(
        store.get(&tenant).await.expect("get"),
        taken,
        "a release by a non-holder changes nothing"
    );

    // The holder renews, then releases; the lease is free again at once.
    let t2 = t1 + TimeDelta::seconds(10);
    let RenewOutcome::Renewed(renewed) = store.renew_lease(&second, TTL, t2).await.expect("renew")
    else {
        panic!("the holder renews");
    };
    assert_eq!(renewed.until, t2 + TimeDelta::seconds(60));
    assert_eq!(renewed.epoch, second.epoch);
    let LeasedOutcome::Written(released) = store
        .write_leased(&renewed, &release(None))
        .await
        .expect("release")
    else {
        panic!("the holder releases");
    };
    assert_eq!(released.lease, None);
    assert_eq!(store.get(&tenant).await.expect("get"), released);
    // Released twice: the second is refused and changes nothing.
    assert_eq!(
        store
            .write_leased(&renewed, &release(None))
            .await
            .expect("release again"),
        LeasedOutcome::NotHeld
    );
    assert_eq!(store.get(&tenant).await.expect("get"), released);
    let third = lease_now(&*store, &tenant, "poller-c", t2).await;
    assert!(third.epoch > second.epoch, "epochs survive a release");
}

async fn an_expired_lease_cannot_be_renewed(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let lease = lease_now(&*store, &tenant, "a", t0).await;
    let late = lease.until + TimeDelta::seconds(1);
    assert_eq!(
        store.renew_lease(&lease, TTL, late).await.expect("renew"),
        RenewOutcome::Lost
    );
    let version = store.get(&tenant).await.expect("get").version;
    let bad = store
        .acquire_lease_at(&tenant, version, "", TTL, late)
        .await;
    assert!(matches!(bad, Err(StoreError::InvalidInput { .. })));
    let bad = store
        .acquire_lease_at(&tenant, version, "a", Duration::ZERO, late)
        .await;
    assert!(matches!(bad, Err(StoreError::InvalidInput { .. })));
}

/// Sixteen pollers, each its own task, race for one free lease at the version they all
/// read: exactly one gets it, the others are told who holds it or that the record moved.
/// Then, once that lease expired, sixteen more race to take it over: again one winner.
async fn concurrent_acquirers_get_one_lease(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let race = |version: u64, at: DateTime<Utc>| {
        let tasks = (0..16).map(|i| {
            let (store, tenant) = (store.clone(), tenant.clone());
            tokio::spawn(async move {
                store
                    .acquire_lease_at(&tenant, version, &format!("poller-{i}"), TTL, at)
                    .await
                    .expect("lease")
            })
        });
        join_all(tasks)
    };
    let winners = |outcomes: Vec<Result<VersionedLeaseOutcome, tokio::task::JoinError>>| {
        let outcomes: Vec<_> = outcomes.into_iter().map(|r| r.expect("task")).collect();
        let won: Vec<Lease> = outcomes
            .iter()
            .filter_map(|o| match o {
                VersionedLeaseOutcome::Acquired(lease) => Some(lease.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(won.len(), 1, "exactly one winner: {outcomes:?}");
        for outcome in &outcomes {
            match outcome {
                VersionedLeaseOutcome::Acquired(_) => {}
                VersionedLeaseOutcome::Held { owner, .. } => assert_eq!(owner, &won[0].owner),
                VersionedLeaseOutcome::Stale { current } => {
                    assert_eq!(
                        current.lease.as_ref().map(|l| &l.owner),
                        Some(&won[0].owner)
                    )
                }
            }
        }
        won[0].clone()
    };

    let first = winners(race(0, t0).await);
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.lease.as_ref(), Some(&first));
    assert_eq!(state.version, 1, "one write");

    let after = first.until + TimeDelta::milliseconds(1);
    let second = winners(race(state.version, after).await);
    assert!(second.epoch > first.epoch);
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.lease.as_ref(), Some(&second));
    assert_eq!(state.version, 2, "one write");
}

async fn the_cursor_never_moves_backwards(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    assert_eq!(
        store.get(&tenant).await.expect("get").cursor,
        PollCursor::default()
    );
    let UnleasedOutcome::Written(state) = store
        .write_unleased(&tenant, 0, &idle(t0), t0)
        .await
        .expect("write")
    else {
        panic!("a fresh record is at version 0");
    };
    assert_eq!(
        state.cursor,
        PollCursor {
            updated_after: Some(t0),
            version: 1
        }
    );

    // The right version but an older watermark: refused, nothing written.
    let earlier = t0 - TimeDelta::minutes(5);
    assert_eq!(
        store
            .write_unleased(&tenant, state.version, &idle(earlier), t0)
            .await
            .expect("write"),
        UnleasedOutcome::Stale {
            current: state.clone()
        }
    );
    // Equal is allowed (an empty window), and bumps the cursor's version.
    let UnleasedOutcome::Written(state) = store
        .write_unleased(&tenant, state.version, &idle(t0), t0)
        .await
        .expect("write")
    else {
        panic!("an equal watermark is not backwards");
    };
    assert_eq!(state.cursor.updated_after, Some(t0));
    assert_eq!(state.cursor.version, 2);

    // The lease holder is held to the same rule, at a checkpoint and at its end.
    let lease = lease_now(&*store, &tenant, "a", t0).await;
    let current = store.get(&tenant).await.expect("get");
    for release in [false, true] {
        let back = LeasedWrite {
            cursor: Some(earlier),
            release,
            record: Some(success(t0)),
        };
        assert_eq!(
            store.write_leased(&lease, &back).await.expect("write"),
            LeasedOutcome::NotForward {
                current: current.cursor.clone()
            }
        );
    }
    assert_eq!(
        store.get(&tenant).await.expect("get"),
        current,
        "nothing written"
    );
    let later = t0 + TimeDelta::minutes(5);
    let LeasedOutcome::Written(ended) = store
        .write_leased(&lease, &release(Some(later)))
        .await
        .expect("end")
    else {
        panic!("forward, by the holder");
    };
    assert_eq!(
        ended.cursor,
        PollCursor {
            updated_after: Some(later),
            version: 3
        }
    );
}

/// Sixteen overlapping polls, each its own task, read the record and try to move the cursor
/// to their own watermark, half without a lease (`write_unleased`), half under one
/// (`write_leased`), retrying when refused: no poll ever sees the cursor go backwards and
/// it ends at the maximum.
async fn concurrent_cursor_moves_end_at_the_maximum(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    let marks: Vec<_> = (0..16)
        .map(|i| t0 + TimeDelta::seconds((i * 7) % 16))
        .collect();
    let max = *marks.iter().max().expect("marks");
    let tasks = marks.into_iter().enumerate().map(|(i, mark)| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let mut observed = Vec::new();
            loop {
                let read = store.get(&tenant).await.expect("get");
                observed.push(read.cursor.clone());
                if read.cursor.updated_after.is_some_and(|at| at >= mark) {
                    return observed;
                }
                if i % 2 == 0 {
                    let write = idle(mark);
                    match store
                        .write_unleased(&tenant, read.version, &write, t0)
                        .await
                        .expect("write")
                    {
                        UnleasedOutcome::Written(_) => return observed,
                        UnleasedOutcome::Stale { .. } => {}
                    }
                } else {
                    let owner = format!("poller-{i}");
                    match store
                        .acquire_lease_at(&tenant, read.version, &owner, TTL, t0)
                        .await
                        .expect("lease")
                    {
                        VersionedLeaseOutcome::Acquired(lease) => {
                            let outcome = store
                                .write_leased(&lease, &release(Some(mark)))
                                .await
                                .expect("end");
                            match outcome {
                                LeasedOutcome::Written(_) => return observed,
                                // Passed meanwhile (impossible under the lease: nobody
                                // else writes the cursor then), yet still release.
                                LeasedOutcome::NotForward { .. } => {
                                    store
                                        .write_leased(&lease, &release(None))
                                        .await
                                        .expect("release");
                                    return observed;
                                }
                                LeasedOutcome::NotHeld => panic!("lost a live lease"),
                            }
                        }
                        VersionedLeaseOutcome::Held { .. }
                        | VersionedLeaseOutcome::Stale { .. } => {}
                    }
                }
                // Let the holder or the writer that won finish.
                tokio::task::yield_now().await;
            }
        })
    });
    for observed in join_all(tasks).await {
        let observed = observed.expect("task");
        assert!(
            observed
                .windows(2)
                .all(|w| w[0].updated_after <= w[1].updated_after && w[0].version <= w[1].version),
            "a poller saw the cursor go backwards: {observed:?}"
        );
    }
    let end = store.get(&tenant).await.expect("get");
    assert_eq!(end.cursor.updated_after, Some(max));
    assert_eq!(end.lease, None, "every lease was released");
}

async fn every_write_moves_the_version(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    assert_eq!(store.get(&tenant).await.expect("get").version, 0);
    store
        .write_unleased(&tenant, 0, &idle(t0), t0)
        .await
        .expect("unleased");
    assert_eq!(store.get(&tenant).await.expect("get").version, 1);
    store
        .record_failure(&tenant, t0, "503")
        .await
        .expect("failure");
    let lease = lease_now(&*store, &tenant, "a", t0).await;
    store.renew_lease(&lease, TTL, t0).await.expect("renew");
    let checkpoint = LeasedWrite {
        cursor: Some(t0),
        release: false,
        record: None,
    };
    store
        .write_leased(&lease, &checkpoint)
        .await
        .expect("checkpoint");
    store
        .write_leased(&lease, &release(None))
        .await
        .expect("release");
    assert_eq!(store.get(&tenant).await.expect("get").version, 6);
    // A refused write changes nothing.
    store
        .write_leased(&lease, &release(None))
        .await
        .expect("release again");
    store
        .write_unleased(&tenant, 1, &idle(t0), t0)
        .await
        .expect("stale");
    assert_eq!(store.get(&tenant).await.expect("get").version, 6);
}

async fn an_unleased_write_needs_the_version_read(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    let write = idle(t0);
    let UnleasedOutcome::Written(state) = store
        .write_unleased(&tenant, 0, &write, t0)
        .await
        .expect("write")
    else {
        panic!("a fresh record is at version 0");
    };
    assert_eq!(state.version, 1);
    assert_eq!(state.cursor.updated_after, Some(t0));
    assert_eq!(state.cursor.version, 1);
    assert_eq!(state.last_success_at, Some(t0));
    assert_eq!(store.get(&tenant).await.expect("get"), state);

    // The same version again: someone (this write) changed the record since.
    let t1 = t0 + TimeDelta::minutes(5);
    let later = idle(t1);
    let outcome = store
        .write_unleased(&tenant, 0, &later, t1)
        .await
        .expect("write");
    assert_eq!(
        outcome,
        UnleasedOutcome::Stale {
            current: state.clone()
        }
    );

    // Bookkeeping only: the cursor stays, its version too.
    let bookkeeping = UnleasedWrite {
        cursor: None,
        record: success(t1),
    };
    let UnleasedOutcome::Written(state) = store
        .write_unleased(&tenant, 1, &bookkeeping, t1)
        .await
        .expect("write")
    else {
        panic!("at the version read");
    };
    assert_eq!((state.version, state.cursor.version), (2, 1));
    assert_eq!(state.cursor.updated_after, Some(t0));
    assert_eq!(state.last_success_at, Some(t1));

    // A failure record goes the same way.
    let failed = UnleasedWrite {
        cursor: None,
        record: PollRecord::Failure {
            at: t1,
            message: "429".into(),
        },
    };
    let UnleasedOutcome::Written(state) = store
        .write_unleased(&tenant, 2, &failed, t1)
        .await
        .expect("write")
    else {
        panic!("at the version read");
    };
    assert_eq!(
        state.last_failure.map(|f| (f.at, f.message)),
        Some((t1, "429".to_owned()))
    );
}

async fn an_unleased_write_waits_for_a_live_lease(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    let lease = lease_now(&*store, &tenant, "a", t0).await;
    let version = store.get(&tenant).await.expect("get").version;
    let write = idle(t0);
    let during = t0 + TimeDelta::seconds(30);
    assert!(matches!(
        store.write_unleased(&tenant, version, &write, during).await.expect("write"),
        UnleasedOutcome::Stale { current } if current.lease.as_ref() == Some(&lease)
    ));
    // Once the lease expired (its holder crashed), the record may be written.
    let after = lease.until + TimeDelta::milliseconds(1);
    assert!(matches!(
        store
            .write_unleased(&tenant, version, &write, after)
            .await
            .expect("write"),
        UnleasedOutcome::Written(_)
    ));
}

async fn a_lease_at_a_version_is_refused_after_any_change(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    let read = store.get(&tenant).await.expect("get");
    // Another poll recorded a failure after this one read the record.
    store
        .record_failure(&tenant, t0, "503")
        .await
        .expect("failure");
    let outcome = store
        .acquire_lease_at(&tenant, read.version, "a", TTL, t0)
        .await
        .expect("lease");
    let VersionedLeaseOutcome::Stale { current } = outcome else {
        panic!("the record changed: {outcome:?}");
    };
    assert_eq!(current.version, read.version + 1);
    assert_eq!(current.last_failure.map(|f| f.at), Some(t0));
    assert_eq!(current.lease, None);

    let VersionedLeaseOutcome::Acquired(lease) = store
        .acquire_lease_at(&tenant, current.version, "a", TTL, t0)
        .await
        .expect("lease")
    else {
        panic!("at the current version");
    };
    assert_eq!(
        (lease.owner.as_str(), lease.until),
        ("a", t0 + TimeDelta::seconds(60))
    );
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.version, current.version + 1);
    assert_eq!(state.lease.as_ref(), Some(&lease));

    // Expired, but the record moved since it was read: `Stale`, with the record now.
    let after = lease.until + TimeDelta::milliseconds(1);
    assert_eq!(
        store
            .acquire_lease_at(&tenant, current.version, "b", TTL, after)
            .await
            .expect("lease"),
        VersionedLeaseOutcome::Stale { current: state }
    );
}

async fn the_lease_holder_checkpoints_and_ends_in_one_write(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    let lease = lease_now(&*store, &tenant, "a", t0).await;
    let t1 = t0 + TimeDelta::seconds(1);
    let checkpoint = LeasedWrite {
        cursor: Some(t1),
        release: false,
        record: None,
    };
    let LeasedOutcome::Written(state) = store
        .write_leased(&lease, &checkpoint)
        .await
        .expect("checkpoint")
    else {
        panic!("held");
    };
    assert_eq!(state.cursor.updated_after, Some(t1));
    assert_eq!(state.lease.as_ref(), Some(&lease), "still held");
    assert_eq!(state.last_success_at, None);

    let t2 = t1 + TimeDelta::seconds(1);
    let end = LeasedWrite {
        cursor: Some(t2),
        release: true,
        record: Some(success(t2)),
    };
    let LeasedOutcome::Written(ended) = store.write_leased(&lease, &end).await.expect("end") else {
        panic!("held");
    };
    assert_eq!(ended.cursor.updated_after, Some(t2));
    assert_eq!(ended.cursor.version, state.cursor.version + 1);
    assert_eq!(ended.lease, None, "released");
    assert_eq!(ended.last_success_at, Some(t2));
    assert_eq!(ended.version, state.version + 1, "one write");
    assert_eq!(store.get(&tenant).await.expect("get"), ended);

    // Released: the old holder can write nothing more.
    assert_eq!(
        store.write_leased(&lease, &end).await.expect("write"),
        LeasedOutcome::NotHeld
    );
    // Nor can a holder whose expired lease was taken over; an expired lease nobody took is
    // still its holder's to end.
    let second = lease_now(&*store, &tenant, "b", t2).await;
    let late = LeasedWrite {
        cursor: None,
        release: true,
        record: Some(PollRecord::Failure {
            at: second.until + TimeDelta::seconds(5),
            message: "slow".into(),
        }),
    };
    let LeasedOutcome::Written(state) = store.write_leased(&second, &late).await.expect("end")
    else {
        panic!("an expired lease not taken over is still held");
    };
    assert_eq!(state.lease, None);
    assert_eq!(
        state.last_failure.map(|f| f.message),
        Some("slow".to_owned())
    );
    assert_eq!(
        store.write_leased(&lease, &late).await.expect("write"),
        LeasedOutcome::NotHeld
    );
}

/// Sixteen polls, each its own task, read one version: eight end idle (`write_unleased`),
/// eight take the lease. Exactly one of them writes.
async fn concurrent_polls_at_one_version_write_once(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    store
        .record_failure(&tenant, t0, "seed")
        .await
        .expect("seed");
    let version = store.get(&tenant).await.expect("get").version;
    let writes = (0..8).map(|i| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            let at = t0 + TimeDelta::seconds(i);
            let write = idle(at);
            store.write_unleased(&tenant, version, &write, at).await
        })
    });
    let leases = (0..8).map(|i| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            store
                .acquire_lease_at(&tenant, version, &format!("poller-{i}"), TTL, t0)
                .await
        })
    });
    let (written, leased) = futures::join!(join_all(writes), join_all(leases));
    let written = written
        .into_iter()
        .map(|r| r.expect("task").expect("write"))
        .filter(|o| matches!(o, UnleasedOutcome::Written(_)))
        .count();
    let leased = leased
        .into_iter()
        .map(|r| r.expect("task").expect("lease"))
        .filter(|o| matches!(o, VersionedLeaseOutcome::Acquired(_)))
        .count();
    assert_eq!(
        written + leased,
        1,
        "of 16 polls that read one version, exactly one writes"
    );
    assert_eq!(store.get(&tenant).await.expect("get").version, version + 1);
}

/// The failure of a poll that took no lease is recorded whatever happened since its read,
/// even under another poll's live lease, and touches neither cursor nor lease.
async fn a_failure_is_recorded_without_conditions(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("p");
    let t0 = now();
    store
        .write_unleased(&tenant, 0, &idle(t0), t0)
        .await
        .expect("write");
    let lease = lease_now(&*store, &tenant, "a", t0).await;
    let failed_at = t0 + TimeDelta::seconds(5);
    store
        .record_failure(&tenant, failed_at, "429 from the shop")
        .await
        .expect("failure");
    let state = store.get(&tenant).await.expect("get");
    assert_eq!(state.last_success_at, Some(t0));
    let failure = state.last_failure.clone().expect("failure recorded");
    assert_eq!(failure.at, failed_at);
    assert_eq!(failure.message, "429 from the shop");
    assert_eq!(
        state.cursor,
        PollCursor {
            updated_after: Some(t0),
            version: 1
        }
    );
    assert_eq!(state.lease.as_ref(), Some(&lease), "the lease is untouched");

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
    a_live_lease_excludes_other_owners_until_it_expires,
    an_expired_lease_cannot_be_renewed,
    concurrent_acquirers_get_one_lease,
    the_cursor_never_moves_backwards,
    concurrent_cursor_moves_end_at_the_maximum,
    every_write_moves_the_version,
    an_unleased_write_needs_the_version_read,
    an_unleased_write_waits_for_a_live_lease,
    a_lease_at_a_version_is_refused_after_any_change,
    the_lease_holder_checkpoints_and_ends_in_one_write,
    concurrent_polls_at_one_version_write_once,
    a_failure_is_recorded_without_conditions,
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
        store
            .write_unleased(&tenant, 0, &idle(t0), t0)
            .await
            .expect("write");
        lease_now(&store, &tenant, "a", t0).await;
    }
    let store = EmbeddedPollStateStore::open(dir.path())
        .await
        .expect("reopens");
    let state: PollState = store.get(&tenant).await.expect("get");
    assert_eq!((state.version, state.cursor.version), (2, 1));
    assert_eq!(state.lease.map(|l| l.owner), Some("a".to_owned()));
    // Epochs keep counting after a restart, so a stale holder stays fenced off.
    let next = lease_now(&store, &tenant, "b", t0 + TimeDelta::hours(1)).await;
    assert_eq!(next.epoch, 2);
}
