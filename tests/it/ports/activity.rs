//! Activity log contract.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use connector::ports::activity::{Retention, TimeRange};
use connector::ports::{ActivityLog, PageRequest};
use domain::activity::{
    ActivityEntry, ActivityOutcome, Correlation, Direction, EntityKind, EntityRef,
};
use domain::tenant::TenantId;

use crate::support::{contracts, now, unique_tenant};

fn entry(tenant: &TenantId, at: DateTime<Utc>, entity: EntityRef, n: usize) -> ActivityEntry {
    ActivityEntry {
        tenant: tenant.clone(),
        entry_id: format!("e-{n:04}"),
        at,
        entity,
        direction: Direction::EpagesToAfosto,
        action: "order.import".into(),
        outcome: if n.is_multiple_of(2) {
            ActivityOutcome::Ok
        } else {
            ActivityOutcome::Failed
        },
        error: (!n.is_multiple_of(2)).then(|| format!("failure {n}")),
        correlation: Correlation {
            message_id: Some(format!("m-{n}")),
            ..Correlation::default()
        },
    }
}

async fn all_pages(
    fetch: impl AsyncFn(PageRequest) -> connector::ports::Page<ActivityEntry>,
    limit: u32,
) -> Vec<ActivityEntry> {
    let mut items = Vec::new();
    let mut page = PageRequest::first(limit);
    for _ in 0..200 {
        let result = fetch(page.clone()).await;
        assert!(result.items.len() <= limit as usize);
        items.extend(result.items);
        match result.next {
            Some(token) => page = PageRequest::after(limit, token),
            None => return items,
        }
    }
    panic!("paging does not end");
}

/// 60 entries over an hour for two orders and a SKU, plus another tenant's entries:
/// newest first, paged, filtered by time range and by entity.
async fn queries_by_tenant_range_and_entity(log: Arc<dyn ActivityLog>) {
    let tenant = unique_tenant("a");
    let other = unique_tenant("a");
    let t0 = now() - TimeDelta::hours(2);
    let entities = [
        EntityRef::order("o-1", Some("10001".into())),
        EntityRef::order("o-2", Some("10002".into())),
        EntityRef::sku("SKU#1"),
    ];
    let entries: Vec<_> = (0..60)
        .map(|n| {
            entry(
                &tenant,
                t0 + TimeDelta::minutes(n as i64),
                entities[n % 3].clone(),
                n,
            )
        })
        .collect();
    log.append(&entries).await.expect("append");
    log.append(&[entry(&other, t0, entities[0].clone(), 0)])
        .await
        .expect("append");
    // Appending the same entries again (a retried batch) stores nothing twice.
    log.append(&entries[..5]).await.expect("append again");
    let at = now();

    let newest_first = all_pages(
        async |page| {
            log.by_tenant(&tenant, TimeRange::default(), page, at)
                .await
                .expect("query")
        },
        7,
    )
    .await;
    let mut expected = entries.clone();
    expected.reverse();
    assert_eq!(newest_first, expected);

    // [t0+10 min, t0+20 min): ten entries, newest first.
    let range = TimeRange {
        from: Some(t0 + TimeDelta::minutes(10)),
        to: Some(t0 + TimeDelta::minutes(20)),
    };
    let in_range = all_pages(
        async |page| {
            log.by_tenant(&tenant, range, page, at)
                .await
                .expect("query")
        },
        4,
    )
    .await;
    let ids: Vec<_> = in_range.iter().map(|e| e.entry_id.as_str()).collect();
    assert_eq!(
        ids,
        (10..20)
            .rev()
            .map(|n| format!("e-{n:04}"))
            .collect::<Vec<_>>()
    );

    let reversed = TimeRange {
        from: range.to,
        to: range.from,
    };
    let nothing = log
        .by_tenant(&tenant, reversed, PageRequest::first(5), at)
        .await
        .expect("query");
    assert!(nothing.items.is_empty() && nothing.next.is_none());

    let order_two = all_pages(
        async |page| {
            log.by_entity(&tenant, EntityKind::Order, "o-2", page, at)
                .await
                .expect("query")
        },
        6,
    )
    .await;
    assert_eq!(order_two.len(), 20);
    assert!(
        order_two
            .iter()
            .all(|e| e.entity.id == "o-2" && e.entity.number.as_deref() == Some("10002"))
    );
    assert!(order_two.windows(2).all(|w| w[0].at > w[1].at));
    let sku = log
        .by_entity(
            &tenant,
            EntityKind::Sku,
            "SKU#1",
            PageRequest::first(100),
            at,
        )
        .await
        .expect("query");
    assert_eq!(sku.items.len(), 20);
    assert!(
        log.by_entity(&tenant, EntityKind::Sku, "o-2", PageRequest::first(10), at)
            .await
            .expect("query")
            .items
            .is_empty()
    );
    let others = log
        .by_tenant(&other, TimeRange::default(), PageRequest::first(10), at)
        .await
        .expect("query");
    assert_eq!(others.items.len(), 1);
}

