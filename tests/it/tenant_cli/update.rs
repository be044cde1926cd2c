//! `tenant update` and `tenant list --all` as a user runs them, on both backends: settings
//! change and stay changed, a rotated secret is the one the next token request uses, a
//! value `add` refuses `update` refuses with the same message and nothing changes, and the
//! list shows paused tenants under a header named as its JSON fields.

use domain::tenant::{PaymentStatusFilter, StockTarget, TenantId};
use secrecy::ExposeSecret;

use super::{Run, add_args, kind_is_embedded, run_cli, state};
use crate::auth::support::{Backend, CLIENT_SECRET, Kind, both, sandbox_with_shop};

both! {
    update_changes_settings_and_rotates_the_client_secret => settings_and_secret,
    update_refuses_what_add_refuses_and_changes_nothing => same_validation,
    update_refuses_rotating_a_public_apps_shared_secret => public_app_secret,
    list_all_shows_paused_tenants_under_a_header_named_as_json => list_all,
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

/// The `error: …` line of a failed run.
fn error_line(run: &Run) -> String {
    run.stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("an error line: {}", run.stderr))
        .to_owned()
}

async fn added(backend: &Backend, sandbox: &sandbox::SandboxHandle, prefix: &str) -> TenantId {
    let tenant = crate::support::unique_tenant(prefix);
    let mut add = add_args(sandbox, tenant.as_str());
    add.push("--client-secret-stdin".into());
    let run = run_cli(backend, add, Some(&format!("{CLIENT_SECRET}\n")), vec![]).await;
    assert_eq!(run.code, 0, "add: {}", run.stderr);
    tenant
}

async fn settings_and_secret(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = added(&backend, &sandbox, "upd").await;
    let name = tenant.as_str();
    let before = state(&backend)
        .await
        .tenants
        .get(&tenant)
        .await
        .expect("reads")
        .expect("added");

    let run = run_cli(
        &backend,
        args(&[
            "update",
            name,
            "--no-stock",
            "--location",
            "wh-1=ignore",
            "--location",
            "wh-2=shop",
            "--payment-status",
            "PAID,PARTIALLY_PAID",
            "--start-date",
            "2025-06-01",
            "--include-test-orders",
            "--afosto-tenant",
            "afosto-42",
            "--json",
        ]),
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 0, "update: {}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {}", run.stdout));
    let mut changed: Vec<&str> = printed["changed"]
        .as_array()
        .expect("changed fields")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    changed.sort_unstable();
    assert_eq!(
        changed,
        [
            "afosto_tenant",
            "flows",
            "include_test_orders",
            "locations",
            "payment_filter",
            "sync_start"
        ]
    );
    let stored = state(&backend)
        .await
        .tenants
        .get(&tenant)
        .await
        .expect("reads")
        .expect("kept");
    assert!(!stored.flows.stock && stored.flows.orders && stored.flows.shipments);
    assert_eq!(stored.locations.len(), 2);
    assert_eq!(stored.locations[0].afosto_location_id, "wh-1");
    assert_eq!(stored.locations[0].target, StockTarget::Ignored);
    assert_eq!(stored.locations[1].target, StockTarget::ShopAvailability);
    assert_eq!(
        stored.payment_filter,
        PaymentStatusFilter::OneOf(vec!["PAID".into(), "PARTIALLY_PAID".into()])
    );
    assert_eq!(stored.sync_start.to_rfc3339(), "2025-06-01T00:00:00+00:00");
    assert!(stored.include_test_orders);
    assert_eq!(stored.afosto_tenant.as_deref(), Some("afosto-42"));
    assert_eq!(stored.version, before.version + 1);
    assert_eq!(stored.created_at, before.created_at);

    // Flows turn back on, a mapping goes, the Afosto link goes; the rest stays.
    let run = run_cli(
        &backend,
        args(&[
            "update",
            name,
            "--stock",
            "--remove-location",
            "wh-2",
            "--no-afosto-tenant",
        ]),
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 0, "update: {}", run.stderr);
    assert!(run.stdout.contains(&format!("updated tenant {name}")));
    let stored = state(&backend)
        .await
        .tenants
        .get(&tenant)
        .await
        .expect("reads")
        .expect("kept");
    assert!(stored.flows.stock);
    assert_eq!(stored.locations.len(), 1);
    assert_eq!(stored.afosto_tenant, None);
    assert!(stored.include_test_orders, "untouched settings stay");

    // A token obtained with the first secret is cached…
    let run = run_cli(&backend, args(&["verify", name]), None, vec![]).await;
    assert_eq!(run.code, 0, "verify: {} {}", run.stdout, run.stderr);
    assert!(
        state(&backend)
            .await
            .tokens
            .get(&tenant)
            .await
            .expect("reads")
            .is_some()
    );
    // …a rotation from an environment variable drops it, so the next token request uses
    // the new secret: the shop refuses that one, and verify says so.
    let rotated = "rotated-secret-0c4e81";
    let run = run_cli(
        &backend,
        args(&["update", name, "--client-secret-env", "ROTATED_SECRET"]),
        None,
        vec![("ROTATED_SECRET", rotated)],
    )
    .await;
    assert_eq!(run.code, 0, "rotate: {}", run.stderr);
    assert!(run.stdout.contains("client_secret"), "{}", run.stdout);
    assert!(!run.stdout.contains(rotated) && !run.stderr.contains(rotated));
    let stores = state(&backend).await;
    let secret = stores
        .secrets
        .get(&stored.client_secret)
        .await
        .expect("reads")
        .expect("kept");
    assert_eq!(secret.expose_secret(), rotated);
    assert!(stores.tokens.get(&tenant).await.expect("reads").is_none());
    drop(stores);
    let run = run_cli(&backend, args(&["verify", name]), None, vec![]).await;
    assert_eq!(
        run.code, 1,
        "the shop refuses the rotated secret: {}",
        run.stdout
    );
    assert!(!run.stdout.contains(rotated) && !run.stderr.contains(rotated));

    // Rotated back from stdin: verify works again.
    let run = run_cli(
        &backend,
        args(&["update", name, "--client-secret-stdin"]),
        Some(&format!("{CLIENT_SECRET}\n")),
        vec![],
    )
    .await;
    assert_eq!(run.code, 0, "rotate back: {}", run.stderr);
    let run = run_cli(&backend, args(&["verify", name]), None, vec![]).await;
    assert_eq!(run.code, 0, "verify: {} {}", run.stdout, run.stderr);
    sandbox.shutdown().await;
}

