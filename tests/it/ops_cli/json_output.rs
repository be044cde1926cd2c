//! `--json` on every command (issue 15): each one, run as a script would, prints JSON on
//! stdout that parses (one document, or one per line where the command streams), with the
//! global options placed before the subcommand, after it, or between its parts. Also the
//! shell completions, generated from the same command definition.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::auth::support::{CLIENT_ID, CLIENT_SECRET, SHOP, sandbox_with_shop};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(args: &[&str], stdin: &str) -> Out {
    let mut child = Command::new(crate::support::cli_binary())
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes()).expect("stdin written");
    }
    let output = child.wait_with_output().expect("the CLI finishes");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Blocking runs step off the runtime serving the sandbox.
async fn run(args: &[&str], stdin: &str) -> Out {
    tokio::task::block_in_place(|| cli(args, stdin))
}

/// One JSON document on stdout.
fn document(what: &str, out: &Out) -> Value {
    assert_eq!(out.code, 0, "{what}: {}", out.stderr);
    serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{what}: one JSON document ({e}): {}", out.stdout))
}

/// One JSON document per line on stdout (at least `min`).
fn lines(what: &str, out: &Out, min: usize) -> Vec<Value> {
    assert_eq!(out.code, 0, "{what}: {}", out.stderr);
    let parsed: Vec<Value> = out
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what}: a JSON line ({e}): {line}"))
        })
        .collect();
    assert!(
        parsed.len() >= min,
        "{what}: {} lines: {}",
        parsed.len(),
        out.stdout
    );
    parsed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_prints_valid_json_with_the_global_options_anywhere() {
    let sandbox = sandbox_with_shop(None).await;
    // One order, placed past the poll's skew, so `run` imports it and `log` has an entry.
    let product: sandbox::SeedProduct = serde_json::from_value(serde_json::json!(
        { "sku": "JSON-1", "name": "Mug", "price": 12.90, "stock": 10 }
    ))
    .expect("a seed product");
    sandbox.add_product(SHOP, &product).expect("product added");
    let mut order: sandbox::SeedOrder = serde_json::from_value(
        serde_json::json!({ "lines": [{ "sku": "JSON-1", "quantity": 1 }] }),
    )
    .expect("a seed order");
    order.created_at = Some(chrono::Utc::now() - chrono::TimeDelta::minutes(10));
    sandbox.create_order(SHOP, &order).expect("order created");
    let state = tempfile::tempdir().expect("state dir");
    let dir = state.path().display().to_string();
    let tenant = crate::support::unique_tenant("json").to_string();
    let api_url = sandbox.shop_api_url(SHOP);
    let secret = format!("{CLIENT_SECRET}\n");

    // Global options first.
    let added = run(
        &[
            "--json",
            "--state-dir",
            &dir,
            "tenant",
            "add",
            &tenant,
            "--api-url",
            &api_url,
            "--allow-insecure-url",
            "--client-id",
            CLIENT_ID,
            "--client-secret-stdin",
            "--start-date",
            "30d",
        ],
        &secret,
    )
    .await;
    assert_eq!(document("tenant add", &added)["id"], tenant.as_str());
    // Between the parts of the subcommand.
    let updated = run(
        &[
            "tenant",
            "--json",
            "--state-dir",
            &dir,
            "update",
            &tenant,
            "--no-stock",
        ],
        "",
    )
    .await;
    assert_eq!(document("tenant update", &updated)["changed"][0], "flows");
    // After it.
    for (what, args) in [
        ("tenant verify", vec!["tenant", "verify", &tenant]),
        ("tenant show", vec!["tenant", "show", &tenant]),
        ("tenant pause", vec!["tenant", "pause", &tenant]),
        ("tenant list --all", vec!["tenant", "list", "--all"]),
        ("tenant resume", vec!["tenant", "resume", &tenant]),
        ("tenant list", vec!["tenant", "list"]),
        ("status", vec!["status"]),
        (
            "resync",
            vec!["resync", "--tenant", &tenant, "--since", "24h"],
        ),
        ("dlq replay", vec!["dlq", "replay", "--all"]),
        ("completions", vec!["completions", "bash"]),
    ] {
        let mut args = args;
        args.extend(["--state-dir", &dir, "--json"]);
        let out = run(&args, "").await;
        let value = document(what, &out);
        assert!(!value.is_null(), "{what}: {value}");
    }

    // `run`: events on stdout as JSON lines, and with --json its log lines on stderr too.
    let ran = run(
        &[
            "run",
            "--once",
            "--json",
            "--state-dir",
            &dir,
            "--drain-timeout",
            "30s",
        ],
        "",
    )
    .await;
    let printed = lines("run --once", &ran, 1);
    assert!(
        printed.iter().all(|e| e.get("type").is_some()),
        "{printed:?}"
    );
    let logged: Vec<Value> = ran
        .stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("run --json: a JSON log line ({e}): {line}"))
        })
        .collect();
    assert!(!logged.is_empty(), "run logs: {}", ran.stderr);

    // Streams: one document per line.
    let out = run(
        &["log", "--tenant", &tenant, "--json", "--state-dir", &dir],
        "",
    )
    .await;
    lines("log", &out, 1);
    let out = run(&["dlq", "list", "--json", "--state-dir", &dir], "").await;
    lines("dlq list", &out, 0);
    let out = run(
        &[
            "--state-dir",
            &dir,
            "tenant",
            "remove",
            &tenant,
            "--yes",
            "--json",
        ],
        "",
    )
    .await;
    assert_eq!(document("tenant remove", &out)["removed"], tenant.as_str());

    // The demo's report.
    let out = run(&["demo", "--json"], "").await;
    assert_eq!(document("demo", &out)["ok"], true, "{}", out.stdout);
    sandbox.shutdown().await;
}

