#!/usr/bin/env bash
# Sizes of the deployable function binaries: target/lambda/sizes.json when
# infra/build-lambdas.sh (arm64, cargo lambda) wrote it; otherwise each
# target/lambda/<fn>/bootstrap (arm64) and target/release/<fn> (native x86_64), with the
# size zipped as Lambda ships it (deflate, as `python3 -m zipfile`).
set -euo pipefail
cd "$(dirname "$0")/../../.."
if [ -f target/lambda/sizes.json ]; then
  echo "target/lambda/sizes.json:"; cat target/lambda/sizes.json; echo
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '%-16s %-8s %12s %12s\n' function arch 'binary B' 'zip B'
for f in poll-orders apply-commands schedule-polls afosto-webhook epages-webhook install-app; do
  for pair in "arm64:target/lambda/$f/bootstrap" "x86_64:target/release/$f"; do
    arch=${pair%%:*} path=${pair#*:}
    [ -f "$path" ] || continue
    cp "$path" "$tmp/bootstrap"
    (cd "$tmp" && rm -f b.zip && python3 -m zipfile -c b.zip bootstrap)
    printf '%-16s %-8s %12d %12d\n' "$f" "$arch" "$(stat -c %s "$path")" "$(stat -c %s "$tmp/b.zip")"
  done
done
