//! Where EMF documents go: stdout in Lambda, memory in tests and the local runner.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::emf::{EmfSettings, Function, render};
use super::{Metrics, MetricsSnapshot};

/// Receives one EMF document per call, as one line of JSON.
pub trait MetricsSink: Send + Sync {
    fn write(&self, line: &str);
}

/// Lambda: stdout goes to CloudWatch Logs, which extracts EMF from JSON lines. One locked
/// write per line keeps a document from interleaving with the function's own log output.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn write(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        // Losing a metrics line must not fail the invocation.
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }
}

/// Drops everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardSink;

impl MetricsSink for DiscardSink {
    fn write(&self, _line: &str) {}
}

/// Keeps every line, for tests and the local runner.
#[derive(Debug, Default)]
pub struct MemorySink {
    lines: Mutex<Vec<String>>,
}

impl MemorySink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn lines(&self) -> Vec<String> {
        self.lock().clone()
    }

    /// The lines parsed back (a line that is not JSON would be a bug; it is skipped).
    pub fn documents(&self) -> Vec<Value> {
        self.lock()
            .iter()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Removes and returns the lines written so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl MetricsSink for MemorySink {
    fn write(&self, line: &str) {
        self.lock().push(line.to_owned());
    }
}

/// A function's collector with its EMF labels and sink. A handler flushes it once per
/// invocation.
#[derive(Clone)]
pub struct MetricsPublisher {
    metrics: Arc<Metrics>,
    settings: EmfSettings,
    sink: Arc<dyn MetricsSink>,
}

impl std::fmt::Debug for MetricsPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsPublisher")
            .field("settings", &self.settings)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl MetricsPublisher {
    pub fn new(metrics: Arc<Metrics>, settings: EmfSettings, sink: Arc<dyn MetricsSink>) -> Self {
        Self {
            metrics,
            settings,
            sink,
        }
    }

    /// The Lambda wiring: a fresh collector, labels from the environment, stdout.
    pub fn stdout_from_env(function: Function) -> Self {
        Self::new(
            Metrics::new(),
            EmfSettings::from_env(function),
            Arc::new(StdoutSink),
        )
    }

    /// Counting into `metrics`, documents kept in `sink` (tests, the local runner).
    pub fn in_memory(function: Function, metrics: Arc<Metrics>, sink: Arc<MemorySink>) -> Self {
        Self::new(metrics, EmfSettings::new(function), sink)
    }

    /// Counts nothing, writes nothing: the default of handlers built with `new`.
    pub fn discard(function: Function) -> Self {
        Self::new(
            Metrics::disabled(),
            EmfSettings::new(function),
            Arc::new(DiscardSink),
        )
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn settings(&self) -> &EmfSettings {
        &self.settings
    }

    /// Totals since the collector was created.
    pub fn snapshot(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// Writes what was collected since the last flush, one line per EMF document, and
    /// starts over. Returns how many documents were written.
    pub fn flush(&self) -> usize {
        self.flush_at(chrono::Utc::now().timestamp_millis())
    }

    pub fn flush_at(&self, timestamp_ms: i64) -> usize {
        if !self.metrics.is_enabled() {
            return 0;
        }
        let collected = self.metrics.take();
        let documents = render(&self.settings, &collected, timestamp_ms);
        for document in &documents {
            self.sink.write(&document.to_string());
        }
        documents.len()
    }
}
