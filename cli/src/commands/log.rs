//! `epages-sync log --tenant T [--order O | --sku S] [--since 24h|DATE] [--limit 50]
//! [--json]`: the activity log, newest first.
//!
//! `--order` takes the ePages order id (a UUID) or the order number the merchant sees:
//! a UUID is looked up directly; anything else is looked up as written (commands that
//! named the order by number are logged under it) and resolved to the ids of the orders
//! with that number found in the tenant's log within `--since` (default: the whole
//! retention), whose entries are merged in.
//!
//! Exit codes: 0 ok (also when nothing matched), 1 the log could not be read, 2 usage or
//! input error.

use std::collections::BTreeSet;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use connector::ports::activity::TimeRange;
use connector::ports::{ActivityLog, PageRequest, StoreError};
use domain::activity::{ActivityEntry, ActivityOutcome, Direction, EntityKind};
use domain::tenant::{InvalidTenantId, TenantId};

use crate::backend::{self, BackendArgs, BackendError};
use crate::output;
use crate::when::PointInTime;

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Global options, set by `main` (`--json`: one JSON object per line, the stored entry).
    #[arg(skip)]
    pub backend: BackendArgs,
    /// The tenant whose activity log is shown.
    #[arg(long)]
    pub tenant: String,
    /// Entries about one order: its ePages id (UUID) or its order number.
    #[arg(long, conflicts_with = "sku")]
    pub order: Option<String>,
    /// Entries about one SKU.
    #[arg(long)]
    pub sku: Option<String>,
    /// Only entries at or after this: a duration back from now (`30m`, `24h`, `7d`), a
    /// date (`YYYY-MM-DD`) or an RFC 3339 time.
    #[arg(long, value_parser = crate::when::point_in_time)]
    pub since: Option<PointInTime>,
    /// At most this many entries.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(skip)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("tenant id {raw:?}")]
    TenantId {
        raw: String,
        #[source]
        source: InvalidTenantId,
    },
    #[error("--since reaches back too far")]
    Since,
    #[error("--limit must be at least 1")]
    Limit,
    #[error("opening the backend")]
    Backend(#[from] BackendError),
    #[error("reading the activity log")]
    Store(#[from] StoreError),
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
}

impl LogError {
    fn exit_code(&self) -> ExitCode {
        match self {
            Self::TenantId { .. } | Self::Since | Self::Limit => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

pub async fn main(args: LogArgs) -> ExitCode {
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", super::report(&error));
            error.exit_code()
        }
    }
}

pub async fn run(args: LogArgs) -> Result<(), LogError> {
    let tenant = TenantId::parse(&args.tenant).map_err(|source| LogError::TenantId {
        raw: args.tenant.clone(),
        source,
    })?;
    if args.limit == 0 {
        return Err(LogError::Limit);
    }
    let opened = backend::open(&args.backend).await?;
    let now = opened.clock.now();
    let since = match args.since {
        Some(point) => Some(point.resolve(now).ok_or(LogError::Since)?),
        None => None,
    };
    let log = opened.stores.activity.as_ref();
    let limit = args.limit as usize;
    let range = TimeRange {
        from: since,
        to: None,
    };
    let entries = match (&args.order, &args.sku) {
        (Some(order), _) => {
            let mut ids = BTreeSet::from([order.clone()]);
            if uuid_like(order) {
                // An id: nothing to resolve.
            } else {
                ids.extend(order_ids_for_number(log, &tenant, order, range, now).await?);
            }
            let mut all = Vec::new();
            for id in &ids {
                all.extend(entity(log, &tenant, EntityKind::Order, id, range, limit, now).await?);
            }
            all.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.entry_id.cmp(&a.entry_id)));
            all.dedup_by(|a, b| a.entry_id == b.entry_id);
            all.truncate(limit);
            all
        }
        (None, Some(sku)) => entity(log, &tenant, EntityKind::Sku, sku, range, limit, now).await?,
        (None, None) => by_tenant(log, &tenant, range, limit, now).await?,
    };
    if args.json {
        for entry in &entries {
            println!("{}", serde_json::to_string(entry)?);
        }
    } else {
        print!("{}", human(&entries));
    }
    Ok(())
}

