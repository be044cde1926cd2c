//! The crates' one-way dependencies (docs/ARCHITECTURE.md), read from their manifests, so
//! a layer cannot start reaching where it must not without this test failing.

use std::collections::BTreeMap;
use std::path::Path;

/// The `[dependencies]` (not dev-dependencies) of a manifest, by the name used in code.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", manifest.display()));
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && !line.is_empty() && !line.starts_with('#') {
            let name = line
                .split(['=', '.'])
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            names.push(name);
        }
    }
    names
}

fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Every manifest of the workspace but the tests' own, by its folder.
fn manifests() -> BTreeMap<String, Vec<String>> {
    let mut found = BTreeMap::new();
    for folder in ["shared", "functions"] {
        let entries = std::fs::read_dir(repository().join(folder)).expect("folder exists");
        for entry in entries {
            let path = entry.expect("readable folder entry").path();
            let manifest = path.join("Cargo.toml");
            if manifest.exists() {
                let name = format!(
                    "{folder}/{}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                );
                found.insert(name, dependencies(&manifest));
            }
        }
    }
    found.insert(
        "cli".to_owned(),
        dependencies(&repository().join("cli/Cargo.toml")),
    );
    found
}

const WORKSPACE_CRATES: [&str; 7] = [
    "beyond",
    "contracts",
    "domain",
    "connector",
    "aws_adapters",
    "embedded",
    "sandbox",
];

fn workspace_dependencies(deps: &[String]) -> Vec<&str> {
    let mut found: Vec<&str> = deps
        .iter()
        .map(String::as_str)
        .filter(|name| WORKSPACE_CRATES.contains(name))
        .collect();
    found.sort_unstable();
    found
}

#[test]
fn the_libraries_depend_only_downwards() {
    let manifests = manifests();
    let expect = |folder: &str, allowed: &[&str]| {
        let deps = manifests
            .get(folder)
            .unwrap_or_else(|| panic!("no manifest in {folder}"));
        for dep in workspace_dependencies(deps) {
            assert!(
                allowed.contains(&dep),
                "{folder} depends on {dep}; it may depend only on {allowed:?}"
            );
        }
    };
    expect("shared/beyond", &[]);
    expect("shared/contracts", &[]);
    expect("shared/domain", &["beyond", "contracts"]);
    expect("shared/connector", &["beyond", "contracts", "domain"]);
    expect(
        "shared/aws",
        &["beyond", "contracts", "domain", "connector"],
    );
    expect(
        "shared/embedded",
        &["beyond", "contracts", "domain", "connector"],
    );
    expect("shared/sandbox", &["beyond"]);
}

#[test]
fn only_the_aws_crate_depends_on_an_aws_sdk() {
    for (folder, deps) in manifests() {
        let sdk: Vec<&String> = deps
            .iter()
            .filter(|name| name.starts_with("aws-sdk-") || name.starts_with("aws-config"))
            .collect();
        if folder == "shared/aws" {
            assert!(!sdk.is_empty(), "shared/aws lost its SDK dependencies");
        } else {
            assert!(sdk.is_empty(), "{folder} depends on {sdk:?}");
        }
    }
}

#[test]
fn the_domain_does_no_io() {
    let manifests = manifests();
    for folder in ["shared/domain", "shared/contracts"] {
        for io in [
            "tokio",
            "reqwest",
            "futures",
            "aws_lambda_events",
            "lambda_runtime",
        ] {
            assert!(
                !manifests[folder].iter().any(|dep| dep == io),
                "{folder} depends on {io}"
            );
        }
    }
}

#[test]
fn the_domain_and_the_sandbox_take_the_beyond_models_without_the_client() {
    let root = std::fs::read_to_string(repository().join("Cargo.toml")).expect("root manifest");
    let entry = root
        .lines()
        .find(|line| line.starts_with("beyond ="))
        .expect("beyond in [workspace.dependencies]");
    assert!(
        entry.contains("default-features = false"),
        "the workspace must not turn on beyond's client for every member: {entry}"
    );
    for folder in ["shared/domain", "shared/sandbox"] {
        let manifest = std::fs::read_to_string(repository().join(folder).join("Cargo.toml"))
            .expect("readable manifest");
        let line = manifest
            .lines()
            .find(|line| line.starts_with("beyond"))
            .unwrap_or_else(|| panic!("{folder} does not depend on beyond"));
        assert!(
            !line.contains("client"),
            "{folder} enables beyond's HTTP client: {line}"
        );
    }
}

#[test]
fn functions_are_thin_and_never_link_local_adapters_or_test_hooks() {
    for (folder, deps) in manifests() {
        if !folder.starts_with("functions/") {
            continue;
        }
        for forbidden in ["embedded", "sandbox"] {
            assert!(
                !deps.iter().any(|dep| dep == forbidden),
                "{folder} links {forbidden}"
            );
        }
        let manifest = std::fs::read_to_string(repository().join(&folder).join("Cargo.toml"))
            .expect("readable manifest");
        assert!(
            !manifest.contains("testing"),
            "{folder} enables a testing feature"
        );
        let main = std::fs::read_to_string(repository().join(&folder).join("src/main.rs"))
            .expect("readable main.rs");
        assert!(
            main.lines().count() <= 30,
            "{folder}/src/main.rs has {} lines",
            main.lines().count()
        );
    }
}