/// Entries are kept for the retention (30 days by default) and filtered in code after
/// it: DynamoDB TTL deletes up to two days late (and moto never does).
async fn expired_entries_are_never_returned(log: Arc<dyn ActivityLog>) {
    let tenant = unique_tenant("a");
    let t0 = now() - TimeDelta::minutes(5);
    let order = EntityRef::order("o-1", None);
    log.append(&[entry(&tenant, t0, order.clone(), 0)])
        .await
        .expect("append");
    let query = async |now: DateTime<Utc>| {
        log.by_tenant(&tenant, TimeRange::default(), PageRequest::first(10), now)
            .await
            .expect("query")
            .items
            .len()
    };
    assert_eq!(query(t0 + TimeDelta::days(29)).await, 1);
    assert_eq!(query(t0 + TimeDelta::days(31)).await, 0);
    let by_order = log
        .by_entity(
            &tenant,
            EntityKind::Order,
            "o-1",
            PageRequest::first(10),
            t0 + TimeDelta::days(31),
        )
        .await
        .expect("query");
    assert!(by_order.items.is_empty());
}

async fn long_errors_are_clipped_not_refused(log: Arc<dyn ActivityLog>) {
    let tenant = unique_tenant("a");
    let mut failed = entry(&tenant, now(), EntityRef::sku("S"), 1);
    failed.error = Some("é".repeat(10_000));
    log.append(&[failed]).await.expect("append");
    let stored = log
        .by_tenant(&tenant, TimeRange::default(), PageRequest::first(1), now())
        .await
        .expect("query");
    let error = stored.items[0].error.as_deref().expect("error kept");
    assert!(error.chars().count() <= 4001);
}

contracts!(
    embedded: crate::support::embedded::activity,
    aws: crate::support::aws::activity;
    queries_by_tenant_range_and_entity,
    expired_entries_are_never_returned,
    long_errors_are_clipped_not_refused,
);

async fn retention_is_configurable(log: Arc<dyn ActivityLog>) {
    let tenant = unique_tenant("a");
    let t0 = now() - TimeDelta::minutes(1);
    log.append(&[entry(&tenant, t0, EntityRef::sku("S"), 0)])
        .await
        .expect("append");
    let count = async |at: DateTime<Utc>| {
        log.by_tenant(&tenant, TimeRange::default(), PageRequest::first(10), at)
            .await
            .expect("query")
            .items
            .len()
    };
    assert_eq!(count(t0 + TimeDelta::hours(23)).await, 1);
    assert_eq!(count(t0 + TimeDelta::hours(25)).await, 0);
}

#[tokio::test]
async fn embedded_retention_is_configurable() {
    let fixture = crate::support::embedded::activity_with(Retention::days(1)).await;
    retention_is_configurable(fixture.port.clone()).await;
}

#[tokio::test]
async fn aws_retention_is_configurable() {
    let fixture = crate::support::aws::activity_with(Retention::days(1)).await;
    retention_is_configurable(fixture.port.clone()).await;
}

#[tokio::test]
async fn embedded_activity_survives_reopen() {
    use ::embedded::EmbeddedActivityLog;
    use connector::ports::SystemClock;
    let dir = crate::support::embedded::state_dir();
    let tenant = unique_tenant("a");
    let t0 = now();
    {
        let log =
            EmbeddedActivityLog::open(dir.path(), Retention::default(), Arc::new(SystemClock))
                .await
                .expect("opens");
        log.append(&[entry(&tenant, t0, EntityRef::sku("S"), 0)])
            .await
            .expect("append");
    }
    let log = EmbeddedActivityLog::open(dir.path(), Retention::default(), Arc::new(SystemClock))
        .await
        .expect("reopens");
    let page = log
        .by_tenant(&tenant, TimeRange::default(), PageRequest::first(5), t0)
        .await
        .expect("query");
    assert_eq!(page.items.len(), 1);
}
