#!/usr/bin/env bash
# Builds the six Lambdas with `sam build` (rust-cargolambda: cargo lambda build --release
# --arm64 per function, cross-linked with zig; no Docker) and deploys one environment of
# samconfig.toml. The SAM CLI, cargo-lambda and zig come pinned from infra/tools.sh.
#
#   infra/deploy.sh dev|prod [sam deploy options]   build, then deploy that environment
#   infra/deploy.sh --build-only                    build only (no AWS credentials needed)
#
# Needs AWS credentials and a region (profile, AWS_REGION or --region) for the deploy.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '6,7s/^# *//p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
environment=$1
shift
case "$environment" in
  --build-only) config_env=default ;;
  dev|prod) config_env=$environment ;;
  *) usage ;;
esac

infra/tools.sh
# sam runs `cargo lambda`, which finds zig through `python3 -m ziglang`: the venv's bin
# (python3 included) must come first on PATH.
export PATH="$PWD/.venv-tools/bin:$PATH"
export SAM_CLI_TELEMETRY=0
# sam build needs a region only to name things; it makes no AWS call.
region_args=()
[ -n "${AWS_REGION:-${AWS_DEFAULT_REGION:-}}" ] || region_args=(--region eu-west-1)

started=$(date +%s)
sam build --config-env "$config_env" "${region_args[@]}"
echo "deploy: sam build took $(( $(date +%s) - started )) s"

[ "$environment" = "--build-only" ] && exit 0
sam deploy --config-env "$config_env" "$@"