/// `sandbox --json` prints where it serves and each shop's app as one document, then
/// serves: the URL in it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_prints_its_start_information_as_json() {
    let mut child = Command::new(crate::support::cli_binary())
        .args(["sandbox", "--listen", "localhost:0", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let first = tokio::task::block_in_place(|| {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .expect("a line");
    let started: Value = serde_json::from_str(first.trim())
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {first}"));
    let shops = started["shops"].as_array().expect("shops");
    assert!(!shops.is_empty(), "{started}");
    let api_url = shops[0]["api_url"].as_str().expect("an API URL");
    assert!(shops[0]["client_id"].is_string() && shops[0]["orders"].is_u64());
    let answered = reqwest_get(&format!("{api_url}/orders"));
    // Without a token the shop refuses: it is serving.
    assert_eq!(answered, 401, "{api_url}");
    child.kill().expect("stopped");
    child.wait().expect("reaped");
}

/// The status of a plain GET, by hand over TCP (the sandbox speaks HTTP/1.1).
fn reqwest_get(url: &str) -> u16 {
    let url = url::Url::parse(url).expect("a URL");
    let address = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port_or_known_default().expect("port")
    );
    let mut stream = std::net::TcpStream::connect(address).expect("connects");
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        url.path(),
        url.host_str().expect("host")
    )
    .expect("request sent");
    let mut status = String::new();
    BufReader::new(stream)
        .read_line(&mut status)
        .expect("a status line");
    status
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status: {status}"))
}

/// The completion scripts name the subcommands and the global options, for the shells a
/// user is likely to have.
#[test]
fn completions_cover_every_subcommand_and_the_global_options() {
    for shell in ["bash", "zsh", "fish"] {
        let out = cli(&["completions", shell], "");
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in [
            "tenant",
            "update",
            "resync",
            "completions",
            "state-dir",
            "json",
        ] {
            assert!(out.stdout.contains(word), "{shell}: {word} missing");
        }
    }
    let out = cli(&["completions", "tcsh"], "");
    assert_eq!(
        out.code, 2,
        "an unknown shell is a usage error: {}",
        out.stderr
    );
}

/// `epages-sync … | head`: the reader goes away before the output is written; the command
/// stops quietly (141, as a tool killed by SIGPIPE) instead of panicking with a backtrace.
#[test]
fn a_closed_stdout_stops_quietly() {
    let mut child = Command::new(crate::support::cli_binary())
        .args(["completions", "bash"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    // Closed before the command gets to write.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("the CLI finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(141), "{stderr}");
}
