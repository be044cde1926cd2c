//! After `run --once`: a poll reads orders updated up to `POLL_SKEW_SECONDS` (30 s) before
//! it started, so that an order being changed is never read half-way. Orders newer than
//! that are imported by a later poll; a one-shot run would end without a word about them,
//! so it asks each polled shop whether it holds such orders and says when they will come.

use chrono::{DateTime, TimeDelta, Utc};

use beyond::model::BeyondTimestamp;
use beyond::{HttpSettings, OrderQuery, PageRequest, Sort};
use connector::auth::ShopClients;
use connector::pipeline::poll::PollSettings;
use connector::pipeline::poll::window::created_after;
use connector::ports::{Clock, SystemClock};
use domain::tenant::TenantConfig;

use crate::local::LocalRuntime;

/// One line per tenant whose shop holds orders updated after its poll's window; logged at
/// info (the run itself is fine: they are simply not due yet). Best effort: a shop that
/// cannot be asked is left out (its poll's own failure was reported already).
pub async fn report(runtime: &LocalRuntime) {
    let skew = match PollSettings::from_env() {
        Ok(settings) => TimeDelta::from_std(settings.skew).unwrap_or(TimeDelta::zero()),
        Err(_) => return,
    };
    let clock = std::sync::Arc::new(SystemClock);
    let now = clock.now();
    let clients = ShopClients::new(&runtime.stores, HttpSettings::default(), clock);
    let mut page = connector::ports::PageRequest::first(1000);
    loop {
        let Ok(listed) = runtime.stores.tenants.list_active(page).await else {
            return;
        };
        for tenant in listed.items.iter().filter(|t| t.flows.orders) {
            if let Some(line) = newer_orders(runtime, &clients, tenant, skew, now).await {
                tracing::info!("{line}");
            }
        }
        match listed.next {
            Some(token) => page = connector::ports::PageRequest::after(1000, token),
            None => return,
        }
    }
}

async fn newer_orders(
    runtime: &LocalRuntime,
    clients: &ShopClients,
    tenant: &TenantConfig,
    skew: TimeDelta,
    now: DateTime<Utc>,
) -> Option<String> {
    let state = runtime.stores.poll_state.get(&tenant.id).await.ok()?;
    // Only after a poll that got through: a failed one was reported as such.
    let window_end = state.cursor.updated_after?;
    state.last_success_at?;
    let client = clients.client_for(tenant).ok()?;
    let query = OrderQuery {
        created_after: Some(BeyondTimestamp(created_after(tenant.sync_start))),
        updated_after: Some(BeyondTimestamp(window_end)),
        paging: PageRequest {
            page: Some(0),
            size: Some(1),
            sort: Some(Sort::desc("updatedAt")),
        },
        ..OrderQuery::default()
    };
    let page = client.list_orders(&query).await.ok()?;
    let total = page.page.as_ref().map_or(0, |meta| meta.total_elements);
    let newest = page.items.0.first()?.updated_at.as_ref()?.0;
    Some(notice(
        tenant.id.as_str(),
        total.max(1),
        window_end,
        newest,
        skew,
        now,
    ))
}

/// The line for `count` orders after `window_end`, the newest updated at `newest`.
fn notice(
    tenant: &str,
    count: u64,
    window_end: DateTime<Utc>,
    newest: DateTime<Utc>,
    skew: TimeDelta,
    now: DateTime<Utc>,
) -> String {
    let due = newest + skew;
    let when = if due <= now {
        "the next run imports them".to_owned()
    } else {
        format!("a run from {} on imports them", due.format("%H:%M:%SZ"))
    };
    format!(
        "tenant {tenant}: {count} order(s) updated after this poll's window, which ends at {} \
         ({}s before the poll started, POLL_SKEW_SECONDS, so that no order is read while it \
         changes); {when}",
        window_end.format("%H:%M:%SZ"),
        skew.num_seconds()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_notice_names_the_skew_and_when_the_orders_come() {
        let line = notice(
            "acme",
            3,
            at("2026-11-23T12:00:00Z"),
            at("2026-11-23T12:00:20Z"),
            TimeDelta::seconds(30),
            at("2026-11-23T12:00:30Z"),
        );
        assert!(
            line.starts_with(
                "tenant acme: 3 order(s) updated after this poll's window, which ends at 12:00:00Z"
            ),
            "{line}"
        );
        assert!(
            line.contains("30s before the poll started, POLL_SKEW_SECONDS"),
            "{line}"
        );
        assert!(
            line.ends_with("a run from 12:00:50Z on imports them"),
            "{line}"
        );
        let later = notice(
            "acme",
            1,
            at("2026-11-23T12:00:00Z"),
            at("2026-11-23T12:00:20Z"),
            TimeDelta::seconds(30),
            at("2026-11-23T12:01:00Z"),
        );
        assert!(later.ends_with("the next run imports them"), "{later}");
    }
}
