//! `epages-sync status [--tenant T] [--json]`: per tenant, whether it is paused, its flows,
//! its polling (last attempt, last success, lag, cursor, last error, failed polls) and its
//! activity of the last 24 hours by direction and outcome; for the deployment, the depth of
//! every queue and dead-letter queue.
//!
//! Exit codes: 0 whenever the report was produced, even when it shows failures (status is
//! informational; alert on the JSON instead), 1 the state or the queues could not be read,
//! 2 usage or input error (bad or unknown tenant).

use std::process::ExitCode;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use connector::ports::activity::TimeRange;
use connector::ports::{PageRequest, StateStores, StoreError};
use domain::activity::{ActivityOutcome, Direction, EntityKind};
use domain::poll_state::PollCursor;
use domain::tenant::{FlowSwitches, InvalidTenantId, TenantConfig, TenantId};
use serde::Serialize;

use crate::backend::{self, BackendArgs, BackendError};
use crate::output;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Global options, set by `main` (`--json`: one JSON document on stdout).
    #[arg(skip)]
    pub backend: BackendArgs,
    /// One tenant (paused or not); without it, every active (unpaused) tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(skip)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("tenant id {raw:?}")]
    TenantId {
        raw: String,
        #[source]
        source: InvalidTenantId,
    },
    #[error("no tenant {0}")]
    NoTenant(TenantId),
    #[error("opening the backend")]
    Backend(#[from] BackendError),
    #[error("reading the state")]
    Store(#[from] StoreError),
    #[error("reading the depth of the {queue} queue")]
    Depth {
        queue: String,
        #[source]
        source: StoreError,
    },
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
}

impl StatusError {
    fn exit_code(&self) -> ExitCode {
        match self {
            Self::TenantId { .. } | Self::NoTenant(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

pub async fn main(args: StatusArgs) -> ExitCode {
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", super::report(&error));
            error.exit_code()
        }
    }
}

/// Activity counts of one direction in the window.
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub ok: u64,
    pub skipped: u64,
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, outcome: ActivityOutcome) {
        match outcome {
            ActivityOutcome::Ok => self.ok += 1,
            ActivityOutcome::Skipped => self.skipped += 1,
            ActivityOutcome::Failed => self.failed += 1,
        }
    }

    fn human(&self) -> String {
        format!("{}/{}/{}", self.ok, self.skipped, self.failed)
    }
}

#[derive(Debug, Serialize)]
pub struct TenantStatus {
    pub tenant: TenantId,
    pub paused: bool,
    pub flows: FlowSwitches,
    /// The later of the last success and the last failure.
    pub last_poll_attempt_at: Option<DateTime<Utc>>,
    pub last_poll_success_at: Option<DateTime<Utc>>,
    /// Now minus the last success; `null` before the first one.
    pub poll_lag_seconds: Option<i64>,
    pub cursor: PollCursor,
    pub last_error: Option<LastError>,
    /// Failed polls in the window (each is in `log` as a `poll` entry); a poll failure
    /// later recovered from does not by itself need attention.
    pub polls_failed: u64,
    /// ePages → Afosto (order events) in the window.
    pub events: Counts,
    /// Afosto → ePages (commands) in the window.
    pub commands: Counts,
    /// The activity entries counted stop here, so the counts are a lower bound.
    pub activity_truncated: bool,
    /// Failures in the window, or a last poll error newer than the last success.
    pub attention: bool,
    /// The shop's clock disagrees with the configured zone (docs/ORDER-EVENTS.md, "Shop
    /// time"); its activity entry also counts as a failed event in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop_time_warning: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LastError {
    pub at: DateTime<Utc>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct QueueStatus {
    /// `poll`, `order-events` or `commands`, as `dlq --queue` names them.
    pub queue: &'static str,
    pub name: String,
    pub depth: u64,
    pub in_flight: u64,
    pub dead_letter_name: String,
    pub dead_letters: u64,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub generated_at: DateTime<Utc>,
    pub window_hours: i64,
    pub tenants: Vec<TenantStatus>,
    pub queues: Vec<QueueStatus>,
    /// Any tenant needing attention or any dead letter.
    pub attention: bool,
}

const WINDOW_HOURS: i64 = 24;
/// Counting stops after this many entries per tenant, so a flood cannot stall `status`.
const MAX_COUNTED: usize = 100_000;

pub async fn run(args: StatusArgs) -> Result<(), StatusError> {
    let opened = backend::open(&args.backend).await?;
    let queues = backend::open_queues(&args.backend, opened.clock.clone()).await?;
    let now = opened.clock.now();
    let stores = &opened.stores;

    let tenants = match &args.tenant {
        Some(raw) => {
            let id = TenantId::parse(raw).map_err(|source| StatusError::TenantId {
                raw: raw.clone(),
                source,
            })?;
            let config = stores
                .tenants
                .get(&id)
                .await?
                .ok_or(StatusError::NoTenant(id))?;
            vec![config]
        }
        None => active_tenants(stores).await?,
    };
    let mut rows = Vec::with_capacity(tenants.len());
    for config in tenants {
        rows.push(tenant_status(stores, config, now).await?);
    }

    let mut queue_rows = Vec::new();
    for (name, source, dead_letters) in queues.pairs() {
        let depth = source.depth().await.map_err(|source| StatusError::Depth {
            queue: name.to_owned(),
            source,
        })?;
        let dead = dead_letters
            .depth()
            .await
            .map_err(|source| StatusError::Depth {
                queue: format!("{name} dead-letter"),
                source,
            })?;
        queue_rows.push(QueueStatus {
            queue: name,
            name: source.name().to_owned(),
            depth: depth.visible + depth.delayed,
            in_flight: depth.in_flight,
            dead_letter_name: dead_letters.name().to_owned(),
            dead_letters: dead.total(),
        });
    }
    let attention =
        rows.iter().any(|t| t.attention) || queue_rows.iter().any(|q| q.dead_letters > 0);
    let status = Status {
        generated_at: now,
        window_hours: WINDOW_HOURS,
        tenants: rows,
        queues: queue_rows,
        attention,
    };
    if args.json {
        println!("{}", serde_json::to_string(&status)?);
    } else {
        print!("{}", human(&status));
    }
    Ok(())
}

async fn active_tenants(stores: &StateStores) -> Result<Vec<TenantConfig>, StoreError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(1000);
    loop {
        let listed = stores.tenants.list_active(page).await?;
        all.extend(listed.items);
        match listed.next {
            Some(token) => page = PageRequest::after(1000, token),
            None => return Ok(all),
        }
    }
}

async fn tenant_status(
    stores: &StateStores,
    config: TenantConfig,
    now: DateTime<Utc>,
) -> Result<TenantStatus, StoreError> {
    let poll = stores.poll_state.get(&config.id).await?;
    let range = TimeRange {
        from: Some(now - TimeDelta::hours(WINDOW_HOURS)),
        to: None,
    };
    let (mut events, mut commands) = (Counts::default(), Counts::default());
    let mut polls_failed = 0;
    let mut counted = 0usize;
    let mut truncated = false;
    let mut page = PageRequest::first(1000);
    loop {
        let listed = stores
            .activity
            .by_tenant(&config.id, range, page, now)
            .await?;
        for entry in &listed.items {
            match entry.direction {
                _ if entry.entity.kind == EntityKind::Tenant && entry.action == "poll" => {
                    polls_failed += u64::from(entry.outcome == ActivityOutcome::Failed);
                }
                Direction::EpagesToAfosto => events.add(entry.outcome),
                Direction::AfostoToEpages => commands.add(entry.outcome),
            }
        }
        counted += listed.items.len();
        match listed.next {
            Some(_) if counted >= MAX_COUNTED => {
                truncated = true;
                break;
            }
            Some(token) => page = PageRequest::after(1000, token),
            None => break,
        }
    }
    let last_failure_at = poll.last_failure.as_ref().map(|f| f.at);
    let failing_now = match (last_failure_at, poll.last_success_at) {
        (Some(failed), Some(succeeded)) => failed > succeeded,
        (Some(_), None) => true,
        _ => false,
    };
    let shop_time_warning = config
        .learned_shop_offset
        .as_ref()
        .and_then(|learned| learned.warning());
    Ok(TenantStatus {
        tenant: config.id,
        paused: config.paused,
        flows: config.flows,
        last_poll_attempt_at: last_failure_at.max(poll.last_success_at),
        last_poll_success_at: poll.last_success_at,
        poll_lag_seconds: poll.last_success_at.map(|at| (now - at).num_seconds()),
        cursor: poll.cursor,
        last_error: poll.last_failure.map(|f| LastError {
            at: f.at,
            message: f.message,
        }),
        attention: failing_now
            || events.failed > 0
            || commands.failed > 0
            || shop_time_warning.is_some(),
        shop_time_warning,
        polls_failed,
        events,
        commands,
        activity_truncated: truncated,
    })
}

fn flows(flows: &FlowSwitches) -> String {
    let on: Vec<&str> = [
        ("orders", flows.orders),
        ("cancellations", flows.cancellations),
        ("shipments", flows.shipments),
        ("returns", flows.returns),
        ("stock", flows.stock),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if on.is_empty() {
        "none".to_owned()
    } else {
        on.join(",")
    }
}

fn human(status: &Status) -> String {
    let mut rows = vec![
        [
            "",
            "TENANT",
            "STATE",
            "LAST POLL",
            "LAST SUCCESS",
            "LAG",
            "CURSOR",
            "POLL FAILS 24h",
            "EVENTS 24h ok/skip/FAIL",
            "COMMANDS 24h ok/skip/FAIL",
            "FLOWS",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for t in &status.tenants {
        let plus = if t.activity_truncated { "+" } else { "" };
        rows.push(vec![
            if t.attention {
                "!".into()
            } else {
                String::new()
            },
            t.tenant.to_string(),
            if t.paused {
                "PAUSED".into()
            } else {
                "active".into()
            },
            output::time_or_dash(t.last_poll_attempt_at),
            output::time_or_dash(t.last_poll_success_at),
            t.poll_lag_seconds
                .map_or_else(|| "-".into(), |s| output::duration(TimeDelta::seconds(s))),
            t.cursor
                .updated_after
                .map_or_else(|| "-".into(), output::time),
            format!("{}{plus}", t.polls_failed),
            format!("{}{plus}", t.events.human()),
            format!("{}{plus}", t.commands.human()),
            flows(&t.flows),
        ]);
    }
    let mut out = if status.tenants.is_empty() {
        "no tenants\n".to_owned()
    } else {
        output::table(&rows)
    };
    for t in status.tenants.iter().filter(|t| t.last_error.is_some()) {
        if let Some(error) = &t.last_error {
            out.push_str(&format!(
                "last poll error of {} at {}: {}\n",
                t.tenant,
                output::time(error.at),
                output::preview(&error.message, 300)
            ));
        }
    }
    for t in &status.tenants {
        if let Some(warning) = &t.shop_time_warning {
            out.push_str(&format!("shop time of {}: {warning}\n", t.tenant));
        }
    }
    out.push('\n');
    let mut queues = vec![
        ["", "QUEUE", "WAITING", "IN FLIGHT", "DEAD LETTERS", "NAME"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for q in &status.queues {
        queues.push(vec![
            if q.dead_letters > 0 {
                "!".into()
            } else {
                String::new()
            },
            q.queue.to_owned(),
            q.depth.to_string(),
            q.in_flight.to_string(),
            q.dead_letters.to_string(),
            q.name.clone(),
        ]);
    }
    out.push_str(&output::table(&queues));
    if status.attention {
        out.push_str(
            "\n! needs attention: see `epages-sync log --tenant T` and `epages-sync dlq list`\n",
        );
    }
    out
}
