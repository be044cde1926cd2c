//! `epages-sync run`: the deployment in one local process, on the embedded backend,
//! against real shops (tenants added with `epages-sync tenant add`). The scheduler fires
//! every `--interval`, the poller and the command consumer drain their queues; commands
//! come in as JSON lines (stdin or a directory), order events and command results go out
//! as JSON lines (a file or stdout), logs go to stderr.

mod input;
mod output;
mod window_notice;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use beyond::HttpSettings;
use clap::Args;
use connector::config::ConfigError;
use connector::metrics::Metric;
use connector::pipeline::apply::ApplySettings;
use connector::pipeline::poll::PollSettings;
use connector::pipeline::schedule::ScheduleSettings;
use url::Url;

use crate::local::listen::{self, ListenError};
use crate::local::{LocalRuntime, PumpError, Pumps, RuntimeError, RuntimeSettings, Shutdown};
use input::{CommandSource, InputError};
use output::{EventSink, OutputError};

/// Shown by `run --help`; scripts (and `--once` in CI) branch on these.
const EXIT_CODES: &str = "\
Exit codes:
  0  every command line was enqueued and everything was processed
  1  the run failed: configuration, state directory, or --once not drained in time
  2  usage error
  3  the run finished, but a poll failed, a message was dead-lettered or a command line
     was rejected (see the log on stderr, `epages-sync status` and `epages-sync dlq list`)";

/// Exit code 3: the run itself worked, what it processed did not all succeed.
const EXIT_PROBLEMS: u8 = 3;

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct RunArgs {
    /// The global `--state-dir` (tenants, cursors, queues), set by `main`.
    #[arg(skip)]
    pub state_dir: PathBuf,
    /// How often every tenant is polled (the deployment's 5-minute schedule): `90s`, `5m`, `1h`.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub interval: Duration,
    /// Read commands as JSON lines from stdin (`-`, the only value).
    #[arg(long, value_name = "-", conflicts_with = "commands_dir", value_parser = parse_stdin)]
    pub commands: Option<Stdin>,
    /// Read commands from every `*.jsonl` file in DIR; a file moves to `DIR/done/` once
    /// its commands are enqueued.
    #[arg(long, value_name = "DIR")]
    pub commands_dir: Option<PathBuf>,
    /// Append order events and command results here as JSON lines (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Append refused command lines here (JSON lines with the error); always on stderr too.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// One schedule tick, drain the queues, write what came out, exit.
    #[arg(long)]
    pub once: bool,
    /// With `--once`: how long draining may take before giving up.
    #[arg(long, default_value = "2m", value_parser = parse_duration)]
    pub drain_timeout: Duration,
    /// Serve the ePages webhook receiver (and the Afosto one, at `/afosto-webhook`) on
    /// ADDR (IP:PORT or localhost:PORT), and register it with every tenant's shop at start,
    /// so shop orders arrive within seconds instead of at the next poll.
    #[arg(long, value_name = "ADDR", value_parser = super::sandbox::listen_address)]
    pub listen: Option<SocketAddr>,
    /// With `--listen`: the URL the shop calls, forwarded to ADDR (a tunnel for a real
    /// shop). Default: `http://ADDR/epages-webhook`, which a local sandbox can reach.
    #[arg(long, value_name = "URL", requires = "listen")]
    pub public_url: Option<Url>,
}

/// `--commands -`.
#[derive(Debug, Clone, Copy)]
pub struct Stdin;

fn parse_stdin(raw: &str) -> Result<Stdin, String> {
    if raw == "-" {
        Ok(Stdin)
    } else {
        Err("only `-` (stdin) is supported; use --commands-dir for files".to_owned())
    }
}

