//! The renderer against the EMF specification, for every function and metric.

use connector::metrics::emf::{
    DEFAULT_NAMESPACE, EmfSettings, Function, MAX_METRICS_PER_DOCUMENT, MAX_VALUES_PER_METRIC,
    render,
};
use connector::metrics::{MemorySink, Metric, Metrics, MetricsPublisher};
use serde_json::Value;

use super::{assert_valid_emf, total, unit_name};

const FUNCTIONS: [Function; 6] = [
    Function::PollOrders,
    Function::ApplyCommands,
    Function::SchedulePolls,
    Function::AfostoWebhook,
    Function::EpagesWebhook,
    Function::InstallApp,
];

/// A collector with every counter at a distinct value and `lags` poll-lag samples over
/// three tenants.
fn everything(lags: usize) -> std::sync::Arc<Metrics> {
    let metrics = Metrics::new();
    for (n, metric) in Metric::ALL.iter().enumerate() {
        if *metric != Metric::PollLagSeconds {
            metrics.add_usize(*metric, n + 1);
        }
    }
    for n in 0..lags {
        metrics.record_poll_lag(&format!("tenant-{}", n % 3), n as f64 + 0.5);
    }
    metrics
}

fn publish(function: Function, per_tenant: bool, metrics: std::sync::Arc<Metrics>) -> Vec<Value> {
    let sink = MemorySink::new();
    let settings = EmfSettings {
        namespace: "epages-sync/it-stack".into(),
        function,
        per_tenant,
    };
    let publisher = MetricsPublisher::new(metrics, settings, sink.clone());
    let written = publisher.flush_at(1_780_000_000_123);
    let lines = sink.lines();
    assert_eq!(written, lines.len());
    for line in &lines {
        assert!(!line.contains('\n'), "one document per line");
    }
    sink.documents()
}

#[test]
fn every_function_writes_valid_documents_with_every_metric() {
    for function in FUNCTIONS {
        for per_tenant in [false, true] {
            let documents = publish(function, per_tenant, everything(7));
            assert!(!documents.is_empty());
            for doc in &documents {
                assert_valid_emf(doc);
                assert_eq!(doc["Function"], function.name());
                assert_eq!(doc["_aws"]["Timestamp"], 1_780_000_000_123_i64);
                let directive = &doc["_aws"]["CloudWatchMetrics"][0];
                assert_eq!(directive["Namespace"], "epages-sync/it-stack");
                for definition in directive["Metrics"].as_array().expect("metrics") {
                    let name = definition["Name"].as_str().expect("name");
                    let metric = Metric::ALL
                        .iter()
                        .find(|m| m.name() == name)
                        .unwrap_or_else(|| panic!("{name} is not a known metric"));
                    assert_eq!(definition["Unit"], unit_name(*metric), "{name}");
                }
            }
            for (n, metric) in Metric::ALL.iter().enumerate() {
                let expected = match metric {
                    Metric::PollLagSeconds => (0..7).map(|k| k as f64 + 0.5).sum(),
                    _ => (n + 1) as f64,
                };
                assert_eq!(
                    total(&documents, *metric),
                    Some(expected),
                    "{function:?} {metric:?}"
                );
            }
        }
    }
}

#[test]
fn the_names_the_template_alarms_and_dashboard_use_are_emitted_unchanged() {
    let expected = [
        ("OrdersRead", "Count"),
        ("OrderEventsEmitted", "Count"),
        ("PollsCompleted", "Count"),
        ("PollsFailed", "Count"),
        ("OrdersParked", "Count"),
        ("PollLagSeconds", "Seconds"),
        ("CommandsApplied", "Count"),
        ("CommandsSkipped", "Count"),
        ("CommandsFailed", "Count"),
        ("BeyondApiCalls", "Count"),
        ("BeyondThrottled", "Count"),
        ("TokenRefreshes", "Count"),
        ("PollRequestsEnqueued", "Count"),
    ];
    for (name, unit) in expected {
        let metric = Metric::ALL
            .iter()
            .find(|m| m.name() == name)
            .unwrap_or_else(|| panic!("{name} is gone"));
        assert_eq!(unit_name(*metric), unit, "{name}");
    }
    let names: std::collections::BTreeSet<_> = Metric::ALL.iter().map(|m| m.name()).collect();
    assert_eq!(names.len(), Metric::ALL.len(), "names are unique");
    assert!(Metric::ALL.len() <= MAX_METRICS_PER_DOCUMENT);
}

#[test]
fn key_counters_are_zero_and_others_omitted_when_nothing_happened() {
    let documents = publish(Function::PollOrders, false, Metrics::new());
    assert_eq!(documents.len(), 1);
    let doc = &documents[0];
    assert_valid_emf(doc);
    for key in Function::PollOrders.key_metrics() {
        assert_eq!(doc[key.name()], 0, "{key:?}");
    }
    assert!(doc.get("TokenRefreshes").is_none());
    assert!(
        doc.get("PollLagSeconds").is_none(),
        "no poll started, no lag"
    );
    // Flushed: the next invocation starts from zero again.
    let metrics = everything(2);
    let sink = MemorySink::new();
    let publisher =
        MetricsPublisher::in_memory(Function::PollOrders, metrics.clone(), sink.clone());
    publisher.flush();
    publisher.flush();
    let second = &sink.documents()[sink.documents().len() - 1];
    assert_eq!(second["OrdersRead"], 0);
    assert!(second.get("PollLagSeconds").is_none());
    // The totals survive flushing, for the local runner's report.
    assert_eq!(
        metrics.snapshot().get(Metric::OrdersRead),
        (Metric::ALL
            .iter()
            .position(|m| *m == Metric::OrdersRead)
            .expect("known")
            + 1) as u64
    );
    assert_eq!(metrics.snapshot().poll_lag.samples, 2);
}

#[test]
fn lag_arrays_respect_the_100_value_limit_with_and_without_the_tenant_dimension() {
    for per_tenant in [false, true] {
        let documents = publish(Function::PollOrders, per_tenant, everything(640));
        let mut lag_values = 0;
        for doc in &documents {
            for (name, values) in assert_valid_emf(doc) {
                assert!(values.len() <= MAX_VALUES_PER_METRIC);
                if name == "PollLagSeconds" {
                    lag_values += values.len();
                }
            }
            let sets = &doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"];
            let has_tenant_set = sets.to_string().contains("Tenant");
            assert_eq!(has_tenant_set, doc.get("Tenant").is_some());
            assert!(
                !has_tenant_set || per_tenant,
                "a Tenant dimension only when asked for"
            );
        }
        assert_eq!(
            lag_values, 640,
            "every sample is kept, per_tenant={per_tenant}"
        );
    }
}

#[test]
fn a_disabled_collector_writes_nothing_and_the_default_namespace_is_epages_sync() {
    let sink = MemorySink::new();
    let publisher = MetricsPublisher::new(
        Metrics::disabled(),
        EmfSettings::new(Function::ApplyCommands),
        sink.clone(),
    );
    publisher.metrics().incr(Metric::CommandsApplied);
    assert_eq!(publisher.flush(), 0);
    assert!(sink.lines().is_empty());
    assert_eq!(
        EmfSettings::new(Function::InstallApp).namespace,
        DEFAULT_NAMESPACE
    );
    assert_eq!(DEFAULT_NAMESPACE, "epages-sync");
    let doc = render(
        &EmfSettings::new(Function::SchedulePolls),
        &connector::metrics::Collected::from_counts(&[(Metric::PollRequestsEnqueued, 3)]),
        1,
    );
    assert_eq!(doc[0]["PollRequestsEnqueued"], 3);
}
