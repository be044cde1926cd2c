//! Alarms and the dashboard: every alarm notifies the alert topic, the expected alarms
//! exist, and every custom metric they name is one the functions emit (EMF, namespace
//! `METRICS_NAMESPACE`, dimension `Function`), so a renamed metric cannot leave an alarm
//! silently watching nothing.

use std::collections::BTreeSet;

use serde_norway::Value;

use super::{dead_letter_queues, get_att, ref_target, refers_to, resources_of, tagged, template};

/// The metrics the functions emit: the contract between the code and this template.
const METRICS: &[&str] = &[
    "OrdersRead",
    "OrderEventsEmitted",
    "PollsCompleted",
    "PollsFailed",
    "OrdersParked",
    "PollLagSeconds",
    "CommandsApplied",
    "CommandsSkipped",
    "CommandsFailed",
    "BeyondApiCalls",
    "BeyondThrottled",
    "TokenRefreshes",
    "PollRequestsEnqueued",
];

/// The `Function` dimension values: the crate names.
const FUNCTIONS: &[&str] = &[
    "afosto-webhook",
    "apply-commands",
    "epages-webhook",
    "install-app",
    "poll-orders",
    "schedule-polls",
];

/// The namespace as the template writes it (`!Sub` source text).
const NAMESPACE: &str = "epages-sync/${AWS::StackName}";

fn is_custom_namespace(value: &Value) -> bool {
    tagged(value, "Sub").and_then(Value::as_str) == Some(NAMESPACE)
}

#[test]
fn the_functions_get_the_namespace_the_alarms_watch() {
    let template = template();
    let namespace =
        &template["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"];
    assert!(is_custom_namespace(namespace), "{namespace:?}");
}

#[test]
fn every_alarm_notifies_the_alert_topic() {
    let template = template();
    let alarms = resources_of(&template, "AWS::CloudWatch::Alarm");
    assert!(!alarms.is_empty());
    for (id, alarm) in alarms {
        let actions = alarm["Properties"]["AlarmActions"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{id} has no AlarmActions"));
        assert!(
            actions
                .iter()
                .any(|action| ref_target(action) == Some("AlertTopic")),
            "{id} does not notify AlertTopic"
        );
        assert!(
            alarm["Properties"]["TreatMissingData"].as_str().is_some(),
            "{id}: missing data is treated deliberately"
        );
    }
    let topic = &template["Resources"]["AlertTopic"];
    assert_eq!(topic["Type"].as_str(), Some("AWS::SNS::Topic"));
}

#[test]
fn the_expected_alarms_exist() {
    let template = template();
    let alarms = resources_of(&template, "AWS::CloudWatch::Alarm");
    let watches = |namespace: &str, metric: &str, dimension: &dyn Fn(&Value) -> bool| {
        alarms.iter().any(|(_, alarm)| {
            let props = &alarm["Properties"];
            props["Namespace"].as_str() == Some(namespace)
                && props["MetricName"].as_str() == Some(metric)
                && props["Dimensions"]
                    .as_sequence()
                    .is_some_and(|dimensions| dimensions.iter().any(|d| dimension(&d["Value"])))
        })
    };
    // Every dead-letter queue's depth.
    let dead_letter_queues = dead_letter_queues(&template);
    assert_eq!(dead_letter_queues.len(), 4);
    for dlq in dead_letter_queues {
        assert!(
            watches("AWS/SQS", "ApproximateNumberOfMessagesVisible", &|value| {
                get_att(value) == Some((dlq, "QueueName"))
            }),
            "no depth alarm on {dlq}"
        );
    }
    // Errors and throttles of every function.
    for (id, _) in resources_of(&template, "AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            assert!(
                watches("AWS/Lambda", metric, &|value| refers_to(value, id)),
                "no {metric} alarm on {id}"
            );
        }
    }
    // A parked order (its events cannot be sent) alarms at once.
    let parked = alarms
        .iter()
        .map(|(_, alarm)| &alarm["Properties"])
        .find(|props| props["MetricName"].as_str() == Some("OrdersParked"))
        .expect("an alarm on parked orders");
    assert_eq!(parked["Statistic"].as_str(), Some("Sum"));
    assert_eq!(parked["Threshold"].as_u64(), Some(0));
    assert_eq!(
        parked["ComparisonOperator"].as_str(),
        Some("GreaterThanThreshold")
    );
    // Poll lag on its maximum, against the parameter.
    let lag = alarms
        .iter()
        .map(|(_, alarm)| &alarm["Properties"])
        .find(|props| props["MetricName"].as_str() == Some("PollLagSeconds"))
        .expect("a poll lag alarm");
    assert!(is_custom_namespace(&lag["Namespace"]));
    assert_eq!(lag["Statistic"].as_str(), Some("Maximum"));
    assert_eq!(ref_target(&lag["Threshold"]), Some("PollLagAlarmSeconds"));
    assert_eq!(
        template["Parameters"]["PollLagAlarmSeconds"]["Default"].as_u64(),
        Some(1200)
    );
}

