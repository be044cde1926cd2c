//! `epages-sync demo`: the whole connector on a laptop, with no AWS account and no real
//! shop. It starts the sandbox shop in-process with the built-in demo seed, onboards it
//! as a tenant on the embedded backend, and runs the real handlers with real Lambda event
//! shapes (the local runtime `run` uses too), with the 5-minute schedule compressed to a
//! second. It plays Afosto: reads the order events, sends commands back, reads their
//! results and the changes they echo. It exits 0 only if every expected event arrived
//! exactly once and every effect is in the shop's own state.

mod afosto;
mod contracts;
mod report;
mod scenario;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beyond::{HttpSettings, RetryPolicy};
use clap::Args;
use connector::pipeline::poll::PollSettings;
use connector::pipeline::schedule::ScheduleSettings;
use connector::ports::StoreError;
use domain::tenant::{AuthMode, LocationMapping, StockTarget, TenantConfig, TenantId};
use indicatif::{ProgressBar, ProgressStyle};
use sandbox::{Sandbox, SandboxError, SandboxHandle};
use secrecy::SecretString;

use crate::local::listen;
use crate::local::{LocalRuntime, Pumps, RuntimeError, RuntimeSettings, Shutdown};
use ::contracts::order_event::EventKind;
use afosto::{Afosto, AfostoError};
use scenario::{CLIENT_ID, CLIENT_SECRET, SHOP, TENANT};
use verify::Orders;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The global `--state-dir` when given (set by `main`); without it, a fresh temporary
    /// directory, removed at the end.
    #[arg(skip)]
    pub state_dir: Option<PathBuf>,
    /// The global `--json`: the report as one JSON document (set by `main`).
    #[arg(skip)]
    pub json: bool,
    /// How often the scheduler fires; stands for the deployment's 5 minutes.
    #[arg(long, default_value = "1s", value_parser = super::run::parse_duration)]
    pub interval: Duration,
    /// How long each phase may take before the demo gives up.
    #[arg(long, default_value = "30s", value_parser = super::run::parse_duration)]
    pub phase_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot start the sandbox shop")]
    Sandbox(#[from] SandboxError),
    #[error("creating a temporary state directory")]
    TempDir(#[source] std::io::Error),
    #[error("starting the local runtime")]
    Runtime(#[from] RuntimeError),
    #[error("onboarding the demo tenant")]
    Onboard(#[source] StoreError),
    #[error("demo setup: {0}")]
    Setup(String),
    #[error("the demo seed has no order {0:?}")]
    MissingOrder(&'static str),
    #[error("loading the message contracts")]
    Contracts(#[from] contracts::SchemaError),
    #[error("playing Afosto")]
    Afosto(#[from] AfostoError),
    #[error("{0} check(s) failed (see the report)")]
    Failed(usize),
}

pub async fn run(args: DemoArgs) -> Result<(), DemoError> {
    let started = Instant::now();
    progress("[1/6] starting the sandbox shop with the demo seed");
    let sandbox = Sandbox::start("127.0.0.1:0").await?;
    let seeded = sandbox.seed_demo()?;
    let mut orders = Orders {
        by_reference: seeded
            .orders
            .iter()
            .filter(|(_, order)| order.shop == SHOP)
            .map(|(reference, order)| (reference.clone(), order.order_id))
            .collect(),
        numbers: seeded
            .orders
            .iter()
            .filter(|(_, order)| order.shop == SHOP)
            .map(|(reference, order)| (reference.clone(), order.order_number.clone()))
            .collect(),
    };
    progress(&format!(
        "      shop `{SHOP}` at {} with {} orders",
        sandbox.shop_api_url(SHOP),
        orders.by_reference.len()
    ));

    let contracts = contracts::Contracts::load()?;
    // The temporary directory lives until the end of `run` and is removed with it.
    let (state_dir, _temporary) = match &args.state_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temporary = tempfile::tempdir().map_err(DemoError::TempDir)?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    };
    progress(&format!(
        "[2/6] onboarding tenant `{TENANT}` on the embedded backend in {}",
        state_dir.display()
    ));
    let runtime = Arc::new(LocalRuntime::open(&state_dir, settings()).await?);
    onboard(&runtime, &sandbox).await?;
    let pumps = Pumps::new(runtime.clone());
    let shutdown = Shutdown::default();
    // The receivers as `run --listen` serves them, registered with the shop: the shop's
    // webhooks bring its changes at once (the schedule stays the backstop).
    let listener = listen::serve(&runtime, ([127, 0, 0, 1], 0).into(), None, shutdown.clone())
        .await
        .map_err(|error| DemoError::Setup(super::report(&error)))?;
    let registered = listen::register_tenants(&runtime, &listener.public_url)
        .await
        .map_err(|error| DemoError::Setup(super::report(&error)))?;
    if let Some((tenant, reason)) = registered.failed.first() {
        return Err(DemoError::Setup(format!(
            "registering the webhooks of {tenant}: {reason}"
        )));
    }
    progress(&format!(
        "      webhook receiver on {} registered with the shop",
        listener.public_url
    ));
    let mut afosto = Afosto::new(
        runtime.queues.order_events.clone(),
        runtime.queues.commands.clone(),
    );

    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let steps = scenario::steps(chrono::Utc::now());
    let streams = verify::expected_streams(&steps);
    let import_count: usize = scenario::IMPORT.iter().map(|(_, kinds)| kinds.len()).sum();
    let total_count = verify::expected_count(&streams);

    let script = async {
        let outcome = play(
            &args,
            &pumps,
            &mut afosto,
            &orders,
            &run_id,
            &steps,
            import_count,
            total_count,
        )
        .await;
        let placed = match outcome {
            Ok(_) => webhook_order(&args, &sandbox, &mut afosto).await.map(Some),
            Err(_) => Ok(None),
        };
        shutdown.trigger();
        outcome.and_then(|sent| Ok((sent, placed?)))
    };
    let ((), played) = tokio::join!(pumps.run_until(args.interval, &shutdown), script);
    let (sent, placed) = played?;
    let mut streams = streams;
    let mut webhook_latency = None;
    if let Some((order_id, latency)) = placed {
        orders
            .by_reference
            .insert(WEBHOOK_ORDER.to_owned(), order_id);
        streams.insert(WEBHOOK_ORDER, vec![EventKind::Created]);
        webhook_latency = latency;
    }

    progress("[6/6] verifying the event stream, the command results and the shop's state");
    let api_calls = report::api_calls(&sandbox);
    let webhook_deliveries = report::webhook_deliveries(&sandbox);
    let mut findings = verify::events(&afosto, &orders, &streams, TENANT).0;
    findings.extend(verify::results(&afosto, &steps, |step| verify::command_id(&run_id, step)).0);
    findings.extend(verify::shop(&sandbox, &orders).0);
    findings.extend(verify::contracts(&afosto, &sent, &contracts).0);
    let report = report::Report {
        afosto: &afosto,
        stats: pumps.stats(),
        metrics: runtime.metrics.snapshot(),
        api_calls,
        elapsed: started.elapsed(),
        findings: &findings,
        webhook_latency,
        webhook_deliveries,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        report.print();
    }
    sandbox.shutdown().await;
    if findings.is_empty() {
        Ok(())
    } else {
        Err(DemoError::Failed(findings.len()))
    }
}

/// The handlers' settings for a demo: the schedule compressed and not spread, reads that
/// end a second before now instead of thirty (the sandbox shares our clock), retries quick.
fn settings() -> RuntimeSettings {
    RuntimeSettings {
        poll: PollSettings {
            skew: Duration::from_secs(1),
            overlap: Duration::from_secs(5),
            ..PollSettings::default()
        },
        schedule: ScheduleSettings {
            spread: Duration::ZERO,
            ..ScheduleSettings::default()
        },
        apply: Default::default(),
        http: HttpSettings {
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(500),
            },
            ..HttpSettings::default()
        },
    }
}

/// What `epages-sync tenant add` stores, for the sandbox shop: the secret in the secrets
/// port, the tenant with a sync start before the seed's orders, one synced and one ignored
/// stock location. A tenant left by an earlier run in the same state dir is replaced.
async fn onboard(runtime: &LocalRuntime, sandbox: &SandboxHandle) -> Result<(), DemoError> {
    let id = TenantId::parse(TENANT)
        .map_err(|error| DemoError::Setup(format!("tenant id {TENANT}: {error}")))?;
    let api_url = url::Url::parse(&sandbox.shop_api_url(SHOP))
        .map_err(|error| DemoError::Setup(format!("sandbox URL {error}")))?;
    store(runtime, id, api_url)
        .await
        .map_err(DemoError::Onboard)
}

async fn store(runtime: &LocalRuntime, id: TenantId, api_url: url::Url) -> Result<(), StoreError> {
    let secret = runtime.secrets.tenant_client_secret(&id);
    runtime
        .stores
        .secrets
        .put(&secret, SecretString::from(CLIENT_SECRET))
        .await?;
    let mut config = TenantConfig::new(
        id.clone(),
        api_url,
        AuthMode::ClientCredentials,
        CLIENT_ID,
        secret,
        chrono::Utc::now() - chrono::TimeDelta::days(1),
    );
    config.locations = vec![
        LocationMapping {
            afosto_location_id: scenario::WAREHOUSE.to_owned(),
            target: StockTarget::ShopAvailability,
            epages_location_id: None,
        },
        LocationMapping {
            afosto_location_id: scenario::IGNORED_LOCATION.to_owned(),
            target: StockTarget::Ignored,
            epages_location_id: None,
        },
    ];
    runtime.stores.tokens.delete(&id).await?;
    runtime.stores.tenants.delete(&id).await?;
    runtime
        .stores
        .tenants
        .create(config, chrono::Utc::now())
        .await?;
    Ok(())
}

/// Afosto's script, while the handlers run: wait for the import, send the commands, wait
/// for their results and echoes, then watch two more poll cycles for anything extra.
/// Returns the command bodies it sent.
#[allow(clippy::too_many_arguments)]
async fn play(
    args: &DemoArgs,
    pumps: &Pumps,
    afosto: &mut Afosto,
    orders: &Orders,
    run_id: &str,
    steps: &[scenario::Step],
    import_count: usize,
    total_count: usize,
) -> Result<Vec<(String, serde_json::Value)>, DemoError> {
    progress(&format!(
        "[3/6] polling on a {:?} schedule until the import arrives ({import_count} events)",
        args.interval
    ));
    let bar = spinner();
    let deadline = Instant::now() + args.phase_timeout;
    while afosto.events.len() < import_count && Instant::now() < deadline {
        afosto.collect(Duration::from_millis(200)).await?;
        bar.set_message(format!("{}/{import_count} events", afosto.events.len()));
    }
    bar.finish_and_clear();
    progress(&format!(
        "      {} events after {} schedule tick(s)",
        afosto.events.len(),
        pumps.stats().schedule_ticks
    ));

    progress(&format!(
        "[4/6] Afosto sends {} commands: ship, deliver, cancel, return, pickup, stock",
        steps.len()
    ));
    let issued_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut bodies = Vec::new();
    for step in steps {
        let mut body = serde_json::json!({
            "schemaVersion": 1,
            "id": verify::command_id(run_id, step),
            "tenant": TENANT,
            "issuedAt": issued_at,
            "type": step.kind,
        });
        if let Some(reference) = step.order {
            let number = orders
                .numbers
                .get(reference)
                .ok_or(DemoError::MissingOrder(reference))?;
            body["order"] = serde_json::json!({ "number": number });
        }
        if let (Some(target), Some(extra)) = (body.as_object_mut(), step.fields.as_object()) {
            target.extend(extra.clone());
        }
        bodies.push((step.name.to_owned(), body));
    }
    afosto.send(&bodies).await?;

    progress(&format!(
        "[5/6] waiting for {} results and the {} events the changes echo back",
        steps.len(),
        total_count - import_count
    ));
    let bar = spinner();
    let deadline = Instant::now() + args.phase_timeout;
    while (afosto.results.len() < steps.len() || afosto.events.len() < total_count)
        && Instant::now() < deadline
    {
        afosto.collect(Duration::from_millis(200)).await?;
        bar.set_message(format!(
            "{}/{} results, {}/{total_count} events",
            afosto.results.len(),
            steps.len(),
            afosto.events.len()
        ));
    }
    bar.finish_and_clear();
    // Two more complete poll cycles: a change reported twice would show up here.
    let polls = pumps.stats().poll_invocations;
    let deadline = Instant::now() + args.phase_timeout;
    while pumps.stats().poll_invocations < polls + 2 && Instant::now() < deadline {
        afosto.collect(Duration::from_millis(200)).await?;
    }
    afosto.collect(Duration::from_millis(200)).await?;
    progress(&format!(
        "      {} results, {} events in all",
        afosto.results.len(),
        afosto.events.len()
    ));
    Ok(bodies)
}

/// The reference of the order a customer places while the demo runs.
const WEBHOOK_ORDER: &str = "webhook-order";
/// Its product: one without stock management, so the stock checks are not moved by it.
const WEBHOOK_SKU: &str = "BAG-001";

/// A customer places an order in the shop: its `order.created` webhook reaches the
/// receiver, and the targeted read brings it to Afosto. Returns the order and how long
/// that took (`None` when it did not arrive within the phase timeout; the verification
/// then names the missing event).
async fn webhook_order(
    args: &DemoArgs,
    sandbox: &SandboxHandle,
    afosto: &mut Afosto,
) -> Result<(uuid::Uuid, Option<Duration>), DemoError> {
    progress("      a customer places an order in the shop: it arrives through the webhook");
    let order: sandbox::SeedOrder = serde_json::from_value(serde_json::json!({
        "lines": [{ "sku": WEBHOOK_SKU, "quantity": 1 }],
        "actions": [{ "action": "pay" }]
    }))
    .map_err(|error| DemoError::Setup(format!("the webhook order: {error}")))?;
    let started = Instant::now();
    let placed = sandbox
        .create_order(SHOP, &order)
        .map_err(|error| DemoError::Setup(format!("placing the webhook order: {error}")))?;
    let deadline = started + args.phase_timeout;
    while Instant::now() < deadline {
        afosto.collect(Duration::from_millis(20)).await?;
        if let Some(seen) = afosto.events.iter().find(|seen| {
            seen.item.header().order_id == placed.id && seen.item.kind() == EventKind::Created
        }) {
            let latency = seen.at.saturating_duration_since(started);
            progress(&format!(
                "      order {} arrived {} ms after it was placed",
                placed.order_number.as_deref().unwrap_or("?"),
                latency.as_millis()
            ));
            return Ok((placed.id, Some(latency)));
        }
    }
    Ok((placed.id, None))
}

/// A progress line on stderr (stdout carries the report).
fn progress(line: &str) {
    eprintln!("{line}");
}

/// A spinner on stderr; invisible when stderr is not a terminal.
fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("      {spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
