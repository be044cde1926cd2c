//! template.yaml stays in step with the key design the adapters use (docs/STATE.md).

use serde_norway::Value;
use shared::adapters::aws::keys::{EXPIRES_AT, GSI1, GSI1_PK, GSI1_SK, PK, SK};

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

fn key_schema(schema: &Value) -> Vec<(String, String)> {
    schema
        .as_sequence()
        .expect("a key schema")
        .iter()
        .map(|k| {
            let name = k["AttributeName"].as_str().expect("name").to_owned();
            let kind = k["KeyType"].as_str().expect("type").to_owned();
            (name, kind)
        })
        .collect()
}

#[test]
fn tables_match_the_key_design() {
    let template = template();
    for table in ["StateTable", "ActivityTable"] {
        let props = &template["Resources"][table]["Properties"];
        assert_eq!(
            props["BillingMode"].as_str(),
            Some("PAY_PER_REQUEST"),
            "{table}"
        );
        assert_eq!(
            key_schema(&props["KeySchema"]),
            [(PK.into(), "HASH".into()), (SK.into(), "RANGE".into())],
            "{table}"
        );
        let indexes = props["GlobalSecondaryIndexes"]
            .as_sequence()
            .expect("indexes");
        assert_eq!(indexes.len(), 1, "{table}");
        assert_eq!(indexes[0]["IndexName"].as_str(), Some(GSI1));
        assert_eq!(
            key_schema(&indexes[0]["KeySchema"]),
            [
                (GSI1_PK.into(), "HASH".into()),
                (GSI1_SK.into(), "RANGE".into())
            ]
        );
        assert_eq!(
            indexes[0]["Projection"]["ProjectionType"].as_str(),
            Some("ALL")
        );
        let ttl = &props["TimeToLiveSpecification"];
        assert_eq!(ttl["AttributeName"].as_str(), Some(EXPIRES_AT), "{table}");
        assert_eq!(ttl["Enabled"].as_bool(), Some(true), "{table}");
        let defined: Vec<_> = props["AttributeDefinitions"]
            .as_sequence()
            .expect("attributes")
            .iter()
            .map(|a| a["AttributeName"].as_str().expect("name").to_owned())
            .collect();
        assert_eq!(defined, [PK, SK, GSI1_PK, GSI1_SK]);
    }
    // Tokens are stored in the state table: encrypted with KMS, recoverable.
    let state = &template["Resources"]["StateTable"]["Properties"];
    assert_eq!(state["SSESpecification"]["SSEType"].as_str(), Some("KMS"));
    assert_eq!(
        state["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
}

#[test]
fn every_queue_has_a_dead_letter_queue_of_its_kind() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("resources");
    let mut sources = 0;
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::SQS::Queue") {
            continue;
        }
        let name = name.as_str().expect("logical id");
        let props = &resource["Properties"];
        if name.ends_with("DeadLetterQueue") {
            assert_eq!(
                props["MessageRetentionPeriod"].as_u64(),
                Some(1_209_600),
                "{name}"
            );
            continue;
        }
        sources += 1;
        let redrive = &props["RedrivePolicy"];
        assert!(
            !redrive["maxReceiveCount"].is_null(),
            "{name} has no maxReceiveCount"
        );
        let target = &redrive["deadLetterTargetArn"];
        let target = serde_norway::to_string(target).expect("target");
        let dlq_name = name.replace("Queue", "DeadLetterQueue");
        assert!(
            target.contains(&dlq_name),
            "{name} redrives to {target}, not {dlq_name}"
        );
        let fifo = props["FifoQueue"].as_bool().unwrap_or(false);
        let dlq_fifo = resources
            .get(dlq_name.as_str())
            .map(|dlq| dlq["Properties"]["FifoQueue"].as_bool().unwrap_or(false));
        assert_eq!(dlq_fifo, Some(fifo), "{name} and its DLQ are of one kind");
    }
    assert_eq!(sources, 3, "poll, order events, commands");
}

/// `!Sub` strings of the template with `${Stage}` filled in.
fn substituted(value: &Value, stage: &str) -> String {
    let Value::Tagged(tagged) = value else {
        panic!("expected a !Sub value, got {value:?}");
    };
    assert_eq!(tagged.tag, "Sub");
    tagged
        .value
        .as_str()
        .expect("a !Sub string")
        .replace("${Stage}", stage)
}

/// Local runs provision a stage with the deployed names, and can do so again.
#[tokio::test]
async fn provisioned_stage_matches_the_template_and_can_be_rerun() {
    use shared::adapters::aws::provision::{provision_stage, stage_queue_specs};
    let sdk = crate::support::aws::sdk_config().await;
    let stage = format!("st{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let first = provision_stage(&sdk, &stage).await.expect("provisions");
    let again = provision_stage(&sdk, &stage)
        .await
        .expect("provisions again");
    assert_eq!(first, again);

    let template = template();
    let resources = &template["Resources"];
    let name =
        |id: &str, property: &str| substituted(&resources[id]["Properties"][property], &stage);
    assert_eq!(first.state_table, name("StateTable", "TableName"));
    assert_eq!(first.activity_table, name("ActivityTable", "TableName"));
    let last_segment = |url: &str| url.rsplit('/').next().unwrap_or_default().to_owned();
    let pairs = [
        (&first.poll, "PollQueue", "PollDeadLetterQueue"),
        (
            &first.order_events,
            "OrderEventsQueue",
            "OrderEventsDeadLetterQueue",
        ),
        (&first.commands, "CommandQueue", "CommandDeadLetterQueue"),
    ];
    for ((pair, queue, dead_letters), spec) in pairs.into_iter().zip(stage_queue_specs(&stage)) {
        assert_eq!(last_segment(&pair.queue_url), name(queue, "QueueName"));
        assert_eq!(
            last_segment(&pair.dead_letter_url),
            name(dead_letters, "QueueName")
        );
        assert_eq!(
            resources[queue]["Properties"]["VisibilityTimeout"].as_u64(),
            Some(spec.visibility_timeout.as_secs()),
            "{queue}"
        );
    }
    let env: std::collections::HashMap<_, _> = first.env_vars().into_iter().collect();
    let globals = template["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .expect("variables");
    for (variable, _) in globals {
        let variable = variable.as_str().expect("name");
        if variable != "ACTIVITY_RETENTION_DAYS" {
            assert!(
                env.contains_key(variable),
                "provisioning does not set {variable}"
            );
        }
    }
}
