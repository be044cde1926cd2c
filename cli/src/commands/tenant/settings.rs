//! The tenant settings `add` and `update` share, and the one piece that validates them and
//! writes them into a configuration: `add` applies them to a new tenant, `update` to the
//! stored one, so a value `add` refuses `update` refuses too, with the same message.

use std::io::Read;

use chrono::{DateTime, Utc};
use clap::Args;
use domain::tenant::{
    InvalidTimeZone, LocationMapping, PaymentStatusFilter, ShopTimeZone, StockTarget, TenantConfig,
};
use secrecy::SecretString;

use super::{Failure, Usage};
use crate::when::PointInTime;

#[derive(Debug, Default, Args)]
pub struct SettingsArgs {
    /// The Afosto tenant (`X-Afosto-Tenant`) whose webhooks belong to this tenant.
    #[arg(long)]
    pub afosto_tenant: Option<String>,
    /// Read the client secret from stdin.
    #[arg(long, conflicts_with = "client_secret_env")]
    pub client_secret_stdin: bool,
    /// Read the client secret from this environment variable.
    #[arg(long, value_name = "VARIABLE")]
    pub client_secret_env: Option<String>,
    /// Orders created before this are never imported: a date (YYYY-MM-DD), an RFC 3339 time
    /// or a duration back from now (`30d`).
    #[arg(long, value_parser = crate::when::point_in_time)]
    pub start_date: Option<PointInTime>,
    /// Turn on order events for Afosto (on by default).
    #[arg(long, overrides_with = "no_orders")]
    pub orders: bool,
    /// Turn off order events for Afosto (imports, cancellations, shipments, … from the shop).
    #[arg(long)]
    pub no_orders: bool,
    /// Turn on applying cancel commands (on by default).
    #[arg(long, overrides_with = "no_cancellations")]
    pub cancellations: bool,
    /// Turn off applying cancel commands.
    #[arg(long)]
    pub no_cancellations: bool,
    /// Turn on applying ship, pickup and delivery commands (on by default).
    #[arg(long, overrides_with = "no_shipments")]
    pub shipments: bool,
    /// Turn off applying ship, pickup and delivery commands.
    #[arg(long)]
    pub no_shipments: bool,
    /// Turn on applying return commands (on by default).
    #[arg(long, overrides_with = "no_returns")]
    pub returns: bool,
    /// Turn off applying return commands.
    #[arg(long)]
    pub no_returns: bool,
    /// Turn on applying stock commands (on by default).
    #[arg(long, overrides_with = "no_stock")]
    pub stock: bool,
    /// Turn off applying stock commands.
    #[arg(long)]
    pub no_stock: bool,
    /// `AFOSTO_LOCATION=shop` (counts towards shop stock) or `AFOSTO_LOCATION=ignore`;
    /// repeatable; replaces that location's mapping.
    #[arg(long = "location", value_name = "LOCATION=TARGET")]
    pub locations: Vec<String>,
    /// `any`, `paid`, or a comma-separated list of Beyond payment statuses (`add`: any).
    #[arg(long)]
    pub payment_status: Option<String>,
    /// Import the shop's test orders too (left out by default).
    #[arg(long, overrides_with = "no_test_orders")]
    pub include_test_orders: bool,
    /// Leave the shop's test orders out (the default).
    #[arg(long)]
    pub no_test_orders: bool,
    /// The zone of the shop's offset-less timestamps when its clock is not UTC: an IANA
    /// name such as Europe/Berlin, or UTC (docs/ORDER-EVENTS.md, "Shop time").
    #[arg(long, value_parser = shop_time_zone)]
    pub shop_time_zone: Option<ShopTimeZone>,
}

/// Validates `--shop-time-zone` while parsing: a usage error naming the option.
fn shop_time_zone(value: &str) -> Result<ShopTimeZone, String> {
    ShopTimeZone::parse(value)
        .map_err(|error: InvalidTimeZone| format!("--shop-time-zone: {error}"))
}

