//! The six functions: one per crate in `functions/`, built for arm64 by cargo-lambda,
//! JSON logs, every environment variable their config reads, and SQS event sources that
//! the partial-batch processors and the queues' visibility timeouts rely on.

use std::collections::BTreeSet;

use serde_norway::Value;

use super::{
    actions, binary, dead_letter_queues, function_environment, function_property, get_att,
    least_number, ref_target, repository_root, resources_of, statements, template,
};

/// Read by `AwsStateConfig::from_env` (every function builds its state stores), plus the
/// metrics namespace every function's EMF output uses. The retention is set, not left to
/// the code's default, so reads filter on the same retention the template configures.
const COMMON: &[&str] = &[
    "STATE_TABLE",
    "ACTIVITY_TABLE",
    "SECRETS_PREFIX",
    "ACTIVITY_RETENTION_DAYS",
    "METRICS_NAMESPACE",
];

/// Optional everywhere (`AwsStateConfig`, `EmfSettings`): may be set, need not be.
const COMMON_OPTIONAL: &[&str] = &[
    "SECRETS_KMS_KEY_ID",
    "SECRETS_CACHE_SECONDS",
    "METRICS_PER_TENANT",
];

/// What each function's wiring (`functions/*/src/main.rs`) and settings structs read:
/// `(binary, must be set, may be set)`. Found with `grep -rn 'from_env\|env::var'`.
const FUNCTION_ENVIRONMENT: &[(&str, &[&str], &[&str])] = &[
    (
        "schedule-polls",
        &["POLL_QUEUE_URL"],
        &[
            "SCHEDULE_SPREAD_SECONDS",
            "SCHEDULE_SEND_CONCURRENCY",
            "POLL_TRACE_SAMPLE_PERCENT",
        ],
    ),
    (
        "poll-orders",
        // The poller's default budget (600 s) exceeds any sensible Lambda timeout, so the
        // template must set it.
        &[
            "POLL_QUEUE_URL",
            "POLL_DLQ_URL",
            "ORDER_EVENTS_QUEUE_URL",
            "POLL_TIME_BUDGET_SECONDS",
        ],
        &[
            "POLL_PAGE_SIZE",
            "POLL_MAX_PAGES",
            "POLL_OVERLAP_SECONDS",
            "POLL_SKEW_SECONDS",
            "POLL_LEASE_SECONDS",
        ],
    ),
    (
        "apply-commands",
        &[
            "ORDER_EVENTS_QUEUE_URL",
            "COMMAND_DLQ_URL",
            "COMMAND_IDEMPOTENCY_DAYS",
        ],
        &["ENABLE_STOCK_MANAGEMENT_IF_UNMANAGED"],
    ),
    ("afosto-webhook", &["COMMAND_QUEUE_URL"], &[]),
    (
        "install-app",
        &[
            "PUBLIC_APP_CLIENT_ID",
            "EPAGES_WEBHOOK_URL",
            "ALLOWED_SHOP_HOSTS",
        ],
        // Not ALLOW_LOOPBACK_SHOPS: that is for local runs only and must never be deployed.
        &["PUBLIC_APP_NAME"],
    ),
    (
        "epages-webhook",
        &["POLL_QUEUE_URL", "EPAGES_WEBHOOK_URL"],
        &["WEBHOOK_POLL_WINDOW_SECONDS"],
    ),
];

fn functions(template: &Value) -> Vec<(&str, &Value)> {
    resources_of(template, "AWS::Serverless::Function")
}

