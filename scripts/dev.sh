#!/usr/bin/env bash
# Runs the four services from bin/ on their embedded defaults, each log line
# prefixed with its service, and stops them all on Ctrl-C or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir="${PEROXO_DEV_BIN_DIR:-bin}"

# Development mode makes the gateway create a demo project through the auth
# service, which accepts this per-run operator token for tenant creation.
export PEROXO_GATEWAY_DEV_MODE="${PEROXO_GATEWAY_DEV_MODE:-true}"
if [ -z "${PEROXO_AUTH_ADMIN_TOKEN:-}" ]; then
  PEROXO_AUTH_ADMIN_TOKEN="dev_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  export PEROXO_AUTH_ADMIN_TOKEN
fi
export PEROXO_GATEWAY_AUTH_ADMIN_TOKEN="${PEROXO_GATEWAY_AUTH_ADMIN_TOKEN:-$PEROXO_AUTH_ADMIN_TOKEN}"
pids=()

# Each service runs in a process group of its own (set -m below), so a
# terminal's Ctrl-C reaches only this script. Every service then gets
# exactly one SIGTERM from here, because a second signal skips draining.
set -m

stop() {
  trap - INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
  exit "$status"
}
trap stop INT TERM

start() {
  local name=$1
  # sed shares the service's process group and exits when the service
  # closes the pipe, after printing its last lines.
  ( exec > >(exec sed -u "s/^/[$name] /") 2>&1; exec "$bin_dir/$name" ) &
  pids+=("$!")
}

# The gateway embeds NATS, which the consumer uses; start it first.
start gateway
start authsvc
start chatsvc
start consumer

echo "[dev] web client: http://${PEROXO_GATEWAY_ADDR:-127.0.0.1:8080}/"
echo "[dev] Ctrl-C stops all services."
# wait returns early when a signal arrives; the trap then stops everything.
while true; do
  wait -n "${pids[@]}" || true
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "[dev] a service exited; stopping the others" >&2
      stop
    fi
  done
done
