//! CloudWatch Embedded Metric Format: what one invocation collected → EMF documents.
//!
//! A document is one JSON object on one log line:
//!
//! ```json
//! {"_aws": {"Timestamp": 1780000000000,
//!           "CloudWatchMetrics": [{"Namespace": "epages-sync/prod",
//!                                  "Dimensions": [["Function"]],
//!                                  "Metrics": [{"Name": "OrdersRead", "Unit": "Count"}]}]},
//!  "Function": "poll-orders", "OrdersRead": 12}
//! ```
//!
//! Spec limits kept here: at most [`MAX_METRICS_PER_DOCUMENT`] metric definitions per
//! directive and at most [`MAX_VALUES_PER_METRIC`] values in one metric's array; more
//! become further documents. Dimension values are strings, metric values numbers.

use crate::config::{self, ConfigError};
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Collected, LagSample, Metric};

/// The spec's limit on metric definitions in one `MetricDirective`.
pub const MAX_METRICS_PER_DOCUMENT: usize = 100;
/// The spec's limit on values in one metric's array.
pub const MAX_VALUES_PER_METRIC: usize = 100;
/// Used when `METRICS_NAMESPACE` is unset or empty.
pub const DEFAULT_NAMESPACE: &str = "epages-sync";

pub const FUNCTION_DIMENSION: &str = "Function";
pub const TENANT_DIMENSION: &str = "Tenant";

/// The functions that emit metrics; the value of the `Function` dimension is the crate
/// name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    PollOrders,
    ApplyCommands,
    SchedulePolls,
    AfostoWebhook,
    EpagesWebhook,
    InstallApp,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::PollOrders => "poll-orders",
            Function::ApplyCommands => "apply-commands",
            Function::SchedulePolls => "schedule-polls",
            Function::AfostoWebhook => "afosto-webhook",
            Function::EpagesWebhook => "epages-webhook",
            Function::InstallApp => "install-app",
        }
    }

    /// Counters written on every invocation, as 0 when nothing happened: "ran and did
    /// nothing" then differs from "did not run" (no data), so a dashboard line does not
    /// break and an alarm on the absence of work can treat missing data as breaching.
    /// Zeros cost nothing extra: CloudWatch bills a custom metric per name and dimension
    /// set that exists, not per value. Other counters are omitted when zero, which keeps
    /// the log lines short.
    pub fn key_metrics(self) -> &'static [Metric] {
        match self {
            Function::PollOrders => &[
                Metric::OrdersRead,
                Metric::OrderEventsEmitted,
                Metric::PollsCompleted,
                Metric::PollsFailed,
                Metric::OrdersParked,
                Metric::BeyondApiCalls,
                Metric::BeyondThrottled,
            ],
            Function::ApplyCommands => &[
                Metric::CommandsApplied,
                Metric::CommandsSkipped,
                Metric::CommandsFailed,
                Metric::BeyondApiCalls,
                Metric::BeyondThrottled,
            ],
            Function::SchedulePolls => &[Metric::PollRequestsEnqueued],
            Function::AfostoWebhook => &[Metric::CommandsEnqueued],
            Function::EpagesWebhook => &[Metric::PollRequestsEnqueued],
            Function::InstallApp => &[Metric::AppsInstalled],
        }
    }
}

/// How documents are labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmfSettings {
    pub namespace: String,
    pub function: Function,
    /// Adds the `[Function, Tenant]` dimension set to `PollLagSeconds`. Off by default:
    /// every tenant then becomes a custom metric of its own, $0.30 a month each (10,000
    /// tenants ≈ $3,000 a month); the tenant is in the poller's log line instead, for
    /// Logs Insights.
    pub per_tenant: bool,
}

impl EmfSettings {
    pub fn new(function: Function) -> Self {
        Self {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            function,
            per_tenant: false,
        }
    }

    /// `METRICS_NAMESPACE` (the template sets `epages-sync/${AWS::StackName}`; default
    /// [`DEFAULT_NAMESPACE`]) and `METRICS_PER_TENANT` (`true`/`1`; default off). Read
    /// once at init; metrics must never stop a function from starting, so a value that
    /// cannot be read falls back to the default with a warning.
    pub fn from_env(function: Function) -> Self {
        let namespace = or_default(config::optional("METRICS_NAMESPACE"))
            .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
        let per_tenant = or_default(config::flag("METRICS_PER_TENANT")).unwrap_or(false);
        Self {
            namespace,
            function,
            per_tenant,
        }
    }
}

/// A metrics setting that cannot be read is ignored with a warning: metrics must never stop
/// a function from starting.
fn or_default<T>(read: Result<Option<T>, ConfigError>) -> Option<T> {
    read.unwrap_or_else(|error| {
        tracing::warn!(%error, "metrics setting ignored; using the default");
        None
    })
}

/// One metric's values in a document: a single number, or an array of at most
/// [`MAX_VALUES_PER_METRIC`].
enum Values {
    Count(u64),
    Seconds(Vec<f64>),
}

impl Values {
    fn to_json(&self) -> Value {
        match self {
            Values::Count(count) => json!(count),
            Values::Seconds(values) if values.len() == 1 => json!(values[0]),
            Values::Seconds(values) => json!(values),
        }
    }
}

