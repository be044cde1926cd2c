//! `epages-sync run --once` as a user runs it: a sandbox shop, the tenant added with the
//! real binary, commands on stdin (one of them invalid), order events and command results
//! in the events file, and the effects in the shop. Then `run --listen`: it registers its
//! webhook receiver with the shop, and on the real clock with the default skew a new order
//! and a change of the shipped one (with the echo of the shipment the first run applied)
//! reach the events file within seconds through the webhook path; nothing sent before is
//! sent again.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use sandbox::{Sandbox, SandboxHandle, SeedOrder, SeedProduct, ShopConfig};
use serde_json::{Value, json};

mod first_run;
mod tenant_changes;

pub(crate) const SHOP: &str = "runner-shop";
pub(crate) const CLIENT_ID: &str = "runner-client";
pub(crate) const CLIENT_SECRET: &str = "runner-secret-5d1e";

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stderr: String,
}

/// Runs the CLI to its end; blocking, so the caller steps off the runtime's worker.
fn cli(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(crate::support::cli_binary())
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes()).expect("stdin written");
    }
    let output = child.wait_with_output().expect("the CLI finishes");
    Run {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub(crate) async fn run_cli(args: Vec<String>, stdin: String, env: Vec<(&str, &str)>) -> Run {
    tokio::task::block_in_place(|| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&args, &stdin, &env)
    })
}

/// Command-line arguments as the CLI runners take them.
pub(crate) fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// `tenant add` of a custom-app tenant into `state_dir`, its client secret on stdin and its
/// plain-HTTP shop URL allowed (the sandbox's, or one where nothing listens), asserted to
/// succeed. `extra` options follow the common ones.
pub(crate) async fn add_tenant(
    state_dir: &str,
    tenant: &str,
    api_url: &str,
    (client_id, client_secret): (&str, &str),
    start_date: &str,
    extra: &[&str],
) {
    let mut args = owned(&[
        "tenant",
        "--state-dir",
        state_dir,
        "add",
        tenant,
        "--api-url",
        api_url,
        "--allow-insecure-url",
        "--client-id",
        client_id,
        "--client-secret-stdin",
        "--start-date",
        start_date,
    ]);
    args.extend(owned(extra));
    let added = run_cli(args, format!("{client_secret}\n"), vec![]).await;
    assert_eq!(added.code, 0, "tenant add: {}", added.stderr);
}

/// The shop, its two orders created at `created_at` (the sandbox clock's now when `None`).
pub(crate) async fn shop_with_orders_created(
    created_at: Option<chrono::DateTime<chrono::Utc>>,
) -> (SandboxHandle, Vec<(uuid::Uuid, String)>) {
    let sandbox = Sandbox::start("127.0.0.1:0").await.expect("sandbox starts");
    sandbox
        .register_shop(ShopConfig::new(SHOP, CLIENT_ID, CLIENT_SECRET))
        .expect("shop registers");
    for product in [
        json!({ "sku": "MUG-1", "name": "Mug", "price": 12.90, "stock": 10 }),
        json!({ "sku": "BAG-1", "name": "Bag", "price": 19.90 }),
    ] {
        let product: SeedProduct = serde_json::from_value(product).expect("a seed product");
        sandbox.add_product(SHOP, &product).expect("product added");
    }
    let mut orders = Vec::new();
    for order in [
        json!({ "lines": [{ "sku": "MUG-1", "quantity": 2 }], "shippingPrice": 4.90,
                "actions": [{ "action": "pay" }] }),
        json!({ "lines": [{ "sku": "BAG-1", "quantity": 1 }], "shippingPrice": 4.90 }),
    ] {
        let mut order: SeedOrder = serde_json::from_value(order).expect("a seed order");
        order.created_at = created_at;
        let placed = sandbox.create_order(SHOP, &order).expect("order created");
        orders.push((placed.id, placed.order_number.clone().expect("a number")));
    }
    (sandbox, orders)
}

