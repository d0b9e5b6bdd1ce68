#!/usr/bin/env bash
# Stop the services that up.sh started.
#
# Usage: scripts/services/down.sh [--purge] [postgres] [redis] [cassandra]
# With no service names it stops all three (Chromium is never left running).
# --purge also deletes their data, so the next start begins from an empty
# cluster. Installed packages and the fetched Cassandra jars are kept.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$SCRIPT_DIR/common.sh"

purge=false
services=()
for arg in "$@"; do
  case "$arg" in
    --purge) purge=true ;;
    postgres | redis | cassandra) services+=("$arg") ;;
    chromium) ;;
    *) die "unknown argument '$arg'; expected --purge, postgres, redis or cassandra" ;;
  esac
done
[ "${#services[@]}" -gt 0 ] || services=(cassandra redis postgres)

# Send SIGNAL to PID and wait up to TIMEOUT seconds for it to exit, then SIGKILL.
stop_pid() {
  local pid="$1" signal="$2" timeout="$3" name="$4"
  kill "-$signal" "$pid" 2>/dev/null || return 0
  wait_for_exit "$pid" "$timeout" && return 0
  log "$name (pid $pid) still running after $timeout s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

stop_cassandra() {
  local node_dir="$PEROXO_SERVICES_DIR/cassandra/node" pid
  pid="$(read_pid_file "$node_dir/cassandra.pid")"
  if pid_matches "$pid" CassandraDaemon; then
    log "stopping Cassandra (pid $pid)"
    # SIGTERM runs Cassandra's shutdown hook, which drains and flushes memtables.
    stop_pid "$pid" TERM 60 Cassandra
  else
    log "Cassandra is not running"
  fi
  rm -f "$node_dir/cassandra.pid"
  if "$purge"; then
    log "deleting Cassandra data in $node_dir"
    rm -rf "$node_dir"
  fi
}

stop_redis() {
  local redis_dir="$PEROXO_SERVICES_DIR/redis" pid_file pid stopped=false
  for pid_file in "$redis_dir"/redis-*.pid; do
    [ -f "$pid_file" ] || continue
    pid="$(read_pid_file "$pid_file")"
    if pid_matches "$pid" redis-server; then
      log "stopping Redis (pid $pid)"
      stop_pid "$pid" TERM 20 Redis
      stopped=true
    fi
    rm -f "$pid_file"
  done
  "$stopped" || log "Redis is not running"
  if "$purge"; then
    rm -rf "$redis_dir"
  fi
}

stop_postgres() {
  local pg_root="$PEROXO_SERVICES_DIR/postgres" data_dir pid
  if [ ! -e "$pg_root" ]; then
    log "PostgreSQL is not running"
    return 0
  fi
  # postgres.sh may have made this a symlink to the postgres user's home.
  data_dir="$(readlink -f "$pg_root")/data"
  pid="$(head -n 1 "$data_dir/postmaster.pid" 2>/dev/null | tr -dc '0-9' || true)"
  if pid_matches "$pid" "-D $data_dir"; then
    log "stopping PostgreSQL (pid $pid)"
    # SIGINT is PostgreSQL's fast shutdown: it ends sessions and exits cleanly.
    stop_pid "$pid" INT 30 PostgreSQL
  else
    log "PostgreSQL is not running"
  fi
  if "$purge" && [ -d "$data_dir" ]; then
    log "deleting PostgreSQL data in $data_dir"
    rm -rf "$data_dir"
  fi
}

for service in "${services[@]}"; do
  "stop_$service"
done
