//! `epages-sync sandbox`: starts the emulated Beyond shop, loads a seed (the built-in demo
//! seed unless `--seed` is given), prints every shop's API URL and app credentials, and
//! serves until Ctrl-C.
//!
//! The sandbox has no real authentication on its admin API, so it refuses to listen on a
//! non-loopback address unless `--allow-remote` is given.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{TimeDelta, Utc};
use clap::Args;
use connector::config::ConfigError;
use connector::pipeline::poll::PollSettings;
use sandbox::seed::{self, Seed};
use sandbox::{Sandbox, SandboxError, ShopTimeZone};

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on: IP:PORT, or localhost:PORT (taken as 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8787", value_parser = listen_address)]
    pub listen: SocketAddr,
    /// Seed file (JSON, see shared/sandbox/README.md); the built-in demo seed when absent.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Allow a non-loopback listen address (the admin API is unauthenticated).
    #[arg(long)]
    pub allow_remote: bool,
    /// The zone the shop writes its offset-less timestamps in: an IANA name such as
    /// Europe/Berlin, or UTC (the default).
    #[arg(long, env = "SANDBOX_TIME_ZONE", value_parser = time_zone)]
    pub time_zone: Option<ShopTimeZone>,
    /// The global `--json` (set by `main`): the start information as one JSON document.
    #[arg(skip)]
    pub json: bool,
}

/// What `sandbox` prints once it serves: where, and each shop's app credentials.
#[derive(Debug, serde::Serialize)]
pub struct Started {
    pub base_url: String,
    pub admin_url: String,
    pub time_zone: String,
    pub shops: Vec<ShopStarted>,
}

#[derive(Debug, serde::Serialize)]
pub struct ShopStarted {
    pub name: String,
    pub api_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub products: usize,
    pub orders: usize,
}

impl Started {
    fn human(&self) -> String {
        let mut out = format!(
            "ePages Beyond sandbox listening on {}\nadmin API: {}\nshop time zone: {}\n",
            self.base_url, self.admin_url, self.time_zone
        );
        for shop in &self.shops {
            out.push_str(&format!(
                "\nshop {}\n  API URL:       {}\n  client id:     {}\n  client secret: {}\n  \
                 products:      {}\n  orders:        {}\n",
                shop.name,
                shop.api_url,
                shop.client_id,
                shop.client_secret,
                shop.products,
                shop.orders
            ));
        }
        out.push('\n');
        out
    }
}