pub(crate) fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every events line is JSON"))
        .collect()
}

pub(crate) fn count(messages: &[Value], kind: &str, order_id: Option<&str>) -> usize {
    messages
        .iter()
        .filter(|m| m["type"] == kind)
        .filter(|m| order_id.is_none_or(|id| m["orderId"] == id))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_applies_stdin_commands_and_then_run_listen_takes_webhooks() {
    // Orders placed ten minutes ago: past the poller's skew on the real clock, so the
    // scheduled poll of `run --once` reads them as it would in a deployment.
    let (sandbox, orders) =
        shop_with_orders_created(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(10))).await;
    let state = tempfile::tempdir().expect("state dir");
    let out = tempfile::tempdir().expect("output dir");
    let state_dir = state.path().display().to_string();
    let events = out.path().join("events.jsonl");
    let rejects = out.path().join("rejects.jsonl");
    let tenant = crate::support::unique_tenant("runner").to_string();

    add_tenant(
        &state_dir,
        &tenant,
        &sandbox.shop_api_url(SHOP),
        (CLIENT_ID, CLIENT_SECRET),
        "2020-01-01",
        &["--location", "wh-1=shop"],
    )
    .await;

    let (paid_id, paid_number) = &orders[0];
    let ship = json!({
        "schemaVersion": 1, "id": "runner-ship-1", "tenant": tenant,
        "issuedAt": "2026-01-01T10:00:00Z", "type": "ship",
        "order": { "number": paid_number },
        "lines": [{ "sku": "MUG-1", "quantity": 2 }],
        "trackingCode": "RUN-TRACK-1", "carrier": "DHL"
    });
    let stock = json!({
        "schemaVersion": 1, "id": "runner-stock-1", "tenant": tenant,
        "issuedAt": "2026-01-01T10:00:00Z", "type": "stock",
        "sku": "MUG-1", "quantity": 33, "location": "wh-1",
        "observedAt": "2026-01-01T09:59:00Z"
    });
    let invalid = json!({
        "schemaVersion": 1, "id": "runner-bad-1", "tenant": tenant,
        "issuedAt": "2026-01-01T10:00:00Z", "type": "ship",
        "order": { "number": paid_number },
        "lines": [{ "sku": "MUG-1", "quantity": "2" }], "trackingCode": "X"
    });
    let stdin = format!("{ship}\n{stock}\n{invalid}\n\n");
    let run_args = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "run",
            "--once",
            "--state-dir",
            &state_dir,
            "--events",
            &events.display().to_string(),
            "--rejects",
            &rejects.display().to_string(),
            "--drain-timeout",
            "30s",
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let env = vec![("RUST_LOG", "info")];

    let first = run_cli(run_args(&["--commands", "-"]), stdin, env.clone()).await;
    // Everything else went through, but a rejected line is a problem a script must see.
    assert_eq!(first.code, 3, "run --once: {}", first.stderr);
    assert!(
        first.stderr.contains("1 rejected command line"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("stdin line 3") && first.stderr.contains("lines[0].quantity"),
        "the refused line is named with its field: {}",
        first.stderr
    );
    let refused = lines(&rejects);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["line"], 3);
    assert!(
        refused[0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("runner-bad-1"))
    );

    let written = lines(&events);
    for (id, _) in &orders {
        assert_eq!(
            count(&written, "order.created", Some(&id.to_string())),
            1,
            "each order imported once: {written:#?}"
        );
    }
    let result_of = |id: &str| {
        written
            .iter()
            .find(|m| m["commandId"] == id)
            .map(|m| m["type"].clone())
    };
    assert_eq!(result_of("runner-ship-1"), Some(json!("command.applied")));
    assert_eq!(result_of("runner-stock-1"), Some(json!("command.applied")));
    assert_eq!(
        result_of("runner-bad-1"),
        None,
        "an invalid line is not enqueued"
    );

    let order = sandbox.order(SHOP, *paid_id).expect("the order");
    assert_eq!(
        order.shipping_status,
        Some(beyond::model::OrderShippingStatus::Shipped)
    );
    let tracked = sandbox
        .core()
        .read_order(SHOP, *paid_id, |order, _| {
            order
                .shippings
                .iter()
                .any(|p| p.tracking_code.as_deref() == Some("RUN-TRACK-1"))
        })
        .expect("readable");
    assert!(tracked, "the shipping process carries the tracking code");
    let stock_now = sandbox
        .availability(SHOP, "MUG-1")
        .and_then(|a| a.available_stock);
    assert_eq!(stock_now, Some(33));

    // `run --listen`: the shipment Afosto caused was made seconds ago, inside the skew the
    // scheduled poll leaves out; the webhooks of what happens next bring it at once.
    let listening = tokio::task::block_in_place(|| {
        Listening::start(&[
            "run",
            "--state-dir",
            &state_dir,
            "--events",
            &events.display().to_string(),
            "--interval",
            "1h",
            "--listen",
            "127.0.0.1:0",
        ])
    });
    let started = std::time::Instant::now();
    let placed = sandbox
        .create_order(
            SHOP,
            &serde_json::from_value(json!({ "lines": [{ "sku": "BAG-1", "quantity": 1 }] }))
                .expect("a seed order"),
        )
        .expect("order created");
    let delivered: sandbox::SeedAction =
        serde_json::from_value(json!({ "action": "deliver" })).expect("an action");
    sandbox
        .apply(SHOP, *paid_id, &delivered)
        .expect("the merchant marks it delivered");
    let paid = paid_id.to_string();
    let placed_id = placed.id.to_string();
    let mut written = Vec::new();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        written = lines(&events);
        if count(&written, "order.created", Some(&placed_id)) == 1
            && count(&written, "order.delivered", Some(&paid)) == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let latency = started.elapsed();
    let stderr = tokio::task::block_in_place(|| listening.stop());
    assert!(
        latency < std::time::Duration::from_secs(10),
        "the webhook path took {latency:?}: {written:#?}\n{stderr}"
    );
    assert!(
        stderr.contains("registered with 1 shop(s)"),
        "the receiver was registered with the shop: {stderr}"
    );
    assert_eq!(count(&written, "order.created", None), 3, "{written:#?}");
    assert_eq!(
        count(&written, "order.shipped", Some(&paid)),
        1,
        "{written:#?}"
    );
    let shipped = written
        .iter()
        .find(|m| m["type"] == "order.shipped")
        .expect("the echo");
    assert_eq!(shipped["shipments"][0]["trackingCode"], "RUN-TRACK-1");
    sandbox.shutdown().await;
}

