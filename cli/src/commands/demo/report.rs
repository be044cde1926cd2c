//! The demo's final report on stdout: what went each way, the Beyond API calls the shop
//! received (counted in the sandbox's journal), latencies, and the verdict.

use std::collections::BTreeMap;
use std::time::Duration;

use sandbox::{JournalEntry, JournalFilter, SandboxHandle};

use super::afosto::Afosto;
use super::scenario::SHOP;
use super::verify::outcome_label;
use crate::local::pumps::PumpStats;
use connector::metrics::MetricsSnapshot;

pub struct Report<'a> {
    pub afosto: &'a Afosto,
    pub stats: PumpStats,
    pub metrics: MetricsSnapshot,
    pub api_calls: BTreeMap<String, usize>,
    pub elapsed: Duration,
    pub findings: &'a [String],
    /// The order placed in the shop while the demo ran: from placing it to its
    /// `order.created` seen by Afosto, through the webhook path (`run --listen`'s receiver).
    pub webhook_latency: Option<Duration>,
    /// Webhook deliveries the shop made, and how many the receiver accepted (200).
    pub webhook_deliveries: (usize, usize),
}

/// The shop's webhook deliveries: (made, answered 200).
pub fn webhook_deliveries(sandbox: &SandboxHandle) -> (usize, usize) {
    let entries = sandbox.journal(&JournalFilter {
        shop: Some(SHOP.to_owned()),
        webhooks: Some(true),
        ..JournalFilter::default()
    });
    let accepted = entries
        .iter()
        .filter(|entry| entry.outcome.status() == Some(200))
        .count();
    (entries.len(), accepted)
}

/// The shop's API calls by kind: method and path with ids replaced by `{id}`.
pub fn api_calls(sandbox: &SandboxHandle) -> BTreeMap<String, usize> {
    let entries = sandbox.journal(&JournalFilter {
        shop: Some(SHOP.to_owned()),
        ..JournalFilter::default()
    });
    let mut counts = BTreeMap::new();
    for entry in entries.iter().filter(|entry| entry.method != "WEBHOOK") {
        *counts.entry(call_kind(entry)).or_insert(0) += 1;
    }
    counts
}

