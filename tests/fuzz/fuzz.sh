#!/usr/bin/env bash
# Fuzzes the command parser with cargo-fuzz (libFuzzer) for a bounded time.
#
#   tests/fuzz/fuzz.sh [seconds]        default 60
#
# cargo-fuzz is installed at a pinned version into the project-local root .tools (skipped
# when that version is there). cargo-fuzz passes -Z flags (sanitizers) that only a nightly
# compiler accepts; this machine has stable only, so RUSTC_BOOTSTRAP=1 unlocks them on the
# stable toolchain. The fuzz crate builds into tests/fuzz/target, separate from the
# workspace.
# Findings land in tests/fuzz/artifacts/command_parser/; new inputs grow the corpus in
# tests/fuzz/corpus/command_parser/ (only the hand-written seeds are committed).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-60}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: tests/fuzz/fuzz.sh [seconds]" >&2; exit 2 ;;
esac

version=0.13.2
root="$PWD/.tools"
bin="$root/bin/cargo-fuzz"
if ! { [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q " $version\$"; }; then
  echo "fuzz: installing cargo-fuzz $version into .tools"
  cargo install --locked --root "$root" cargo-fuzz --version "$version"
fi

# The committed seeds stay untouched: libFuzzer writes new inputs to the first corpus
# directory, so that is a scratch copy under tests/fuzz/target, seeded from the committed
# one.
work="tests/fuzz/target/corpus/command_parser"
mkdir -p "$work"
cp -n tests/fuzz/corpus/command_parser/* "$work"/ 2>/dev/null || true

export RUSTC_BOOTSTRAP=1
# The crate is not at cargo-fuzz's default ./fuzz: --fuzz-dir names it (its artifacts land
# under it), --target-dir keeps its build in tests/fuzz/target even with CARGO_TARGET_DIR set.
exec "$bin" fuzz run --fuzz-dir tests/fuzz --target-dir tests/fuzz/target \
  command_parser "$work" tests/fuzz/corpus/command_parser -- \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1