/// `--x` / `--no-x`: `Some` when one was given (the later wins, by `overrides_with`).
fn switch(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

impl SettingsArgs {
    /// Whether any setting is given (an `update` without one is a usage error).
    pub fn any(&self) -> bool {
        self.afosto_tenant.is_some()
            || self.secret_given()
            || self.start_date.is_some()
            || !self.locations.is_empty()
            || self.payment_status.is_some()
            || self.include_test_orders
            || self.no_test_orders
            || self.shop_time_zone.is_some()
            || [
                self.orders,
                self.no_orders,
                self.cancellations,
                self.no_cancellations,
                self.shipments,
                self.no_shipments,
                self.returns,
                self.no_returns,
                self.stock,
                self.no_stock,
            ]
            .contains(&true)
    }

    pub fn secret_given(&self) -> bool {
        self.client_secret_stdin || self.client_secret_env.is_some()
    }

    /// The start date resolved against `now`.
    pub fn start(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Failure> {
        self.start_date
            .map(|point| {
                point
                    .resolve(now)
                    .ok_or_else(|| Usage("--start-date reaches back too far".into()).into())
            })
            .transpose()
    }

    /// Validates every given setting and writes it into `config`; what is not given stays.
    /// Nothing is written when a setting is refused.
    pub fn apply(&self, config: &mut TenantConfig, now: DateTime<Utc>) -> Result<(), Failure> {
        let mut next = config.clone();
        if let Some(afosto) = &self.afosto_tenant {
            next.afosto_tenant = Some(afosto_tenant(afosto)?);
        }
        if let Some(start) = self.start(now)? {
            next.sync_start = start;
        }
        let flows = &mut next.flows;
        for (flow, on, off) in [
            (&mut flows.orders, self.orders, self.no_orders),
            (
                &mut flows.cancellations,
                self.cancellations,
                self.no_cancellations,
            ),
            (&mut flows.shipments, self.shipments, self.no_shipments),
            (&mut flows.returns, self.returns, self.no_returns),
            (&mut flows.stock, self.stock, self.no_stock),
        ] {
            if let Some(value) = switch(on, off) {
                *flow = value;
            }
        }
        if let Some(include) = switch(self.include_test_orders, self.no_test_orders) {
            next.include_test_orders = include;
        }
        if let Some(zone) = &self.shop_time_zone {
            next.shop_time_zone = Some(zone.clone());
        }
        if let Some(raw) = &self.payment_status {
            next.payment_filter = payment_filter(raw)?;
        }
        for raw in &self.locations {
            let (location, target) = location(raw)?;
            match next
                .locations
                .iter_mut()
                .find(|m| m.afosto_location_id == location)
            {
                // The shop location it was matched with stays.
                Some(mapping) => mapping.target = target,
                None => next.locations.push(LocationMapping {
                    afosto_location_id: location,
                    target,
                    epages_location_id: None,
                }),
            }
        }
        *config = next;
        Ok(())
    }

    /// The client secret from stdin or the named environment variable, if one was given.
    pub fn read_secret(&self) -> Result<Option<SecretString>, Failure> {
        let secret = if self.client_secret_stdin {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Usage(format!("reading the client secret from stdin: {e}")))?;
            text
        } else if let Some(name) = &self.client_secret_env {
            std::env::var(name)
                .map_err(|_| Usage(format!("environment variable {name} is not set")))?
        } else {
            return Ok(None);
        };
        let secret = secret.trim().to_owned();
        if secret.is_empty() {
            return Err(Usage("the client secret is empty".into()).into());
        }
        Ok(Some(SecretString::from(secret)))
    }
}

fn afosto_tenant(raw: &str) -> Result<String, Failure> {
    if raw.is_empty()
        || raw.len() > 128
        || !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Usage(
            "--afosto-tenant: only letters, digits, '-' and '_', at most 128".into(),
        )
        .into());
    }
    Ok(raw.to_owned())
}

fn payment_filter(raw: &str) -> Result<PaymentStatusFilter, Failure> {
    Ok(match raw.trim() {
        "any" => PaymentStatusFilter::Any,
        "paid" => PaymentStatusFilter::PaidOnly,
        list => {
            let statuses: Vec<String> = list
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if statuses.is_empty() {
                return Err(Usage(format!(
                    "--payment-status {raw:?}: expected any, paid or a list of statuses"
                ))
                .into());
            }
            PaymentStatusFilter::OneOf(statuses)
        }
    })
}

fn location(raw: &str) -> Result<(String, StockTarget), Failure> {
    let (location, target) = raw
        .split_once('=')
        .filter(|(location, _)| !location.trim().is_empty())
        .ok_or_else(|| Usage(format!("--location {raw:?}: expected LOCATION=shop|ignore")))?;
    let target = match target {
        "shop" => StockTarget::ShopAvailability,
        "ignore" => StockTarget::Ignored,
        other => {
            return Err(Usage(format!(
                "--location {raw:?}: {other:?} is not shop or ignore"
            ))
            .into());
        }
    };
    Ok((location.trim().to_owned(), target))
}
