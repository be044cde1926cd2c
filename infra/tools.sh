#!/usr/bin/env bash
# Installs the pinned Python-packaged tools (infra/requirements-tools.txt) into the
# project-local virtualenv .venv-tools. Re-runs only when the requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-tools
requirements=infra/requirements-tools.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "tools: installing $(grep -cv '^#' "$requirements") pinned packages into $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
echo "$want" > "$stamp"
