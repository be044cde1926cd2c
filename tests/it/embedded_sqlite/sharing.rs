//! Several processes on one state directory, as a user runs them: `run` keeps going while
//! `tenant add`, `resync`, `dlq list`, `tenant update` and `tenant pause` run beside it, each a process of
//! the real binary. What they change takes effect at the runner's next tick.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sandbox::JournalFilter;
use serde_json::Value;

use crate::local_runner::{
    CLIENT_ID, CLIENT_SECRET, SHOP, add_tenant, count, lines, owned, run_cli,
    shop_with_orders_created,
};

/// The runner's tick (its `--interval`), standing for the deployment's 5 minutes.
const TICK: Duration = Duration::from_secs(1);

/// How long the test waits for what should happen at the next tick: a bound for a loaded
/// 2-core machine, not a speed claim (a runner that never sees the change fails it).
const PATIENCE: Duration = Duration::from_secs(30);

/// The `run` process, ended (by its own pid) when dropped.
struct Runner(Child);

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn order_events(events: &std::path::Path, order_id: &str) -> Vec<Value> {
    lines(events)
        .into_iter()
        .filter(|m| m["type"] == "order.created" && m["orderId"] == order_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_beside_a_running_run_take_effect_at_its_next_tick() {
    // Orders placed ten minutes ago: past the poller's skew on the real clock.
    let (sandbox, orders) =
        shop_with_orders_created(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(10))).await;
    let state = tempfile::tempdir().expect("state dir");
    let out = tempfile::tempdir().expect("output dir");
    let state_dir = state.path().display().to_string();
    let events = out.path().join("events.jsonl");

    let runner = Runner(
        Command::new(crate::support::cli_binary())
            .args(["run", "--state-dir", &state_dir, "--interval", "1s"])
            .arg("--events")
            .arg(&events)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run starts"),
    );
    // A few ticks with no tenant at all.
    tokio::time::sleep(3 * TICK).await;
    assert!(lines(&events).is_empty());

    // `tenant add` beside it: the runner's next tick polls the new tenant.
    let tenant = crate::support::unique_tenant("beside").to_string();
    add_tenant(
        &state_dir,
        &tenant,
        &sandbox.shop_api_url(SHOP),
        (CLIENT_ID, CLIENT_SECRET),
        "2020-01-01",
        &[],
    )
    .await;
    wait_until("the added tenant's orders imported", || {
        count(&lines(&events), "order.created", None) == orders.len()
    })
    .await;

    // `dlq list` beside it works and changes nothing.
    let listed = run_cli(
        owned(&["dlq", "--state-dir", &state_dir, "list"]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(listed.code, 0, "dlq list: {}", listed.stderr);

    // `resync --force` beside it: the running runner reads the orders again and emits them
    // under new event ids.
    let resync = run_cli(
        owned(&[
            "resync",
            "--state-dir",
            &state_dir,
            "--tenant",
            &tenant,
            "--since",
            "2020-01-01",
            "--force",
        ]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(resync.code, 0, "resync: {}", resync.stderr);
    for (id, _) in &orders {
        let id = id.to_string();
        wait_until("the resync processed by the running runner", || {
            order_events(&events, &id).len() == 2
        })
        .await;
        let emitted = order_events(&events, &id);
        assert_ne!(emitted[0]["eventId"], emitted[1]["eventId"]);
    }

    // `tenant update` beside it: with its order flow turned off the runner stops reading
    // the shop's orders from its next tick; turned on again, it reads them again.
    let order_reads = || {
        sandbox
            .journal(&JournalFilter {
                shop: Some(SHOP.to_owned()),
                method: Some("GET".to_owned()),
                path: Some("/orders".to_owned()),
                ..JournalFilter::default()
            })
            .len()
    };
    let update = |flow: &'static str| {
        run_cli(
            owned(&["tenant", "--state-dir", &state_dir, "update", &tenant, flow]),
            String::new(),
            vec![],
        )
    };
    let off = update("--no-orders").await;
    assert_eq!(off.code, 0, "tenant update --no-orders: {}", off.stderr);
    // A poll that had started before the update may still finish: let one tick pass.
    tokio::time::sleep(2 * TICK).await;
    let reads_while_off = order_reads();
    tokio::time::sleep(4 * TICK).await;
    assert_eq!(order_reads(), reads_while_off, "orders off: not read");
    let on = update("--orders").await;
    assert_eq!(on.code, 0, "tenant update --orders: {}", on.stderr);
    wait_until("orders read again after the update", || {
        order_reads() > reads_while_off
    })
    .await;

    // `tenant pause` beside it: from the next tick on, the shop is not called any more.
    let paused = run_cli(
        owned(&["tenant", "--state-dir", &state_dir, "pause", &tenant]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(paused.code, 0, "tenant pause: {}", paused.stderr);
    let calls = || {
        sandbox
            .journal(&JournalFilter {
                shop: Some(SHOP.to_owned()),
                webhooks: Some(false),
                ..JournalFilter::default()
            })
            .len()
    };
    // A poll that had started before the pause may still finish: let one tick pass.
    tokio::time::sleep(2 * TICK).await;
    let before = calls();
    tokio::time::sleep(4 * TICK).await;
    assert_eq!(calls(), before, "a paused tenant is not polled");
    drop(runner);
    sandbox.shutdown().await;
}

/// `resync --force` while a `run --once` is running is neither refused nor lost: whichever
/// run reads it (the running one, or the next `run --once`) emits each order once more,
/// and no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_beside_a_run_once_is_processed_by_the_next_run_once_at_the_latest() {
    let (sandbox, orders) =
        shop_with_orders_created(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(10))).await;
    let state = tempfile::tempdir().expect("state dir");
    let out = tempfile::tempdir().expect("output dir");
    let state_dir = state.path().display().to_string();
    let events = out.path().join("events.jsonl");
    let events_arg = events.display().to_string();
    let tenant = crate::support::unique_tenant("beside-once").to_string();
    add_tenant(
        &state_dir,
        &tenant,
        &sandbox.shop_api_url(SHOP),
        (CLIENT_ID, CLIENT_SECRET),
        "2020-01-01",
        &[],
    )
    .await;
    let run_once = owned(&[
        "run",
        "--once",
        "--state-dir",
        &state_dir,
        "--events",
        &events_arg,
        "--drain-timeout",
        "30s",
    ]);
    let first = run_cli(run_once.clone(), String::new(), vec![]).await;
    assert_eq!(first.code, 0, "first run --once: {}", first.stderr);
    assert_eq!(count(&lines(&events), "order.created", None), orders.len());

    // A second `run --once` and, while it runs, the resync.
    let mut beside = Runner(
        Command::new(crate::support::cli_binary())
            .args(&run_once)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run --once starts"),
    );
    let resync = run_cli(
        owned(&[
            "resync",
            "--state-dir",
            &state_dir,
            "--tenant",
            &tenant,
            "--since",
            "2020-01-01",
            "--force",
        ]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(
        resync.code, 0,
        "resync beside run --once: {}",
        resync.stderr
    );
    let status = tokio::task::block_in_place(|| beside.0.wait()).expect("run --once ends");
    assert!(status.success(), "the run --once beside: {status:?}");

    let third = run_cli(run_once, String::new(), vec![]).await;
    assert_eq!(third.code, 0, "next run --once: {}", third.stderr);
    for (id, _) in &orders {
        let emitted = order_events(&events, &id.to_string());
        assert_eq!(
            emitted.len(),
            2,
            "imported once, resynced once: {emitted:#?}"
        );
        assert_ne!(emitted[0]["eventId"], emitted[1]["eventId"]);
    }
    sandbox.shutdown().await;
}