/// The EMF documents for what was collected, stamped `timestamp_ms` (milliseconds since
/// the epoch). Empty when there is nothing to report and no key metrics.
pub fn render(settings: &EmfSettings, collected: &Collected, timestamp_ms: i64) -> Vec<Value> {
    let function = settings.function;
    let keys = function.key_metrics();
    let mut entries: Vec<(Metric, Values)> = Metric::ALL
        .iter()
        .filter(|metric| **metric != Metric::PollLagSeconds)
        .filter_map(|metric| {
            let value = collected.get(*metric);
            (value > 0 || keys.contains(metric)).then_some((*metric, Values::Count(value)))
        })
        .collect();
    let mut documents = Vec::new();
    let function_only = [vec![FUNCTION_DIMENSION]];
    if settings.per_tenant {
        // The lag goes into per-tenant documents carrying both dimension sets, so each
        // value is counted once under `[Function]` and once under `[Function, Tenant]`.
        let mut by_tenant: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for LagSample { tenant, seconds } in &collected.poll_lags {
            by_tenant.entry(tenant).or_default().push(*seconds);
        }
        let both = [
            vec![FUNCTION_DIMENSION],
            vec![FUNCTION_DIMENSION, TENANT_DIMENSION],
        ];
        for (tenant, values) in by_tenant {
            for chunk in values.chunks(MAX_VALUES_PER_METRIC) {
                let entries = [(Metric::PollLagSeconds, Values::Seconds(chunk.to_vec()))];
                let mut extra = Map::new();
                extra.insert(TENANT_DIMENSION.to_owned(), json!(tenant));
                documents.push(document(settings, &both, &entries, extra, timestamp_ms));
            }
        }
    } else {
        let lags: Vec<f64> = collected.poll_lags.iter().map(|s| s.seconds).collect();
        let mut chunks = lags.chunks(MAX_VALUES_PER_METRIC);
        // The first chunk rides with the counters; the rest get documents of their own.
        if let Some(first) = chunks.next() {
            entries.push((Metric::PollLagSeconds, Values::Seconds(first.to_vec())));
        }
        for chunk in chunks {
            let entries = [(Metric::PollLagSeconds, Values::Seconds(chunk.to_vec()))];
            documents.push(document(
                settings,
                &function_only,
                &entries,
                Map::new(),
                timestamp_ms,
            ));
        }
    }
    let counters: Vec<Value> = entries
        .chunks(MAX_METRICS_PER_DOCUMENT)
        .map(|chunk| document(settings, &function_only, chunk, Map::new(), timestamp_ms))
        .collect();
    // Counters first: the document an operator looks for.
    counters.into_iter().chain(documents).collect()
}

fn document(
    settings: &EmfSettings,
    dimension_sets: &[Vec<&str>],
    entries: &[(Metric, Values)],
    extra_dimensions: Map<String, Value>,
    timestamp_ms: i64,
) -> Value {
    let definitions: Vec<Value> = entries
        .iter()
        .map(|(metric, _)| json!({ "Name": metric.name(), "Unit": metric.unit().as_str() }))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": settings.namespace,
                "Dimensions": dimension_sets,
                "Metrics": definitions,
            }],
        }),
    );
    root.insert(
        FUNCTION_DIMENSION.to_owned(),
        json!(settings.function.name()),
    );
    root.extend(extra_dimensions);
    for (metric, values) in entries {
        root.insert(metric.name().to_owned(), values.to_json());
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(function: Function) -> EmfSettings {
        EmfSettings {
            namespace: "epages-sync/test".into(),
            function,
            per_tenant: false,
        }
    }

    #[test]
    fn counters_and_key_zeros_share_one_document() {
        let collected = Collected::from_counts(&[(Metric::CommandsApplied, 2)]);
        let documents = render(&settings(Function::ApplyCommands), &collected, 1_000);
        assert_eq!(documents.len(), 1);
        let doc = &documents[0];
        assert_eq!(doc["Function"], "apply-commands");
        assert_eq!(doc["CommandsApplied"], 2);
        assert_eq!(doc["CommandsFailed"], 0);
        assert!(
            doc.get("OrdersRead").is_none(),
            "not a key metric, not counted"
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1_000);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "epages-sync/test");
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
    }

    #[test]
    fn many_lag_values_are_split_into_arrays_of_at_most_100() {
        let collected = Collected {
            poll_lags: (0..250)
                .map(|n| LagSample {
                    tenant: format!("t{n}"),
                    seconds: f64::from(n),
                })
                .collect(),
            ..Collected::default()
        };
        let documents = render(&settings(Function::PollOrders), &collected, 1);
        let arrays: Vec<usize> = documents
            .iter()
            .filter_map(|doc| doc.get("PollLagSeconds"))
            .map(|values| values.as_array().map_or(1, Vec::len))
            .collect();
        assert_eq!(arrays, vec![100, 100, 50]);
    }

    #[test]
    fn per_tenant_lag_carries_both_dimension_sets() {
        let mut settings = settings(Function::PollOrders);
        settings.per_tenant = true;
        let collected = Collected {
            poll_lags: vec![LagSample {
                tenant: "shop-a".into(),
                seconds: 301.5,
            }],
            ..Collected::default()
        };
        let documents = render(&settings, &collected, 1);
        assert_eq!(documents.len(), 2);
        assert!(documents[0].get("PollLagSeconds").is_none());
        let lag = &documents[1];
        assert_eq!(lag["Tenant"], "shop-a");
        assert_eq!(lag["PollLagSeconds"], 301.5);
        assert_eq!(
            lag["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"], ["Function", "Tenant"]])
        );
    }
}