fn time_zone(value: &str) -> Result<ShopTimeZone, String> {
    value
        .parse()
        .map_err(|error: sandbox::InvalidTimeZone| format!("--time-zone: {error}"))
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxCommandError {
    #[error("writing JSON")]
    Json(#[source] serde_json::Error),
    #[error("writing to stdout")]
    Stdout(#[source] std::io::Error),
    #[error("configuration")]
    Config(#[from] ConfigError),
    #[error(
        "refusing to listen on {0}: the sandbox admin API has no authentication; use a loopback address or pass --allow-remote"
    )]
    RemoteListen(SocketAddr),
    #[error("cannot read the seed file {path}")]
    ReadSeed {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid seed file {path}")]
    ParseSeed {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("the built-in demo seed is invalid")]
    DemoSeed(#[source] serde_json::Error),
    #[error("cannot start the sandbox")]
    Sandbox(#[from] SandboxError),
    #[error("cannot wait for Ctrl-C")]
    Signal(#[source] std::io::Error),
}

/// `--listen`: an IP address with a port, or `localhost:PORT`. `localhost` is taken as
/// 127.0.0.1 rather than looked up, so it cannot resolve to a non-loopback address.
pub fn listen_address(value: &str) -> Result<SocketAddr, String> {
    if let Some(port) = value.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("--listen: {port:?} is not a port number"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    value
        .parse()
        .map_err(|_| "--listen: expected IP:PORT or localhost:PORT".to_owned())
}

/// How far back the seed's undated orders are dated: past the poll window's skew
/// (`POLL_SKEW_SECONDS`, read as `run` reads it) by a minute, so that the first `run --once`
/// after the sandbox started imports them.
fn seed_order_age() -> Result<TimeDelta, SandboxCommandError> {
    let skew = PollSettings::from_env()?.skew;
    Ok(TimeDelta::from_std(skew).unwrap_or(TimeDelta::zero()) + TimeDelta::minutes(1))
}

/// Whether the address may be used without `--allow-remote`.
pub fn listen_allowed(listen: SocketAddr, allow_remote: bool) -> Result<(), SandboxCommandError> {
    if listen.ip().is_loopback() || allow_remote {
        Ok(())
    } else {
        Err(SandboxCommandError::RemoteListen(listen))
    }
}

fn load_seed(path: Option<&PathBuf>) -> Result<Seed, SandboxCommandError> {
    match path {
        None => seed::parse(seed::DEMO_SEED).map_err(SandboxCommandError::DemoSeed),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| SandboxCommandError::ReadSeed {
                    path: path.clone(),
                    source,
                })?;
            seed::parse(&text).map_err(|source| SandboxCommandError::ParseSeed {
                path: path.clone(),
                source,
            })
        }
    }
}

pub async fn run(args: SandboxArgs) -> Result<(), SandboxCommandError> {
    listen_allowed(args.listen, args.allow_remote)?;
    let mut seed = load_seed(args.seed.as_ref())?;
    seed.date_undated_orders(Utc::now() - seed_order_age()?);
    let sandbox = Sandbox::start(args.listen).await?;
    if let Some(zone) = args.time_zone {
        sandbox.clock().set_zone(zone);
    }
    let report = sandbox.seed(&seed)?;

    let shops: Vec<ShopStarted> = seed
        .shops
        .iter()
        .map(|shop| ShopStarted {
            name: shop.name.clone(),
            api_url: sandbox.shop_api_url(&shop.name),
            client_id: shop.client_id.clone(),
            // The sandbox's own demo credentials: printing them is the point of this command.
            client_secret: shop.client_secret.clone(),
            products: shop.products.len(),
            orders: report
                .orders
                .values()
                .filter(|o| o.shop == shop.name)
                .count(),
        })
        .collect();
    let started = Started {
        base_url: sandbox.base_url().to_owned(),
        admin_url: format!("{}/_sandbox/", sandbox.base_url()),
        time_zone: sandbox.clock().zone().to_string(),
        shops,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&started).map_err(SandboxCommandError::Json)?
        );
        // Machine readers wait for the document; stdout may be a pipe (block-buffered).
        std::io::Write::flush(&mut std::io::stdout()).map_err(SandboxCommandError::Stdout)?;
    } else {
        print!("{}", started.human());
    }
    eprintln!("Press Ctrl-C to stop.");

    tokio::signal::ctrl_c()
        .await
        .map_err(SandboxCommandError::Signal)?;
    eprintln!("stopping the sandbox");
    sandbox.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_addresses_need_the_flag() {
        let loopback: SocketAddr = "127.0.0.1:8787".parse().unwrap_or_else(|e| panic!("{e}"));
        let v6: SocketAddr = "[::1]:8787".parse().unwrap_or_else(|e| panic!("{e}"));
        let any: SocketAddr = "0.0.0.0:8787".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(listen_allowed(loopback, false).is_ok());
        assert!(listen_allowed(v6, false).is_ok());
        assert!(matches!(
            listen_allowed(any, false),
            Err(SandboxCommandError::RemoteListen(_))
        ));
        assert!(listen_allowed(any, true).is_ok());
    }

    #[test]
    fn the_demo_seed_parses() {
        let seed = load_seed(None);
        assert!(seed.is_ok_and(|seed| !seed.shops.is_empty()));
    }

    #[test]
    fn listen_takes_ip_and_port_or_localhost_and_names_the_option_otherwise() {
        assert_eq!(
            listen_address("localhost:8787"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 8787)))
        );
        assert_eq!(
            listen_address("127.0.0.1:9000"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 9000)))
        );
        assert_eq!(
            listen_address("[::1]:80").map(|a| a.ip().is_loopback()),
            Ok(true)
        );
        for bad in [
            "localhost",
            "localhost:",
            "localhost:99999",
            "example.com:80",
            "",
        ] {
            let error = listen_address(bad).expect_err(bad);
            assert!(error.starts_with("--listen:"), "{bad}: {error}");
        }
    }
}