/// The crates under `functions/`.
fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(repository_root().join("functions"))
        .expect("functions/ is readable")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn one_function_per_crate_built_for_arm64_by_cargo_lambda() {
    let template = template();
    let crates = function_crates();
    let mut built = BTreeSet::new();
    for (id, function) in functions(&template) {
        let runtime = function_property(&template, function, "Runtime");
        assert_eq!(runtime.as_str(), Some("provided.al2023"), "{id}");
        let architectures = function_property(&template, function, "Architectures");
        assert_eq!(
            architectures.as_sequence().map(Vec::as_slice),
            Some([Value::from("arm64")].as_slice()),
            "{id}"
        );
        assert_eq!(
            function_property(&template, function, "Handler").as_str(),
            Some("bootstrap"),
            "{id}"
        );
        assert_eq!(
            function["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}"
        );
        // The builder runs in the workspace root, where every function crate is a member.
        assert_eq!(
            function_property(&template, function, "CodeUri").as_str(),
            Some("."),
            "{id}"
        );
        let binary = binary(function).unwrap_or_else(|| panic!("{id} names no Binary"));
        assert!(
            crates.contains(binary),
            "{id} builds {binary}, which is not a crate in functions/"
        );
        assert!(
            built.insert(binary.to_owned()),
            "{binary} is deployed twice"
        );
    }
    assert_eq!(built, crates, "every function crate is deployed");
    let listed: BTreeSet<String> = FUNCTION_ENVIRONMENT
        .iter()
        .map(|(binary, _, _)| (*binary).to_owned())
        .collect();
    assert_eq!(listed, crates, "FUNCTION_ENVIRONMENT lists every crate");
}

#[test]
fn every_function_logs_json_to_its_own_group_with_retention() {
    let template = template();
    for (id, function) in functions(&template) {
        let logging = function_property(&template, function, "LoggingConfig");
        assert_eq!(logging["LogFormat"].as_str(), Some("JSON"), "{id}");
        let group = ref_target(&logging["LogGroup"])
            .unwrap_or_else(|| panic!("{id}: LoggingConfig.LogGroup is not a !Ref"));
        let group = &template["Resources"][group];
        assert_eq!(group["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{id}");
        assert_eq!(
            ref_target(&group["Properties"]["RetentionInDays"]),
            Some("LogRetentionDays"),
            "{id}"
        );
        assert!(
            function_property(&template, function, "Timeout")
                .as_u64()
                .is_some(),
            "{id} has no Timeout"
        );
        assert!(
            function_property(&template, function, "MemorySize")
                .as_u64()
                .is_some(),
            "{id} has no MemorySize"
        );
    }
}

#[test]
fn every_function_gets_every_variable_it_reads() {
    let template = template();
    for (id, function) in functions(&template) {
        let binary = binary(function).expect("a Binary");
        let (_, needs, may) = FUNCTION_ENVIRONMENT
            .iter()
            .find(|(name, _, _)| *name == binary)
            .unwrap_or_else(|| panic!("{binary} is missing from FUNCTION_ENVIRONMENT"));
        let environment = function_environment(&template, function);
        let set: BTreeSet<&str> = environment.keys().filter_map(Value::as_str).collect();
        for variable in COMMON.iter().chain(needs.iter()) {
            assert!(set.contains(variable), "{id} ({binary}) lacks {variable}");
        }
        // A variable nothing reads is a typo or a leftover.
        for variable in &set {
            assert!(
                COMMON
                    .iter()
                    .chain(COMMON_OPTIONAL)
                    .chain(needs.iter())
                    .chain(may.iter())
                    .any(|known| known == variable),
                "{id} ({binary}) sets {variable}, which it does not read"
            );
        }
    }
}

#[test]
fn the_poll_budget_fits_the_poller_timeout() {
    let template = template();
    let (id, poller) = functions(&template)
        .into_iter()
        .find(|(_, function)| binary(function) == Some("poll-orders"))
        .expect("the poller");
    let environment = function_environment(&template, poller);
    let budget: u64 = environment["POLL_TIME_BUDGET_SECONDS"]
        .as_str()
        .and_then(|raw| raw.parse().ok())
        .expect("POLL_TIME_BUDGET_SECONDS is a number in a string");
    let timeout = function_property(&template, poller, "Timeout")
        .as_u64()
        .expect("a timeout");
    // The budget is checked between pages; a page and the final writes need time after it.
    assert!(
        budget * 3 / 2 <= timeout,
        "{id}: a {budget} s budget leaves too little of the {timeout} s timeout"
    );
}

/// The install callback registers the URL the webhook function verifies signatures
/// against; they must be the same.
#[test]
fn install_and_webhook_agree_on_the_webhook_url() {
    let template = template();
    let url_of = |wanted: &str| {
        let (_, function) = functions(&template)
            .into_iter()
            .find(|(_, function)| binary(function) == Some(wanted))
            .expect("the function");
        function_environment(&template, function)["EPAGES_WEBHOOK_URL"].clone()
    };
    assert_eq!(url_of("install-app"), url_of("epages-webhook"));
}

#[test]
fn sqs_events_report_item_failures_with_bounded_concurrency() {
    let template = template();
    let mut sources = 0;
    for (id, function) in functions(&template) {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (name, event) in events {
            if event["Type"].as_str() != Some("SQS") {
                continue;
            }
            sources += 1;
            let name = name.as_str().unwrap_or_default();
            let props = &event["Properties"];
            let types: Vec<_> = props["FunctionResponseTypes"]
                .as_sequence()
                .map(|types| types.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(types, ["ReportBatchItemFailures"], "{id}.{name}");
            let concurrency =
                least_number(&template, &props["ScalingConfig"]["MaximumConcurrency"])
                    .unwrap_or_else(|| panic!("{id}.{name} has no MaximumConcurrency"));
            // 2 is the smallest value Lambda accepts.
            assert!(concurrency >= 2, "{id}.{name}: {concurrency}");
            assert!(
                props["BatchSize"].as_u64().is_some(),
                "{id}.{name}: the batch size is chosen, not defaulted"
            );

            let (queue, attribute) = get_att(&props["Queue"])
                .unwrap_or_else(|| panic!("{id}.{name}: Queue is not !GetAtt X.Arn"));
            assert_eq!(attribute, "Arn");
            let visibility = template["Resources"][queue]["Properties"]["VisibilityTimeout"]
                .as_u64()
                .unwrap_or_else(|| panic!("{queue} has no VisibilityTimeout"));
            let timeout = function_property(&template, function, "Timeout")
                .as_u64()
                .expect("a timeout");
            assert!(
                visibility >= 6 * timeout,
                "{queue}: visibility {visibility} s < 6 x {id}'s {timeout} s (AWS guidance)"
            );
        }
    }
    assert_eq!(sources, 2, "poll requests and commands");
}

#[test]
fn the_scheduler_runs_every_five_minutes() {
    let template = template();
    let (_, scheduler) = functions(&template)
        .into_iter()
        .find(|(_, function)| binary(function) == Some("schedule-polls"))
        .expect("the scheduler");
    let events = scheduler["Properties"]["Events"]
        .as_mapping()
        .expect("events");
    let schedules: Vec<_> = events
        .values()
        .filter(|event| event["Type"].as_str() == Some("Schedule"))
        .map(|event| event["Properties"]["Schedule"].as_str())
        .collect();
    assert_eq!(schedules, [Some("rate(5 minutes)")]);
}

#[test]
fn every_queue_redrives_to_a_dead_letter_queue_after_at_least_five_receives() {
    let template = template();
    let queues = resources_of(&template, "AWS::SQS::Queue");
    let dead_letter_queues = dead_letter_queues(&template);
    for (id, queue) in &queues {
        if dead_letter_queues.contains(id) {
            assert!(
                queue["Properties"]["RedrivePolicy"].is_null(),
                "{id} is a DLQ and redrives further"
            );
            continue;
        }
        let redrive = &queue["Properties"]["RedrivePolicy"];
        assert!(!redrive.is_null(), "{id} has no dead-letter queue");
        let receives = least_number(&template, &redrive["maxReceiveCount"])
            .unwrap_or_else(|| panic!("{id}: maxReceiveCount"));
        assert!(receives >= 5, "{id}: maxReceiveCount can be {receives}");
    }
    assert_eq!(
        dead_letter_queues.len(),
        4,
        "poll, order events, commands, scheduler rounds"
    );
}

/// A scheduler round that cannot run is kept, not lost: EventBridge retries within the
/// round and then dead-letters (the event target's DLQ), and an invocation that fails after
/// Lambda's own retries goes to the same queue (the on-failure destination). EventBridge
/// may send to it (queue policy, only from this stack's rule).
#[test]
fn a_failed_scheduler_round_is_kept_and_retried_within_the_round() {
    let template = template();
    let (_, scheduler) = functions(&template)
        .into_iter()
        .find(|(_, function)| binary(function) == Some("schedule-polls"))
        .expect("the scheduler");
    let props = &scheduler["Properties"];
    let (_, event) = props["Events"]
        .as_mapping()
        .expect("events")
        .iter()
        .find(|(_, event)| event["Type"].as_str() == Some("Schedule"))
        .expect("a Schedule event");
    let event = &event["Properties"];
    let (queue, _) = get_att(&event["DeadLetterConfig"]["Arn"]).expect("a target DLQ");
    let retry = &event["RetryPolicy"];
    assert!(
        retry["MaximumRetryAttempts"]
            .as_u64()
            .is_some_and(|n| n >= 1)
    );
    let age = retry["MaximumEventAgeInSeconds"]
        .as_u64()
        .expect("an event age");
    assert!(
        (60..300).contains(&age),
        "a round is retried only until the next one starts: {age}"
    );
    let on_failure = &props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"].as_str(), Some("SQS"));
    assert_eq!(get_att(&on_failure["Destination"]), Some((queue, "Arn")));

    let policy = resources_of(&template, "AWS::SQS::QueuePolicy")
        .into_iter()
        .map(|(_, policy)| &policy["Properties"])
        .find(|policy| {
            policy["Queues"]
                .as_sequence()
                .is_some_and(|queues| queues.iter().any(|q| ref_target(q) == Some(queue)))
        })
        .expect("a queue policy on the scheduler's DLQ");
    let statements = statements(&policy["PolicyDocument"]);
    assert_eq!(statements.len(), 1);
    let statement = statements[0];
    assert_eq!(
        statement["Principal"]["Service"].as_str(),
        Some("events.amazonaws.com")
    );
    assert_eq!(actions(statement), ["sqs:SendMessage"]);
    assert!(
        !statement["Condition"]["ArnEquals"]["aws:SourceArn"].is_null(),
        "only the stack's own rule may send"
    );
}

/// X-Ray on every function (issue #16): one order and one command are each one trace.
#[test]
fn every_function_is_traced() {
    let template = template();
    for (id, function) in functions(&template) {
        assert_eq!(
            function_property(&template, function, "Tracing").as_str(),
            Some("Active"),
            "{id}"
        );
    }
}
