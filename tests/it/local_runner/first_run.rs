//! A new user's first minutes, on the real clock with the default skew: `epages-sync
//! sandbox` started, a tenant added, `run --once` imports the seed's orders at once; an
//! order placed a moment ago is announced with the skew and when it will come; a shop that
//! cannot be reached is summarised instead of filling the screen; `-q` / `-v` change what
//! is logged; `resync --since 24h` is processed by the next run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{count, lines, owned, run_cli};

/// `epages-sync sandbox` as a user starts it; killed when dropped.
struct SandboxProcess {
    child: Child,
    started: Value,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sandbox() -> SandboxProcess {
    let mut child = Command::new(crate::support::cli_binary())
        .args(["sandbox", "--listen", "127.0.0.1:0", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the start information");
    let started = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("start information as JSON ({e}): {line}"));
    SandboxProcess { child, started }
}

/// Places an order through the sandbox's admin API, as a test shopper would.
fn place_order(base_url: &str, shop: &str, sku: &str) {
    let url = url::Url::parse(base_url).expect("a URL");
    let body = format!(r#"{{"lines":[{{"sku":"{sku}","quantity":1}}]}}"#);
    let mut stream = std::net::TcpStream::connect((
        url.host_str().expect("host"),
        url.port_or_known_default().expect("port"),
    ))
    .expect("connects");
    use std::io::Write;
    write!(
        stream,
        "POST /_sandbox/shops/{shop}/orders HTTP/1.1\r\nHost: sandbox\r\nContent-Type: \
         application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    let mut status = String::new();
    BufReader::new(stream)
        .read_line(&mut status)
        .expect("a status line");
    assert!(
        status.contains(" 201 ") || status.contains(" 200 "),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_once_after_sandbox_imports_the_seed_and_explains_newer_orders() {
    let sandbox = tokio::task::block_in_place(start_sandbox);
    let shop = &sandbox.started["shops"][0];
    let (name, api_url, client_id, secret) = (
        shop["name"].as_str().expect("name"),
        shop["api_url"].as_str().expect("api url"),
        shop["client_id"].as_str().expect("client id"),
        shop["client_secret"].as_str().expect("secret"),
    );
    let seeded = shop["orders"].as_u64().expect("an order count") as usize;
    assert!(seeded > 0);
    let state = tempfile::tempdir().expect("state dir");
    let dir = state.path().display().to_string();
    let events = state.path().join("events.jsonl");
    let tenant = crate::support::unique_tenant("first-run").to_string();
    super::add_tenant(
        &dir,
        &tenant,
        api_url,
        (client_id, secret),
        "1d",
        &["--include-test-orders"],
    )
    .await;
    let run_once = owned(&[
        "run",
        "--once",
        "--state-dir",
        &dir,
        "--events",
        &events.display().to_string(),
        "--drain-timeout",
        "60s",
    ]);
    // No skew set, no clock moved: the user's first run.
    let first = run_cli(run_once.clone(), String::new(), vec![("RUST_LOG", "info")]).await;
    assert_eq!(first.code, 0, "first run --once: {}", first.stderr);
    // Every seeded order is inside the first poll's window (two of them, canceled before
    // any import, rightly yield no event; the poll reports what it read).
    assert!(
        first.stderr.contains(&format!("orders_seen: {seeded},")),
        "every seeded order read by the first run: {}",
        first.stderr
    );
    let imported = count(&lines(&events), "order.created", None);
    assert!(
        imported + 2 >= seeded && imported > 0,
        "{imported} imported"
    );
    assert!(
        !first.stderr.contains("updated after this poll's window"),
        "{}",
        first.stderr
    );

    // An order placed now is newer than the window's end: the run says so and when.
    let base_url = sandbox.started["base_url"].as_str().expect("base url");
    place_order(base_url, name, "MUG-001");
    let second = run_cli(run_once, String::new(), vec![("RUST_LOG", "info")]).await;
    assert_eq!(second.code, 0, "second run --once: {}", second.stderr);
    assert_eq!(count(&lines(&events), "order.created", None), imported);
    let notice = second
        .stderr
        .lines()
        .find(|l| l.contains("updated after this poll's window"))
        .unwrap_or_else(|| panic!("a notice: {}", second.stderr));
    assert!(
        notice.contains(&format!("tenant {tenant}: 1 order(s)"))
            && notice.contains("30s before the poll started, POLL_SKEW_SECONDS")
            && notice.contains("imports them"),
        "{notice}"
    );
}

/// One unreachable shop: before, about twenty-five warnings per `run --once`; now its first
/// warning, then one line with how many more and the last cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_tenant_is_summarised_and_verbosity_flags_work() {
    let state = tempfile::tempdir().expect("state dir");
    let dir = state.path().display().to_string();
    let tenant = crate::support::unique_tenant("unreachable").to_string();
    super::add_tenant(
        &dir,
        &tenant,
        "http://127.0.0.1:1/api",
        ("id", "secret"),
        "2026-01-01",
        &[],
    )
    .await;
    let run_once = |flag: Option<&str>| {
        let mut args = owned(&[
            "run",
            "--once",
            "--state-dir",
            &dir,
            "--drain-timeout",
            "60s",
        ]);
        args.extend(flag.map(str::to_owned));
        args
    };
    let ran = run_cli(run_once(None), String::new(), vec![("RUST_LOG", "info")]).await;
    assert_eq!(ran.code, 3, "failed polls: {}", ran.stderr);
    let warnings: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains(&tenant))
        .collect();
    assert!(
        warnings.len() <= 2,
        "the tenant's warnings are summarised: {warnings:#?}"
    );
    let summary = warnings
        .iter()
        .find(|l| l.contains(&format!("tenant {tenant}: still failing (")))
        .unwrap_or_else(|| panic!("a summary line: {}", ran.stderr));
    let more: u64 = summary
        .split("still failing (")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count: {summary}"));
    assert!(more >= 5, "every failed poll counted: {summary}");
    assert!(
        summary.contains("transport failure"),
        "the last cause: {summary}"
    );

    // -q: warnings and errors only; -v: debug detail.
    let quiet = run_cli(run_once(Some("-q")), String::new(), vec![]).await;
    assert!(!quiet.stderr.contains(" INFO "), "{}", quiet.stderr);
    assert!(quiet.stderr.contains(" WARN "), "{}", quiet.stderr);
    let verbose = run_cli(run_once(Some("-v")), String::new(), vec![]).await;
    assert!(verbose.stderr.contains(" DEBUG "), "{}", verbose.stderr);
}

/// `resync --since 24h`: the duration grammar `log --since` has, processed by the next run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_since_a_duration_is_processed_by_the_next_run_once() {
    // Placed ten minutes ago: past the skew on the real clock.
    let (sandbox, orders) =
        super::shop_with_orders_created(Some(chrono::Utc::now() - chrono::TimeDelta::minutes(10)))
            .await;
    let state = tempfile::tempdir().expect("state dir");
    let dir = state.path().display().to_string();
    let events = state.path().join("events.jsonl");
    let tenant = crate::support::unique_tenant("resync-24h").to_string();
    super::add_tenant(
        &dir,
        &tenant,
        &sandbox.shop_api_url(super::SHOP),
        (super::CLIENT_ID, super::CLIENT_SECRET),
        "7d",
        &[],
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
    assert_eq!(count(&lines(&events), "order.created", None), orders.len());
    let resync = run_cli(
        owned(&[
            "resync",
            "--tenant",
            &tenant,
            "--since",
            "24h",
            "--force",
            "--state-dir",
            &dir,
        ]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(resync.code, 0, "resync --since 24h: {}", resync.stderr);
    let second = run_cli(run_once, String::new(), vec![]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        count(&lines(&events), "order.created", None),
        2 * orders.len(),
        "emitted again after the resync"
    );
    let bad = run_cli(
        owned(&[
            "resync",
            "--tenant",
            &tenant,
            "--since",
            "a while",
            "--state-dir",
            &dir,
        ]),
        String::new(),
        vec![],
    )
    .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("YYYY-MM-DD"),
        "names the grammar: {}",
        bad.stderr
    );
    sandbox.shutdown().await;
}
