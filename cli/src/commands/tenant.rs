//! `epages-sync tenant add | verify | list | show | pause | resume | remove`.
//!
//! Exit codes: 0 ok, 1 verification failed (or the operation failed), 2 usage or input
//! error. Client secrets come from stdin or a named environment variable, never from an
//! argument, and are written to the secrets port only. `remove` asks for confirmation on a
//! terminal and needs `--yes` without one (exit code 2 otherwise).

use std::io::{BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;

use beyond::HttpSettings;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use connector::auth::{ShopClients, check_scopes};
use connector::install::HostPolicy;
use connector::ports::PageRequest;
use connector::ports::tenants::{CreateOutcome, DeleteOutcome, UpdateOutcome};
use domain::tenant::{
    AuthMode, InvalidTimeZone, LocationMapping, PaymentStatusFilter, ShopTimeZone, StockTarget,
    TenantConfig, TenantId,
};
use secrecy::SecretString;
use url::Url;

use crate::backend::{self, BackendArgs};

#[derive(Debug, Args)]
pub struct TenantArgs {
    #[command(flatten)]
    pub backend: BackendArgs,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: TenantCommand,
}

// Parsed once per process from the command line: the size of `Add` costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Add a custom-app tenant (client credentials).
    Add(AddArgs),
    /// Obtain a token and check its scopes against the enabled flows.
    Verify {
        /// The tenant id.
        tenant: String,
    },
    /// List active tenants.
    List,
    /// Show one tenant's configuration (secrets are never shown).
    Show {
        /// The tenant id.
        tenant: String,
    },
    /// Stop polling and applying commands for the tenant (kept until `resume`).
    Pause {
        /// The tenant id.
        tenant: String,
    },
    /// Resume a paused tenant.
    Resume {
        /// The tenant id.
        tenant: String,
    },
    /// Remove the tenant's configuration, tokens and own client secret (the order ledger
    /// stays, so a re-added tenant does not emit the same changes again). Asks first on a
    /// terminal; without one, `--yes` is required.
    Remove {
        /// The tenant id.
        tenant: String,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The tenant id: lower-case letters, digits and `-` (how every other command names it).
    pub tenant: String,
    /// The shop name: `https://{store}.beyondshop.cloud/api`.
    #[arg(long, conflicts_with = "api_url", required_unless_present = "api_url")]
    pub store: Option<String>,
    /// The shop's API root, `https://{host}/api`, on an allowed shop host
    /// (`ALLOWED_SHOP_HOSTS`, default `*.beyondshop.cloud`).
    #[arg(long)]
    pub api_url: Option<String>,
    /// Accept an `--api-url` over http or on any host: for local shops (the sandbox).
    #[arg(long, requires = "api_url")]
    pub allow_insecure_url: bool,
    /// The Afosto tenant (`X-Afosto-Tenant`) whose webhooks belong to this tenant.
    #[arg(long)]
    pub afosto_tenant: Option<String>,
    /// The client id of the shop's custom app (or of the public app).
    #[arg(long)]
    pub client_id: String,
    /// Read the client secret from stdin.
    #[arg(
        long,
        conflicts_with = "client_secret_env",
        required_unless_present = "client_secret_env"
    )]
    pub client_secret_stdin: bool,
    /// Read the client secret from this environment variable.
    #[arg(long)]
    pub client_secret_env: Option<String>,
    /// Orders created before this date (YYYY-MM-DD or RFC 3339) are never imported.
    #[arg(long)]
    pub start_date: String,
    /// Turn off order events for Afosto (imports, cancellations, shipments, … from the shop).
    #[arg(long)]
    pub no_orders: bool,
    /// Turn off applying cancel commands.
    #[arg(long)]
    pub no_cancellations: bool,
    /// Turn off applying ship, pickup and delivery commands.
    #[arg(long)]
    pub no_shipments: bool,
    /// Turn off applying return commands.
    #[arg(long)]
    pub no_returns: bool,
    /// Turn off applying stock commands.
    #[arg(long)]
    pub no_stock: bool,
    /// `AFOSTO_LOCATION=shop` (counts towards shop stock) or `AFOSTO_LOCATION=ignore`.
    #[arg(long = "location")]
    pub locations: Vec<String>,
    /// `any`, `paid`, or a comma-separated list of Beyond payment statuses.
    #[arg(long, default_value = "any")]
    pub payment_status: String,
    /// Import the shop's test orders too (left out by default).
    #[arg(long)]
    pub include_test_orders: bool,
    /// The zone of the shop's offset-less timestamps when its clock is not UTC: an IANA
    /// name such as Europe/Berlin (docs/ORDER-EVENTS.md, "Shop time").
    #[arg(long, value_parser = shop_time_zone)]
    pub shop_time_zone: Option<String>,
}

