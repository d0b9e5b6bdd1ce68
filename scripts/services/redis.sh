#!/usr/bin/env bash
# Start a Redis server for tests on 127.0.0.1 and print its URL.
#
# Installs Debian's redis-server package when redis-server is missing. The
# server is daemonized, listens on 127.0.0.1:${PEROXO_TEST_REDIS_PORT:-56379}
# only and keeps no data on disk (no RDB snapshots, no AOF).
# Stdout gets one line: export PEROXO_TEST_REDIS_URL=redis://127.0.0.1:PORT/0
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$SCRIPT_DIR/common.sh"

PORT="${PEROXO_TEST_REDIS_PORT:-56379}"
URL="redis://127.0.0.1:$PORT/0"
REDIS_DIR="$PEROXO_SERVICES_DIR/redis"
PID_FILE="$REDIS_DIR/redis-$PORT.pid"
LOG_FILE="$REDIS_DIR/redis-$PORT.log"

ping_ok() {
  [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]
}

print_ready() {
  log "ready on 127.0.0.1:$PORT (pid $1, RSS $(rss_mib "$1") MiB)"
  emit_env PEROXO_TEST_REDIS_URL "$URL"
}

start_ms="$(now_ms)"
lock_service "$PEROXO_SERVICES_DIR/locks/redis.lock"

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  apt_install redis-server redis-tools
fi
mkdir -p "$REDIS_DIR"

pid="$(read_pid_file "$PID_FILE")"
if pid_matches "$pid" redis-server && ping_ok; then
  print_ready "$pid"
  exit 0
fi

if tcp_port_open "$PORT"; then
  die "port 127.0.0.1:$PORT is already in use by another process; set PEROXO_TEST_REDIS_PORT to a free port"
fi

log "starting redis-server on 127.0.0.1:$PORT"
rm -f "$PID_FILE"
# fd 3 (the caller's stdout) and fd 9 (the lock) are closed so the daemon
# does not hold them, which would make "$(redis.sh)" wait for it to exit.
if ! redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes \
  --daemonize yes --pidfile "$PID_FILE" --logfile "$LOG_FILE" --dir "$REDIS_DIR" \
  --save '' --appendonly no 3>&- 9>&-; then
  die "redis-server failed to start; see $LOG_FILE"
fi

for _ in $(seq 1 100); do
  ping_ok && break
  sleep 0.1
done
if ! ping_ok; then
  tail -n 20 "$LOG_FILE" >&2 || true
  die "Redis did not answer PING on 127.0.0.1:$PORT within 10 s; see $LOG_FILE"
fi
log "started in $(elapsed_since "$start_ms") s"
print_ready "$(read_pid_file "$PID_FILE")"
