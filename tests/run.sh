#!/usr/bin/env bash
# The test command (README Quick start, and what .ci/run calls): installs the pinned tools,
# starts moto on loopback for the AWS adapter tests, then checks formatting and lints and
# runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
[ "${CI:-}" = "true" ] && export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*"; }

step "tools (pinned, project-local)"
infra/tools.sh

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "template lint (cfn-lint with the serverless rules, sam validate --lint; offline)"
# The stack and its nested monitoring stack. Rules are not ignored globally: a finding is
# fixed in the template, or ignored on that resource (Metadata cfn-lint ignore_checks)
# with a comment saying why. tests/it/template checks what the linters cannot.
templates=(template.yaml infra/monitoring.yaml)
.venv-tools/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- "${templates[@]}"
# sam validate needs a region (not credentials); telemetry off, as everywhere in CI.
for template in "${templates[@]}"; do
  SAM_CLI_TELEMETRY=0 .venv-tools/bin/sam validate --lint --region eu-west-1 -t "$template"
done

step "moto (AWS API on loopback)"
# shellcheck source=tests/moto/moto.sh
source tests/moto/moto.sh

step "build every target"
# One build for everything, with the features the tests unify (tokio's `test-util` among
# them): `cargo test` then compiles nothing more, and the epages-sync binary that the CLI
# tests and the demo run is built here too (`cargo test` builds a package's binaries only
# for that package's own tests). A separate `cargo build -p epages-sync` would resolve the
# features without the dev-dependencies and compile some sixty crates twice.
cargo build --workspace --lib --bins --tests --locked

step "tests"
cargo test --workspace --locked

step "demo (the README's run command)"
# The README's `cargo run -p epages-sync -- demo`, on the binary built above (cargo run
# would rebuild it with the CLI's own feature set).
"${CARGO_TARGET_DIR:-target}/debug/epages-sync" demo
