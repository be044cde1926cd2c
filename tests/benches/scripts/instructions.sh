#!/usr/bin/env bash
# CPU instructions per order event and per command through the deployed handlers
# (connector::lambda::{PollOrders, ApplyCommands} via SqsEventSource; embedded state on tmpfs;
# sandbox shop on its own thread), counted by callgrind: repeatable on a loaded machine.
# Each workload runs at two sizes; (I(N2) - I(N1)) / (N2 - N1) cancels the fixed set-up.
#   tests/benches/scripts/instructions.sh            # N1=50, N2=150
#   N1=100 N2=300 tests/benches/scripts/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
n1=${N1:-50}
n2=${N2:-150}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

# The bench binary, built once (release profile, as `cargo bench` builds it); HANDLERS_BIN
# names an already built one.
bin=${HANDLERS_BIN:-}
[ -n "$bin" ] || bin=$(cargo bench -p epages-sync-tests --bench handlers --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "handlers" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "could not build the handlers bench" >&2; exit 1; }

out=$(mktemp -d -t instructions.XXXXXX)
trap 'rm -rf "$out"' EXIT

# Totals per thread: thread 1 is the connector (current-thread runtime), the thread named
# "sandbox" (thread 2) is the emulated shop; tokio's blocking-pool threads (file I/O of the
# embedded stores) count as connector.
measure() { # workload n -> "connector sandbox"
  local workload=$1 n=$2 dir="$out/$1-$2"
  mkdir -p "$dir"
  BENCH_INSTRUCTIONS="$workload:$n" valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$dir/cg.out" "$bin" >"$dir/stdout" 2>"$dir/stderr" ||
    { cat "$dir/stderr" >&2; exit 1; }
  python3 - "$dir" <<'PY'
import glob, re, sys
connector = sandbox = 0
for path in glob.glob(sys.argv[1] + "/cg.out-*"):
    thread = int(path.rsplit("-", 1)[1])
    total = 0
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    if thread == 2:
        sandbox += total
    else:
        connector += total
print(connector, sandbox)
PY
}

printf '%-9s %6s %18s %18s\n' workload N 'connector Ir' 'sandbox Ir'
declare -A result
for workload in events commands; do
  for n in "$n1" "$n2"; do
    read -r c s < <(measure "$workload" "$n")
    result[$workload-$n]="$c $s"
    printf '%-9s %6d %18d %18d\n' "$workload" "$n" "$c" "$s"
  done
done
echo
for workload in events commands; do
  read -r c1 s1 <<<"${result[$workload-$n1]}"
  read -r c2 s2 <<<"${result[$workload-$n2]}"
  unit=${workload%s}
  printf 'per %-8s connector %12d instructions   (sandbox %d)\n' "$unit:" \
    $(( (c2 - c1) / (n2 - n1) )) $(( (s2 - s1) / (n2 - n1) ))
done
