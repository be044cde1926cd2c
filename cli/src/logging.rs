//! What the CLI writes on stderr: the level set by `-v` / `-q` (or `RUST_LOG`), colours only
//! on a terminal, and repeated failures of one tenant summarised instead of repeated.
//!
//! An unreachable shop fails every request of every poll, each retry warning on its own,
//! about twenty lines per tick; the tenant's other news, and every other tenant's, would
//! scroll away. So per tenant the first warning of a streak is shown whole, the ones after
//! it are counted, and at most once a [`SUMMARY_EVERY`] one line says how many there were
//! and the last cause: `tenant acme: still failing (19 more times since 16:05: …)`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// At most one summary line per tenant this often.
pub const SUMMARY_EVERY: TimeDelta = TimeDelta::minutes(1);

/// From quietest to most detailed; the default is `info` (`warn` for the demo).
const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

pub struct Verbosity {
    pub verbose: u8,
    pub quiet: u8,
    /// The command's output is its own (the demo): one step quieter by default.
    pub quiet_by_default: bool,
    /// JSON log lines (`run --json`): for a machine, nothing summarised.
    pub json: bool,
}

impl Verbosity {
    /// `-v` / `-q` decide when given; otherwise `RUST_LOG`, otherwise the default.
    fn filter(&self) -> EnvFilter {
        let default = if self.quiet_by_default { 1 } else { 2 };
        if self.verbose == 0 && self.quiet == 0 {
            return EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new(LEVELS[default]));
        }
        let index = (default + usize::from(self.verbose))
            .saturating_sub(usize::from(self.quiet))
            .min(LEVELS.len() - 1);
        EnvFilter::new(LEVELS[index])
    }
}

pub fn init(verbosity: &Verbosity) {
    let filter = aws_adapters::lambda::secret_safe_filter(verbosity.filter());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if verbosity.json {
        builder.json().init();
        return;
    }
    let ansi = colour_on_stderr();
    builder
        .with_ansi(ansi)
        .event_format(Summarising::new(
            tracing_subscriber::fmt::format().with_ansi(ansi),
        ))
        .init();
}

/// Colour codes only where a person reads them (a terminal), and never when `NO_COLOR` is
/// set to anything non-empty (https://no-color.org): in a log file or a pipe they are noise.
fn colour_on_stderr() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// What to do with one warning of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// The first of a streak (or the first after a quiet minute): as it is.
    Whole,
    /// Counted for the next summary.
    Counted,
    /// This line instead of the warning.
    Summary(String),
}

#[derive(Debug)]
struct Streak {
    /// When the last line about the tenant was shown.
    shown_at: DateTime<Utc>,
    /// Warnings counted since then (this one not included).
    counted: u64,
    last_cause: String,
}

/// Per tenant, the warnings since the last line shown. Pure (the caller passes the time),
/// so the once-a-minute rule is tested with chosen instants rather than by waiting.
#[derive(Debug, Default)]
pub struct Streaks {
    tenants: BTreeMap<String, Streak>,
}

/// The process's streaks: the formatter counts into them, [`flush`] reports what is left.
static STREAKS: Mutex<Streaks> = Mutex::new(Streaks {
    tenants: BTreeMap::new(),
});

/// At the end of a command: one summary line per tenant with warnings counted since its
/// last line (a `run --once` is over before a minute passes).
pub fn flush() {
    let lines = match STREAKS.lock() {
        Ok(mut streaks) => streaks.pending(),
        Err(_) => return,
    };
    for line in lines {
        eprintln!(
            "{}  WARN {line}",
            Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ")
        );
    }
}

impl Streaks {
    /// The summaries of the warnings counted and not reported yet; the counts start over.
    pub fn pending(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for (tenant, streak) in &mut self.tenants {
            if streak.counted > 0 {
                lines.push(summary(
                    tenant,
                    streak.counted,
                    streak.shown_at,
                    &streak.last_cause,
                ));
                streak.counted = 0;
            }
        }
        lines
    }

    pub fn observe(&mut self, tenant: &str, cause: &str, now: DateTime<Utc>) -> Shown {
        let Some(streak) = self.tenants.get_mut(tenant) else {
            self.tenants.insert(
                tenant.to_owned(),
                Streak {
                    shown_at: now,
                    counted: 0,
                    last_cause: cause.to_owned(),
                },
            );
            return Shown::Whole;
        };
        if now - streak.shown_at < SUMMARY_EVERY {
            streak.counted += 1;
            streak.last_cause = cause.to_owned();
            return Shown::Counted;
        }
        let shown = if streak.counted == 0 {
            Shown::Whole
        } else {
            Shown::Summary(summary(tenant, streak.counted + 1, streak.shown_at, cause))
        };
        streak.shown_at = now;
        streak.counted = 0;
        streak.last_cause = cause.to_owned();
        shown
    }
}

fn summary(tenant: &str, more: u64, since: DateTime<Utc>, cause: &str) -> String {
    format!(
        "tenant {tenant}: still failing ({more} more times since {}: {})",
        since.format("%H:%M"),
        crate::output::preview(cause, 300)
    )
}

/// The default line format, with warnings and errors of a tenant passed through [`Streaks`].
pub struct Summarising<F> {
    inner: F,
}

