#!/usr/bin/env bash
# Start a private PostgreSQL cluster for tests on 127.0.0.1 and print its URL.
#
# Installs Debian's postgresql package when no server binaries are present.
# The cluster listens on 127.0.0.1:${PEROXO_TEST_POSTGRES_PORT:-55432} only,
# with no Unix socket, and password (SCRAM) auth for the superuser postgres.
# It runs with fsync off, which is safe only for throwaway test data.
# Stdout gets one line: export PEROXO_TEST_POSTGRES_URL=postgres://...
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$SCRIPT_DIR/common.sh"

PORT="${PEROXO_TEST_POSTGRES_PORT:-55432}"
DB_NAME=peroxo_test
DB_USER=postgres
DB_PASSWORD=postgres
URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"

# Print the newest /usr/lib/postgresql/N/bin that has a server.
find_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/psql" ] && printf '%s\n' "$dir"
}

# initdb and postgres exit with an error when run as root, so root runs them as the postgres user.
run_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

psql_admin() {
  PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=5 "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres "$@"
}

# Print the folder that contains the cluster. Root's home is usually mode 0700, so
# the postgres user cannot reach the default cache dir there. In that case the
# cluster lives in the postgres user's home and the cache dir gets a symlink.
resolve_pg_root() {
  local root="$PEROXO_SERVICES_DIR/postgres" pg_home real
  if ! is_root; then
    mkdir -p "$root"
    printf '%s\n' "$root"
    return
  fi
  if [ -d "$root" ] && [ ! -L "$root" ] && runuser -u postgres -- test -w "$root"; then
    printf '%s\n' "$root"
    return
  fi
  if [ ! -e "$root" ] && runuser -u postgres -- test -x "$PEROXO_SERVICES_DIR"; then
    mkdir -p "$root"
    chown postgres: "$root"
    printf '%s\n' "$root"
    return
  fi
  pg_home="$(getent passwd postgres | cut -d: -f6)"
  [ -n "$pg_home" ] && [ -d "$pg_home" ] || die "home folder of the postgres user not found; set PEROXO_SERVICES_DIR to a folder the postgres user can write"
  real="$pg_home/peroxo-services/postgres"
  mkdir -p "$real"
  chown postgres: "$pg_home/peroxo-services" "$real"
  if [ -L "$root" ] || [ ! -e "$root" ]; then
    ln -sfn "$real" "$root"
  else
    log "note: $root exists but the postgres user cannot write it; using $real"
  fi
  printf '%s\n' "$real"
}

print_ready() {
  local pid
  pid="$(postmaster_pid)"
  log "ready on 127.0.0.1:$PORT (data $DATA_DIR, postmaster RSS $(rss_mib "$pid") MiB)"
  emit_env PEROXO_TEST_POSTGRES_URL "$URL"
}

ensure_database() {
  if ! psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    psql_admin -c "CREATE DATABASE $DB_NAME" || die "CREATE DATABASE $DB_NAME failed"
  fi
}

# Print the postmaster PID from the cluster's lock file, or nothing.
postmaster_pid() {
  head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null | tr -dc '0-9' || true
}

postmaster_running() {
  pid_matches "$1" "-D $DATA_DIR"
}

wait_ready() {
  local pid="$1"
  for _ in $(seq 1 60); do
    if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 1; then
      return 0
    fi
    if ! postmaster_running "$pid"; then
      tail -n 20 "$LOG_FILE" >&2 || true
      die "PostgreSQL (pid $pid) exited before accepting connections; see $LOG_FILE"
    fi
    sleep 0.5
  done
  die "PostgreSQL (pid $pid) did not accept connections on 127.0.0.1:$PORT within 30 s; see $LOG_FILE"
}

init_cluster() {
  local pw_file="$PG_ROOT/initdb.pw"
  log "creating cluster in $DATA_DIR"
  rm -rf "$DATA_DIR"
  printf '%s\n' "$DB_PASSWORD" >"$pw_file"
  is_root && chown postgres: "$pw_file"
  if ! run_pg "$BINDIR/initdb" -D "$DATA_DIR" -U "$DB_USER" --pwfile="$pw_file" \
    --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_ROOT/initdb.log" 2>&1; then
    rm -f "$pw_file"
    cat "$PG_ROOT/initdb.log" >&2
    die "initdb into $DATA_DIR failed"
  fi
  rm -f "$pw_file"
  # The port is passed at start, so changing PEROXO_TEST_POSTGRES_PORT needs no new cluster.
  cat >>"$DATA_DIR/postgresql.conf" <<'EOF'

# Test cluster settings: loopback TCP only, no Unix socket, durability off for speed.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start_ms="$(now_ms)"
lock_service "$PEROXO_SERVICES_DIR/locks/postgres.lock"

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
  apt_install postgresql
  BINDIR="$(find_bindir || true)"
  [ -n "$BINDIR" ] || die "no PostgreSQL server found under /usr/lib/postgresql after installing postgresql"
fi
PG_VERSION="$(basename "$(dirname "$BINDIR")")"

PG_ROOT="$(resolve_pg_root)"
DATA_DIR="$PG_ROOT/data"
LOG_FILE="$PG_ROOT/postgres.log"

# pg_ctl status is not used here because it reports a zombie postmaster as running.
pid="$(postmaster_pid)"
if postmaster_running "$pid"; then
  wait_ready "$pid"
  ensure_database
  print_ready
  exit 0
fi
# A killed postmaster that is not yet reaped makes the new one refuse its lock file.
[ -n "$pid" ] && wait_for_reap "$pid"

if [ -f "$DATA_DIR/PG_VERSION" ] && [ "$(cat "$DATA_DIR/PG_VERSION")" != "$PG_VERSION" ]; then
  log "cluster in $DATA_DIR is from PostgreSQL $(cat "$DATA_DIR/PG_VERSION"), server is $PG_VERSION: recreating it"
  rm -rf "$DATA_DIR"
fi
[ -f "$DATA_DIR/PG_VERSION" ] || init_cluster

if tcp_port_open "$PORT"; then
  die "port 127.0.0.1:$PORT is already in use by another process; set PEROXO_TEST_POSTGRES_PORT to a free port"
fi

log "starting PostgreSQL $PG_VERSION on 127.0.0.1:$PORT"
# The server must not inherit fd 3 (the caller's stdout) or fd 9 (the lock):
# a held fd 3 makes "$(postgres.sh)" wait for the server to exit.
if ! run_pg "$BINDIR/pg_ctl" start -s -w -t 60 -D "$DATA_DIR" -l "$LOG_FILE" -o "-p $PORT" 3>&- 9>&-; then
  tail -n 20 "$LOG_FILE" >&2 || true
  die "pg_ctl start failed; see $LOG_FILE"
fi
wait_ready "$(postmaster_pid)"
ensure_database
log "started in $(elapsed_since "$start_ms") s"
print_ready
