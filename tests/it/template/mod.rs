//! `template.yaml` checks that cfn-lint does not make: settings the pipelines rely on
//! (partial batch responses, bounded concurrency, visibility timeouts, dead-letter
//! queues), the functions' build and environment, least privilege, and the alarms and
//! dashboard against the metric names the functions emit. cfn-lint itself runs here too.

mod functions;
mod observability;
mod security;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn read_yaml(relative: &str) -> Value {
    let path = repository_root().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{relative} is readable"));
    serde_norway::from_str(&text).unwrap_or_else(|error| panic!("{relative} is YAML: {error}"))
}

/// The whole stack as one template: `template.yaml` with the resources of its nested
/// stacks (`AWS::Serverless::Application` with a local `Location`) merged in, each `!Ref`
/// to a nested parameter replaced by the value the parent passes. The checks then see the
/// alarms and what they watch as if they were written in one file, so a parameter wired
/// to the wrong queue or function fails them just as a wrong `!Ref` would.
fn template() -> Value {
    let mut stack = read_yaml("template.yaml");
    let nested: Vec<(String, Value)> = resources_of(&stack, "AWS::Serverless::Application")
        .into_iter()
        .filter_map(|(_, app)| {
            let location = app["Properties"]["Location"].as_str()?.to_owned();
            Some((location, app["Properties"]["Parameters"].clone()))
        })
        .collect();
    for (location, passed) in nested {
        let child = read_yaml(&location);
        let parameters = child["Parameters"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        let resources = stack["Resources"].as_mapping_mut().expect("Resources");
        for (id, resource) in child["Resources"].as_mapping().expect("nested Resources") {
            let resolved = substitute_parameters(resource, &parameters, &passed);
            assert!(
                resources.insert(id.clone(), resolved).is_none(),
                "{location}: {id:?} is also a resource of template.yaml"
            );
        }
    }
    stack
}

/// `resource` with each `!Ref P` (P a parameter of the nested template) replaced by what
/// the parent passes for P, or P's default when it passes nothing.
fn substitute_parameters(resource: &Value, parameters: &Mapping, passed: &Value) -> Value {
    match resource {
        Value::Tagged(tagged) if tagged.tag == "Ref" => {
            let name = tagged.value.as_str().unwrap_or_default();
            match parameters.get(name) {
                Some(_) if !passed[name].is_null() => passed[name].clone(),
                Some(parameter) => parameter["Default"].clone(),
                None => resource.clone(),
            }
        }
        Value::Tagged(tagged) => {
            let mut tagged = tagged.clone();
            tagged.value = substitute_parameters(&tagged.value, parameters, passed);
            Value::Tagged(tagged)
        }
        Value::Mapping(mapping) => Value::Mapping(
            mapping
                .iter()
                .map(|(key, value)| {
                    (
                        key.clone(),
                        substitute_parameters(value, parameters, passed),
                    )
                })
                .collect(),
        ),
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|item| substitute_parameters(item, parameters, passed))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether `!Ref target` occurs anywhere in `value` (e.g. in either branch of an `!If`).
fn refers_to(value: &Value, target: &str) -> bool {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str() == Some(target),
        Value::Tagged(tagged) => refers_to(&tagged.value, target),
        Value::Mapping(mapping) => mapping.values().any(|value| refers_to(value, target)),
        Value::Sequence(items) => items.iter().any(|item| refers_to(item, target)),
        _ => false,
    }
}

/// The queues something dead-letters into: redrive targets of queues, and the
/// dead-letter queue and failure destination of the scheduler's event.
fn dead_letter_queues(template: &Value) -> BTreeSet<&str> {
    let mut found: BTreeSet<&str> = resources_of(template, "AWS::SQS::Queue")
        .into_iter()
        .filter_map(|(_, queue)| {
            get_att(&queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        })
        .map(|(target, _)| target)
        .collect();
    for (_, function) in resources_of(template, "AWS::Serverless::Function") {
        let props = &function["Properties"];
        let targets = props["Events"]
            .as_mapping()
            .into_iter()
            .flat_map(|events| events.values())
            .map(|event| &event["Properties"]["DeadLetterConfig"]["Arn"])
            .chain([&props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"]]);
        found.extend(targets.filter_map(get_att).map(|(target, _)| target));
    }
    found
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

/// The templates cfn-lint and `sam validate` check: the stack and its nested stacks.
const TEMPLATES: &[&str] = &["template.yaml", "infra/monitoring.yaml"];

/// cfn-lint with the serverless rules (cfn-lint-serverless), from the project's tool venv
/// (infra/tools.sh), over every template. Required in CI; a developer without the venv
/// gets a note instead of a failure. tests/run.sh runs the same command (and
/// `sam validate --lint`) before any test, so this is the check a plain `cargo test` has.
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
        .args(["--append-rules", "cfn_lint_serverless.rules", "--"])
        .args(TEMPLATES)
        .current_dir(&root)
        .output()
        .expect("cfn-lint runs");
    assert!(
        output.status.success(),
        "cfn-lint failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
