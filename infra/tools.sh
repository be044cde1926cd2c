#!/usr/bin/env bash
# Installs the pinned Python-packaged tools (infra/requirements-tools.txt, every transitive
# package held by infra/requirements-tools.lock) into the project-local virtualenv
# .venv-tools. Re-runs only when either file changes.
#   infra/tools.sh           install (the test command and infra/deploy.sh call this)
#   infra/tools.sh --relock  rebuild the venv from requirements-tools.txt alone and rewrite
#                            the lock from it (after changing a pin)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-tools
requirements=infra/requirements-tools.txt
lock=infra/requirements-tools.lock
stamp="$venv/.requirements.sha256"

if [ "${1:-}" = "--relock" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  { sed -n '1,2p' "$lock"; "$venv/bin/pip" freeze --disable-pip-version-check; } > "$lock.new"
  mv "$lock.new" "$lock"
  echo "tools: $lock rewritten ($(grep -cv '^#' "$lock") packages)"
  exit 0
fi

want=$(cat "$requirements" "$lock" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "tools: installing $(grep -cv '^#' "$requirements") pinned tools into $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" -c "$lock"
echo "$want" > "$stamp"