/// Validates `--shop-time-zone` while parsing (a usage error naming the option); kept as
/// the zone's name, which the tenant stores.
fn shop_time_zone(value: &str) -> Result<String, String> {
    value
        .parse::<ShopTimeZone>()
        .map(|zone| zone.name().to_owned())
        .map_err(|error: InvalidTimeZone| format!("--shop-time-zone: {error}"))
}

/// A usage or input problem (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

type Failure = Box<dyn std::error::Error + Send + Sync>;

pub async fn main(args: TenantArgs) -> ExitCode {
    match run(args).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", super::report(error.as_ref()));
            if error.downcast_ref::<Usage>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn tenant_id(raw: &str) -> Result<TenantId, Failure> {
    TenantId::parse(raw).map_err(|e| Usage(format!("tenant id {raw:?}: {e}")).into())
}

fn print(json: bool, value: &serde_json::Value, human: &str) {
    if json {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

pub async fn run(args: TenantArgs) -> Result<ExitCode, Failure> {
    let backend = backend::open(&args.backend).await?;
    let stores = &backend.stores;
    let now = backend.clock.now();
    match args.command {
        TenantCommand::Add(add) => {
            let id = tenant_id(&add.tenant)?;
            let config = build_config(&add, &id, &backend.secrets)?;
            let secret = read_secret(&add)?;
            if stores.tenants.get(&id).await?.is_some() {
                return Err(Usage(format!("tenant {id} already exists")).into());
            }
            stores.secrets.put(&config.client_secret, secret).await?;
            match stores.tenants.create(config, now).await? {
                CreateOutcome::Created(created) => print(
                    args.json,
                    &serde_json::to_value(&created)?,
                    &format!(
                        "added tenant {id} ({}); run `epages-sync tenant verify {id}`",
                        created.api_url
                    ),
                ),
                CreateOutcome::AlreadyExists => {
                    return Err(Usage(format!("tenant {id} already exists")).into());
                }
            }
        }
        TenantCommand::Verify { tenant } => {
            let config = get(stores, &tenant).await?;
            let clients = ShopClients::new(stores, HttpSettings::default(), backend.clock.clone());
            let tokens = clients.tokens_for(&config)?;
            let granted = match tokens.refresh_now().await {
                Ok(granted) => granted,
                Err(error) => {
                    let text = super::report(&error);
                    print(
                        args.json,
                        &serde_json::json!({ "ok": false, "error": text }),
                        &format!("FAILED: {text}"),
                    );
                    return Ok(ExitCode::FAILURE);
                }
            };
            let report = check_scopes(&config.flows, &granted);
            let mut human = format!(
                "tenant {}: token obtained; granted scopes: {}",
                config.id, granted
            );
            for check in &report.flows {
                if check.missing.is_empty() {
                    human.push_str(&format!("\n  ok      {}", check.flow.as_str()));
                } else {
                    human.push_str(&format!(
                        "\n  MISSING {}: needs {}",
                        check.flow.as_str(),
                        check.missing.join(", ")
                    ));
                }
            }
            let mut value = serde_json::to_value(&report)?;
            value["ok"] = serde_json::Value::Bool(report.ok());
            print(args.json, &value, &human);
            return Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        TenantCommand::List => {
            let mut all = Vec::new();
            let mut page = PageRequest::first(1000);
            loop {
                let listed = stores.tenants.list_active(page).await?;
                all.extend(listed.items);
                match listed.next {
                    Some(token) => page = PageRequest::after(1000, token),
                    None => break,
                }
            }
            let human = all
                .iter()
                .map(|t| format!("{}\t{}\t{:?}", t.id, t.api_url, t.auth_mode))
                .collect::<Vec<_>>()
                .join("\n");
            print(args.json, &serde_json::to_value(&all)?, &human);
        }
        TenantCommand::Show { tenant } => {
            let config = get(stores, &tenant).await?;
            print(
                args.json,
                &serde_json::to_value(&config)?,
                &serde_json::to_string_pretty(&config)?,
            );
        }
        TenantCommand::Pause { tenant } => {
            set_paused(stores, &tenant, true, now, args.json).await?
        }
        TenantCommand::Resume { tenant } => {
            set_paused(stores, &tenant, false, now, args.json).await?
        }
        TenantCommand::Remove { tenant, yes } => {
            let id = tenant_id(&tenant)?;
            // Removal cannot be undone (the secret is deleted too), so a script that
            // forgot the tenant it meant must not get it silently.
            confirm(
                yes,
                &format!("remove tenant {id}: its configuration, tokens and own client secret?"),
            )?;
            // The tenant's own client secret goes with it; a public app's secret is shared
            // by its tenants and stays. Config first, secret last: a removal interrupted in
            // between leaves an unused secret that `remove` run again still deletes.
            let own_secret = backend.secrets.tenant_client_secret(&id);
            let secret = match stores.tenants.get(&id).await? {
                Some(config) => (config.client_secret == own_secret).then_some(own_secret),
                None => Some(own_secret),
            };
            stores.tokens.delete(&id).await?;
            let outcome = stores.tenants.delete(&id).await?;
            if let Some(secret) = &secret {
                stores.secrets.delete(secret).await?;
            }
            match outcome {
                DeleteOutcome::Deleted => print(
                    args.json,
                    &serde_json::json!({ "removed": id }),
                    &format!("removed tenant {id}"),
                ),
                DeleteOutcome::NotFound => return Err(Usage(format!("no tenant {id}")).into()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal unless `--yes`; without a terminal to ask on, a usage error (2).
/// A declined question is a failure (1): nothing was done.
fn confirm(yes: bool, question: &str) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Usage(
            "stdin is not a terminal: pass --yes to remove without confirmation".into(),
        )
        .into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err("not confirmed; nothing removed".into())
    }
}

async fn get(stores: &connector::ports::StateStores, raw: &str) -> Result<TenantConfig, Failure> {
    let id = tenant_id(raw)?;
    stores
        .tenants
        .get(&id)
        .await?
        .ok_or_else(|| Usage(format!("no tenant {id}")).into())
}

async fn set_paused(
    stores: &connector::ports::StateStores,
    raw: &str,
    paused: bool,
    now: DateTime<Utc>,
    json: bool,
) -> Result<(), Failure> {
    let mut config = get(stores, raw).await?;
    for _ in 0..5 {
        config.set_operator_pause(paused);
        match stores.tenants.update(config.clone(), now).await? {
            UpdateOutcome::Updated(updated) => {
                let verb = if paused { "paused" } else { "resumed" };
                print(
                    json,
                    &serde_json::to_value(&updated)?,
                    &format!("{verb} tenant {}", updated.id),
                );
                return Ok(());
            }
            UpdateOutcome::Stale { current } => config = current,
            UpdateOutcome::NotFound => return Err(Usage(format!("no tenant {raw}")).into()),
        }
    }
    Err("the tenant kept changing; try again".into())
}

fn build_config(
    add: &AddArgs,
    id: &TenantId,
    naming: &connector::ports::secrets::SecretNaming,
) -> Result<TenantConfig, Failure> {
    let api_url = match (&add.store, &add.api_url) {
        (Some(store), _) => {
            if store.is_empty() || !store.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(Usage(format!("--store {store:?} is not a shop name")).into());
            }
            format!("https://{store}.beyondshop.cloud/api")
        }
        (None, Some(url)) => url.clone(),
        (None, None) => return Err(Usage("--store or --api-url is required".into()).into()),
    };
    let api_url = check_api_url(&api_url, add.allow_insecure_url)?;
    let start = parse_start(&add.start_date)?;
    let mut config = TenantConfig::new(
        id.clone(),
        api_url,
        AuthMode::ClientCredentials,
        add.client_id.clone(),
        naming.tenant_client_secret(id),
        start,
    );
    if let Some(afosto) = &add.afosto_tenant {
        if afosto.is_empty()
            || afosto.len() > 128
            || !afosto
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Usage(
                "--afosto-tenant: only letters, digits, '-' and '_', at most 128".into(),
            )
            .into());
        }
        config.afosto_tenant = Some(afosto.clone());
    }
    config.flows.orders = !add.no_orders;
    config.flows.cancellations = !add.no_cancellations;
    config.flows.shipments = !add.no_shipments;
    config.flows.returns = !add.no_returns;
    config.flows.stock = !add.no_stock;
    config.include_test_orders = add.include_test_orders;
    if let Some(name) = &add.shop_time_zone {
        config.shop_time_zone = Some(
            ShopTimeZone::parse(name)
                .map_err(|error| Failure::from(Usage(format!("--shop-time-zone: {error}"))))?,
        );
    }
    config.payment_filter = match add.payment_status.as_str() {
        "any" => PaymentStatusFilter::Any,
        "paid" => PaymentStatusFilter::PaidOnly,
        list => PaymentStatusFilter::OneOf(
            list.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
    };
    for mapping in &add.locations {
        let (location, target) = mapping.split_once('=').ok_or_else(|| {
            Usage(format!(
                "--location {mapping:?}: expected LOCATION=shop|ignore"
            ))
        })?;
        let target = match target {
            "shop" => StockTarget::ShopAvailability,
            "ignore" => StockTarget::Ignored,
            other => {
                return Err(Usage(format!(
                    "--location {mapping:?}: {other:?} is not shop or ignore"
                ))
                .into());
            }
        };
        config.locations.push(LocationMapping {
            afosto_location_id: location.to_owned(),
            target,
            epages_location_id: None,
        });
    }
    Ok(config)
}

/// The shop's API root: https on an allowed shop host, the `/api` path, no credentials;
/// with `--allow-insecure-url`, http and any host (local shops). A refused URL is never
/// echoed back: it may carry credentials.
fn check_api_url(raw: &str, allow_insecure: bool) -> Result<Url, Failure> {
    let refuse = |reason: String| -> Failure { Usage(format!("--api-url {reason}")).into() };
    let url = Url::parse(raw).map_err(|e| refuse(format!("is not a valid URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not carry credentials".into()));
    }
    if allow_insecure {
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(refuse("must be an http(s) URL with a host".into()));
        }
        return Ok(url);
    }
    let patterns = std::env::var("ALLOWED_SHOP_HOSTS")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| HostPolicy::DEFAULT_PATTERNS.to_owned());
    let policy = HostPolicy::parse(&patterns, false)
        .map_err(|e| Usage(format!("ALLOWED_SHOP_HOSTS: {e}")))?;
    let hint = " (use --allow-insecure-url for a local shop)";
    policy
        .check("api_url", &url)
        .and_then(|()| policy.check_api_root(&url))
        .map_err(|e| refuse(format!("is refused: {e}{hint}")))?;
    Ok(url)
}

fn parse_start(raw: &str) -> Result<DateTime<Utc>, Failure> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| {
            Usage(format!(
                "--start-date {raw:?}: expected YYYY-MM-DD or RFC 3339"
            ))
            .into()
        })
}

fn read_secret(add: &AddArgs) -> Result<SecretString, Failure> {
    let secret = if add.client_secret_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Usage(format!("reading the client secret from stdin: {e}")))?;
        text
    } else if let Some(name) = &add.client_secret_env {
        std::env::var(name).map_err(|_| Usage(format!("environment variable {name} is not set")))?
    } else {
        return Err(
            Usage("--client-secret-stdin or --client-secret-env is required".into()).into(),
        );
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Err(Usage("the client secret is empty".into()).into());
    }
    Ok(SecretString::from(secret))
}
