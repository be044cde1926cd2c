//! `template.yaml` checks that cfn-lint does not make: settings the pipelines rely on
//! (partial batch responses, bounded concurrency, visibility timeouts, dead-letter
//! queues), the functions' build and environment, least privilege, and the alarms and
//! dashboard against the metric names the functions emit. cfn-lint itself runs here too.

mod functions;
mod observability;
mod security;

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn template() -> Value {
    let path = repository_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

/// The resources of `kind` (e.g. `AWS::SQS::Queue`) by logical id.
fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(id, resource)| (id.as_str().expect("a logical id"), resource))
        .collect()
}

/// The value under a CloudFormation short-form tag (`!Ref`, `!GetAtt`, `!Sub`, …).
fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => Some(&tagged.value),
        _ => None,
    }
}

/// `X` of `!Ref X`.
fn ref_target(value: &Value) -> Option<&str> {
    tagged(value, "Ref").and_then(Value::as_str)
}

/// `(X, Attribute)` of `!GetAtt X.Attribute`.
fn get_att(value: &Value) -> Option<(&str, &str)> {
    tagged(value, "GetAtt")
        .and_then(Value::as_str)
        .and_then(|path| path.split_once('.'))
}

/// A number, or the smallest value a deployment can give the parameter it refers to:
/// a template that is safe only with its defaults is not safe.
fn least_number(template: &Value, value: &Value) -> Option<u64> {
    if let Some(number) = value.as_u64() {
        return Some(number);
    }
    let parameter = &template["Parameters"][ref_target(value)?];
    let default = parameter["Default"].as_u64()?;
    Some(parameter["MinValue"].as_u64().unwrap_or(0).min(default))
}

/// A function's property, falling back to `Globals.Function`.
fn function_property<'a>(template: &'a Value, function: &'a Value, name: &str) -> &'a Value {
    let own = &function["Properties"][name];
    if own.is_null() {
        &template["Globals"]["Function"][name]
    } else {
        own
    }
}

/// Every variable a function gets: `Globals.Function` and its own (its own win).
fn function_environment(template: &Value, function: &Value) -> Mapping {
    let mut variables = template["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .cloned()
        .unwrap_or_default();
    if let Some(own) = function["Properties"]["Environment"]["Variables"].as_mapping() {
        for (name, value) in own {
            variables.insert(name.clone(), value.clone());
        }
    }
    variables
}

/// The Cargo binary a function is built from.
fn binary(function: &Value) -> Option<&str> {
    function["Metadata"]["BuildProperties"]["Binary"].as_str()
}

/// Every IAM statement (a mapping with `Effect` and `Action`) anywhere below `value`,
/// including both branches of `!If`.
fn statements(value: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    collect_statements(value, &mut found);
    found
}

fn collect_statements<'a>(value: &'a Value, found: &mut Vec<&'a Value>) {
    match value {
        Value::Mapping(mapping) => {
            if mapping.contains_key("Effect") && mapping.contains_key("Action") {
                found.push(value);
            }
            for (_, child) in mapping {
                collect_statements(child, found);
            }
        }
        Value::Sequence(items) => items
            .iter()
            .for_each(|item| collect_statements(item, found)),
        Value::Tagged(tagged) => collect_statements(&tagged.value, found),
        _ => {}
    }
}

/// A statement's actions (one string or a list).
fn actions(statement: &Value) -> Vec<&str> {
    match &statement["Action"] {
        Value::String(action) => vec![action.as_str()],
        Value::Sequence(actions) => actions.iter().filter_map(Value::as_str).collect(),
        other => panic!("an Action that is neither a string nor a list: {other:?}"),
    }
}

/// A statement's resources (one value or a list).
fn statement_resources(statement: &Value) -> Vec<&Value> {
    match &statement["Resource"] {
        Value::Sequence(resources) => resources.iter().collect(),
        Value::Null => Vec::new(),
        resource => vec![resource],
    }
}

/// cfn-lint from the project's tool venv (infra/tools.sh). Required in CI; a developer
/// without the venv gets a note instead of a failure.
#[test]
fn cfn_lint_passes() {
    let root = repository_root();
    let lint = root.join(".venv-tools/bin/cfn-lint");
    if !lint.exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{} is missing: run infra/tools.sh",
            lint.display()
        );
        eprintln!("cfn-lint not installed (infra/tools.sh); template lint skipped");
        return;
    }
    let output = std::process::Command::new(&lint)
        .arg("template.yaml")
        .current_dir(&root)
        .output()
        .expect("cfn-lint runs");
    assert!(
        output.status.success(),
        "cfn-lint template.yaml failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
