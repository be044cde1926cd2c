//! Poll state contract, the operations of a poll that writes once: the record's version,
//! the lease taken at a version, the unleased write (bookkeeping and cursor of a poll that
//! found nothing to emit) and the lease holder's write (checkpoint, or cursor, bookkeeping
//! and release in one).

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use connector::ports::PollStateStore;
use connector::ports::poll_state::{
    LeaseOutcome, LeasedOutcome, LeasedWrite, PollRecord, UnleasedOutcome, UnleasedWrite,
    VersionedLeaseOutcome,
};
use futures::future::join_all;

use crate::support::{contracts, now, unique_tenant};

const TTL: Duration = Duration::from_secs(60);

fn success(at: chrono::DateTime<chrono::Utc>) -> PollRecord {
    PollRecord::Success { at }
}

async fn every_write_moves_the_version(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    assert_eq!(store.get(&tenant).await.expect("get").version, 0);
    store.record_success(&tenant, t0).await.expect("success");
    assert_eq!(store.get(&tenant).await.expect("get").version, 1);
    store
        .record_failure(&tenant, t0, "503")
        .await
        .expect("failure");
    store.advance_cursor(&tenant, 0, t0).await.expect("cursor");
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease(&tenant, "a", TTL, t0)
        .await
        .expect("lease")
    else {
        panic!("free lease");
    };
    store.renew_lease(&lease, TTL, t0).await.expect("renew");
    store.release_lease(&lease).await.expect("release");
    assert_eq!(store.get(&tenant).await.expect("get").version, 6);
    // A refused write changes nothing.
    store.release_lease(&lease).await.expect("release again");
    assert_eq!(store.get(&tenant).await.expect("get").version, 6);
}

async fn an_unleased_write_needs_the_version_read(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    let write = UnleasedWrite {
        cursor: Some(t0),
        record: success(t0),
    };
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
    let later = UnleasedWrite {
        cursor: Some(t1),
        record: success(t1),
    };
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

    // Never backwards, even at the right version.
    let back = UnleasedWrite {
        cursor: Some(t0 - TimeDelta::seconds(1)),
        record: success(t1),
    };
    assert!(matches!(
        store.write_unleased(&tenant, 2, &back, t1).await.expect("write"),
        UnleasedOutcome::Stale { current } if current == state
    ));
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
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease(&tenant, "a", TTL, t0)
        .await
        .expect("lease")
    else {
        panic!("free lease");
    };
    let version = store.get(&tenant).await.expect("get").version;
    let write = UnleasedWrite {
        cursor: Some(t0),
        record: success(t0),
    };
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
    // Another poll recorded something after this one read the record.
    store.record_success(&tenant, t0).await.expect("success");
    let outcome = store
        .acquire_lease_at(&tenant, read.version, "a", TTL, t0)
        .await
        .expect("lease");
    let VersionedLeaseOutcome::Stale { current } = outcome else {
        panic!("the record changed: {outcome:?}");
    };
    assert_eq!(current.version, read.version + 1);
    assert_eq!(current.last_success_at, Some(t0));

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

    // While it runs, even the right version gets `Held`.
    let during = t0 + TimeDelta::seconds(10);
    assert_eq!(
        store
            .acquire_lease_at(&tenant, state.version, "b", TTL, during)
            .await
            .expect("lease"),
        VersionedLeaseOutcome::Held {
            owner: "a".into(),
            until: lease.until
        }
    );
    // Expired: taken over at the version read, with a new epoch.
    let after = lease.until + TimeDelta::milliseconds(1);
    let VersionedLeaseOutcome::Acquired(next) = store
        .acquire_lease_at(&tenant, state.version, "b", TTL, after)
        .await
        .expect("lease")
    else {
        panic!("an expired lease is taken over");
    };
    assert!(next.epoch > lease.epoch);
}

async fn the_lease_holder_checkpoints_and_ends_in_one_write(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    let VersionedLeaseOutcome::Acquired(lease) = store
        .acquire_lease_at(&tenant, 0, "a", TTL, t0)
        .await
        .expect("lease")
    else {
        panic!("free lease");
    };
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

    let back = LeasedWrite {
        cursor: Some(t0),
        release: true,
        record: Some(success(t1)),
    };
    assert_eq!(
        store.write_leased(&lease, &back).await.expect("write"),
        LeasedOutcome::NotForward {
            current: state.cursor.clone()
        }
    );
    assert_eq!(
        store.get(&tenant).await.expect("get"),
        state,
        "nothing written"
    );

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
    let VersionedLeaseOutcome::Acquired(second) = store
        .acquire_lease_at(&tenant, ended.version, "b", TTL, t2)
        .await
        .expect("lease")
    else {
        panic!("free lease");
    };
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

async fn concurrent_polls_at_one_version_write_once(store: Arc<dyn PollStateStore>) {
    let tenant = unique_tenant("v");
    let t0 = now();
    store.record_success(&tenant, t0).await.expect("seed");
    let version = store.get(&tenant).await.expect("get").version;
    let writes = (0..8).map(|i| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            let at = t0 + TimeDelta::seconds(i);
            let write = UnleasedWrite {
                cursor: Some(at),
                record: success(at),
            };
            store.write_unleased(&tenant, version, &write, at).await
        }
    });
    let leases = (0..8).map(|i| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            store
                .acquire_lease_at(&tenant, version, &format!("poller-{i}"), TTL, t0)
                .await
        }
    });
    let (written, leased) = futures::join!(join_all(writes), join_all(leases));
    let written = written
        .into_iter()
        .filter(|o| matches!(o, Ok(UnleasedOutcome::Written(_))))
        .count();
    let leased = leased
        .into_iter()
        .filter(|o| matches!(o, Ok(VersionedLeaseOutcome::Acquired(_))))
        .count();
    assert_eq!(
        written + leased,
        1,
        "of 16 polls that read one version, exactly one writes"
    );
    assert_eq!(store.get(&tenant).await.expect("get").version, version + 1);
}

contracts!(
    embedded: crate::support::embedded::poll_state,
    aws: crate::support::aws::poll_state;
    every_write_moves_the_version,
    an_unleased_write_needs_the_version_read,
    an_unleased_write_waits_for_a_live_lease,
    a_lease_at_a_version_is_refused_after_any_change,
    the_lease_holder_checkpoints_and_ends_in_one_write,
    concurrent_polls_at_one_version_write_once,
);
