#!/usr/bin/env bash
# Cold start of the queue and schedule functions (poll-orders, apply-commands,
# schedule-polls): process start -> first invocation answered under an emulated Lambda
# Runtime API, AWS on moto; peak RSS; binary sizes. Native x86_64 release binaries (the
# deployed ones are arm64): indicative of the init work, not of Lambda's own start.
#   tests/benches/scripts/cold-start.sh              # BENCH_COLD_RUNS=7 by default
set -euo pipefail
cd "$(dirname "$0")/../../.."
functions=(poll-orders apply-commands schedule-polls afosto-webhook epages-webhook install-app)
args=()
for f in "${functions[@]}"; do args+=(-p "$f"); done
cargo build --release "${args[@]}"

infra/tools.sh
# shellcheck source=tests/moto/moto.sh
source tests/moto/moto.sh
BENCH_SECTIONS=cold BENCH_BIN_DIR="$PWD/target/release" \
  cargo bench -p epages-sync-tests --bench aws_costs

echo
echo "## Binary sizes (native x86_64 release, stripped) and zipped as Lambda ships them"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; kill "$moto_pid" 2>/dev/null || true' EXIT
printf '%-16s %12s %12s\n' function 'binary B' 'zip B'
for f in "${functions[@]}"; do
  cp "target/release/$f" "$tmp/bootstrap"
  (cd "$tmp" && rm -f b.zip && python3 -m zipfile -c b.zip bootstrap)
  printf '%-16s %12d %12d\n' "$f" "$(stat -c %s "target/release/$f")" "$(stat -c %s "$tmp/b.zip")"
done
