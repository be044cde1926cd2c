//! `epages-sync tenant …` as a user runs it: the real binary against a sandbox shop, on the
//! embedded state directory and on moto. The binary is built by `cargo test --workspace`
//! (or `cargo build -p epages-sync` before a narrow run).

use std::io::Write;
use std::process::{Command, Stdio};

use domain::tenant::{AuthMode, TenantId};
use sandbox::SandboxHandle;

mod shop_time_zone;

use crate::auth::support::{
    Backend, CLIENT_ID, CLIENT_SECRET, Kind, SHOP, both, sandbox_with_shop,
};

mod update;

both! {
    add_verify_and_manage_a_custom_app_tenant => lifecycle,
    verify_names_the_missing_scope_per_flow => missing_scopes,
    bad_input_exits_2_and_stores_nothing => usage_errors,
    verify_refreshes_an_installed_public_app_tenant => verify_public_app,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(backend: &Backend, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(crate::support::cli_binary());
    command.arg("tenant");
    match (&backend.aws, &backend.dir) {
        (Some(aws), _) => {
            command
                .args(["--backend", "aws"])
                .env("STATE_TABLE", &aws.state_table)
                .env("ACTIVITY_TABLE", &aws.activity_table)
                .env("SECRETS_PREFIX", aws.secrets.prefix())
                .env("SECRETS_CACHE_SECONDS", "0");
        }
        (None, Some(dir)) => {
            command.arg("--state-dir").arg(dir);
        }
        (None, None) => panic!("a backend has a directory or AWS config"),
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the CLI starts");
    // Dropping the pipe closes stdin, so a reader sees end of input.
    if let (Some(mut pipe), Some(text)) = (child.stdin.take(), stdin) {
        pipe.write_all(text.as_bytes()).expect("stdin written");
    }
    let output = child.wait_with_output().expect("the CLI finishes");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the CLI with a terminal for stdin, stdout and stderr (util-linux `script` gives it a
/// pseudo-terminal), typing `input`; returns the exit code and everything the terminal
/// showed. `NO_COLOR` is cleared unless `env` sets it, so the caller's shell cannot decide.
pub(crate) fn in_terminal(args: &[&str], input: &str, env: &[(&str, &str)]) -> (i32, String) {
    let quote = |arg: &str| format!("'{}'", arg.replace('\'', r"'\''"));
    let command_line = std::iter::once(crate::support::cli_binary().display().to_string())
        .chain(args.iter().map(|a| (*a).to_owned()))
        .map(|a| quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &command_line, "/dev/null"])
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs (it gives the CLI a terminal)");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(input.as_bytes()).expect("input typed");
    }
    let output = child.wait_with_output().expect("the CLI finishes");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// On a terminal, `remove` asks: anything but yes keeps the tenant, yes removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_asks_on_a_terminal() {
    let backend = Backend::open(Kind::Embedded).await;
    let dir = backend.dir.clone().expect("embedded");
    let dir = dir.display().to_string();
    let name = crate::support::unique_tenant("remove-ask").to_string();
    let tenant = TenantId::parse(&name).expect("an id");
    let added = run_cli(
        &backend,
        vec![
            "add".into(),
            name.clone(),
            "--api-url".into(),
            "http://127.0.0.1:1/api".into(),
            "--allow-insecure-url".into(),
            "--client-id".into(),
            CLIENT_ID.into(),
            "--client-secret-stdin".into(),
            "--start-date".into(),
            "2026-01-01".into(),
        ],
        Some(CLIENT_SECRET),
        vec![],
    )
    .await;
    assert_eq!(added.code, 0, "add: {}", added.stderr);
    let remove = ["tenant", "--state-dir", &dir, "remove", &name];

    let (code, shown) = tokio::task::block_in_place(|| in_terminal(&remove, "n\n", &[]));
    assert_eq!(code, 1, "declined: {shown}");
    assert!(shown.contains("[y/N]"), "the question is asked: {shown}");
    assert!(shown.contains("nothing removed"), "{shown}");
    assert!(
        state(&backend)
            .await
            .tenants
            .get(&tenant)
            .await
            .expect("reads")
            .is_some(),
        "a declined removal keeps the tenant"
    );

    let (code, shown) = tokio::task::block_in_place(|| in_terminal(&remove, "y\n", &[]));
    assert_eq!(code, 0, "confirmed: {shown}");
    assert!(shown.contains(&format!("removed tenant {name}")), "{shown}");
    assert!(
        state(&backend)
            .await
            .tenants
            .get(&tenant)
            .await
            .expect("reads")
            .is_none()
    );
}

fn add_args(sandbox: &SandboxHandle, tenant: &str) -> Vec<String> {
    vec![
        "add".into(),
        tenant.into(),
        "--api-url".into(),
        sandbox.shop_api_url(SHOP),
        // The sandbox is a local shop over http.
        "--allow-insecure-url".into(),
        "--client-id".into(),
        CLIENT_ID.into(),
        "--start-date".into(),
        "2026-01-01".into(),
        "--location".into(),
        "wh-1=shop".into(),
        "--payment-status".into(),
        "paid".into(),
    ]
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Blocking CLI runs must not stall the sandbox serving them.
async fn run_cli(
    backend: &Backend,
    args: Vec<String>,
    stdin: Option<&str>,
    env: Vec<(&str, &str)>,
) -> Run {
    tokio::task::block_in_place(|| cli(backend, &strs(&args), stdin, &env))
}

async fn lifecycle(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = crate::support::unique_tenant("cli");
    let name = tenant.to_string();

    let mut args = add_args(&sandbox, &name);
    args.push("--client-secret-stdin".into());
    let run = run_cli(&backend, args, Some(&format!("{CLIENT_SECRET}\n")), vec![]).await;
    assert_eq!(run.code, 0, "add: {}", run.stderr);
    let stored = state(&backend)
        .await
        .tenants
        .get(&tenant)
        .await
        .expect("reads")
        .expect("added");
    assert_eq!(stored.auth_mode, AuthMode::ClientCredentials);
    assert_eq!(stored.locations.len(), 1);
    assert!(
        !serde_json::to_string(&stored)
            .expect("json")
            .contains(CLIENT_SECRET)
    );

    let run = run_cli(&backend, vec!["verify".into(), name.clone()], None, vec![]).await;
    assert_eq!(run.code, 0, "verify: {} {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok      shipments"), "{}", run.stdout);
    assert!(!run.stdout.contains(CLIENT_SECRET) && !run.stderr.contains(CLIENT_SECRET));
    let run = run_cli(
        &backend,
        vec!["--json".into(), "verify".into(), name.clone()],
        None,
        vec![],
    )
    .await;
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json output");
    assert_eq!(report["ok"], true);

    for (command, paused) in [("pause", true), ("resume", false)] {
        let run = run_cli(&backend, vec![command.into(), name.clone()], None, vec![]).await;
        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        let now = state(&backend)
            .await
            .tenants
            .get(&tenant)
            .await
            .expect("reads")
            .expect("exists");
        assert_eq!(now.paused, paused);
    }
    let run = run_cli(&backend, vec!["show".into(), name.clone()], None, vec![]).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains(&name));
    if kind_is_embedded(&backend) {
        // The active index on AWS is eventually consistent; the embedded one is not.
        let run = run_cli(&backend, vec!["list".into()], None, vec![]).await;
        assert!(run.stdout.contains(&name), "{}", run.stdout);
    }
    let client_secret = stored.client_secret.clone();
    assert!(
        state(&backend)
            .await
            .secrets
            .get(&client_secret)
            .await
            .expect("reads")
            .is_some()
    );
    // Without a terminal to ask on, removal needs --yes: a usage error, nothing removed.
    let run = run_cli(&backend, vec!["remove".into(), name.clone()], None, vec![]).await;
    assert_eq!(run.code, 2, "remove without --yes: {}", run.stderr);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(
        state(&backend)
            .await
            .tenants
            .get(&tenant)
            .await
            .expect("reads")
            .is_some(),
        "nothing is removed unconfirmed"
    );
    let run = run_cli(
        &backend,
        vec!["remove".into(), name.clone(), "--yes".into()],
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 0, "remove: {}", run.stderr);
    assert!(
        state(&backend)
            .await
            .secrets
            .get(&client_secret)
            .await
            .expect("reads")
            .is_none(),
        "the tenant's own client secret is removed with it"
    );
    assert!(
        state(&backend)
            .await
            .tenants
            .get(&tenant)
            .await
            .expect("reads")
            .is_none()
    );
    assert!(
        state(&backend)
            .await
            .tokens
            .get(&tenant)
            .await
            .expect("reads")
            .is_none()
    );

    // Nothing the CLI printed or logged (at TRACE) carries the secret.
    assert!(!run.stdout.contains(CLIENT_SECRET) && !run.stderr.contains(CLIENT_SECRET));
}

/// The state as the CLI left it: embedded stores load their files at open, so reopen.
async fn state(backend: &Backend) -> connector::ports::StateStores {
    match &backend.dir {
        Some(dir) => ::embedded::open_state(
            dir,
            connector::ports::activity::Retention::default(),
            backend.dyn_clock(),
        )
        .await
        .expect("state reopens"),
        None => backend.stores.clone(),
    }
}

fn kind_is_embedded(backend: &Backend) -> bool {
    backend.aws.is_none()
}

async fn missing_scopes(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(Some(&[
        "ordr:r", "orde:r", "ordp:r", "clpr:c", "prod:r", "prda:r",
    ]))
    .await;
    let tenant = crate::support::unique_tenant("cli");
    let name = tenant.to_string();
    let mut args = add_args(&sandbox, &name);
    args.extend(["--client-secret-env".into(), "SHOP_SECRET".into()]);
    let run = run_cli(&backend, args, None, vec![("SHOP_SECRET", CLIENT_SECRET)]).await;
    assert_eq!(run.code, 0, "add: {}", run.stderr);

    let run = run_cli(&backend, vec!["verify".into(), name.clone()], None, vec![]).await;
    assert_eq!(run.code, 1, "verification fails: {}", run.stdout);
    assert!(
        run.stdout
            .contains("MISSING shipments: needs shpr:r, shpr:c, shpr:u"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("MISSING returns: needs rtpr:c"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("MISSING stock: needs prda:u"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ok      orders"), "{}", run.stdout);
    assert!(!run.stdout.contains(CLIENT_SECRET) && !run.stderr.contains(CLIENT_SECRET));

    let run = run_cli(
        &backend,
        vec!["--json".into(), "verify".into(), name],
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json output");
    let returns = report["flows"]
        .as_array()
        .and_then(|flows| flows.iter().find(|f| f["flow"] == "returns"))
        .expect("returns checked");
    assert_eq!(returns["missing"], serde_json::json!(["rtpr:c"]));

    // Wrong credentials: verify fails clearly.
    let wrong = crate::support::unique_tenant("cli");
    let mut args = add_args(&sandbox, wrong.as_str());
    args.push("--client-secret-stdin".into());
    let run = run_cli(&backend, args, Some("not-the-secret"), vec![]).await;
    assert_eq!(run.code, 0);
    let run = run_cli(
        &backend,
        vec!["verify".into(), wrong.to_string()],
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("rejected the client credentials"),
        "{}",
        run.stdout
    );
}

async fn usage_errors(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let cases: Vec<(&str, Vec<String>, Option<&str>)> = vec![
        (
            "bad tenant id",
            {
                let mut a = add_args(&sandbox, "Bad Id");
                a.push("--client-secret-stdin".into());
                a
            },
            Some("s"),
        ),
        (
            "secret env not set",
            {
                let mut a = add_args(&sandbox, "ok-id");
                a.extend(["--client-secret-env".into(), "NOT_SET_ANYWHERE_X".into()]);
                a
            },
            None,
        ),
        ("no secret source", add_args(&sandbox, "ok-id"), None),
        (
            "secret as an argument",
            {
                let mut a = add_args(&sandbox, "ok-id");
                a.extend(["--client-secret".into(), "s".into()]);
                a
            },
            None,
        ),
        (
            "empty secret",
            {
                let mut a = add_args(&sandbox, "ok-id");
                a.push("--client-secret-stdin".into());
                a
            },
            Some("  \n"),
        ),
        (
            "bad date",
            {
                let mut a = add_args(&sandbox, "ok-id");
                a.push("--client-secret-stdin".into());
                let i = a.iter().position(|x| x == "2026-01-01").expect("date");
                a[i] = "yesterday".into();
                a
            },
            Some("s"),
        ),
        ("unknown tenant", vec!["show".into(), "nobody".into()], None),
    ];
    for (name, args, stdin) in cases {
        let run = run_cli(&backend, args, stdin, vec![]).await;
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
    }
    let ok = TenantId::parse("ok-id").expect("valid");
    assert!(
        state(&backend)
            .await
            .tenants
            .get(&ok)
            .await
            .expect("reads")
            .is_none(),
        "nothing stored"
    );
}

async fn verify_public_app(kind: Kind) {
    let h = crate::auth::install::harness(kind).await;
    let id = crate::auth::install::install(&h).await;
    let before = state(&h.backend)
        .await
        .tokens
        .get(&id)
        .await
        .expect("reads")
        .expect("installed");
    let run = run_cli(
        &h.backend,
        vec!["verify".into(), id.to_string()],
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 0, "verify: {} {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ok      orders"), "{}", run.stdout);
    let after = state(&h.backend)
        .await
        .tokens
        .get(&id)
        .await
        .expect("reads")
        .expect("kept");
    assert!(after.version > before.version, "the refresh was stored");
    assert!(
        after.refresh_token.is_some(),
        "the rotated refresh token was stored"
    );
}

/// `--api-url` is https on an allowed shop host at its `/api` root, without credentials,
/// unless `--allow-insecure-url` says it is a local shop; a refused URL is not echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_urls_are_https_on_shop_hosts_without_credentials_and_never_echoed() {
    let backend = Backend::open(Kind::Embedded).await;
    let tenant = crate::support::unique_tenant("url").to_string();
    for (url, insecure) in [
        ("http://shop.beyondshop.cloud/api", false),
        ("ftp://shop.beyondshop.cloud/api", false),
        ("https://evil.example.com/api", false),
        ("https://shop.beyondshop.cloud/x/api", false),
        (
            "https://user:hunter2-secret@shop.beyondshop.cloud/api",
            false,
        ),
        ("http://user:hunter2-secret@127.0.0.1:1/api", true),
        ("ftp://127.0.0.1:1/api", true),
    ] {
        let mut args = vec![
            "add".to_owned(),
            tenant.clone(),
            "--api-url".to_owned(),
            url.to_owned(),
            "--client-id".to_owned(),
            CLIENT_ID.to_owned(),
            "--client-secret-env".to_owned(),
            "EPAGES_TEST_SECRET".to_owned(),
            "--start-date".to_owned(),
            "2026-01-01".to_owned(),
        ];
        if insecure {
            args.push("--allow-insecure-url".to_owned());
        }
        let run = run_cli(&backend, args, None, vec![("EPAGES_TEST_SECRET", "s")]).await;
        assert_eq!(run.code, 2, "{url}: {} {}", run.stdout, run.stderr);
        for output in [&run.stdout, &run.stderr] {
            assert!(!output.contains("hunter2"), "{url}: {output}");
            assert!(!output.contains(url), "{url} echoed: {output}");
        }
    }
    let tenant_id = TenantId::parse(&tenant).expect("id");
    assert!(
        state(&backend)
            .await
            .tenants
            .get(&tenant_id)
            .await
            .expect("reads")
            .is_none()
    );
    // An upper-case shop host at its root is fine.
    let run = run_cli(
        &backend,
        vec![
            "add".into(),
            tenant.clone(),
            "--api-url".into(),
            "https://MyShop.beyondshop.cloud/api".into(),
            "--client-id".into(),
            CLIENT_ID.into(),
            "--client-secret-env".into(),
            "EPAGES_TEST_SECRET".into(),
            "--start-date".into(),
            "2026-01-01".into(),
        ],
        None,
        vec![("EPAGES_TEST_SECRET", "s")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}