impl<F> Summarising<F> {
    pub fn new(inner: F) -> Self {
        Self { inner }
    }
}

impl<S, N, F> FormatEvent<S, N> for Summarising<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let level = *event.metadata().level();
        if level > Level::WARN {
            return self.inner.format_event(ctx, writer, event);
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let tenant = fields.tenant.take().or_else(|| span_tenant(ctx));
        let Some(tenant) = tenant else {
            return self.inner.format_event(ctx, writer, event);
        };
        let cause = fields
            .error
            .or(fields.reason)
            .or(fields.message)
            .unwrap_or_default();
        let now = Utc::now();
        let shown = match STREAKS.lock() {
            Ok(mut streaks) => streaks.observe(&tenant, &cause, now),
            // A panic elsewhere while the lock was held: show everything rather than lose it.
            Err(_) => Shown::Whole,
        };
        match shown {
            Shown::Whole => self.inner.format_event(ctx, writer, event),
            // Nothing written: the line is dropped, not left empty.
            Shown::Counted => Ok(()),
            Shown::Summary(line) => writeln!(
                writer,
                "{} {level:>5} {line}",
                now.format("%Y-%m-%dT%H:%M:%S%.6fZ")
            ),
        }
    }
}

/// The tenant a span of the event recorded (`tenant=…` in its formatted fields): the record
/// span learns it after the retries of its requests started warning.
fn span_tenant<S, N>(ctx: &FmtContext<'_, S, N>) -> Option<String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    let scope = ctx.event_scope()?;
    for span in scope {
        let extensions = span.extensions();
        let Some(formatted) = extensions.get::<FormattedFields<N>>() else {
            continue;
        };
        let found = formatted
            .fields
            .split_whitespace()
            .find_map(|field| field.strip_prefix("tenant="))
            .map(|value| value.trim_matches('"').to_owned())
            .filter(|value| !value.is_empty());
        if found.is_some() {
            return found;
        }
    }
    None
}

#[derive(Default)]
struct Fields {
    tenant: Option<String>,
    error: Option<String>,
    reason: Option<String>,
    message: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = || format!("{value:?}");
        match field.name() {
            "tenant" => self.tenant = Some(text().trim_matches('"').to_owned()),
            "error" => self.error = Some(text()),
            "reason" => self.reason = Some(text()),
            "message" => self.message = Some(text()),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let text = Some(value.to_owned());
        match field.name() {
            "tenant" => self.tenant = text,
            "error" => self.error = text,
            "reason" => self.reason = text,
            "message" => self.message = text,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake clock is right here: the rule is "at most one line a minute", so the test
    /// chooses the instants of each warning instead of waiting minutes.
    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_790_000_000 + seconds, 0)
            .unwrap_or_else(|| panic!("a time"))
    }

    #[test]
    fn a_streak_shows_its_first_warning_then_one_summary_a_minute() {
        let mut streaks = Streaks::default();
        assert_eq!(
            streaks.observe("acme", "connect refused", at(0)),
            Shown::Whole
        );
        // Twenty warnings in one tick: counted, not shown.
        for second in 1..=20 {
            assert_eq!(
                streaks.observe("acme", "connect refused", at(second)),
                Shown::Counted
            );
        }
        // Another tenant is not held back by acme's streak.
        assert_eq!(streaks.observe("other", "HTTP 503", at(21)), Shown::Whole);
        // A minute after the first line: one summary with the count and the last cause.
        match streaks.observe("acme", "timed out", at(61)) {
            Shown::Summary(line) => {
                assert!(line.starts_with("tenant acme: still failing (21 more times since "));
                assert!(line.ends_with(": timed out)"), "{line}");
            }
            other => panic!("expected a summary, got {other:?}"),
        }
        assert_eq!(streaks.observe("acme", "timed out", at(62)), Shown::Counted);
        assert_eq!(streaks.observe("acme", "refused", at(63)), Shown::Counted);
        // At the end of the command, what was counted since the last line is reported once.
        let pending = streaks.pending();
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert!(pending[0].starts_with("tenant acme: still failing (2 more times since "));
        assert!(pending[0].ends_with(": refused)"), "{}", pending[0]);
        assert!(streaks.pending().is_empty());
        // After a quiet spell with nothing counted, a new failure is shown whole.
        let mut quiet = Streaks::default();
        assert_eq!(quiet.observe("acme", "a", at(0)), Shown::Whole);
        assert_eq!(quiet.observe("acme", "b", at(3600)), Shown::Whole);
    }

    #[test]
    fn verbosity_flags_move_from_the_default_level() {
        let level = |verbose, quiet, quiet_by_default| {
            Verbosity {
                verbose,
                quiet,
                quiet_by_default,
                json: false,
            }
            .filter()
            .to_string()
        };
        assert_eq!(level(1, 0, false), "debug");
        assert_eq!(level(2, 0, false), "trace");
        assert_eq!(level(9, 0, false), "trace");
        assert_eq!(level(0, 1, false), "warn");
        assert_eq!(level(0, 2, false), "error");
        assert_eq!(level(0, 9, false), "error");
        assert_eq!(level(0, 1, true), "error");
        assert_eq!(level(1, 0, true), "info");
    }
}