/// Every refused setting, given to `add` (a new tenant) and to `update` (an existing one):
/// the same exit code and the same message, and the existing tenant is left as it was.
async fn same_validation(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = added(&backend, &sandbox, "val").await;
    let stores = state(&backend).await;
    let before = stores
        .tenants
        .get(&tenant)
        .await
        .expect("reads")
        .expect("added");
    drop(stores);
    let refused: Vec<(&str, Vec<&str>, Option<&str>)> = vec![
        ("location without target", vec!["--location", "wh-9"], None),
        (
            "location target",
            vec!["--location", "wh-9=warehouse"],
            None,
        ),
        ("location without name", vec!["--location", "=shop"], None),
        ("afosto tenant", vec!["--afosto-tenant", "not valid!"], None),
        ("start date", vec!["--start-date", "yesterday"], None),
        ("payment status", vec!["--payment-status", " , "], None),
        (
            "secret variable unset",
            vec!["--client-secret-env", "NOT_SET_ANYWHERE_X"],
            None,
        ),
        ("empty secret", vec!["--client-secret-stdin"], Some("  \n")),
    ];
    for (case, setting, stdin) in refused {
        let fresh = crate::support::unique_tenant("val-new");
        let mut add = add_args(&sandbox, fresh.as_str());
        // `add` needs a secret source; the case's own one replaces it.
        if !setting.iter().any(|s| s.starts_with("--client-secret")) {
            add.push("--client-secret-stdin".into());
        }
        // A setting `add_args` already gives is replaced, not repeated.
        if let Some(i) = add
            .iter()
            .position(|a| a == setting[0] && a != "--location")
        {
            add.drain(i..i + 2);
        }
        add.extend(setting.iter().map(|s| (*s).to_owned()));
        let add_run = run_cli(&backend, add, Some(stdin.unwrap_or(CLIENT_SECRET)), vec![]).await;
        assert_eq!(add_run.code, 2, "add, {case}: {}", add_run.stderr);
        let mut update = args(&["update", tenant.as_str()]);
        update.extend(setting.iter().map(|s| (*s).to_owned()));
        let update_run = run_cli(&backend, update, stdin, vec![]).await;
        assert_eq!(update_run.code, 2, "update, {case}: {}", update_run.stderr);
        assert_eq!(
            error_line(&add_run),
            error_line(&update_run),
            "{case}: one validation for both"
        );
        assert!(
            state(&backend)
                .await
                .tenants
                .get(&fresh)
                .await
                .expect("reads")
                .is_none(),
            "{case}: nothing added"
        );
    }
    // Refused before anything is written: a good setting beside a bad one is not applied.
    let run = run_cli(
        &backend,
        args(&[
            "update",
            tenant.as_str(),
            "--no-orders",
            "--location",
            "wh-9=warehouse",
        ]),
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    // Nothing to update, an unknown tenant, a location it does not map: usage errors.
    for (case, update) in [
        ("nothing given", args(&["update", tenant.as_str()])),
        (
            "unknown tenant",
            args(&["update", "nobody-here", "--stock"]),
        ),
        (
            "unmapped location",
            args(&["update", tenant.as_str(), "--remove-location", "wh-404"]),
        ),
    ] {
        let run = run_cli(&backend, update, None, vec![]).await;
        assert_eq!(run.code, 2, "{case}: {}", run.stderr);
    }
    let stores = state(&backend).await;
    let after = stores
        .tenants
        .get(&tenant)
        .await
        .expect("reads")
        .expect("kept");
    assert_eq!(after, before, "no refused update changed the tenant");
    let secret = stores
        .secrets
        .get(&before.client_secret)
        .await
        .expect("reads")
        .expect("kept");
    assert_eq!(secret.expose_secret(), CLIENT_SECRET);
    sandbox.shutdown().await;
}

/// A public app's tenants share its client secret: rotating it through one tenant would
/// change it for all of them, so `update` refuses and changes nothing.
async fn public_app_secret(kind: Kind) {
    let h = crate::auth::install::harness(kind).await;
    let id = crate::auth::install::install(&h).await;
    let before = state(&h.backend)
        .await
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("installed");
    let run = run_cli(
        &h.backend,
        args(&["update", id.as_str(), "--client-secret-stdin"]),
        Some("another-secret\n"),
        vec![],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("public app"), "{}", run.stderr);
    let stores = state(&h.backend).await;
    let secret = stores
        .secrets
        .get(&before.client_secret)
        .await
        .expect("reads")
        .expect("kept");
    assert_eq!(secret.expose_secret(), CLIENT_SECRET);
    assert_eq!(stores.tenants.get(&id).await.expect("reads"), Some(before));
}

async fn list_all(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let active = added(&backend, &sandbox, "list-on").await;
    let paused = added(&backend, &sandbox, "list-off").await;
    let run = run_cli(&backend, args(&["pause", paused.as_str()]), None, vec![]).await;
    assert_eq!(run.code, 0, "pause: {}", run.stderr);
    // Every column then has a value (`afosto_tenant` is left out of the JSON when unset).
    let run = run_cli(
        &backend,
        args(&["update", paused.as_str(), "--afosto-tenant", "af-1"]),
        None,
        vec![],
    )
    .await;
    assert_eq!(run.code, 0, "update: {}", run.stderr);

    let run = run_cli(&backend, args(&["list", "--all"]), None, vec![]).await;
    assert_eq!(run.code, 0, "list --all: {}", run.stderr);
    let mut lines = run.stdout.lines();
    let header: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    assert_eq!(header.first(), Some(&"id"), "{}", run.stdout);
    assert!(header.contains(&"paused"), "{header:?}");
    let paused_column = header.iter().position(|h| *h == "paused").expect("paused");
    let row = |id: &TenantId| -> Vec<String> {
        run.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("a row for {id}: {}", run.stdout))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(row(&paused)[paused_column], "true");
    assert_eq!(row(&active)[paused_column], "false");

    // The JSON carries every column under the header's name.
    let run = run_cli(&backend, args(&["list", "--all", "--json"]), None, vec![]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("one JSON document ({e}): {}", run.stdout));
    let listed = listed.as_array().expect("an array");
    let paused_entry = listed
        .iter()
        .find(|t| t["id"] == paused.as_str())
        .expect("the paused tenant is listed");
    for column in &header {
        assert!(
            paused_entry.get(*column).is_some(),
            "JSON field {column} of the header: {paused_entry}"
        );
    }
    assert_eq!(paused_entry["paused"], true);

    if kind_is_embedded(&backend) {
        // Without --all: the active ones (the AWS index is eventually consistent).
        let run = run_cli(&backend, args(&["list"]), None, vec![]).await;
        assert!(run.stdout.starts_with("id "), "a header: {}", run.stdout);
        assert!(run.stdout.contains(active.as_str()));
        assert!(!run.stdout.contains(paused.as_str()), "{}", run.stdout);
    }
    sandbox.shutdown().await;
}