/// `(namespace, metric, dimension value)` of every custom-metric line of the dashboard.
fn dashboard_custom_metrics(template: &Value) -> Vec<(String, String)> {
    let (_, dashboard) = resources_of(template, "AWS::CloudWatch::Dashboard")
        .into_iter()
        .next()
        .expect("a dashboard");
    let sub = tagged(&dashboard["Properties"]["DashboardBody"], "Sub")
        .and_then(Value::as_sequence)
        .expect("DashboardBody is !Sub [body, variables]");
    let body = sub[0].as_str().expect("the body");
    let variables = &sub[1];
    assert!(
        is_custom_namespace(&variables["Namespace"]),
        "the dashboard's Namespace variable is the functions' namespace"
    );
    // Fill every ${…} so the body parses as JSON; the namespace gets a recognisable value.
    let filled = body.replace("${Namespace}", "CUSTOM");
    let mut json = String::with_capacity(filled.len());
    let mut rest = filled.as_str();
    while let Some(start) = rest.find("${") {
        json.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${…}") + start;
        json.push('1');
        rest = &rest[end + 1..];
    }
    json.push_str(rest);
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("the body is JSON");
    let mut found = Vec::new();
    for widget in parsed["widgets"].as_array().expect("widgets") {
        for line in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let line = line.as_array().expect("a metric line");
            if line[0].as_str() != Some("CUSTOM") {
                continue;
            }
            let metric = line[1].as_str().expect("a metric name").to_owned();
            assert_eq!(
                line[2].as_str(),
                Some("Function"),
                "{metric}: one dimension set"
            );
            let function = line[3].as_str().expect("a function").to_owned();
            found.push((metric, function));
        }
    }
    found
}

#[test]
fn alarms_and_dashboard_name_only_emitted_metrics() {
    let template = template();
    for (id, alarm) in resources_of(&template, "AWS::CloudWatch::Alarm") {
        let props = &alarm["Properties"];
        if !is_custom_namespace(&props["Namespace"]) {
            continue;
        }
        let metric = props["MetricName"].as_str().unwrap_or_default();
        assert!(
            METRICS.contains(&metric),
            "{id} watches unknown metric {metric:?}"
        );
        let dimensions = props["Dimensions"].as_sequence().expect("dimensions");
        assert_eq!(
            dimensions.len(),
            1,
            "{id}: the functions emit one dimension set"
        );
        assert_eq!(dimensions[0]["Name"].as_str(), Some("Function"), "{id}");
        let function = dimensions[0]["Value"].as_str().unwrap_or_default();
        assert!(FUNCTIONS.contains(&function), "{id}: {function:?}");
    }
    let shown = dashboard_custom_metrics(&template);
    for (metric, function) in &shown {
        assert!(
            METRICS.contains(&metric.as_str()),
            "dashboard: unknown {metric:?}"
        );
        assert!(
            FUNCTIONS.contains(&function.as_str()),
            "dashboard: {function:?}"
        );
    }
    let shown: BTreeSet<&str> = shown.iter().map(|(metric, _)| metric.as_str()).collect();
    let all: BTreeSet<&str> = METRICS.iter().copied().collect();
    assert_eq!(shown, all, "the dashboard shows every metric");
}

#[test]
fn every_metric_the_template_knows_is_one_the_code_emits() {
    let emitted: BTreeSet<&str> = connector::metrics::Metric::ALL
        .iter()
        .map(|metric| metric.name())
        .collect();
    for name in METRICS {
        assert!(
            emitted.contains(name),
            "{name} is not in connector::metrics::Metric::ALL"
        );
    }
}
