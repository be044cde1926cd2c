//! A tenant changed with `tenant update` between two runs: the next run works with the new
//! settings (beside a running `run` this needs the shared SQLite state of issue 15; on the
//! file state the runs here take turns).

use super::{
    CLIENT_ID, CLIENT_SECRET, SHOP, add_tenant, count, lines, owned, run_cli,
    shop_with_orders_created,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updated_payment_filter_applies_to_the_next_run_and_resync() {
    // Placed ten minutes ago: past the skew on the real clock. The first is paid.
    let (sandbox, orders) =
        shop_with_orders_created(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(10))).await;
    let state = tempfile::tempdir().expect("state dir");
    let dir = state.path().display().to_string();
    let events = state.path().join("events.jsonl");
    let tenant = crate::support::unique_tenant("runner-update").to_string();
    let api_url = sandbox.shop_api_url(SHOP);
    add_tenant(
        &dir,
        &tenant,
        &api_url,
        (CLIENT_ID, CLIENT_SECRET),
        "1d",
        &["--payment-status", "paid"],
    )
    .await;
    let run_once = owned(&[
        "run",
        "--once",
        "--state-dir",
        &dir,
        "--events",
        &events.display().to_string(),
    ]);
    let first = run_cli(run_once.clone(), String::new(), vec![]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let paid = orders[0].0.to_string();
    let unpaid = orders[1].0.to_string();
    assert_eq!(count(&lines(&events), "order.created", Some(&paid)), 1);
    assert_eq!(
        count(&lines(&events), "order.created", Some(&unpaid)),
        0,
        "filtered out"
    );

    let updated = run_cli(
        owned(&[
            "tenant",
            "update",
            &tenant,
            "--payment-status",
            "any",
            "--state-dir",
            &dir,
        ]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(updated.code, 0, "update: {}", updated.stderr);
    // The cursor is past the unpaid order: a resync reads it again under the new filter.
    let resync = run_cli(
        owned(&[
            "resync",
            "--tenant",
            &tenant,
            "--since",
            "1h",
            "--state-dir",
            &dir,
        ]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(resync.code, 0, "resync: {}", resync.stderr);
    let second = run_cli(run_once, String::new(), vec![]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    let written = lines(&events);
    assert_eq!(
        count(&written, "order.created", Some(&unpaid)),
        1,
        "imported now"
    );
    assert_eq!(
        count(&written, "order.created", Some(&paid)),
        1,
        "not again"
    );
    sandbox.shutdown().await;
}
