//! The checks must accept what the spec itself shows, or they would be stricter than ePages.

use super::operations::USED;
use super::spec::{examples, violations};

#[test]
fn every_used_operation_is_documented_with_an_example() {
    let missing: Vec<_> = USED.iter().filter(|op| examples(**op).is_empty()).collect();
    assert!(
        missing.is_empty(),
        "no example in the spec for: {missing:#?}"
    );
}

#[test]
fn the_spec_examples_pass_the_conformance_checks() {
    let mut failures = Vec::new();
    for op in USED {
        for example in examples(*op) {
            for violation in violations(*op, &example) {
                failures.push(format!(
                    "{} {} {}: {violation}",
                    op.method, op.path, op.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn an_undocumented_key_and_a_wrong_type_are_reported() {
    let op = USED
        .iter()
        .copied()
        .find(|op| op.path == "/products/{productId}/availability" && op.method == "get")
        .unwrap_or_else(|| unreachable!("availability is in USED"));
    let mut body = examples(op).remove(0);
    body["availableStock"] = serde_json::json!("seven");
    body["stockLevel"] = serde_json::json!(7);
    let found = violations(op, &body);
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("type:") && v.contains("availableStock")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|v| v == "undocumented key $.stockLevel"),
        "{found:#?}"
    );
}