/// ePages order ids are UUIDs; order numbers are not.
fn uuid_like(raw: &str) -> bool {
    raw.len() == 36
        && raw.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

async fn by_tenant(
    log: &dyn ActivityLog,
    tenant: &TenantId,
    range: TimeRange,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<ActivityEntry>, StoreError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(page_size(limit));
    loop {
        let listed = log.by_tenant(tenant, range, page, now).await?;
        all.extend(listed.items);
        match listed.next {
            Some(token) if all.len() < limit => page = PageRequest::after(page_size(limit), token),
            _ => break,
        }
    }
    all.truncate(limit);
    Ok(all)
}

async fn entity(
    log: &dyn ActivityLog,
    tenant: &TenantId,
    kind: EntityKind,
    id: &str,
    range: TimeRange,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<ActivityEntry>, StoreError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(page_size(limit));
    loop {
        let listed = log.by_entity(tenant, kind, id, page, now).await?;
        // Newest first: once an entry is older than the window, the rest are too.
        let left_window = listed
            .items
            .iter()
            .any(|e| range.from.is_some_and(|from| e.at < from));
        all.extend(listed.items.into_iter().filter(|e| range.contains(e.at)));
        match listed.next {
            Some(token) if all.len() < limit && !left_window => {
                page = PageRequest::after(page_size(limit), token);
            }
            _ => break,
        }
    }
    all.truncate(limit);
    Ok(all)
}

/// The ids of the orders whose entries carry `number`, from the tenant's log in `range`.
async fn order_ids_for_number(
    log: &dyn ActivityLog,
    tenant: &TenantId,
    number: &str,
    range: TimeRange,
    now: DateTime<Utc>,
) -> Result<BTreeSet<String>, StoreError> {
    let mut ids = BTreeSet::new();
    let mut page = PageRequest::first(1000);
    loop {
        let listed = log.by_tenant(tenant, range, page, now).await?;
        ids.extend(
            listed
                .items
                .into_iter()
                .filter(|e| {
                    e.entity.kind == EntityKind::Order && e.entity.number.as_deref() == Some(number)
                })
                .map(|e| e.entity.id),
        );
        match listed.next {
            Some(token) => page = PageRequest::after(1000, token),
            None => return Ok(ids),
        }
    }
}

fn page_size(limit: usize) -> u32 {
    limit.clamp(1, connector::ports::paging::MAX_PAGE as usize) as u32
}

fn human(entries: &[ActivityEntry]) -> String {
    if entries.is_empty() {
        return "no entries\n".to_owned();
    }
    let mut rows = vec![
        [
            "TIME",
            "DIRECTION",
            "ACTION",
            "OUTCOME",
            "ENTITY",
            "CORRELATION",
            "ERROR",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for e in entries {
        let entity = match &e.entity.number {
            Some(number) if *number != e.entity.id => {
                format!("{} {} (#{number})", e.entity.kind.as_str(), e.entity.id)
            }
            _ => format!("{} {}", e.entity.kind.as_str(), e.entity.id),
        };
        let correlation = [
            ("msg", &e.correlation.message_id),
            ("cmd", &e.correlation.command_id),
            ("evt", &e.correlation.event_id),
        ]
        .into_iter()
        .filter_map(|(name, id)| id.as_ref().map(|id| format!("{name}={id}")))
        .collect::<Vec<_>>()
        .join(" ");
        rows.push(vec![
            output::time(e.at),
            match e.direction {
                Direction::EpagesToAfosto => "epages→afosto".into(),
                Direction::AfostoToEpages => "afosto→epages".into(),
            },
            e.action.clone(),
            match e.outcome {
                ActivityOutcome::Ok => "ok".into(),
                ActivityOutcome::Skipped => "skipped".into(),
                ActivityOutcome::Failed => "FAILED".into(),
            },
            entity,
            if correlation.is_empty() {
                "-".into()
            } else {
                correlation
            },
            e.error
                .as_deref()
                .map_or_else(String::new, |error| output::preview(error, 200)),
        ]);
    }
    output::table(&rows)
}
