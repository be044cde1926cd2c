//! Least privilege and generated names: no wildcard actions, no wildcard resources on the
//! data services, secrets only under the stage's prefix, every queue a function is given
//! also one it may send to, and no hard-coded resource names.

use serde_norway::Value;

use super::{
    actions, function_environment, get_att, resources_of, statement_resources, statements, tagged,
    template,
};

/// Services holding tenants' data or credentials.
const DATA_SERVICES: &[&str] = &["dynamodb", "sqs", "secretsmanager", "kms"];

#[test]
fn no_wildcard_actions_and_no_wildcard_data_resources() {
    let template = template();
    let all = statements(&template["Resources"]);
    assert!(all.len() > 10, "statements found: {}", all.len());
    for statement in all {
        for action in actions(statement) {
            let (service, operation) = action
                .split_once(':')
                .unwrap_or_else(|| panic!("action {action:?} has no service"));
            assert!(
                !operation.contains('*') && service != "*",
                "wildcard action {action}"
            );
            if !DATA_SERVICES.contains(&service) {
                continue;
            }
            for resource in statement_resources(statement) {
                assert_ne!(resource.as_str(), Some("*"), "{action} on every resource");
                if service == "secretsmanager" {
                    let arn = tagged(resource, "Sub").and_then(Value::as_str);
                    assert!(
                        arn.is_some_and(|arn| arn.contains(":secret:epages-sync/${Stage}/")),
                        "{action} reaches beyond the stage's secret prefix: {resource:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn functions_may_send_to_every_queue_they_are_given() {
    let template = template();
    for (id, function) in resources_of(&template, "AWS::Serverless::Function") {
        let policies = statements(&function["Properties"]["Policies"]);
        for (variable, value) in function_environment(&template, function) {
            let variable = variable.as_str().unwrap_or_default();
            if !variable.ends_with("_QUEUE_URL") && !variable.ends_with("_DLQ_URL") {
                continue;
            }
            let queue = super::ref_target(&value)
                .unwrap_or_else(|| panic!("{id}.{variable} is not a !Ref of a queue"));
            let allowed = policies.iter().any(|statement| {
                actions(statement).contains(&"sqs:SendMessage")
                    && actions(statement).contains(&"sqs:GetQueueAttributes")
                    && statement_resources(statement)
                        .iter()
                        .any(|resource| get_att(resource) == Some((queue, "Arn")))
            });
            assert!(allowed, "{id} gets {variable} but may not send to {queue}");
        }
    }
}

#[test]
fn resource_names_are_generated() {
    let template = template();
    for (kind, property) in [
        ("AWS::DynamoDB::Table", "TableName"),
        ("AWS::SQS::Queue", "QueueName"),
        ("AWS::Serverless::Function", "FunctionName"),
        ("AWS::Logs::LogGroup", "LogGroupName"),
        ("AWS::SNS::Topic", "TopicName"),
        ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
        ("AWS::CloudWatch::Alarm", "AlarmName"),
    ] {
        for (id, resource) in resources_of(&template, kind) {
            assert!(
                resource["Properties"][property].is_null(),
                "{id} has a fixed {property}: two stacks in one account would collide"
            );
        }
    }
}

#[test]
fn function_urls_are_public_only_where_requests_are_signed() {
    let template = template();
    let mut public = Vec::new();
    for (id, function) in resources_of(&template, "AWS::Serverless::Function") {
        let url = &function["Properties"]["FunctionUrlConfig"];
        if !url.is_null() {
            assert_eq!(url["AuthType"].as_str(), Some("NONE"), "{id}");
            public.push(super::binary(function).unwrap_or_default());
        }
    }
    public.sort_unstable();
    // Both verify an HMAC signature in constant time before acting (connector::afosto_webhook,
    // connector::install); epages-webhook is behind an HTTP API for its URL (see template).
    assert_eq!(public, ["afosto-webhook", "install-app"]);
}

/// Every function anyone on the internet can invoke (a Function URL, or the target of an
/// HTTP API integration) has its concurrency reserved and capped by the parameter, so a
/// flood of unauthenticated requests cannot take the pipelines' concurrency (issue #13).
#[test]
fn public_functions_have_capped_concurrency() {
    let template = template();
    let behind_api: Vec<&str> = resources_of(&template, "AWS::ApiGatewayV2::Integration")
        .into_iter()
        .filter_map(|(_, integration)| get_att(&integration["Properties"]["IntegrationUri"]))
        .map(|(function, _)| function)
        .collect();
    let mut public = Vec::new();
    for (id, function) in resources_of(&template, "AWS::Serverless::Function") {
        let props = &function["Properties"];
        if props["FunctionUrlConfig"].is_null() && !behind_api.contains(&id) {
            continue;
        }
        public.push(id);
        let reserved = tagged(&props["ReservedConcurrentExecutions"], "If")
            .and_then(Value::as_sequence)
            .unwrap_or_else(|| panic!("{id}: no reserved concurrency"));
        assert_eq!(
            reserved[0].as_str(),
            Some("ReservesPublicConcurrency"),
            "{id}"
        );
        assert_eq!(
            super::ref_target(&reserved[1]),
            Some("PublicFunctionConcurrency"),
            "{id}"
        );
    }
    public.sort_unstable();
    assert_eq!(
        public,
        [
            "AfostoWebhookFunction",
            "EpagesWebhookFunction",
            "InstallAppFunction"
        ]
    );
    let cap = &template["Parameters"]["PublicFunctionConcurrency"];
    assert!(
        cap["Default"]
            .as_u64()
            .is_some_and(|n| (1..=100).contains(&n))
    );
}

/// What each function's role may do on the data services, pinned (issue #13): the state
/// table's item operations without Scan (only the scheduler lists, through a Query on the
/// index), the activity table append-only, and each function's secrets by path. A widened
/// role fails here and must be argued for in this table.
const DATA_GRANTS: &[(&str, &[(&str, &str)])] = &[
    ("SchedulePollsFunction", &[]),
    (
        "PollOrdersFunction",
        &[
            ("secretsmanager:GetSecretValue", "tenants/*/client-secret-*"),
            ("secretsmanager:GetSecretValue", "apps/*/client-secret-*"),
        ],
    ),
    (
        "ApplyCommandsFunction",
        &[
            ("secretsmanager:GetSecretValue", "tenants/*/client-secret-*"),
            ("secretsmanager:GetSecretValue", "apps/*/client-secret-*"),
        ],
    ),
    (
        "AfostoWebhookFunction",
        &[("secretsmanager:GetSecretValue", "afosto-webhooks/*")],
    ),
    (
        "EpagesWebhookFunction",
        &[
            (
                "secretsmanager:GetSecretValue",
                "tenants/*/webhook-signer-*",
            ),
            // The uninstall probe asks the shop with the tenant's own credentials.
            ("secretsmanager:GetSecretValue", "tenants/*/client-secret-*"),
            ("secretsmanager:GetSecretValue", "apps/*/client-secret-*"),
        ],
    ),
    (
        "InstallAppFunction",
        &[
            (
                "secretsmanager:GetSecretValue",
                "apps/${PublicAppName}/client-secret-*",
            ),
            (
                "secretsmanager:GetSecretValue",
                "tenants/*/webhook-signer-*",
            ),
            (
                "secretsmanager:PutSecretValue",
                "tenants/*/webhook-signer-*",
            ),
            ("secretsmanager:CreateSecret", "tenants/*/webhook-signer-*"),
        ],
    ),
];

/// The state-table item operations of each function (base table), and whether it may
/// query the index (`gsi1`: the active tenants, pending stock intents): what its code does,
/// so a role that grows must say why here.
const STATE_ITEM_ACTIONS: &[(&str, &[&str], bool)] = &[
    ("SchedulePollsFunction", &[], true),
    (
        "PollOrdersFunction",
        &["GetItem", "PutItem", "UpdateItem", "BatchGetItem"],
        false,
    ),
    (
        "ApplyCommandsFunction",
        &["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
        true,
    ),
    (
        "AfostoWebhookFunction",
        &["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
        true,
    ),
    (
        "EpagesWebhookFunction",
        &["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
        false,
    ),
    (
        "InstallAppFunction",
        &["GetItem", "PutItem", "UpdateItem"],
        false,
    ),
];

/// `(action, resource)` pairs a role grants on DynamoDB and Secrets Manager, resources
/// written as the template writes them (secret ARNs after the stage prefix).
fn data_grants(function: &Value) -> Vec<(String, String)> {
    let mut grants = Vec::new();
    for statement in statements(&function["Properties"]["Policies"]) {
        for action in actions(statement) {
            if !action.starts_with("dynamodb:") && !action.starts_with("secretsmanager:") {
                continue;
            }
            for resource in statement_resources(statement) {
                let text = match (get_att(resource), tagged(resource, "Sub")) {
                    (Some((table, "Arn")), _) => format!("{table}.Arn"),
                    (_, Some(sub)) => {
                        let sub = sub.as_str().unwrap_or_default();
                        sub.split_once(":secret:epages-sync/${Stage}/")
                            .map_or(sub, |(_, path)| path)
                            .to_owned()
                    }
                    _ => format!("{resource:?}"),
                };
                grants.push((action.to_owned(), text));
            }
        }
    }
    grants.sort();
    grants
}

#[test]
fn each_role_has_exactly_its_data_grants() {
    let template = template();
    for (id, function) in resources_of(&template, "AWS::Serverless::Function") {
        assert!(
            function["Properties"]["Policies"]
                .as_sequence()
                .is_some_and(|policies| policies
                    .iter()
                    .all(|p| p.get("Statement").is_some() || tagged(p, "If").is_some())),
            "{id}: SAM policy templates (DynamoDBCrudPolicy & co.) grant Scan and more; write the statements"
        );
        let (_, pinned) = DATA_GRANTS
            .iter()
            .find(|(name, _)| *name == id)
            .unwrap_or_else(|| panic!("{id} is missing from DATA_GRANTS"));
        let mut expected: Vec<(String, String)> = pinned
            .iter()
            .map(|(action, resource)| ((*action).to_owned(), (*resource).to_owned()))
            .collect();
        let (_, items, queries) = STATE_ITEM_ACTIONS
            .iter()
            .find(|(name, _, _)| *name == id)
            .unwrap_or_else(|| panic!("{id} is missing from STATE_ITEM_ACTIONS"));
        for action in *items {
            expected.push((format!("dynamodb:{action}"), "StateTable.Arn".to_owned()));
        }
        if *queries {
            expected.push((
                "dynamodb:Query".to_owned(),
                "${StateTable.Arn}/index/gsi1".to_owned(),
            ));
        }
        if id != "SchedulePollsFunction" {
            expected.push((
                "dynamodb:BatchWriteItem".to_owned(),
                "ActivityTable.Arn".to_owned(),
            ));
        }
        // The KMS statement (only with a customer key) is not data access itself.
        expected.sort();
        assert_eq!(data_grants(function), expected, "{id}");
    }
}

/// Done-when 20 of issue #13, said plainly: no Scan anywhere (nothing lists by scanning),
/// and the public install callback cannot write the public app's client secret.
#[test]
fn no_scan_and_install_app_cannot_replace_the_app_secret() {
    let template = template();
    for (id, function) in resources_of(&template, "AWS::Serverless::Function") {
        let grants = data_grants(function);
        assert!(
            grants.iter().all(|(action, _)| action != "dynamodb:Scan"),
            "{id} may Scan"
        );
        if id == "InstallAppFunction" {
            for (action, resource) in &grants {
                let writes = matches!(
                    action.as_str(),
                    "secretsmanager:PutSecretValue" | "secretsmanager:CreateSecret"
                );
                assert!(
                    !(writes && (resource.starts_with("apps/") || resource.starts_with('*'))),
                    "install-app may write {resource}"
                );
            }
        }
    }
}