/// Durations in the CLI's one grammar (`crate::when`).
pub use crate::when::positive_duration as parse_duration;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("configuration")]
    Config(#[from] ConfigError),
    #[error("starting the local runtime")]
    Runtime(#[from] RuntimeError),
    #[error("running the handlers")]
    Pump(#[from] PumpError),
    #[error("reading commands")]
    Input(#[from] InputError),
    #[error("writing events")]
    Output(#[from] OutputError),
    #[error("serving the webhook receivers")]
    Listen(#[from] ListenError),
}

/// What a finished run ran into; any of it makes the exit code 3.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Problems {
    pub polls_failed: u64,
    pub dead_lettered: u64,
    pub lines_rejected: usize,
}

impl Problems {
    pub fn any(&self) -> bool {
        self.polls_failed > 0 || self.dead_lettered > 0 || self.lines_rejected > 0
    }
}

/// Runs and maps the outcome to the exit codes in [`EXIT_CODES`].
pub async fn main(args: RunArgs) -> ExitCode {
    match run(args).await {
        Ok(problems) if problems.any() => {
            eprintln!(
                "error: finished with problems: {} failed poll(s), {} dead-lettered \
                 message(s), {} rejected command line(s)",
                problems.polls_failed, problems.dead_lettered, problems.lines_rejected
            );
            ExitCode::from(EXIT_PROBLEMS)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", super::report(&error));
            ExitCode::FAILURE
        }
    }
}

pub async fn run(args: RunArgs) -> Result<Problems, RunError> {
    let mut schedule = ScheduleSettings::from_env()?;
    // Spread the polls over at most four fifths of the interval, as the deployment spreads
    // them over four of its five minutes; one tick with `--once` is not spread at all.
    let spread_cap = if args.once {
        Duration::ZERO
    } else {
        args.interval.mul_f64(0.8)
    };
    schedule.spread = schedule.spread.min(spread_cap);
    let settings = RuntimeSettings {
        poll: PollSettings::from_env()?,
        schedule,
        apply: ApplySettings::from_env()?,
        http: HttpSettings::default(),
    };
    let runtime = Arc::new(LocalRuntime::open(&args.state_dir, settings).await?);
    let pumps = Arc::new(Pumps::new(runtime.clone()));
    // Dead letters left by earlier runs are not this run's problem: count from here.
    let dead_letters_before = pumps.dead_letter_total().await?;
    let sink = EventSink::open(args.events.as_deref()).await?;
    let source = CommandSource::new(
        args.commands.is_some(),
        args.commands_dir.clone(),
        args.rejects.clone(),
        runtime.queues.commands.clone(),
    );
    tracing::info!(
        state_dir = %args.state_dir.display(),
        interval = ?args.interval,
        once = args.once,
        "local runner started"
    );
    let listening = Shutdown::default();
    let listener = match args.listen {
        Some(addr) => {
            Some(start_listening(&runtime, addr, args.public_url.clone(), &listening).await?)
        }
        None => None,
    };
    let lines_rejected = if args.once {
        run_once(&args, &pumps, source, sink).await?
    } else {
        run_until_stopped(&args, &pumps, source, sink).await?
    };
    listening.trigger();
    if let Some(listener) = listener
        && let Err(error) = listener.served.await
    {
        tracing::warn!(%error, "the webhook listener stopped abnormally");
    }
    let dead_letters_after = pumps.dead_letter_total().await?;
    Ok(Problems {
        // Counted by the poller per failed poll, also when a retry later succeeded: the
        // failure still happened and is in the log.
        polls_failed: runtime.metrics.snapshot().get(Metric::PollsFailed),
        dead_lettered: dead_letters_after.saturating_sub(dead_letters_before),
        lines_rejected,
    })
}

/// Serves the receivers, then registers them with every tenant's shop (the shop may call
/// as soon as its subscription exists).
async fn start_listening(
    runtime: &LocalRuntime,
    addr: SocketAddr,
    public_url: Option<Url>,
    shutdown: &Shutdown,
) -> Result<listen::Listener, RunError> {
    let listener = listen::serve(runtime, addr, public_url, shutdown.clone()).await?;
    let summary = listen::register_tenants(runtime, &listener.public_url).await?;
    eprintln!(
        "webhooks: listening on {} for {}; registered with {} shop(s), already with {}, failed for {}{}",
        listener.local_addr,
        listener.public_url,
        summary.registered.len(),
        summary.already.len(),
        summary.failed.len(),
        summary
            .failed
            .iter()
            .map(|(tenant, reason)| format!("\n  {tenant}: {reason}"))
            .collect::<String>(),
    );
    Ok(listener)
}

/// Commands first (so the one tick's invocations see them), then one tick, then drain.
/// Returns how many command lines were rejected.
async fn run_once(
    args: &RunArgs,
    pumps: &Arc<Pumps>,
    source: CommandSource,
    mut sink: EventSink,
) -> Result<usize, RunError> {
    let read = source.read_all().await?;
    let summary = pumps.tick().await?;
    tracing::info!(
        tenants = summary.tenants_listed,
        polls = summary.enqueued,
        "scheduled"
    );
    pumps.drain(args.drain_timeout).await?;
    let written = sink
        .forward_all(&pumps.runtime().queues.order_events)
        .await?;
    summarize(pumps, read.enqueued, read.rejected, written);
    window_notice::report(pumps.runtime()).await;
    Ok(read.rejected)
}

/// Returns how many command lines were rejected.
async fn run_until_stopped(
    args: &RunArgs,
    pumps: &Arc<Pumps>,
    source: CommandSource,
    sink: EventSink,
) -> Result<usize, RunError> {
    let shutdown = Shutdown::default();
    let outbound = pumps.runtime().queues.order_events.clone();
    // The writer stops only after the handlers did, so their last results are written.
    let output_done = Shutdown::default();
    let forwarding = tokio::spawn(sink.forward_until(outbound, output_done.clone()));
    let reading = tokio::spawn(source.follow(shutdown.clone()));
    let stop = async {
        wait_for_signal().await;
        tracing::info!("stopping: finishing the current invocations");
        shutdown.trigger();
    };
    tokio::join!(pumps.run_until(args.interval, &shutdown), stop);
    output_done.trigger();
    let read = reading.await.unwrap_or_else(|error| {
        tracing::warn!(%error, "the command reader stopped abnormally");
        Ok(input::ReadSummary::default())
    })?;
    let written = match forwarding.await {
        Ok(written) => written?,
        Err(error) => {
            tracing::warn!(%error, "the event writer stopped abnormally");
            0
        }
    };
    summarize(pumps, read.enqueued, read.rejected, written);
    Ok(read.rejected)
}

fn summarize(pumps: &Pumps, enqueued: usize, rejected: usize, written: usize) {
    let stats = pumps.stats();
    tracing::info!(
        commands_enqueued = enqueued,
        commands_rejected = rejected,
        messages_written = written,
        schedule_ticks = stats.schedule_ticks,
        poll_invocations = stats.poll_invocations,
        command_invocations = stats.command_invocations,
        errors = stats.errors,
        "local runner done"
    );
}

/// Ctrl-C, or SIGTERM (how service managers and containers stop a process).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot watch SIGTERM; Ctrl-C only"),
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!(%error, "cannot watch Ctrl-C; stopping now");
    }
}
