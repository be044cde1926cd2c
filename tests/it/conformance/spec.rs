//! The official Beyond spec (`tests/fixtures/beyond-openapi.yaml`, vendored) as a test oracle.
//!
//! Two checks per response:
//! - **types**: the body validates against the operation's response schema. The spec's
//!   schemas are generated from REST Docs snippets and declare no nullability, while the
//!   spec's own examples carry `null`s, so every declared type also admits `null`.
//! - **documented keys**: every key the body carries is documented, either by the schema or
//!   by the spec's own example for that operation (some schemas, e.g. addresses, are
//!   incomplete where the examples are not). `_links` and other property-less objects are open.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

/// One documented response: a spec path template, an HTTP method, a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub path: &'static str,
    pub method: &'static str,
    pub status: u16,
}

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/beyond-openapi.yaml");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read the Beyond spec at {path}: {error}"));
        serde_norway::from_str(&text)
            .unwrap_or_else(|error| panic!("cannot parse the Beyond spec at {path}: {error}"))
    })
}

fn documented_response(op: Operation) -> &'static Value {
    let status = op.status.to_string();
    let response = &spec()["paths"][op.path][op.method]["responses"][status.as_str()];
    assert!(
        !response.is_null(),
        "the spec documents no {} response for {} {}",
        op.status,
        op.method.to_uppercase(),
        op.path
    );
    response
}

/// The spec's example bodies for an operation's response (JSON strings in the spec).
pub fn examples(op: Operation) -> Vec<Value> {
    let Some(map) = documented_response(op)["examples"].as_object() else {
        return Vec::new();
    };
    map.values()
        .filter_map(Value::as_str)
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            serde_json::from_str(text).unwrap_or_else(|error| {
                panic!("the spec's example for {op:?} is not JSON: {error}")
            })
        })
        .collect()
}

/// The operation's response schema with every `$ref` inlined and every type nullable;
/// `None` when the spec documents only an example (typical for error responses).
pub fn nullable_schema(op: Operation) -> Option<Value> {
    let schema = documented_response(op).get("schema")?;
    Some(make_nullable(inline_refs(schema, 0)))
}

fn inline_refs(schema: &Value, depth: usize) -> Value {
    assert!(depth < 64, "the spec's schemas nest deeper than expected");
    match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let name = reference.trim_start_matches("#/definitions/");
                let target = &spec()["definitions"][name];
                assert!(!target.is_null(), "dangling $ref {reference} in the spec");
                return inline_refs(target, depth + 1);
            }
            Value::Object(
                map.iter()
                    .map(|(key, value)| (key.clone(), inline_refs(value, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| inline_refs(item, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn make_nullable(schema: Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match (key.as_str(), value) {
                    ("type", Value::String(declared)) => (
                        key,
                        Value::Array(vec![Value::String(declared), Value::from("null")]),
                    ),
                    // `properties` maps names to schemas: recurse into the values only.
                    (_, value) => (key, make_nullable(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(make_nullable).collect()),
        other => other,
    }
}

/// What the spec documents about the shape of a body.
#[derive(Debug, Clone)]
enum Shape {
    /// Any keys are allowed below here.
    Open,
    Object(BTreeMap<String, Shape>),
    Array(Box<Shape>),
    Leaf,
}

impl Shape {
    fn from_schema(schema: &Value) -> Shape {
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            if properties.is_empty() {
                return Shape::Open;
            }
            return Shape::Object(
                properties
                    .iter()
                    .map(|(key, child)| (key.clone(), Shape::from_schema(child)))
                    .collect(),
            );
        }
        if let Some(items) = schema.get("items") {
            return Shape::Array(Box::new(Shape::from_schema(items)));
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") | None => Shape::Open,
            Some(_) => Shape::Leaf,
        }
    }

    fn from_example(example: &Value) -> Shape {
        match example {
            Value::Object(map) => Shape::Object(
                map.iter()
                    .map(|(key, child)| (key.clone(), Shape::from_example(child)))
                    .collect(),
            ),
            Value::Array(items) => Shape::Array(Box::new(
                items
                    .iter()
                    .map(Shape::from_example)
                    .reduce(Shape::merge)
                    .unwrap_or(Shape::Open),
            )),
            _ => Shape::Leaf,
        }
    }

    /// The union of what two sources document.
    fn merge(self, other: Shape) -> Shape {
        match (self, other) {
            (Shape::Open, _) | (_, Shape::Open) => Shape::Open,
            (Shape::Object(mut left), Shape::Object(right)) => {
                for (key, shape) in right {
                    let merged = match left.remove(&key) {
                        Some(existing) => existing.merge(shape),
                        None => shape,
                    };
                    left.insert(key, merged);
                }
                Shape::Object(left)
            }
            (Shape::Array(left), Shape::Array(right)) => Shape::Array(Box::new(left.merge(*right))),
            (Shape::Leaf, other) => other,
            (this, Shape::Leaf) => this,
            // An object in one source and an array in the other: trust neither to restrict.
            _ => Shape::Open,
        }
    }

    fn collect_undocumented(&self, instance: &Value, at: &str, found: &mut Vec<String>) {
        match (self, instance) {
            (Shape::Object(keys), Value::Object(map)) => {
                for (key, value) in map {
                    let path = format!("{at}.{key}");
                    match keys.get(key) {
                        Some(child) => child.collect_undocumented(value, &path, found),
                        None => found.push(path),
                    }
                }
            }
            (Shape::Array(item), Value::Array(values)) => {
                for value in values {
                    item.collect_undocumented(value, &format!("{at}[]"), found);
                }
            }
            _ => {}
        }
    }
}

/// Checks one response body of `op` against the spec; returns every violation found.
pub fn violations(op: Operation, body: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let schema = nullable_schema(op);
    if let Some(schema) = &schema {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(schema)
            .unwrap_or_else(|error| {
                panic!("the spec's schema for {op:?} does not compile: {error}")
            });
        found.extend(
            validator
                .iter_errors(body)
                .map(|error| format!("type: {} at {}", error, error.instance_path())),
        );
    }
    let documented = examples(op).iter().map(Shape::from_example).fold(
        schema
            .as_ref()
            .map(Shape::from_schema)
            .unwrap_or(Shape::Leaf),
        Shape::merge,
    );
    let mut undocumented = Vec::new();
    documented.collect_undocumented(body, "$", &mut undocumented);
    found.extend(
        undocumented
            .into_iter()
            .map(|path| format!("undocumented key {path}")),
    );
    found
}

/// The spec path template a concrete API path (below `/api`) belongs to, among `templates`.
pub fn match_template(
    concrete: &str,
    method: &str,
    templates: &[&'static str],
) -> Option<&'static str> {
    let concrete: Vec<&str> = concrete.trim_matches('/').split('/').collect();
    templates.iter().copied().find(|template| {
        let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
        parts.len() == concrete.len()
            && !spec()["paths"][*template][method].is_null()
            && parts
                .iter()
                .zip(&concrete)
                .all(|(part, actual)| part.starts_with('{') || part == actual)
    })
}
