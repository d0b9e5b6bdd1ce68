#!/usr/bin/env bash
# Install if needed and start the services that the tests use, then print their
# settings as `export NAME=value` lines.
#
# Usage: scripts/services/up.sh [postgres] [redis] [cassandra] [chromium]
# With no arguments it brings up all four. Cassandra, the slowest, starts first
# in the background while the others run. Use it as
#   env_lines="$(scripts/services/up.sh)"; eval "$env_lines"
# because `eval "$(up.sh)"` alone hides a failure: eval of empty text returns 0.
# The same lines are also merged into $PEROXO_SERVICES_DIR/env.sh for `source`.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$SCRIPT_DIR/common.sh"

ALL_SERVICES=(postgres redis cassandra chromium)
if [ "$#" -gt 0 ]; then
  services=("$@")
else
  services=("${ALL_SERVICES[@]}")
fi
for service in "${services[@]}"; do
  [ -f "$SCRIPT_DIR/$service.sh" ] && [[ " ${ALL_SERVICES[*]} " == *" $service "* ]] \
    || die "unknown service '$service'; expected one of: ${ALL_SERVICES[*]}"
done

start_ms="$(now_ms)"
mkdir -p "$PEROXO_SERVICES_DIR"
work_dir="$(mktemp -d "$PEROXO_SERVICES_DIR/up.XXXXXX")"
trap 'rm -rf "$work_dir"' EXIT

cassandra_pid=
if [[ " ${services[*]} " == *" cassandra "* ]]; then
  bash "$SCRIPT_DIR/cassandra.sh" >"$work_dir/cassandra.env" 3>&- &
  cassandra_pid=$!
fi

failed=()
for service in "${services[@]}"; do
  [ "$service" = cassandra ] && continue
  if ! bash "$SCRIPT_DIR/$service.sh" >"$work_dir/$service.env" 3>&-; then
    failed+=("$service")
  fi
done
if [ -n "$cassandra_pid" ] && ! wait "$cassandra_pid"; then
  failed+=(cassandra)
fi

if [ "${#failed[@]}" -gt 0 ]; then
  die "failed to start: ${failed[*]} (see the messages above)"
fi

env_lines="$(for service in "${services[@]}"; do cat "$work_dir/$service.env"; done)"
# env.sh keeps the lines of services started by earlier runs with other arguments.
env_file="$PEROXO_SERVICES_DIR/env.sh"
env_tmp="$(mktemp "$env_file.XXXXXX")"
{
  if [ -f "$env_file" ]; then
    grep -v -F -f <(printf '%s\n' "$env_lines" | sed 's/=.*/=/') "$env_file" || true
  fi
  printf '%s\n' "$env_lines"
} >"$env_tmp"
chmod 644 "$env_tmp"
mv -f "$env_tmp" "$env_file"
printf '%s\n' "$env_lines" >&3
log "services up in $(elapsed_since "$start_ms") s: ${services[*]}"
