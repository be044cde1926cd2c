//! CloudWatch Embedded Metric Format from the functions: documents valid per the spec,
//! and the counts of real pipeline runs over the sandbox shop (embedded backend), read back
//! from the handlers' in-memory sink exactly as Lambda would ship them from stdout.
//! Run: `cargo test -p epages-sync-tests --test it metrics`.

mod emf;
mod pipelines;

// The end-to-end harnesses of the poller and the command consumer, reused as they are.
use crate::pipeline_apply::harness as apply_harness;
use crate::pipeline_poll::harness as poll_harness;

use connector::metrics::{Metric, Unit};
use serde_json::Value;

/// The CloudWatch units a `MetricDefinition` may name.
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks one document against the EMF specification: the `_aws` metadata (an integer
/// `Timestamp`, a non-empty `CloudWatchMetrics`), each directive's namespace, dimension
/// sets (≤ 30 keys, each a top-level string member) and metric definitions (≤ 100, unique
/// names, a known unit), and for every named metric a top-level number or array of at most
/// 100 numbers. Returns the document's metric values by name.
pub fn assert_valid_emf(doc: &Value) -> Vec<(String, Vec<f64>)> {
    let root = doc.as_object().expect("a document is a JSON object");
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .expect("_aws object");
    let timestamp = aws.get("Timestamp").expect("_aws.Timestamp");
    assert!(
        timestamp.as_i64().is_some_and(|ms| ms > 0),
        "Timestamp is epoch milliseconds: {timestamp}"
    );
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .expect("_aws.CloudWatchMetrics array");
    assert!(!directives.is_empty());
    let mut values = Vec::new();
    for directive in directives {
        let namespace = directive["Namespace"].as_str().expect("Namespace string");
        assert!(
            !namespace.is_empty() && namespace.len() <= 1024,
            "{namespace}"
        );
        let sets = directive["Dimensions"]
            .as_array()
            .expect("Dimensions array");
        for set in sets {
            let keys = set.as_array().expect("a dimension set is an array");
            assert!(!keys.is_empty() && keys.len() <= 30, "{set}");
            for key in keys {
                let key = key.as_str().expect("dimension keys are strings");
                let value = root
                    .get(key)
                    .unwrap_or_else(|| panic!("dimension {key} has no member"));
                assert!(
                    value.as_str().is_some_and(|v| !v.is_empty()),
                    "dimension values are non-empty strings: {key} = {value}"
                );
            }
        }
        let definitions = directive["Metrics"].as_array().expect("Metrics array");
        assert!(
            !definitions.is_empty() && definitions.len() <= 100,
            "1..=100 metric definitions, got {}",
            definitions.len()
        );
        let mut names = std::collections::BTreeSet::new();
        for definition in definitions {
            let name = definition["Name"].as_str().expect("Name string");
            assert!(!name.is_empty() && name.len() <= 1024);
            assert!(names.insert(name.to_owned()), "{name} defined twice");
            let unit = definition["Unit"].as_str().expect("Unit string");
            assert!(UNITS.contains(&unit), "unknown unit {unit}");
            let member = root
                .get(name)
                .unwrap_or_else(|| panic!("metric {name} has no top-level value"));
            let numbers: Vec<f64> = match member {
                Value::Number(number) => vec![number.as_f64().expect("finite")],
                Value::Array(items) => {
                    assert!(
                        !items.is_empty() && items.len() <= 100,
                        "{name}: 1..=100 values, got {}",
                        items.len()
                    );
                    items
                        .iter()
                        .map(|item| item.as_f64().expect("array values are numbers"))
                        .collect()
                }
                other => panic!("{name} is not a number: {other}"),
            };
            values.push((name.to_owned(), numbers));
        }
    }
    values
}

/// The sum of `metric` over documents (each validated), or `None` if no document has it.
pub fn total(documents: &[Value], metric: Metric) -> Option<f64> {
    let mut found = None;
    for doc in documents {
        for (name, values) in assert_valid_emf(doc) {
            if name == metric.name() {
                *found.get_or_insert(0.0) += values.iter().sum::<f64>();
            }
        }
    }
    found
}

/// The unit a metric must carry.
pub fn unit_name(metric: Metric) -> &'static str {
    match metric.unit() {
        Unit::Count => "Count",
        Unit::Seconds => "Seconds",
    }
}
