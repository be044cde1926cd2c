//! `epages-sync tenant add | update | verify | list | show | pause | resume | remove`.
//!
//! Exit codes: 0 ok, 1 verification failed (or the operation failed), 2 usage or input
//! error. Client secrets come from stdin or a named environment variable, never from an
//! argument, and are written to the secrets port only. `add` and `update` share their
//! settings and the one piece that validates them (`settings`). `remove` asks for
//! confirmation on a terminal and needs `--yes` without one (exit code 2 otherwise).

mod settings;
mod update;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use beyond::HttpSettings;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use connector::auth::{ShopClients, check_scopes};
use connector::install::HostPolicy;
use connector::ports::PageRequest;
use connector::ports::tenants::{CreateOutcome, DeleteOutcome, UpdateOutcome};
use domain::tenant::{AuthMode, TenantConfig, TenantId};
use url::Url;

use crate::backend::{self, BackendArgs};
use settings::SettingsArgs;

#[derive(Debug, Args)]
pub struct TenantArgs {
    /// Global options, set by `main` (`--json`: machine-readable output).
    #[arg(skip)]
    pub backend: BackendArgs,
    #[arg(skip)]
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
    /// Change a tenant: rotate its client secret (or client id), flows, locations, start
    /// date, payment filter, test orders, Afosto tenant. What is not given stays.
    Update(UpdateArgs),
    /// Obtain a token and check its scopes against the enabled flows.
    Verify {
        /// The tenant id.
        tenant: String,
    },
    /// List tenants (active ones; `--all`: paused ones too), with a header.
    List {
        /// Paused tenants too.
        #[arg(long)]
        all: bool,
    },
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
#[command(group(clap::ArgGroup::new("secret_source").required(true)
    .args(["client_secret_stdin", "client_secret_env"])))]
#[command(group(clap::ArgGroup::new("start").required(true).args(["start_date"])))]
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
    /// The client id of the shop's custom app (or of the public app).
    #[arg(long)]
    pub client_id: String,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The tenant id.
    pub tenant: String,
    /// A new client id (rotate it together with the client secret).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Remove this Afosto location's mapping (repeatable).
    #[arg(long, value_name = "LOCATION")]
    pub remove_location: Vec<String>,
    /// Remove the Afosto tenant link.
    #[arg(long, conflicts_with = "afosto_tenant")]
    pub no_afosto_tenant: bool,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// A usage or input problem (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Usage(String);

pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

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
            let config = build_config(&add, &id, &backend.secrets, now)?;
            let secret = add.settings.read_secret()?.ok_or_else(|| {
                Usage("--client-secret-stdin or --client-secret-env is required".into())
            })?;
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
        TenantCommand::Update(update) => {
            update::run(&backend, &update, now, args.json).await?;
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
        TenantCommand::List { all } => {
            let listed = list(stores, all).await?;
            let values = listed
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()?;
            print(
                args.json,
                &serde_json::Value::Array(values.clone()),
                &list_table(&values),
            );
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

/// Every tenant (`all`) or the active ones, by id.
async fn list(
    stores: &connector::ports::StateStores,
    all: bool,
) -> Result<Vec<TenantConfig>, Failure> {
    let mut listed = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let found = if all {
            stores.tenants.list_all(page).await?
        } else {
            stores.tenants.list_active(page).await?
        };
        listed.extend(found.items);
        match found.next {
            Some(token) => page = PageRequest::after(1000, token),
            None => break,
        }
    }
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(listed)
}

/// The columns of `tenant list`, named as the fields of its `--json` output.
const LIST_COLUMNS: [&str; 7] = [
    "id",
    "paused",
    "api_url",
    "auth_mode",
    "sync_start",
    "afosto_tenant",
    "flows",
];

/// A header, then one row per tenant; each cell is the tenant's JSON field of that name,
/// so the table and `--json` cannot disagree.
fn list_table(tenants: &[serde_json::Value]) -> String {
    let cell = |value: Option<&serde_json::Value>| match value {
        None | Some(serde_json::Value::Null) => "-".to_owned(),
        Some(serde_json::Value::String(text)) => text.clone(),
        // Flow switches: the ones that are on.
        Some(serde_json::Value::Object(switches)) => {
            let on: Vec<&str> = switches
                .iter()
                .filter(|(_, on)| on.as_bool() == Some(true))
                .map(|(name, _)| name.as_str())
                .collect();
            if on.is_empty() {
                "none".to_owned()
            } else {
                on.join(",")
            }
        }
        Some(other) => other.to_string(),
    };
    let mut rows = vec![LIST_COLUMNS.map(str::to_owned).to_vec()];
    for tenant in tenants {
        rows.push(
            LIST_COLUMNS
                .iter()
                .map(|column| cell(tenant.get(*column)))
                .collect(),
        );
    }
    crate::output::table(&rows).trim_end().to_owned()
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

/// A new tenant from `add`: its shop and app, then the settings `update` shares.
fn build_config(
    add: &AddArgs,
    id: &TenantId,
    naming: &connector::ports::secrets::SecretNaming,
    now: DateTime<Utc>,
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
    let start = add
        .settings
        .start(now)?
        .ok_or_else(|| Usage("--start-date is required".into()))?;
    let mut config = TenantConfig::new(
        id.clone(),
        api_url,
        AuthMode::ClientCredentials,
        client_id(&add.client_id)?,
        naming.tenant_client_secret(id),
        start,
    );
    add.settings.apply(&mut config, now)?;
    Ok(config)
}

fn client_id(raw: &str) -> Result<String, Failure> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Usage("--client-id is empty".into()).into());
    }
    Ok(trimmed.to_owned())
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
