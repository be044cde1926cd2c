# Sourced, not executed: starts moto server (from .venv-tools) on a free loopback port,
# exports the AWS_* variables the SDK reads, and stops moto when the calling shell exits.
# Production code needs no test hooks: aws-config honours AWS_ENDPOINT_URL.

moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_log=$(mktemp -t moto.XXXXXX.log)
# tests/moto/moto_server.py: moto_server with DynamoDB's atomic conditional writes restored.
.venv-tools/bin/python tests/moto/moto_server.py -H 127.0.0.1 -p "$moto_port" >"$moto_log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$moto_port/moto-api/" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "moto: server exited during start-up; its log:" >&2; cat "$moto_log" >&2; exit 1
  fi
  sleep 0.1
done
curl -sf "http://127.0.0.1:$moto_port/moto-api/" >/dev/null || { echo "moto: not ready on port $moto_port" >&2; exit 1; }

export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_PROFILE AWS_SESSION_TOKEN
echo "moto: serving on $AWS_ENDPOINT_URL (pid $moto_pid)"