/// A long-running `epages-sync run`, stopped as a service manager stops it (SIGTERM).
struct Listening {
    child: std::process::Child,
    stderr: std::sync::mpsc::Receiver<String>,
    /// What it wrote before it was ready.
    started: String,
}

impl Listening {
    /// Starts the CLI and waits until its webhook receiver is registered.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(crate::support::cli_binary())
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the CLI starts");
        let pipe = child.stderr.take().expect("stderr piped");
        let (sender, stderr) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut listening = Self {
            child,
            stderr,
            started: String::new(),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            match listening
                .stderr
                .recv_timeout(std::time::Duration::from_millis(100))
            {
                Ok(line) => {
                    let ready = line.starts_with("webhooks: listening");
                    listening.started.push_str(&line);
                    listening.started.push('\n');
                    if ready {
                        return listening;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("run --listen did not start: {}", listening.started);
    }

    /// SIGTERM, wait, and everything it wrote to stderr.
    fn stop(mut self) -> String {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(terminated.success());
        let status = self.child.wait().expect("the CLI stops");
        let rest: Vec<String> = self.stderr.iter().collect();
        let stderr = format!("{}{}", self.started, rest.join("\n"));
        assert_eq!(status.code(), Some(0), "run --listen exit: {stderr}");
        stderr
    }
}

/// A poll that fails (the shop does not answer) is retried until the poll queue dead-letters
/// it; `run --once` still finishes, and says so with exit code 3, not 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_exits_3_after_a_failed_poll_and_a_dead_letter() {
    let state = tempfile::tempdir().expect("state dir");
    let state_dir = state.path().display().to_string();
    let tenant = crate::support::unique_tenant("runner-down").to_string();
    // Nothing listens on port 1: every token request is refused at once.
    add_tenant(
        &state_dir,
        &tenant,
        "http://127.0.0.1:1/api",
        (CLIENT_ID, CLIENT_SECRET),
        "2020-01-01",
        &[],
    )
    .await;
    let run = run_cli(
        [
            "run",
            "--once",
            "--state-dir",
            &state_dir,
            "--drain-timeout",
            "60s",
        ]
        .map(str::to_owned)
        .to_vec(),
        String::new(),
        vec![("RUST_LOG", "warn")],
    )
    .await;
    assert_eq!(run.code, 3, "run --once: {}", run.stderr);
    assert!(
        run.stderr.contains("failed poll(s)") && run.stderr.contains("1 dead-lettered message"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(" 0 failed poll(s)"),
        "the failed polls are counted: {}",
        run.stderr
    );
}

/// `resync --force` on the embedded backend lands in the poll queue `run` reads: the next
/// `run --once` reads the orders again and emits them again under new event ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_force_is_processed_by_the_next_run_once() {
    // Orders placed ten minutes ago: past the poller's skew on the real clock (the last
    // 30 s are left for a later poll), so both runs read them without bending the window.
    let (sandbox, orders) =
        shop_with_orders_created(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(10))).await;
    let state = tempfile::tempdir().expect("state dir");
    let out = tempfile::tempdir().expect("output dir");
    let state_dir = state.path().display().to_string();
    let events = out.path().join("events.jsonl");
    let tenant = crate::support::unique_tenant("runner-resync").to_string();
    add_tenant(
        &state_dir,
        &tenant,
        &sandbox.shop_api_url(SHOP),
        (CLIENT_ID, CLIENT_SECRET),
        "2020-01-01",
        &[],
    )
    .await;
    let run_once = [
        "run",
        "--once",
        "--state-dir",
        &state_dir,
        "--events",
        &events.display().to_string(),
        "--drain-timeout",
        "30s",
    ]
    .map(str::to_owned)
    .to_vec();
    let env = vec![("RUST_LOG", "info")];

    let first = run_cli(run_once.clone(), String::new(), env.clone()).await;
    assert_eq!(first.code, 0, "first run --once: {}", first.stderr);
    assert_eq!(count(&lines(&events), "order.created", None), orders.len());

    let resync = run_cli(
        [
            "resync",
            "--state-dir",
            &state_dir,
            "--tenant",
            &tenant,
            "--since",
            "2020-01-01",
            "--force",
        ]
        .map(str::to_owned)
        .to_vec(),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(resync.code, 0, "resync: {}", resync.stderr);

    let second = run_cli(run_once, String::new(), env).await;
    assert_eq!(second.code, 0, "second run --once: {}", second.stderr);
    let written = lines(&events);
    for (id, _) in &orders {
        let emitted: Vec<&Value> = written
            .iter()
            .filter(|m| m["type"] == "order.created" && m["orderId"] == id.to_string())
            .collect();
        assert_eq!(
            emitted.len(),
            2,
            "emitted again after the resync: {written:#?}"
        );
        assert_ne!(
            emitted[0]["eventId"], emitted[1]["eventId"],
            "a forced resync emits under new event ids"
        );
    }
    sandbox.shutdown().await;
}
