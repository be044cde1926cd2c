//! Every failure `status` reports can be found with `log` (issue 15): real polls fail (a
//! shop that cannot be reached; a shop answering 503 until the retries are exhausted), then
//! the operator reads `status` and `log` with the real binary, on both backends.

use std::sync::Arc;

use chrono::Utc;
use connector::auth::ShopClients;
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::ports::SystemClock;
use domain::tenant::{AuthMode, TenantConfig, TenantId};
use sandbox::{FaultKind, FaultSpec, FaultTrigger};
use secrecy::SecretString;

use super::Ops;
use crate::auth::support::{CLIENT_ID, CLIENT_SECRET, Kind, SHOP, both, sandbox_with_shop};

both! {
    status_failures_are_in_the_log_with_their_cause => status_log_parity,
}

async fn tenant(ops: &Ops, prefix: &str, api_url: &str) -> TenantId {
    let id = crate::support::unique_tenant(prefix);
    let secret = ops.backend.naming.tenant_client_secret(&id);
    ops.backend
        .stores
        .secrets
        .put(&secret, SecretString::from(CLIENT_SECRET.to_owned()))
        .await
        .expect("secret stored");
    let config = TenantConfig::new(
        id.clone(),
        url::Url::parse(api_url).expect("url"),
        AuthMode::ClientCredentials,
        CLIENT_ID,
        secret,
        Utc::now() - chrono::TimeDelta::days(1),
    );
    ops.backend
        .stores
        .tenants
        .create(config, Utc::now())
        .await
        .expect("tenant created");
    id
}

/// `status`'s last poll error of `tenant`, and the failed `poll` entries `log` shows.
async fn status_and_log(ops: &Ops, tenant: &TenantId) -> (String, Vec<serde_json::Value>) {
    let run = ops
        .run(&["status", "--tenant", tenant.as_str(), "--json"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status = run.json();
    let t = &status["tenants"][0];
    assert_eq!(t["attention"], true, "{status}");
    // Counted as failed polls, not as failed order events.
    assert_eq!(t["polls_failed"], 1, "{status}");
    assert_eq!(t["events"]["failed"], 0, "{status}");
    let message = t["last_error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("a last error: {status}"))
        .to_owned();
    let run = ops
        .run(&["log", "--tenant", tenant.as_str(), "--json"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let entries = run
        .json_lines()
        .into_iter()
        .filter(|e| e["action"] == "poll" && e["outcome"] == "failed")
        .collect();
    (message, entries)
}

async fn status_log_parity(kind: Kind) {
    let ops = Ops::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    // Nothing listens on port 1: every request fails before it is sent.
    let unreachable = tenant(&ops, "parity-down", "http://127.0.0.1:1/api").await;
    let failing = tenant(&ops, "parity-503", &sandbox.shop_api_url(SHOP)).await;
    sandbox.add_fault(FaultSpec {
        shop: Some(SHOP.to_owned()),
        trigger: FaultTrigger::Always,
        ..FaultSpec::new(
            "/orders",
            FaultKind::Status {
                status: 503,
                retry_after_seconds: None,
            },
        )
    });
    let clock = Arc::new(SystemClock);
    let stores = ops.backend.stores.clone();
    let clients = Arc::new(ShopClients::new(
        &stores,
        crate::auth::support::fast_http(),
        clock.clone(),
    ));
    let (poll_queue, order_events) = {
        let queues = ops.queues().await;
        (queues.poll, queues.order_events)
    };
    let service = PollService::new(
        stores,
        clients,
        order_events,
        poll_queue,
        clock,
        PollSettings::default(),
    );
    for tenant in [&unreachable, &failing] {
        let request = PollRequest {
            tenant: tenant.clone(),
            trigger: PollTrigger::Schedule,
            requested_at: Utc::now(),
        };
        assert!(
            service.poll(&request).await.is_err(),
            "{tenant}: the poll fails"
        );
    }
    drop(service);

    for (tenant, cause) in [
        (&unreachable, "transport failure"),
        // The retries were exhausted: the last answer is the cause.
        (&failing, "HTTP 503"),
    ] {
        let (message, entries) = status_and_log(&ops, tenant).await;
        assert!(
            message.contains(cause),
            "{tenant}: status names {cause}: {message}"
        );
        assert_eq!(
            entries.len(),
            1,
            "{tenant}: one failed poll, one entry: {entries:?}"
        );
        let entry = &entries[0];
        assert_eq!(
            entry["error"],
            message.as_str(),
            "{tenant}: the same text in both"
        );
        assert_eq!(entry["entity"]["kind"], "tenant");
        assert_eq!(entry["entity"]["id"], tenant.as_str());
        // And the human log shows it too, where `status` sends the operator.
        let run = ops.run(&["log", "--tenant", tenant.as_str()]).await;
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains(" poll ") && l.contains("FAILED")),
            "{}",
            run.stdout
        );
    }
    sandbox.shutdown().await;
}