fn call_kind(entry: &JournalEntry) -> String {
    let path: Vec<&str> = entry
        .path
        .split('/')
        .map(|segment| {
            if uuid::Uuid::parse_str(segment).is_ok() {
                "{id}"
            } else {
                segment
            }
        })
        .collect();
    format!("{} {}", entry.method, path.join("/"))
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn millis(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn p50_max(mut samples: Vec<Duration>) -> String {
    samples.sort();
    match samples.last() {
        Some(max) => format!(
            "p50 {}, max {} (n={})",
            millis(percentile(&samples, 0.5)),
            millis(*max),
            samples.len()
        ),
        None => "no samples".to_owned(),
    }
}

impl Report<'_> {
    /// `--json`: the counts, the shop's API calls, the latencies and the findings, one
    /// document.
    pub fn json(&self) -> serde_json::Value {
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for seen in &self.afosto.events {
            *by_type.entry(seen.item.kind().as_str()).or_insert(0) += 1;
        }
        let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
        for seen in &self.afosto.results {
            let kind = seen.item.command_type.map_or("?", |kind| kind.as_str());
            *by_outcome
                .entry(format!("{kind} {}", outcome_label(&seen.item.outcome)))
                .or_insert(0) += 1;
        }
        let millis = |samples: &[Duration]| -> Vec<u128> {
            samples.iter().map(Duration::as_millis).collect()
        };
        serde_json::json!({
            "ok": self.findings.is_empty(),
            "findings": self.findings,
            "order_events": by_type,
            "commands_sent": self.afosto.sent.len(),
            "command_results": by_outcome,
            "api_calls": self.api_calls,
            "poll_cycle_ms": millis(&self.stats.poll_durations),
            "command_batch_ms": millis(&self.stats.command_durations),
            "webhook_to_event_ms": self.webhook_latency.map(|latency| latency.as_millis()),
            "webhook_deliveries": {
                "made": self.webhook_deliveries.0,
                "accepted": self.webhook_deliveries.1,
            },
            "elapsed_seconds": self.elapsed.as_secs_f64(),
        })
    }

    pub fn print(&self) {
        println!("\n== epages-sync demo report ==");
        println!(
            "\nePages → Afosto: {} order events",
            self.afosto.events.len()
        );
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for seen in &self.afosto.events {
            *by_type.entry(seen.item.kind().as_str()).or_insert(0) += 1;
        }
        for (kind, count) in &by_type {
            println!("  {count:>4}  {kind}");
        }

        println!(
            "\nAfosto → ePages: {} commands, {} results",
            self.afosto.sent.len(),
            self.afosto.results.len()
        );
        let mut by_outcome: BTreeMap<(String, String), usize> = BTreeMap::new();
        for seen in &self.afosto.results {
            let kind = seen
                .item
                .command_type
                .map_or("?", |kind| kind.as_str())
                .to_owned();
            *by_outcome
                .entry((kind, outcome_label(&seen.item.outcome)))
                .or_insert(0) += 1;
        }
        for ((kind, outcome), count) in &by_outcome {
            println!("  {count:>4}  {kind:<17} {outcome}");
        }

        let total: usize = self.api_calls.values().sum();
        println!("\nBeyond API calls received by the shop: {total}");
        for (kind, count) in &self.api_calls {
            println!("  {count:>4}  {kind}");
        }

        let latencies: Vec<Duration> = self
            .afosto
            .results
            .iter()
            .filter_map(|seen| {
                let sent = self.afosto.sent.get(seen.item.command_id.as_str())?;
                Some(seen.at.saturating_duration_since(*sent))
            })
            .collect();
        println!("\nLatency");
        println!("  command sent → result seen  {}", p50_max(latencies));
        match self.webhook_latency {
            Some(latency) => println!("  webhook → order event       {}", millis(latency)),
            None => println!("  webhook → order event       (the order did not arrive)"),
        }
        println!(
            "  webhook deliveries          {} ({} accepted)",
            self.webhook_deliveries.0, self.webhook_deliveries.1
        );
        println!(
            "  poll cycle (one invocation) {}",
            p50_max(self.stats.poll_durations.clone())
        );
        println!(
            "  command batch (invocation)  {}",
            p50_max(self.stats.command_durations.clone())
        );
        println!(
            "\nHandlers: {} schedule ticks, {} poll invocations ({} records), {} command \
             invocations ({} records, {} retried), {} loop errors; {:.1} s in all",
            self.stats.schedule_ticks,
            self.stats.poll_invocations,
            self.stats.poll_records,
            self.stats.command_invocations,
            self.stats.command_records,
            self.stats.command_records_failed,
            self.stats.errors,
            self.elapsed.as_secs_f64()
        );

        println!("\nMetrics the functions publish (totals)");
        for (metric, value) in self.metrics.nonzero() {
            println!("  {value:>6}  {}", metric.name());
        }
        let lag = &self.metrics.poll_lag;
        if lag.samples > 0 {
            println!(
                "  poll lag: mean {:.2} s, max {:.2} s over {} poll(s)",
                lag.sum_seconds / lag.samples as f64,
                lag.max_seconds,
                lag.samples
            );
        }

        println!("\nVerification");
        if self.findings.is_empty() {
            println!("  every expected event arrived exactly once, in sequence");
            println!("  every command ended as expected");
            println!("  every message sent and received matches shared/contracts/v1/*.schema.json");
            println!("  every effect is in the shop: shipments with tracking, deliveries,");
            println!("  cancellations, returns (RETURNED/BROKEN), pickups, stock levels");
            println!("\ndemo: OK");
        } else {
            for finding in self.findings {
                println!("  FAILED: {finding}");
            }
            println!("\ndemo: FAILED ({} problem(s))", self.findings.len());
        }
    }
}
